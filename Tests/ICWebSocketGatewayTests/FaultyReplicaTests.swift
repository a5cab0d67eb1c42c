import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import NIOConcurrencyHelpers
import Testing

/// A replica that is down, slow, garbled or refusing: sessions are closed with the documented
/// code after the retry budget (or at once for a definitive reject), the gateway keeps serving.
@Suite struct FaultyReplicaTests {
    static let canister = try! Principal(text: "bnz7o-iuaaa-aaaaa-qaaaa-cai")

    static func configuration(_ url: String) -> GatewayConfiguration {
        var configuration = testConfiguration(icURL: url, rootKey: .explicit(try! RootKey(der: rootKeyDER)))
        configuration.pollRetryBudget = 2
        configuration.maxPollRetryBackoff = .milliseconds(40)
        configuration.pollTimeout = .milliseconds(300)
        return configuration
    }

    /// Any well-formed root key: nothing in these tests is certified.
    static let rootKeyDER: [UInt8] = {
        let hex =
            "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c050302010361008005229d89a17c6f9ec403a4b1a8aa103fc48055046c95f1e60ee2fbfb0bb23ab21617a93f48b99b1199ac89008cf3cf0a83e9da35f5cf27d0d51535ceff89c43ee236c31c3a7865cc6b333194ad3f7155b2931a7ffec2066777dffb20f277ca"
        return (try? Hex.decode(hex)) ?? []
    }()

    /// Opens a session up to SETUP and returns how the gateway closed it.
    static func sessionOutcome(_ gateway: RunningGateway) async throws -> (code: UInt16?, reason: String?) {
        let socket = TestWebSocket(url: gateway.url)
        _ = try #require(await socket.nextBinary())
        socket.send(try ClientRequests(canister: canister).open(gateway: gateway.principal))
        // Generous: at the start of a full run the machine is busy building canisters.
        let outcome = await socket.closed(timeout: .seconds(90))
        // The gateway still serves new connections.
        let next = TestWebSocket(url: gateway.url)
        #expect(await next.nextBinary() == GatewayHandshakeFrame(gatewayPrincipal: gateway.principal).encoded())
        next.cancel()
        return outcome
    }

    /// How a session ends against a fake IC that behaves so; also returns the fake, for its counts.
    /// - Parameter pollTimeout: `nil` keeps the short test timeout.
    static func sessionOutcome(
        against behaviour: FakeIC.Behaviour, pollTimeout: Duration? = nil
    ) async throws -> (outcome: (code: UInt16?, reason: String?), ic: FakeIC) {
        let ic = try FakeIC(behaviour)
        let outcome = NIOLockedValueBox<(code: UInt16?, reason: String?)>((nil, nil))
        try await ic.run { url in
            var configuration = Self.configuration(url)
            if let pollTimeout { configuration.pollTimeout = pollTimeout }
            try await withGateway(configuration) { gateway in
                let result = try await Self.sessionOutcome(gateway)
                outcome.withLockedValue { $0 = result }
            }
        }
        return (outcome.withLockedValue { $0 }, ic)
    }

    @Test func garbageRepliesExhaustTheRetryBudgetThenClose1013() async throws {
        let (outcome, ic) = try await Self.sessionOutcome(against: .garbage)
        #expect(outcome.code == GatewayCloseCode.tryAgainLater.rawValue)
        #expect(outcome.reason?.contains("ws_get_messages") == true)
        #expect(ic.queryCount == 3)
        #expect(ic.callCount >= 1)
    }

    @Test func slowRepliesTimeOutAndClose1013() async throws {
        let (outcome, _) = try await Self.sessionOutcome(against: .slow(.seconds(3)))
        #expect(outcome.code == GatewayCloseCode.tryAgainLater.rawValue)
        #expect(outcome.reason?.contains("timed out") == true)
    }

    @Test func aFatalRejectClosesAtOnceWith1011() async throws {
        // No poll may time out here (a loaded machine would otherwise retry before the reject
        // arrives): the point is that the reject itself is never retried.
        let (outcome, ic) = try await Self.sessionOutcome(
            against: .rejectQueries(code: 5, errorCode: "IC0536", message: "Canister has no query method 'ws_get_messages'"),
            pollTimeout: .seconds(30))
        #expect(outcome.code == GatewayCloseCode.canisterUnavailable.rawValue)
        #expect(outcome.reason?.contains("no query method") == true)
        #expect(ic.queryCount == 1)
    }

    @Test("a stopped canister (as during dfx's stop, upgrade, start) is ridden out, and the session stays")
    func aStoppedCanisterIsRiddenOut() async throws {
        let ic = try FakeIC(.rejectQueries(code: 5), pollScript: [])
        try await ic.run { url in
            var configuration = Self.configuration(url)
            configuration.pollRetryBudget = 50
            configuration.pollTimeout = .seconds(30)
            try await withGateway(configuration) { gateway in
                let socket = TestWebSocket(url: gateway.url)
                _ = try #require(await socket.nextBinary())
                socket.send(try ClientRequests(canister: Self.canister).open(gateway: gateway.principal))
                // Stopped for a few polls, then running again.
                let deadline = ContinuousClock.now + .seconds(60)
                while ic.queryCount < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(ic.queryCount >= 3, "the poller retries a stopped canister")
                ic.behaviour = .normal
                #expect(await socket.next(timeout: .seconds(1)) == nil, "the session is not closed")
                socket.close()
                #expect(await socket.closed().code == 1000)
            }
        }
    }

    @Test func aCanisterThatStaysStoppedClosesWith1013AfterTheBudget() async throws {
        let (outcome, ic) = try await Self.sessionOutcome(against: .rejectQueries(code: 5), pollTimeout: .seconds(30))
        #expect(outcome.code == GatewayCloseCode.tryAgainLater.rawValue)
        #expect(outcome.reason?.contains("Canister is stopped") == true)
        #expect(ic.queryCount == 3, "the budget of 2 retries")
    }

    @Test func aReplicaThatIsDownCloses1013() async throws {
        // Nothing listens on port 1. The HTTP client keeps retrying the connection until the
        // poll's deadline, so a down replica shows up as polls that time out.
        try await withGateway(Self.configuration("http://127.0.0.1:1")) { gateway in
            let outcome = try await Self.sessionOutcome(gateway)
            #expect(outcome.code == GatewayCloseCode.tryAgainLater.rawValue)
            #expect(outcome.reason?.hasPrefix("ws_get_messages") == true, "\(outcome.reason ?? "")")
        }
    }
    @Test("Scenario 44: messages for client keys without a session are skipped; the others arrive")
    func messagesForUnknownClientKeysAreSkipped() async throws {
        let identity = Ed25519Identity()
        let client = ClientRequests(canister: Self.canister)
        let stranger = ClientKey(clientPrincipal: Ed25519Identity().principal, clientNonce: 7)
        let key = { (nonce: UInt64) in MessageKey.format(gateway: identity.principal, nonce: nonce) }
        let message = { (clientKey: ClientKey, nonce: UInt64) in
            CanisterOutputMessage(clientKey: clientKey, key: key(nonce), content: [UInt8(nonce)])
        }
        let batches = [
            CanisterOutputCertifiedMessages(
                messages: [message(stranger, 0), message(client.clientKey, 1), message(stranger, 2)],
                cert: [1], tree: [2], isEndOfQueue: false),
            CanisterOutputCertifiedMessages(
                messages: [message(stranger, 3), message(client.clientKey, 4)],
                cert: [3], tree: [4], isEndOfQueue: true),
        ]
        let ic = try FakeIC(pollScript: batches)
        try await ic.run { url in
            // A timed-out poll would consume a scripted batch unseen: no timeouts here.
            var configuration = Self.configuration(url)
            configuration.pollTimeout = .seconds(30)
            try await withGateway(configuration, identity: identity) { gateway in
                let socket = TestWebSocket(url: gateway.url)
                _ = try #require(await socket.nextBinary())
                socket.send(try client.open(gateway: gateway.principal))
                let expected = [(batches[0], 1), (batches[1], 1)].map { batch, index in
                    CanisterMessageFrame(message: batch.messages[index], of: batch).encoded()
                }
                #expect(await socket.nextBinary() == expected[0])
                #expect(await socket.nextBinary() == expected[1])
                // Nothing else arrives and the session stays open.
                #expect(await socket.next(timeout: .milliseconds(500)) == nil)
                #expect(gateway.metrics.counterTotal(label: "icws_gateway_poll_failures_total") == 0)
                socket.close()
                #expect(await socket.closed().code == 1000)
            }
        }
    }
}
