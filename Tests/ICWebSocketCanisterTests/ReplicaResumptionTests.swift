import ICAgent
import ICCertification
import ICCore
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// Resumable sessions (docs/SESSION-RESUMPTION.md) in the real test canister on the real replica:
/// every call a signed envelope, every poll verified like the client SDK verifies it.
@Suite("Replica: resumable sessions (ws_resume)", .serialized)
struct ReplicaResumptionTests {
    /// A client's resumable `ws_open` (`resumable = opt true`).
    static func resumableOpen(_ client: TestClient, via gateway: TestGateway) async throws -> CanisterWsResult {
        let arg = try CanisterWsOpenArguments(clientNonce: client.nonce, gatewayPrincipal: gateway.principal, resumable: true)
            .encodedArgument()
        return try await gateway.relay(try client.envelope("ws_open", arg))
    }

    static func resumeEnvelope(
        _ client: TestClient, nonce: UInt64? = nil, via gateway: TestGateway, lastReceived: UInt64, counter: UInt64
    ) throws -> SignedCall {
        try client.envelope(
            "ws_resume",
            try Candid.encode(
                CanisterWsResumeArguments(
                    clientNonce: nonce ?? client.nonce, gatewayPrincipal: gateway.principal,
                    lastReceivedSequenceNum: lastReceived, resumeCounter: counter)))
    }

    @Test("detached by ws_close, resumed through another gateway: the unverified messages again, then ResumeMessage, all certified")
    func resumeThroughAnotherGateway() async throws {
        try await WebSocketTestbed.withTestCanister { testbed in
            let (gatewayA, gatewayB) = (testbed.gateway(), testbed.gateway())
            let client = testbed.client()
            #expect(try await Self.resumableOpen(client, via: gatewayA) == .ok)
            #expect(try await testbed.send(to: client.principal, ["one", "two"]) == .ok)
            #expect(try await gatewayA.relay(try client.appMessage(sequence: 1, "hello")) == .ok)
            // The client verified the open message and "one"; then its connection dropped.
            #expect(try await gatewayA.close(client.key) == .ok)
            #expect(try await testbed.send(to: client.principal, ["three"]) == .ok, "a detached client can still be sent to")

            #expect(try await gatewayB.relay(try Self.resumeEnvelope(client, via: gatewayB, lastReceived: 2, counter: 1)) == .ok)
            let replayed = try await gatewayB.pollAll().filter { $0.clientKey == client.key }
            #expect(replayed.map(\.sequence) == [3, 4, 5])
            #expect(replayed.prefix(2).map(\.appText) == ["two", "three"])
            #expect(replayed.last?.service == .resumeMessage(clientKey: client.key, nextIncomingSequenceNum: 2))
            // The session goes on: the next client message is number 2.
            #expect(try await gatewayB.relay(try client.appMessage(sequence: 2, "again")) == .ok)
        }
    }

    @Test("another identity naming the victim's nonce cannot resume it; a replayed ws_resume executes once; an old counter is refused")
    func resumptionIsTheClientsAlone() async throws {
        try await WebSocketTestbed.withTestCanister { testbed in
            let (gatewayA, gatewayB, rogue) = (testbed.gateway(), testbed.gateway(), testbed.gateway())
            let victim = testbed.client()
            #expect(try await Self.resumableOpen(victim, via: gatewayA) == .ok)
            #expect(try await gatewayA.close(victim.key) == .ok)

            // The attacker knows the victim's nonce but signs with its own key: another client key.
            let attacker = testbed.client(nonce: victim.nonce)
            let stolen = try await rogue.relay(try Self.resumeEnvelope(attacker, via: rogue, lastReceived: 0, counter: 1))
            guard case .err(let text) = stolen else {
                Issue.record("the attacker's ws_resume must be refused, got \(stolen)")
                return
            }
            #expect(text.contains("No session to resume"))
            #expect(try await rogue.pollAll().isEmpty, "nothing was queued for the attacker's gateway")

            // The victim resumes; the same signed envelope relayed again is not executed again.
            let resume = try Self.resumeEnvelope(victim, via: gatewayB, lastReceived: 1, counter: 1)
            #expect(try await gatewayB.relay(resume) == .ok)
            let once = try await gatewayB.pollAll()
            _ = try? await gatewayB.relay(resume)
            try await testbed.rounds(2)
            #expect(try await gatewayB.pollAll().map(\.key) == once.map(\.key), "a replayed envelope queued nothing more")
            #expect(once.filter { $0.service == .resumeMessage(clientKey: victim.key, nextIncomingSequenceNum: 1) }.count == 1)

            // A fresh envelope with an old counter (a gateway replaying the client's intent) is refused.
            #expect(try await gatewayB.close(victim.key) == .ok)
            let old = try await rogue.relay(try Self.resumeEnvelope(victim, via: rogue, lastReceived: 1, counter: 1))
            guard case .err(let refusal) = old else {
                Issue.record("a resume with an old counter must be refused, got \(old)")
                return
            }
            #expect(refusal.contains("not greater than the last accepted"))
            #expect(try await rogue.pollAll().isEmpty)
        }
    }

    @Test("a canister that does not resume (session_resumption = false) behaves as the reference: ws_close removes, ws_resume is refused")
    func referenceBehaviour() async throws {
        let module = try CanisterModules.testCanister()
        let arg = try CanisterModules.testCanisterArgument(sessionResumption: false)
        try await WebSocketTestbed.with(module: module, arg: arg) { testbed in
            let (gatewayA, gatewayB) = (testbed.gateway(), testbed.gateway())
            let client = testbed.client()
            #expect(try await Self.resumableOpen(client, via: gatewayA) == .ok)
            #expect(try await gatewayA.close(client.key) == .ok)
            let result = try await gatewayB.relay(try Self.resumeEnvelope(client, via: gatewayB, lastReceived: 1, counter: 1))
            guard case .err(let text) = result else {
                Issue.record("expected a refusal, got \(result)")
                return
            }
            #expect(text.contains("No session to resume"))
        }
    }
}
