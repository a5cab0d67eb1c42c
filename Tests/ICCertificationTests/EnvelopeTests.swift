import ICCertification
import ICCore
import ICTestSupport
import Testing

struct EnvelopeVectors: Decodable {
    struct Delegation: Decodable { let delegation_hash_hex: String; let signed_payload_hex: String }
    struct Expected: Decodable {
        let request_id_hex: String
        let sender_text: String
        let delegations: [Delegation]?
        let sender_sig_payload_hex: String?
        let sender_sig_hex: String?
        let all_signatures_valid: Bool?
    }
    struct Entry: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let envelope_cbor_hex: String
        let secret_key_hex: String?
        let expected: Expected
        var testDescription: String { id }
    }
    let envelopes: [Entry]

    static let loaded: EnvelopeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(EnvelopeVectors.self, from: "envelopes/envelopes.json") : nil
}

extension EnvelopeVectors.Expected: Sendable {}
extension EnvelopeVectors.Delegation: Sendable {}

@Suite("Envelope vectors", .enabled(if: TestVectors.isAvailable))
struct EnvelopeVectorTests {
    @Test("decode, request id, sender, delegation payloads", arguments: EnvelopeVectors.loaded?.envelopes ?? [])
    func decode(vector: EnvelopeVectors.Entry) throws {
        let envelope = try Envelope(cborBytes: bytes(hex: vector.envelope_cbor_hex))
        #expect(envelope.content.requestID.description == vector.expected.request_id_hex)
        #expect(envelope.content.sender.description == vector.expected.sender_text)
        if let payload = vector.expected.sender_sig_payload_hex {
            #expect(hexString(envelope.content.requestID.signaturePayload) == payload)
        }
        for (index, delegation) in (vector.expected.delegations ?? []).enumerated() {
            let decoded = try #require(envelope.senderDelegation?[index])
            #expect(hexString(decoded.delegation.hash) == delegation.delegation_hash_hex)
            #expect(hexString(decoded.delegation.signaturePayload) == delegation.signed_payload_hex)
        }
        // Re-encoding what was decoded keeps the request id.
        let reencoded = try Envelope(cborBytes: envelope.encoded())
        #expect(reencoded == envelope)
    }

    @Test("every signature of the authenticated envelopes verifies", arguments: EnvelopeVectors.loaded?.envelopes ?? [])
    func signatures(vector: EnvelopeVectors.Entry) throws {
        let envelope = try Envelope(cborBytes: bytes(hex: vector.envelope_cbor_hex))
        let verifier = SignatureVerifier(certificates: CertificateVerifier(rootKey: .mainnet, freshness: .disabled))
        // The recorded envelopes expired long ago: replay without expiry checks.
        let authentication = RequestAuthentication(signatures: verifier, checksExpiry: false)
        let result = try authentication.authenticate(envelope, now: 0)
        #expect(result.sender.description == vector.expected.sender_text)

        // Tampering with the content breaks the authenticated ones.
        guard envelope.senderSignature != nil else { return }
        var tampered = envelope
        tampered.content.ingressExpiry += 1
        #expect(throws: AuthenticationError.self) { try authentication.authenticate(tampered, now: 0) }
        // And delegation expiry is enforced when checked.
        if envelope.senderDelegation != nil {
            let strict = RequestAuthentication(signatures: verifier)
            #expect(throws: AuthenticationError.self) { try strict.authenticate(envelope, now: UInt64.max) }
        }
    }

    @Test("the Ed25519 envelope is reproduced byte for byte by our signer")
    func reproduceEd25519() throws {
        let vector = try #require(EnvelopeVectors.loaded?.envelopes.first { $0.secret_key_hex != nil })
        let identity = try Ed25519Identity(seed: bytes(hex: try #require(vector.secret_key_hex)))
        let original = try Envelope(cborBytes: bytes(hex: vector.envelope_cbor_hex))
        #expect(identity.principal == original.content.sender)
        let signed = try Envelope.signed(original.content, by: identity)
        #expect(hexString(try #require(signed.senderSignature)) == vector.expected.sender_sig_hex)
        #expect(signed == original)
    }
}

@Suite("Envelopes")
struct EnvelopeTests {
    let canister = Principal.canister(index: 7)

    @Test("signed envelopes authenticate for every key type; forged ones do not")
    func signAndAuthenticate() throws {
        let identities: [any Identity] = [Ed25519Identity(), P256Identity(), Secp256k1Identity()]
        let authentication = RequestAuthentication(signatures: SignatureVerifier())
        for identity in identities {
            let content = RequestContent(
                kind: .call(canisterID: canister, methodName: "ws_open", arg: [1, 2]),
                sender: identity.principal, ingressExpiry: 1_000, nonce: [9])
            let envelope = try Envelope.signed(content, by: identity)
            let decoded = try Envelope(cborBytes: envelope.encoded())
            #expect(try authentication.authenticate(decoded, now: 0).sender == identity.principal)

            var wrongSender = decoded
            wrongSender.content.sender = Ed25519Identity().principal
            #expect(throws: AuthenticationError.self) { try authentication.authenticate(wrongSender, now: 0) }

            var wrongKey = decoded
            wrongKey.senderPublicKey = Ed25519Identity().publicKeyDER
            #expect(throws: AuthenticationError.self) { try authentication.authenticate(wrongKey, now: 0) }
        }
    }

    @Test("anonymous envelopes carry no authentication; a named sender without signature is refused")
    func anonymous() throws {
        let content = RequestContent(
            kind: .query(canisterID: canister, methodName: "get", arg: []),
            sender: .anonymous, ingressExpiry: 5)
        let envelope = try Envelope.signed(content, by: AnonymousIdentity())
        #expect(envelope.senderPublicKey == nil && envelope.senderSignature == nil)
        let authentication = RequestAuthentication(signatures: SignatureVerifier())
        #expect(try authentication.authenticate(envelope, now: 0).sender == .anonymous)
        var impersonating = envelope
        impersonating.content.sender = Ed25519Identity().principal
        #expect(throws: AuthenticationError.self) { try authentication.authenticate(impersonating, now: 0) }
    }

    @Test("delegation chains: expiry, targets, session key")
    func delegations() throws {
        let root = Secp256k1Identity()
        let session = Ed25519Identity()
        let other = Principal.canister(index: 99)
        let signed = try SignedDelegation.sign(
            Delegation(publicKey: try #require(session.publicKeyDER), expiration: 10_000, targets: [canister]), by: root)
        let delegated = try DelegatedIdentity(delegatorPublicKey: try #require(root.publicKeyDER), chain: [signed], session: session)
        #expect(delegated.principal == root.principal)
        let authentication = RequestAuthentication(signatures: SignatureVerifier())

        func envelope(for target: Principal) throws -> Envelope {
            try Envelope.signed(
                RequestContent(
                    kind: .call(canisterID: target, methodName: "m", arg: []),
                    sender: delegated.principal, ingressExpiry: 1), by: delegated)
        }
        let result = try authentication.authenticate(try envelope(for: canister), now: 5_000)
        #expect(result.sender == root.principal)
        #expect(result.targets == [canister])
        #expect(throws: AuthenticationError.self) { try authentication.authenticate(try envelope(for: other), now: 5_000) }
        #expect(throws: AuthenticationError.self) { try authentication.authenticate(try envelope(for: canister), now: 20_000) }

        // A delegation not ending at the session key is refused up front.
        #expect(throws: IdentityError.self) {
            try DelegatedIdentity(delegatorPublicKey: try #require(root.publicKeyDER), chain: [signed], session: Ed25519Identity())
        }
    }

    @Test("ingress expiry rounds down like agent-rs")
    func ingressExpiry() {
        let now: UInt64 = 1_700_000_123_456_789_000
        let expiry = IngressExpiry.value(nowNanoseconds: now)
        #expect(expiry % 60_000_000_000 == 0)
        #expect(expiry > now + 120_000_000_000 && expiry <= now + 180_000_000_000)
        let short = IngressExpiry.value(nowNanoseconds: now, delta: .seconds(30))
        #expect(short % 1_000_000_000 == 0 && short <= now + 30_000_000_000 && short > now + 29_000_000_000)
    }

    @Test(
        "malformed bodies give errors, never crashes",
        arguments: [
            "", "d9d9f7", "a0", "a167636f6e74656e74a0", "a167636f6e74656e7401", "ff",
            "d9d9f7a167636f6e74656e74a16c726571756573745f7479706564636f6f6c",
        ])
    func malformed(hex: String) {
        #expect(throws: EnvelopeError.self) { try Envelope(cborBytes: bytes(hex: hex)) }
    }
}
