import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// Clients that send faster than the IC answers: the gateway holds them back by not reading
/// (TCP backpressure) instead of closing them, keeps each connection's order, and bounds what it
/// queues. The IC is the real replica running the ping-pong canister (it answers every message
/// `m` with `m + " ping"` and closes a client whose sequence numbers go wrong), behind a proxy
/// that delays each call's answer as mainnet's consensus does.
@Suite(.serialized) struct BackpressureTests {
    /// Runs the ping-pong canister behind a call-delaying proxy and a gateway.
    static func withSlowIC(
        callLatency: FaultInjectingReplicaProxy.Fault?,
        configure: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (LocalReplica, Principal, RunningGateway) async throws -> Void
    ) async throws {
        let module = try CanisterModules.pingPongCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module)
            let proxy = FaultInjectingReplicaProxy(upstream: local.url)
            if let callLatency { proxy.inject(callLatency) }
            try await proxy.run { proxyURL in
                var configuration = testConfiguration(icURL: proxyURL, rootKey: .explicit(local.rootKey))
                configure(&configuration)
                try await withGateway(configuration) { gateway in try await body(local, canister, gateway) }
            }
        }
    }

    /// A session whose OpenMessage and the canister's greeting ("ping") were received.
    struct Session {
        let requests: ClientRequests
        let socket: TestWebSocket
        var nextSequence: UInt64 = 3
    }

    static func open(_ local: LocalReplica, _ canister: Principal, _ gateway: RunningGateway) async throws -> Session {
        let requests = ClientRequests(canister: canister, clock: local.clock)
        let socket = TestWebSocket(url: gateway.url)
        _ = try #require(await socket.nextBinary(timeout: .seconds(30)))
        socket.send(try requests.open(gateway: gateway.principal))
        let open = try verifiedMessage(await socket.nextBinary(timeout: .seconds(60)), canister: canister, rootKey: local.rootKey)
        #expect(open.sequenceNum == 1 && open.isServiceMessage)
        let greeting = try verifiedMessage(await socket.nextBinary(timeout: .seconds(60)), canister: canister, rootKey: local.rootKey)
        #expect(try Candid.decode(TextMessage.self, from: greeting.content).text == "ping")
        return Session(requests: requests, socket: socket)
    }

    /// Pre-signed `ws_message` frames carrying `"<tag><i>"` for i in `range`.
    static func frames(_ session: Session, tag: String, _ range: Range<Int>) throws -> [[UInt8]] {
        try range.map { index in
            try session.requests.message(
                sequenceNumber: UInt64(index + 1),
                content: Candid.encode(TextMessage(text: "\(tag)\(index)")))
        }
    }

    /// Reads verified replies until `count` application messages arrived or the time runs out;
    /// returns their texts in arrival order. Service messages (acks) are skipped; a CloseMessage
    /// (the canister saw a wrong sequence number) ends the read.
    static func replies(
        _ session: inout Session, count: Int, canister: Principal, rootKey: RootKey,
        within timeout: Duration
    ) async throws -> [String] {
        var texts: [String] = []
        let deadline = ContinuousClock.now + timeout
        while texts.count < count, ContinuousClock.now < deadline {
            guard let bytes = await session.socket.nextBinary(timeout: deadline - ContinuousClock.now) else { break }
            let message = try verifiedMessage(bytes, canister: canister, rootKey: rootKey)
            #expect(message.sequenceNum == session.nextSequence, "canister messages arrive in sequence")
            session.nextSequence = message.sequenceNum + 1
            if message.isServiceMessage {
                if case .closeMessage(let reason) = try WebsocketServiceMessageContent.decode(message.content) {
                    Issue.record("the canister closed the session: \(reason)")
                    break
                }
                continue
            }
            texts.append(try Candid.decode(TextMessage.self, from: message.content).text)
        }
        return texts
    }

    static func expected(tag: String, _ range: Range<Int>) -> [String] { range.map { "\(tag)\($0) ping" } }

    /// Expects `texts` to be exactly `expected`, reporting the count and the first difference
    /// rather than both arrays.
    static func expectReplies(
        _ texts: [String], _ expected: [String], _ comment: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            texts.count == expected.count, "\(comment) received \(texts.count) of \(expected.count) replies",
            sourceLocation: sourceLocation)
        if let (index, pair) = zip(texts, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("\(comment) reply \(index) is '\(pair.0)', expected '\(pair.1)'", sourceLocation: sourceLocation)
        }
    }

    /// The burst that disconnected the real JS SDK: more messages sent back to back than the
    /// old per-connection limit (16), while each IC call takes 1–2 s as on mainnet. Reading
    /// pauses (the queue holds 4 here), nobody is closed, everything arrives in order.
    @Test func aBurstAgainstAnICAsSlowAsMainnetIsHeldBackNotClosed() async throws {
        try await Self.withSlowIC(
            callLatency: .mainnetCallLatency,
            configure: {
                $0.maxPendingCalls = 4
                // Pings go on while reading is paused; a paused reader must not be taken for a dead client.
                $0.pingInterval = .seconds(10)
            }
        ) { local, canister, gateway in
            var session = try await Self.open(local, canister, gateway)
            let count = 24
            for frame in try Self.frames(session, tag: "b", 0..<count) { session.socket.send(frame) }
            let texts = try await Self.replies(
                &session, count: count, canister: canister, rootKey: local.rootKey,
                within: .seconds(180))
            Self.expectReplies(texts, Self.expected(tag: "b", 0..<count))
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_reading_paused_total") >= 1)
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_sessions_closed_total") == 0)
            session.socket.close()
            #expect(await session.socket.closed().code == 1000)
        }
    }

    /// A long burst of pre-signed messages in one go, with the default limits except a queue of
    /// 4 (so that reading pauses and resumes many times): they reach the canister in order (it
    /// checks every sequence number) and every reply comes back verified. The count stays small
    /// enough that a debug build on a busy machine delivers them before their ingress expiry;
    /// the release benchmark `icws-bench gateway-burst 1 1000` covers a thousand.
    @Test func aLongBurstArrivesInOrderThroughManyPauses() async throws {
        try await Self.withSlowIC(callLatency: nil, configure: { $0.maxPendingCalls = 4 }) { local, canister, gateway in
            var session = try await Self.open(local, canister, gateway)
            let count = 48
            for frame in try Self.frames(session, tag: "t", 0..<count) { session.socket.send(frame) }
            let texts = try await Self.replies(
                &session, count: count, canister: canister, rootKey: local.rootKey,
                within: .seconds(400))
            Self.expectReplies(texts, Self.expected(tag: "t", 0..<count))
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_reading_paused_total") >= 2)
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_sessions_closed_total") == 0)
            session.socket.close()
            #expect(await session.socket.closed().code == 1000)
        }
    }

    /// A hundred clients burst at once against the slow IC: none is closed and each one's
    /// replies come back in its own order.
    @Test func aHundredClientsBurstAtOnce() async throws {
        try await Self.withSlowIC(
            callLatency: .mainnetCallLatency,
            configure: {
                $0.maxPendingCalls = 1
                $0.pingInterval = .seconds(10)
            }
        ) { local, canister, gateway in
            let perClient = 3
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<100 {
                    group.addTask {
                        var session = try await Self.open(local, canister, gateway)
                        for frame in try Self.frames(session, tag: "c\(client)-", 0..<perClient) { session.socket.send(frame) }
                        let texts = try await Self.replies(
                            &session, count: perClient, canister: canister,
                            rootKey: local.rootKey, within: .seconds(240))
                        Self.expectReplies(texts, Self.expected(tag: "c\(client)-", 0..<perClient), "client \(client):")
                        session.socket.close()
                        _ = await session.socket.closed()
                        return texts
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(results.count == 100)
            #expect(results.allSatisfy { $0.count == perClient })
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_reading_paused_total") >= 1)
            let abnormal = GatewayCloseCode.allCases.filter { $0 != .normal }.reduce(Int64(0)) { total, code in
                total
                    + gateway.metrics.counterTotal(
                        label: "icws_gateway_sessions_closed_total",
                        dimensions: [("code", "\(code.rawValue)")])
            }
            #expect(abnormal == 0, "no session was closed by the gateway")
        }
    }

    /// A client that never stops sending: the gateway stops reading, so what it queues stays
    /// within its bound while the kernel's buffers and TCP hold the rest; the connection stays
    /// open and keeps being served in order.
    @Test func aClientThatNeverStopsSendingIsHeldBackWithinTheBound() async throws {
        try await Self.withSlowIC(
            callLatency: .callLatency(
                execution: .milliseconds(200)...(.milliseconds(200)),
                acceptance: .milliseconds(200)...(.milliseconds(200))),
            configure: {
                $0.maxPendingCalls = 16
                $0.maxPendingCallBytes = 32 * 1024
                $0.maxMessageBytes = 64 * 1024
                $0.maxFrameBytes = 64 * 1024
            }
        ) { local, canister, gateway in
            var session = try await Self.open(local, canister, gateway)
            let padding = String(repeating: "x", count: 1_000)
            // About 2.5 MB of envelopes, far more than the gateway may hold (budget 1.1 MB).
            let frames = try (0..<1_800).map { index in
                try session.requests.message(
                    sequenceNumber: UInt64(index + 1),
                    content: Candid.encode(TextMessage(text: "f\(index)" + padding)))
            }
            for frame in frames { session.socket.send(frame) }
            let texts = try await Self.replies(
                &session, count: 10, canister: canister, rootKey: local.rootKey,
                within: .seconds(120))
            Self.expectReplies(texts, (0..<10).map { "f\($0)" + padding + " ping" })
            #expect(await session.socket.isClosed == false)
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_reading_paused_total") >= 1)
            let queued = try gateway.metrics.expectRecorder("icws_gateway_queued_call_bytes").values.map { Int64($0) }
            let budget = Int64(gateway.gateway.configuration.callBacklogBudgetBytes)
            #expect(queued.max() ?? 0 <= budget, "queued \(queued.max() ?? 0) bytes, budget \(budget)")
            // Far below what was sent: the pause threshold plus at most one read cycle
            // (4 × 64 KiB on the wire, counted about twice: envelope and decoded argument); the
            // rest waits in the kernel and in the client, not in the gateway.
            #expect(queued.max() ?? 0 <= 32 * 1024 + 2 * 4 * 65_536 + 8_192, "queued \(queued.max() ?? 0) bytes")
            #expect(gateway.metrics.counterTotal(label: "icws_gateway_sessions_closed_total") == 0)
            session.socket.cancel()
        }
    }

    /// A peer that keeps sending past a stopped reader is closed with 1008 and a reason naming
    /// the budget. A real client is held back by TCP before that; here the read slack is zero and
    /// the limits tiny, so that the frames of one read already exceed the budget.
    @Test func aPeerPastItsBudgetIsClosedWithTheBudgetNamed() async throws {
        try await Self.withSlowIC(
            callLatency: .callLatency(
                execution: .milliseconds(500)...(.milliseconds(500)),
                acceptance: .milliseconds(500)...(.milliseconds(500))),
            configure: {
                $0.maxPendingCalls = 1
                $0.maxPendingCallBytes = 1
                $0.maxMessageBytes = 2_048
                $0.maxFrameBytes = 2_048
                $0.callBacklogSlackBytes = 0
            }
        ) { local, canister, gateway in
            let session = try await Self.open(local, canister, gateway)
            for frame in try Self.frames(session, tag: "p", 0..<50) { session.socket.send(frame) }
            let closed = await session.socket.closed(timeout: .seconds(60))
            #expect(closed.code == GatewayCloseCode.policyViolation.rawValue)
            let budget = gateway.gateway.configuration.callBacklogBudgetBytes
            #expect(closed.reason?.hasSuffix("budget \(budget) bytes") == true, "reason: \(closed.reason ?? "none")")
        }
    }
}
