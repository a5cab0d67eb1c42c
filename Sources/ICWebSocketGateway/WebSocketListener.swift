import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import NIOWebSocket

/// The gateway's public socket: TCP, optionally TLS, an HTTP/1.1 upgrade to WebSocket on any
/// path (as the reference), then one ``ClientConnectionHandler`` per connection.
///
/// Built on SwiftNIO's WebSocket handlers rather than HummingbirdWebSocket: there, every
/// connection runs in a task with async inbound and outbound streams, about 28 KB per idle
/// connection before the gateway adds anything (measured side by side, see the README). Here an
/// idle connection is a channel, its frame codec and a ``ClientSession``, which is what makes
/// tens of thousands of idle connections affordable.
enum WebSocketListener {
    /// What the listener needs to know per connection.
    struct Settings: Sendable {
        var host: String
        var port: Int
        var maxFrameBytes: Int
        /// A connection that has not upgraded within this time is closed.
        var upgradeTimeout: Duration
        var tls: NIOSSLContext?
        var tlsHandshakeTimeout: Duration
    }

    /// Binds the listener; the returned channel's `closeFuture` completes when it stops.
    static func bind(
        _ settings: Settings, runtime: GatewayRuntime, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    )
        async throws -> any Channel
    {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP level: `.socketOption(.tcp_nodelay)` would set SOL_SOCKET option 1, SO_DEBUG,
            // which only root may set; as any other user every accepted connection was closed.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Bounds what arrives after a session stops reading (backpressure): one read cycle
            // is at most 4 reads of 64 KiB (GatewayConfiguration.callBacklogSlackBytes).
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 65_536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel, settings, runtime) }
            }
            .bind(host: settings.host, port: settings.port)
            .get()
    }

    private static func configure(_ channel: any Channel, _ settings: Settings, _ runtime: GatewayRuntime) throws {
        let pipeline = channel.pipeline.syncOperations
        // Whatever the client does, it upgrades within the limit or goes (slow or silent
        // clients would otherwise hold a socket forever).
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(settings.upgradeTimeout.nanoseconds)) {
            runtime.metrics.connectionRejected(reason: "upgrade_timeout")
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in deadline.cancel() }
        if let tls = settings.tls {
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
            try pipeline.addHandler(TLSHandshakeMonitor(timeout: settings.tlsHandshakeTimeout, metrics: runtime.metrics))
        }
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: settings.maxFrameBytes, automaticErrorHandling: false,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                deadline.cancel()
                return channel.eventLoop.makeCompletedFuture { try runtime.attach(channel) }
            })
        let responder = PlainHTTPResponder()
        let boundResponder = NIOLoopBound(responder, eventLoop: channel.eventLoop)
        try pipeline.configureHTTPServerPipeline(
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    // HTTP is over; the responder must not see WebSocket traffic.
                    context.pipeline.syncOperations.removeHandler(boundResponder.value, promise: nil)
                }
            ))
        try pipeline.addHandler(responder)
    }
}

/// Closes a connection whose TLS handshake takes longer than the limit, and records how long
/// successful handshakes take (`tls_resolution_time`, as the reference).
final class TLSHandshakeMonitor: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: Duration
    private let metrics: GatewayMetrics
    private let startedAt = ContinuousClock.now
    private var deadline: Scheduled<Void>?

    init(timeout: Duration, metrics: GatewayMetrics) {
        self.timeout = timeout
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let metrics = self.metrics
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            metrics.connectionRejected(reason: "tls_handshake_timeout")
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            metrics.tlsHandshakeCompleted(after: ContinuousClock.now - startedAt)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed handshake (wrong protocol, bad certificate) ends the connection quietly.
        metrics.connectionRejected(reason: "tls_handshake_failed")
        context.close(promise: nil)
    }
}

/// Answers plain HTTP requests (no upgrade): `GET /` says what this is, anything else is 404.
/// Each response closes the connection.
final class PlainHTTPResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let found = head.method == .GET && head.uri.split(separator: "?").first == "/"
            let text = found ? "icws gateway: open a WebSocket to this address\n" : "not found: open a WebSocket to /\n"
            var headers = HTTPHeaders([("content-type", "text/plain; charset=utf-8"), ("connection", "close")])
            headers.add(name: "content-length", value: "\(text.utf8.count)")
            let status: HTTPResponseStatus = found ? .ok : .notFound
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
