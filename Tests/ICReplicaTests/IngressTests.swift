import AsyncHTTPClient
import Foundation
import ICAgent
import ICCore
import ICTestSupport
import NIOCore
import NIOHTTP1
import Testing

@testable import ICReplica

/// Requests a real agent would never send, over raw HTTP: each gets the spec's status and a
/// text body, and the replica keeps serving.
@Suite("Replica ingress validation", .serialized)
struct IngressTests {
    struct Answer {
        var status: Int
        var body: [UInt8]
        var headers: [(String, String)]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func post(_ url: String, _ body: [UInt8], method: HTTPMethod = .POST) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/cbor")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return Answer(
            status: Int(response.status.code), body: Array(bytes.readableBytesView),
            headers: response.headers.map { ($0.name, $0.value) })
    }

    static func envelope(
        _ identity: any Identity, canister: Principal, method: String = "inc", expiry: UInt64,
        nonce: [UInt8]? = nil
    ) throws -> Envelope {
        let content = RequestContent(
            kind: .call(canisterID: canister, methodName: method, arg: []), sender: identity.principal,
            ingressExpiry: expiry, nonce: nonce)
        return try Envelope.signed(content, by: identity)
    }

    @Test func forgedAndMalformedRequestsAreRefused() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            let identity = Ed25519Identity()
            let now = Replica.wallClock()
            let callURL = "\(harness.url)/api/v2/canister/\(id)/call"
            let good = try Self.envelope(identity, canister: id, expiry: now + 60_000_000_000)

            // Bad signature.
            var forged = good
            forged.senderSignature![0] ^= 1
            var answer = try await Self.post(callURL, forged.encoded())
            #expect(answer.status == 400, "\(answer.text)")
            #expect(answer.text.contains("authenticate"))

            // Sender that is not the key's principal.
            var wrongSender = good
            wrongSender.content.sender = Ed25519Identity().principal
            answer = try await Self.post(callURL, wrongSender.encoded())
            #expect(answer.status == 400)

            // Unsigned request from a non-anonymous sender.
            answer = try await Self.post(callURL, Envelope(content: good.content).encoded())
            #expect(answer.status == 400)

            // Expired, and too far in the future.
            answer = try await Self.post(callURL, try Self.envelope(identity, canister: id, expiry: now - 1_000_000_000).encoded())
            #expect(answer.status == 400 && answer.text.contains("expiry"))
            answer = try await Self.post(callURL, try Self.envelope(identity, canister: id, expiry: now + 600_000_000_000).encoded())
            #expect(answer.status == 400 && answer.text.contains("expiry"))

            // Replay of a request id.
            answer = try await Self.post(callURL, good.encoded())
            #expect(answer.status == 202)
            answer = try await Self.post(callURL, good.encoded())
            #expect(answer.status == 400 && answer.text.contains("already"))

            // Wrong effective canister id.
            let other = try await harness.createCanister(agent)
            answer = try await Self.post(
                "\(harness.url)/api/v2/canister/\(other)/call",
                try Self.envelope(identity, canister: id, expiry: now + 60_000_000_000, nonce: [1]).encoded())
            #expect(answer.status == 400)

            // Garbage, a non-map, and an oversize body.
            answer = try await Self.post(callURL, Array("definitely not cbor".utf8))
            #expect(answer.status == 400)
            answer = try await Self.post(callURL, CBOREncoder.encode(.array([1, 2]), selfDescribe: true))
            #expect(answer.status == 400)
            answer = try await Self.post(callURL, [UInt8](repeating: 0x41, count: 3 << 20))
            #expect(answer.status == 413)

            // Unknown canister: rejected before execution.
            let missing = Principal.canister(index: 4242)
            answer = try await Self.post(
                "\(harness.url)/api/v3/canister/\(missing)/call",
                try Self.envelope(identity, canister: missing, expiry: now + 60_000_000_000).encoded())
            #expect(answer.status == 200)
            let value = try CBORDecoder().decode(answer.body).removingSelfDescribeTag
            #expect(value["status"]?.text == "non_replicated_rejection")
            #expect(value["reject_code"]?.uint64 == 3)

            // Unknown endpoint.
            answer = try await Self.post("\(harness.url)/api/v9/canister/\(id)/call", good.encoded())
            #expect(answer.status == 404)

            // The replica still serves.
            #expect(uint64(try await agent.call(canister: id, method: "inc", arg: [])) >= 1)
        }
    }

    @Test func requestStatusIsOnlyReadableByItsSender() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            let identity = Ed25519Identity()
            let envelope = try Self.envelope(identity, canister: id, expiry: Replica.wallClock() + 60_000_000_000)
            let answer = try await Self.post("\(harness.url)/api/v2/canister/\(id)/call", envelope.encoded())
            #expect(answer.status == 202)
            let requestID = envelope.content.requestID
            let owner = harness.agent(identity)
            let reply = try await owner.pollForReply(requestID: requestID, canister: id, ingressExpiry: envelope.content.ingressExpiry)
            #expect(uint64(reply) == 1)
            await #expect(throws: AgentError.self) {
                _ = try await agent.requestStatus(of: requestID, canister: id)
            }
        }
    }

    @Test func corsHeadersAndPreflight() async throws {
        try await ReplicaHarness.run { harness in
            let preflight = try await Self.post("\(harness.url)/api/v3/canister/aaaaa-aa/call", [], method: .OPTIONS)
            #expect(preflight.status == 204)
            #expect(preflight.headers.contains { $0.0.lowercased() == "access-control-allow-origin" && $0.1 == "*" })
            let status = try await Self.post("\(harness.url)/api/v2/status", [], method: .GET)
            #expect(status.status == 200)
            #expect(status.headers.contains { $0.0.lowercased() == "access-control-allow-origin" })
        }
    }

    @Test func recordedEnvelopesAuthenticateAndForgeriesDoNot() throws {
        guard TestVectors.isAvailable, let json = try TestVectors.json("envelopes/envelopes.json") as? [String: Any],
            let cases = json["envelopes"] as? [[String: Any]]
        else { return }
        let validator = IngressValidator(rootKey: .mainnet)
        for entry in cases {
            guard let hex = entry["envelope_cbor_hex"] as? String else { continue }
            let body = bytes(hex: hex)
            let envelope = try Envelope(cborBytes: body)
            let now = envelope.content.ingressExpiry - 1_000_000_000
            let type = envelope.content.kind.requestType
            #expect(throws: Never.self, "\(entry["id"] ?? "")") { _ = try validator.validate(body, now: now, expectedType: type) }
            guard envelope.senderSignature != nil else { continue }
            var forged = envelope
            if var signature = forged.senderSignature, !signature.isEmpty {
                signature[signature.count - 1] ^= 1
                forged.senderSignature = signature
            }
            #expect(throws: IngressValidator.Refusal.self) { _ = try validator.validate(forged.encoded(), now: now, expectedType: type) }
        }
    }
}
