import BLS12381
import ICCertification
import ICCore
import Testing

/// Certificates made with our own keys, so verification is tested without the shared vectors.
@Suite("Certificates issued with generated keys")
struct CertificateIssuerTests {
    let root: CertificateIssuer
    let subnetKey: BLS.SecretKey
    let subnet: Principal
    let ranges = [Principal.canister(index: 100)...Principal.canister(index: 199)]
    let now: UInt64 = 1_800_000_000_000_000_000

    init() throws {
        root = CertificateIssuer(secretKey: try BLS.SecretKey(seed: SHA256.hash(Array("root".utf8))))
        subnetKey = try BLS.SecretKey(seed: SHA256.hash(Array("subnet".utf8)))
        subnet = Principal.selfAuthenticating(derPublicKey: CertificateIssuer(secretKey: subnetKey).publicKey.der)
    }

    private func stateTree(canister: Principal, time: UInt64) throws -> HashTree {
        try HashTree(paths: [
            ([Array("time".utf8)], LEB128.encode(time)),
            ([Array("canister".utf8), canister.bytes, Array("certified_data".utf8)], [1, 2, 3]),
        ])
    }

    private func delegatedIssuer() -> CertificateIssuer {
        let delegation = root.delegationCertificate(
            for: subnet, subnetKey: CertificateIssuer(secretKey: subnetKey).publicKey,
            ranges: ranges, time: now)
        return CertificateIssuer(secretKey: subnetKey, delegation: (subnet, delegation))
    }

    @Test("an undelegated certificate verifies under its root key only")
    func undelegated() throws {
        let canister = Principal.canister(index: 5)
        let bytes = root.certificate(for: try stateTree(canister: canister, time: now))
        let verifier = CertificateVerifier(rootKey: root.publicKey, clock: { now })
        let verified = try verifier.verify(bytes, for: .canister(canister))
        #expect(verified.certifiedData(of: canister) == .found([1, 2, 3]))
        let other = CertificateVerifier(rootKey: .mainnet, clock: { now })
        #expect(throws: CertificateError.self) { try other.verify(bytes, for: .canister(canister)) }
    }

    @Test("a delegated certificate is scoped to the subnet's canister ranges")
    func delegated() throws {
        let issuer = delegatedIssuer()
        let verifier = CertificateVerifier(rootKey: root.publicKey, clock: { now })
        let inside = Principal.canister(index: 150)
        _ = try verifier.verify(issuer.certificate(for: try stateTree(canister: inside, time: now)), for: .canister(inside))
        _ = try verifier.verify(issuer.certificate(for: try stateTree(canister: inside, time: now)), for: .subnet(subnet))
        let outside = Principal.canister(index: 200)
        #expect(throws: CertificateError.canisterNotInRanges(canister: outside, subnet: subnet)) {
            try verifier.verify(issuer.certificate(for: try stateTree(canister: outside, time: now)), for: .canister(outside))
        }
        #expect(throws: CertificateError.subnetMismatch(expected: inside, found: subnet)) {
            try verifier.verify(issuer.certificate(for: try stateTree(canister: inside, time: now)), for: .subnet(inside))
        }
    }

    @Test("nested delegations and delegations signed by another root are refused")
    func badDelegations() throws {
        let issuer = delegatedIssuer()
        let canister = Principal.canister(index: 150)
        // The subnet key delegates again: a delegation certificate that is itself delegated.
        let nested = CertificateIssuer(
            secretKey: subnetKey, delegation: (subnet, issuer.certificate(for: try stateTree(canister: canister, time: now))))
        let verifier = CertificateVerifier(rootKey: root.publicKey, clock: { now })
        #expect(throws: CertificateError.nestedDelegation) {
            try verifier.verify(nested.certificate(for: try stateTree(canister: canister, time: now)), for: .canister(canister))
        }
        let impostor = CertificateIssuer(secretKey: try BLS.SecretKey(seed: SHA256.hash(Array("impostor".utf8))))
        let forgedDelegation = impostor.delegationCertificate(
            for: subnet, subnetKey: CertificateIssuer(secretKey: subnetKey).publicKey,
            ranges: ranges, time: now)
        let forged = CertificateIssuer(secretKey: subnetKey, delegation: (subnet, forgedDelegation))
        #expect(throws: CertificateError.self) {
            try verifier.verify(forged.certificate(for: try stateTree(canister: canister, time: now)), for: .canister(canister))
        }
    }

    @Test("tampering with the tree after signing is detected")
    func tamperedTree() throws {
        let canister = Principal.canister(index: 5)
        let bytes = root.certificate(for: try stateTree(canister: canister, time: now))
        var certificate = try Certificate(cborBytes: bytes)
        certificate.tree = try stateTree(canister: canister, time: now + 1)
        let verifier = CertificateVerifier(rootKey: root.publicKey, clock: { now })
        #expect(throws: CertificateError.self) { try verifier.verify(certificate, for: .canister(canister)) }
    }
}
