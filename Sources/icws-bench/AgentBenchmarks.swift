import BLS12381
import ICAgent
import ICCore

/// Suite `agent`: certificate verification (cold and cached), envelope signing per key type,
/// request ids. Certificates are made with generated keys (a root key delegating to a subnet
/// key), so the suite needs no test vectors.
enum AgentBenchmarks {
    static func run(_ harness: BenchmarkHarness) {
        let subnet = DelegatedSubnet("bench")
        let root = subnet.root
        let canister = Principal.canister(index: 150)
        let now = DelegatedSubnet.now
        let certificate = subnet.certificate(certifiedData: SHA256.hash([1]), of: canister)

        harness.measure("agent.certificate_verify_delegated_cold", iterations: max(10, harness.iterations / 5)) {
            let verifier = CertificateVerifier(rootKey: root.publicKey, clock: { now })
            return try? verifier.verify(certificate, for: .canister(canister))
        }
        let warm = CertificateVerifier(rootKey: root.publicKey, clock: { now })
        _ = try? warm.verify(certificate, for: .canister(canister))
        harness.measure("agent.certificate_verify_cached", iterations: harness.iterations * 20) {
            try? warm.verify(certificate, for: .canister(canister))
        }

        let content = RequestContent(
            kind: .call(canisterID: canister, methodName: "ws_message", arg: [UInt8](repeating: 7, count: 200)),
            sender: .anonymous, ingressExpiry: now, nonce: [1, 2, 3, 4])
        harness.measure("agent.request_id", iterations: harness.iterations * 20) { content.requestID }
        let identities: [(String, any Identity)] = [
            ("ed25519", Ed25519Identity()), ("p256", P256Identity()), ("secp256k1", Secp256k1Identity()),
        ]
        for (name, identity) in identities {
            var signed = content
            signed.sender = identity.principal
            harness.measure("agent.envelope_sign_\(name)", iterations: harness.iterations * 4) {
                try? Envelope.signed(signed, by: identity).encoded()
            }
        }
    }
}
