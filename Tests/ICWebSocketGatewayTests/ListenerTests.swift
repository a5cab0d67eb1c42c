import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The listener before any session exists: TLS, its handshake limit, connections that never
/// upgrade, and plain HTTP requests. Nothing here reaches the IC.
@Suite struct ListenerTests {
    static func configuration() -> GatewayConfiguration {
        testConfiguration(icURL: "http://127.0.0.1:9", rootKey: .explicit(try! RootKey(der: FaultyReplicaTests.rootKeyDER)))
    }

    static func tlsConfiguration() throws -> GatewayConfiguration {
        let paths = try TestTLSCertificate.writeFiles()
        var configuration = configuration()
        configuration.tlsCertificatePEMPath = paths.certificate
        configuration.tlsCertificateKeyPEMPath = paths.key
        return configuration
    }

    @Test func tlsClientsThatTrustTheCertificateGetTheHandshake() async throws {
        try await withGateway(try Self.tlsConfiguration()) { gateway in
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TestTLSCertificate.certificatePEM.utf8)))
            let socket = TestWebSocket(url: "wss://localhost:\(gateway.port)/", tls: trusting)
            #expect(await socket.nextBinary() == GatewayHandshakeFrame(gatewayPrincipal: gateway.principal).encoded())
            socket.close()
            #expect(await socket.closed().code == 1000)
            #expect(try gateway.metrics.expectTimer("tls_resolution_time").values.count == 1)

            // A client that does not trust it gets nothing, and neither does a plain one.
            let untrusting = TestWebSocket(url: "wss://localhost:\(gateway.port)/", tls: .makeClientConfiguration())
            #expect(await untrusting.nextBinary(timeout: .seconds(5)) == nil)
            let plain = TestWebSocket(url: "ws://127.0.0.1:\(gateway.port)/")
            #expect(await plain.nextBinary(timeout: .seconds(5)) == nil)
            untrusting.cancel()
            plain.cancel()
            #expect(
                await eventually {
                    gateway.metrics.counterTotal(
                        label: "icws_gateway_rejected_connections_total",
                        dimensions: [("reason", "tls_handshake_failed")]) == 2
                })
        }
    }

    @Test func aStalledTLSHandshakeIsCutAtTheLimit() async throws {
        var configuration = try Self.tlsConfiguration()
        configuration.tlsHandshakeTimeout = .milliseconds(300)
        try await withGateway(configuration) { gateway in
            let silent = try await RawConnection.open(port: gateway.port)
            #expect(try await silent.closedByServer(within: .seconds(5)))
            #expect(
                gateway.metrics.counterTotal(
                    label: "icws_gateway_rejected_connections_total",
                    dimensions: [("reason", "tls_handshake_timeout")]) == 1)
        }
    }

    @Test func aConnectionThatNeverUpgradesIsClosed() async throws {
        var configuration = Self.configuration()
        configuration.handshakeTimeout = .milliseconds(300)
        try await withGateway(configuration) { gateway in
            let silent = try await RawConnection.open(port: gateway.port)
            // A request that never ends. On a loaded machine the 300 ms may pass before it is even
            // written; the write then fails on the closed channel, which is the outcome too (the
            // metric below says why the gateway closed it).
            try? await silent.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            #expect(try await silent.closedByServer(within: .seconds(5)))
            #expect(
                gateway.metrics.counterTotal(
                    label: "icws_gateway_rejected_connections_total",
                    dimensions: [("reason", "upgrade_timeout")]) == 1)
        }
    }

    @Test func pingsKeepAnsweringClientsAndDropSilentOnes() async throws {
        // A client has one interval to answer a ping: 10 s, so that even a machine loaded by
        // the whole suite answers in time (a 1 s interval failed once under CI load).
        var configuration = Self.configuration()
        configuration.pingInterval = .seconds(10)
        configuration.handshakeTimeout = .seconds(300)  // only pings may close the silent client
        try await withGateway(configuration) { gateway in
            let answering = TestWebSocket(url: gateway.url)  // WSClient answers pings itself
            #expect(await answering.nextBinary(timeout: .seconds(60)) != nil)
            // Upgrades, then never answers a ping: gone at the second interval (about 20 s).
            let silent = try await RawConnection.open(port: gateway.port)
            try await silent.send(
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            #expect(try await silent.closedByServer(within: .seconds(120)))
            // By then the answering client has been pinged twice and is still connected.
            #expect(await !answering.isClosed)
            answering.close()
            let closed = await answering.closed()
            #expect(closed.code == 1000, "closed with \(closed)")
        }
    }

    @Test func plainHTTPRequestsGetAnAnswerAndTheConnectionCloses() async throws {
        try await withGateway(Self.configuration()) { gateway in
            let root = try await RawConnection.open(port: gateway.port)
            try await root.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(try await root.closedByServer(within: .seconds(5)))
            let rootResponse = root.received
            #expect(rootResponse.hasPrefix("HTTP/1.1 200 OK"))
            #expect(rootResponse.contains("icws gateway: open a WebSocket to this address"))

            let other = try await RawConnection.open(port: gateway.port)
            try await other.send("POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            #expect(try await other.closedByServer(within: .seconds(5)))
            #expect(other.received.hasPrefix("HTTP/1.1 404 Not Found"))
        }
    }
}

/// A bare TCP connection: sends what it is told and records what it receives.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let collector: Collector

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = NIOLockedValueBox<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLockedValue { $0 += buffer.readableBytesView }
        }
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func open(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws { try await channel.writeAndFlush(ByteBuffer(string: text)).get() }

    var received: String { String(decoding: collector.bytes.withLockedValue { $0 }, as: UTF8.self) }

    /// Whether the server closed the connection within `limit` (closes it ourselves if not).
    func closedByServer(within limit: Duration) async throws -> Bool {
        let closed = NIOLockedValueBox(false)
        channel.closeFuture.whenComplete { _ in closed.withLockedValue { $0 = true } }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if closed.withLockedValue({ $0 }) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? await channel.close().get()
        return false
    }
}
