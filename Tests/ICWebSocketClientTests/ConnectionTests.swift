import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import Testing

@testable import ICWebSocketClient

/// The SDK over real WebSockets: the Swift canisters on the in-process replica, reached through
/// the ``FaultInjectingGateway`` (faithful, or misbehaving on purpose).
@Suite(.serialized)
struct ConnectionTests {
    /// Deploys `module`, starts a gateway for it and runs `body`.
    private func withStack(
        module: () throws -> [UInt8], arg: [UInt8] = Candid.encode(), manual: Bool = false,
        _ body: @Sendable @escaping (LocalReplica, Principal, FaultInjectingGateway, String) async throws -> Void
    ) async throws {
        let wasm = try module()
        try await LocalReplica.run(manual: manual) { local in
            let canister = try await local.deploy(module: wasm, arg: arg)
            let gateway = FaultInjectingGateway(replicaURL: local.url, rootKey: local.rootKey, canister: canister, clock: local.clock)
            try await gateway.run { url in try await body(local, canister, gateway, url) }
        }
    }

    private func configuration(
        _ local: LocalReplica, ackInterval: Duration = .seconds(300), openTimeout: Duration = .seconds(20),
        reconnect: ReconnectPolicy = .disabled
    ) -> ICWebSocketClientConfiguration {
        ICWebSocketClientConfiguration(
            openTimeout: openTimeout, ackMessageInterval: ackInterval, timerResolution: .milliseconds(20),
            reconnect: reconnect, clock: local.clock)
    }

    private func connect(
        _ local: LocalReplica, _ canister: Principal, _ url: String, network: ICNetwork? = nil,
        _ configuration: ICWebSocketClientConfiguration
    ) async throws(ICWebSocketClientError) -> ICWebSocketConnection<TextMessage> {
        var logger = Logger(label: "client-test")
        logger.logLevel = .critical
        return try await ICWebSocketConnection.connect(
            gatewayURL: url, canister: canister, identity: Ed25519Identity(), network: network ?? .local(local.url, rootKey: local.rootKey),
            messageType: TextMessage.self, configuration: configuration, logger: logger)
    }

    /// Waits (real time) until `condition` holds.
    private func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while await !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func pingPongEchoesAndClosesCleanly() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            // The one test that fetches the local root key, as `--fetch-root-key` does.
            let connection = try await connect(local, canister, url, network: .local(local.url, fetchRootKey: true), configuration(local))
            #expect(connection.clientKey.clientPrincipal != .anonymous)
            var messages = connection.messages.makeAsyncIterator()
            #expect(try await messages.next() == TextMessage(text: "ping"))
            try await connection.send(TextMessage(text: "hello"))
            #expect(try await messages.next() == TextMessage(text: "hello ping"))
            try await connection.send(TextMessage(text: "again"))
            #expect(try await messages.next() == TextMessage(text: "again ping"))
            let relayed = gateway.relayed.map(\.message.sequenceNum)
            #expect(relayed == [1, 2])
            #expect(gateway.relayed.allSatisfy { $0.result == .ok })
            let statistics = await connection.statistics()
            #expect(statistics.messagesReceived == 4)
            #expect(statistics.certificatesVerified + statistics.certificateCacheHits == 4)

            await connection.close()
            #expect(try await messages.next() == nil)
            await #expect(throws: ICWebSocketClientError.self) { try await connection.send(TextMessage(text: "late")) }
            var states = [String]()
            for await state in connection.states { states.append("\(state)") }
            #expect(states.first == "connecting")
            #expect(states.last == "closed")
        }
    }

    @Test func aCanisterCloseEndsTheConnectionWithoutError() async throws {
        try await withStack(module: CanisterModules.testCanister, arg: try Candid.encode(UInt64(10), UInt64(300_000))) {
            local, canister, _, url in
            let connection = try await connect(local, canister, url, configuration(local))
            let agent = local.agent()
            _ = try await agent.call(canister, "close", connection.clientKey.clientPrincipal, returning: CanisterWsResult.self)
            for try await _ in connection.messages { Issue.record("no application message was sent") }
            var last: ICWebSocketConnectionState?
            for await state in connection.states { last = state }
            guard case .closed(nil)? = last else {
                Issue.record("expected a clean close, got \(String(describing: last))")
                return
            }
        }
    }

    @Test func aDroppedMessageIsDetectedByTheSequenceGap() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            gateway.fault = .dropNextApplicationMessage  // the "ping" sent on open (number 2)
            let connection = try await connect(local, canister, url, configuration(local))
            try await connection.send(TextMessage(text: "hello"))
            do {
                for try await message in connection.messages { Issue.record("unexpected message \(message)") }
                Issue.record("the connection must fail")
            } catch ICWebSocketClientError.verification(.unexpectedSequenceNumber(expected: 2, received: 3)) {
                // expected
            }
        }
    }

    @Test func aTamperedMessageIsRejectedBeforeOpen() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            gateway.fault = .tamperNextMessage
            do {
                _ = try await connect(local, canister, url, configuration(local))
                Issue.record("connect must fail")
            } catch ICWebSocketClientError.verification(.contentHashMismatch) {
                // expected
            } catch {
                Issue.record("expected a content hash mismatch, got \(error)")
            }
        }
    }

    @Test func noOpenMessageMeansOpenTimeout() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            gateway.fault = .relayNothing
            do {
                _ = try await connect(local, canister, url, configuration(local, openTimeout: .milliseconds(800)))
                Issue.record("connect must fail")
            } catch ICWebSocketClientError.openTimeout {
                // expected
            } catch {
                Issue.record("expected an open timeout, got \(error)")
            }
        }
    }

    @Test func aTextHandshakeIsRejected() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            gateway.fault = .textHandshake
            do {
                _ = try await connect(local, canister, url, configuration(local))
                Issue.record("connect must fail")
            } catch ICWebSocketClientError.invalidHandshake {
                // expected
            } catch {
                Issue.record("expected an invalid handshake, got \(error)")
            }
        }
    }

    @Test func theAnonymousIdentityAndBadURLsAreRefused() async throws {
        let canister = Principal.canister(index: 1)
        do {
            _ = try await ICWebSocketConnection.connect(
                gatewayURL: "ws://127.0.0.1:1", canister: canister, identity: AnonymousIdentity(),
                network: .mainnet, messageType: TextMessage.self)
            Issue.record("anonymous must be refused")
        } catch ICWebSocketClientError.invalidConfiguration {
            // expected
        } catch {
            Issue.record("got \(error)")
        }
        do {
            _ = try await ICWebSocketConnection.connect(
                gatewayURL: "http://127.0.0.1:1", canister: canister, identity: Ed25519Identity(),
                network: .mainnet, messageType: TextMessage.self)
            Issue.record("http URL must be refused")
        } catch ICWebSocketClientError.invalidConfiguration {
            // expected
        } catch {
            Issue.record("got \(error)")
        }
        do {
            _ = try await ICWebSocketConnection.connect(
                gatewayURL: "ws://127.0.0.1:1", canister: canister, identity: Ed25519Identity(),
                network: .mainnet, messageType: TextMessage.self)
            Issue.record("nothing listens on port 1")
        } catch ICWebSocketClientError.transport {
            // expected
        } catch {
            Issue.record("got \(error)")
        }
    }

    /// Keep-alive rounds under replica time control (ack interval 61 s on both sides): each
    /// ack is answered with a keep-alive that the canister accepts, and the connection stays open.
    @Test func keepAliveRoundsUnderReplicaTimeControl() async throws {
        try await withStack(module: CanisterModules.testCanister, arg: try Candid.encode(UInt64(10), UInt64(61_000)), manual: true) {
            local, canister, gateway, url in
            let connection = try await connect(local, canister, url, configuration(local, ackInterval: .seconds(61)))
            try await connection.send(TextMessage(text: "one"))
            try await eventually("the application message") { gateway.relayed.count == 1 }

            local.replica.advanceTime(by: .seconds(61))  // ack round 1: acknowledges 1
            try await eventually("the first keep-alive") { gateway.relayed.count == 2 }
            let first = gateway.relayed[1]
            #expect(first.message.sequenceNum == 2)
            #expect(first.message.isServiceMessage)
            #expect(first.result == .ok)
            #expect(try WebsocketServiceMessageContent.decode(first.message.content) == .keepAliveMessage(lastIncomingSequenceNum: 2))

            local.replica.advanceTime(by: .seconds(60))  // the canister's keep-alive check: we answered in time
            try await Task.sleep(for: .milliseconds(300))
            local.replica.advanceTime(by: .seconds(1))  // ack round 2: acknowledges 1 and 2
            try await eventually("the second keep-alive") { gateway.relayed.count == 3 }
            let second = gateway.relayed[2]
            #expect(second.message.sequenceNum == 3)
            #expect(second.result == .ok)
            #expect(try WebsocketServiceMessageContent.decode(second.message.content) == .keepAliveMessage(lastIncomingSequenceNum: 3))

            let statistics = await connection.statistics()
            #expect(statistics.messagesReceived == 3)  // open, ack, ack
            try await connection.send(TextMessage(text: "still open"))
            await connection.close()
        }
    }

    /// A gateway that withholds acks is detected by the ack timer (61 s + 30 s of replica time).
    @Test func withheldAcksAreDetected() async throws {
        try await withStack(module: CanisterModules.testCanister, arg: try Candid.encode(UInt64(10), UInt64(61_000)), manual: true) {
            local, canister, gateway, url in
            let connection = try await connect(local, canister, url, configuration(local, ackInterval: .seconds(61)))
            gateway.fault = .dropAcks
            try await connection.send(TextMessage(text: "one"))
            try await eventually("the application message") { gateway.relayed.count == 1 }
            local.replica.advanceTime(by: .seconds(61))
            try await Task.sleep(for: .milliseconds(300))
            local.replica.advanceTime(by: .seconds(30))
            do {
                for try await message in connection.messages { Issue.record("unexpected \(message)") }
                Issue.record("the connection must fail")
            } catch ICWebSocketClientError.acknowledgementTimeout(let numbers) {
                #expect(numbers == [1])
            }
        }
    }

    @Test func reconnectsWithANewNonceAndReportsUnacknowledgedMessages() async throws {
        try await withStack(module: CanisterModules.pingPongCanister) { local, canister, gateway, url in
            let policy = ReconnectPolicy(maxAttempts: 2, initialDelay: .milliseconds(50), resumesSession: false)
            let connection = try await connect(local, canister, url, configuration(local, reconnect: policy))
            let firstKey = connection.clientKey
            var messages = connection.messages.makeAsyncIterator()
            #expect(try await messages.next() == TextMessage(text: "ping"))
            try await connection.send(TextMessage(text: "one"))
            #expect(try await messages.next() == TextMessage(text: "one ping"))
            gateway.disconnectAll()
            // The new connection's canister greets it again.
            #expect(try await messages.next() == TextMessage(text: "ping"))
            #expect(connection.clientKey != firstKey)
            #expect(connection.clientKey.clientPrincipal == firstKey.clientPrincipal)
            try await connection.send(TextMessage(text: "two"))
            #expect(try await messages.next() == TextMessage(text: "two ping"))
            await connection.close()

            var reconnecting: [UnacknowledgedMessage]?
            for await state in connection.states {
                if case .reconnecting(1, _, let unacknowledged) = state { reconnecting = unacknowledged }
            }
            // "one" was never acknowledged: acks come every 300 s.
            #expect(reconnecting?.map(\.sequenceNumber) == [1])
            #expect(try reconnecting.map { try Candid.decode(TextMessage.self, from: $0[0].content) } == TextMessage(text: "one"))
        }
    }
}
