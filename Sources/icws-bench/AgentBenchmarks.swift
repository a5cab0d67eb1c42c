import BLS12381
import ICAgent
import ICCore

/// Suite `agent`: certificate verification (cold and cached), envelope signing per key type,
/// request ids. Certificates are made with generated keys (a root key delegating to a subnet
/// key), so the suite needs no test vectors.
enum AgentBenchmarks {
    static func run(_ harness: BenchmarkHarness) {
        guard let rootKey = try? BLS.SecretKey(seed: SHA256.hash(Array("bench root".utf8))),
            let subnetKey = try? BLS.SecretKey(seed: SHA256.hash(Array("bench subnet".utf8)))
        else { fatalError("benchmark keys are fixed and valid") }
        let root = CertificateIssuer(secretKey: rootKey)
        let subnetPublic = CertificateIssuer(secretKey: subnetKey).publicKey
        let subnet = Principal.selfAuthenticating(derPublicKey: subnetPublic.der)
        let canister = Principal.canister(index: 150)
        let now: UInt64 = 1_800_000_000_000_000_000
        let delegation = root.delegationCertificate(
            for: subnet, subnetKey: subnetPublic,
            ranges: [Principal.canister(index: 0)...Principal.canister(index: 1 << 20)], time: now)
        let issuer = CertificateIssuer(secretKey: subnetKey, delegation: (subnet, delegation))
        guard
            let tree = try? HashTree(paths: [
                ([Array("time".utf8)], LEB128.encode(now)),
                ([Array("canister".utf8), canister.bytes, Array("certified_data".utf8)], SHA256.hash([1])),
            ])
        else { fatalError("fixed tree") }
        let certificate = issuer.certificate(for: tree)

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
