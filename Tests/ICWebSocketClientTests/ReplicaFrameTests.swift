import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

@testable import ICWebSocketClient

/// The real path without a gateway: a Swift test canister on the in-process replica, opened
/// with this client's own signed `ws_open`, polled as a gateway would; the certified batches
/// go through the verification core.
@Suite(.serialized)
struct ReplicaFrameTests {
    @Test func certifiedBatchesOfARealCanisterVerifyOncePerCertificate() async throws {
        try await LocalReplica.run { local in
            let canister = try await local.deploy(
                module: CanisterModules.testCanister(),
                arg: Candid.encode(UInt64(10), UInt64(300_000)))
            let client = Ed25519Identity()
            let gateway = Ed25519Identity()
            let clientKey = ClientKey(clientPrincipal: client.principal, clientNonce: UInt64.random(in: 0 ... .max))
            let signer = ClientRequestSigner(identity: client, canister: canister, ingressExpiry: .seconds(120), clock: local.clock)
            let relay = local.agent(gateway)

            // ws_open, signed by the client and submitted byte for byte as a gateway does.
            let open = try ClientRequestFrame(decoding: signer.openRequest(clientNonce: clientKey.clientNonce, gateway: gateway.principal))
            #expect(try await submit(open, to: canister, via: relay) == .ok)

            // Five application messages from the canister, then one poll: six messages, one certificate.
            let texts = (1...5).map { "message \($0)" }
            let blobs = try texts.map { CandidBlob(try Candid.encode(TextMessage(text: $0))) }
            #expect(
                try await relay.call(
                    canister, "send", arguments: Candid.encode(client.principal, blobs),
                    returning: CanisterWsResult.self) == .ok)
            let first = try await poll(canister, nonce: 0, via: relay)
            #expect(first.messages.count == 6)

            var verifier = CanisterMessageVerifier(
                canister: canister, rootKey: local.rootKey, clientKey: clientKey,
                gateway: gateway.principal, clock: local.clock)
            var received = [String]()
            for message in first.messages {
                let frame = CanisterMessageFrame(message: message, of: first)
                let verified = try verifier.verify(frame.encoded())
                if !verified.isServiceMessage { received.append(try Candid.decode(TextMessage.self, from: verified.content).text) }
            }
            #expect(received == texts)
            #expect(verifier.certificatesVerified == 1)
            #expect(verifier.certificateCacheHits == 5)

            // The client's own signed ws_message with sequence number 1 is accepted by the canister.
            let message = WebsocketMessage(
                clientKey: clientKey, sequenceNum: 1, timestamp: local.clock(), isServiceMessage: false,
                content: try Candid.encode(TextMessage(text: "from the client")))
            #expect(try await submit(ClientRequestFrame(decoding: signer.messageRequest(message)), to: canister, via: relay) == .ok)

            // A second batch has a new certificate: verified once more, then cached again.
            #expect(
                try await relay.call(
                    canister, "send", arguments: Candid.encode(client.principal, Array(blobs.prefix(3))),
                    returning: CanisterWsResult.self) == .ok)
            let second = try await poll(canister, nonce: 6, via: relay)
            #expect(second.messages.count == 3)
            for message in second.messages { _ = try verifier.verify(CanisterMessageFrame(message: message, of: second)) }
            #expect(verifier.certificatesVerified == 2)
            #expect(verifier.certificateCacheHits == 7)
            #expect(verifier.expectedSequenceNumber == 10)

            // A frame of the first batch replayed now is refused.
            let replay = CanisterMessageFrame(message: first.messages[3], of: first)
            #expect(throws: CanisterMessageVerificationError.unexpectedSequenceNumber(expected: 10, received: 4)) {
                _ = try verifier.verify(replay)
            }
        }
    }

    private func submit(_ request: ClientRequestFrame, to canister: Principal, via agent: HTTPAgent) async throws -> CanisterWsResult {
        let envelope = try Envelope(cborBytes: request.envelopeBytes)
        let reply = try await agent.submitCall(
            request.envelopeBytes, requestID: envelope.content.requestID,
            effectiveCanisterID: canister, ingressExpiry: envelope.content.ingressExpiry)
        return try Candid.decode(CanisterWsResult.self, from: reply)
    }

    private func poll(_ canister: Principal, nonce: UInt64, via agent: HTTPAgent) async throws -> CanisterOutputCertifiedMessages {
        let result = try await agent.query(
            canister, "ws_get_messages", CanisterWsGetMessagesArguments(nonce: nonce),
            returning: CanisterWsGetMessagesResult.self)
        guard case .ok(let batch) = result else { throw TestFailure("ws_get_messages failed: \(result)") }
        return batch
    }
}
