import ICCertification
import ICCore
import ICTestSupport
import Testing

struct CertificateScenarioCase: Sendable, CustomTestStringConvertible {
    let certificateID: String
    let certificate: [UInt8]
    let rootKey: [UInt8]
    let scope: CertificateScope
    let valid: Bool
    let reason: String
    var testDescription: String { "\(certificateID) \(scope) → \(valid ? "valid" : "invalid: \(reason)")" }

    static let all: [CertificateScenarioCase] = TestVectors.cases {
        guard let vectors = CertificateVerificationVectors.loaded else { return [] }
        return try vectors.certificates.flatMap { entry in
            try entry.verification_scenarios.map { scenario in
                let scope: CertificateScope
                if let canister = scenario.effective_canister_id {
                    scope = .canister(try Principal(text: canister))
                } else if let subnet = scenario.effective_subnet_id {
                    scope = .subnet(try Principal(text: subnet))
                } else {
                    scope = .unscoped
                }
                return CertificateScenarioCase(
                    certificateID: entry.id, certificate: bytes(hex: entry.certificate_cbor_hex),
                    rootKey: bytes(hex: vectors.root_keys[scenario.root_key]!.der_hex), scope: scope,
                    valid: scenario.expect == "valid", reason: scenario.reason ?? "")
            }
        }
    }
}

@Suite("Certificate vectors", .enabled(if: TestVectors.isAvailable))
struct CertificateVectorTests {
    @Test("every verification scenario", arguments: CertificateScenarioCase.all)
    func scenario(_ vector: CertificateScenarioCase) throws {
        let verifier = CertificateVerifier(rootKey: try RootKey(der: vector.rootKey), freshness: .disabled)
        if vector.valid {
            let verified = try verifier.verify(vector.certificate, for: vector.scope)
            #expect(verified.time != nil)
            // The second verification is answered from the cache and agrees.
            #expect(try verifier.verify(vector.certificate, for: vector.scope).certificate == verified.certificate)
        } else {
            #expect(throws: CertificateError.self) { try verifier.verify(vector.certificate, for: vector.scope) }
        }
    }

    @Test("decoding: root hash, signature, time and delegation ranges")
    func decoding() throws {
        let vectors = try #require(CertificateVerificationVectors.loaded)
        #expect(vectors.certificates.count == 15)
        for entry in vectors.certificates {
            let certificate = try Certificate(cborBytes: bytes(hex: entry.certificate_cbor_hex))
            #expect(hexString(certificate.rootHash) == entry.expected.root_hash_hex, "\(entry.id)")
            #expect(hexString(certificate.signature) == entry.expected.signature_hex, "\(entry.id)")
            if let time = entry.expected.time_ns { #expect(certificate.time.map(String.init) == time, "\(entry.id)") }
            if let delegation = entry.expected.delegation, let expectedRanges = delegation.canister_ranges {
                let certDelegation = try #require(certificate.delegation)
                #expect(certDelegation.subnetID.description == delegation.subnet_id_text)
                let ranges = try CanisterRanges.revealed(in: certDelegation.certificate.tree, for: certDelegation.subnetID)
                #expect(
                    ranges?.map { [$0.lowerBound.description, $0.upperBound.description] }
                        == expectedRanges.map { Array($0.prefix(2)) }, "\(entry.id)")
            }
        }
    }

    @Test("the failed check is named")
    func errorsNameTheCheck() throws {
        let vectors = try #require(CertificateVerificationVectors.loaded)
        func certificate(_ id: String) throws -> [UInt8] {
            bytes(hex: try #require(vectors.certificates.first { $0.id == id }).certificate_cbor_hex)
        }
        let mainnet = CertificateVerifier(rootKey: .mainnet, freshness: .disabled)
        let ivg37 = try Principal(text: "ivg37-qiaaa-aaaab-aaaga-cai")
        let ledger = try Principal(text: "ryjl3-tyaaa-aaaaa-aaaba-cai")
        #expect(
            throws: CertificateError.canisterNotInRanges(
                canister: ledger, subnet: try Principal(text: "qxesv-zoxpm-vc64m-zxguk-5sj74-35vrb-tbgwg-pcird-5gr26-62oxl-cae"))
        ) {
            try mainnet.verify(try certificate("mainnet_ivg37_time_v3_sharded_ranges"), for: .canister(ledger))
        }
        #expect(
            throws: CertificateError.canisterRangesUnavailable(
                subnet: try Principal(text: "qxesv-zoxpm-vc64m-zxguk-5sj74-35vrb-tbgwg-pcird-5gr26-62oxl-cae"))
        ) {
            try mainnet.verify(try certificate("neg_ivg37_pruned_canister_ranges"), for: .canister(ivg37))
        }
        do {
            _ = try mainnet.verify(try certificate("neg_signature_swapped_with_delegation"), for: .canister(ivg37))
            Issue.record("expected a signature failure")
        } catch let error as CertificateError {
            guard case .invalidSignature = error else { Issue.record("wrong error \(error)"); return }
        }
    }

    @Test("freshness uses the injected clock")
    func freshness() throws {
        let vectors = try #require(CertificateVerificationVectors.loaded)
        let entry = try #require(vectors.certificates.first { $0.id == "mainnet_ivg37_time_v3_sharded_ranges" })
        let timeText = try #require(entry.expected.time_ns)
        let time = try #require(UInt64(timeText))
        let bytes = bytes(hex: entry.certificate_cbor_hex)
        let canister = try Principal(text: "ivg37-qiaaa-aaaab-aaaga-cai")
        let fresh = CertificateVerifier(rootKey: .mainnet, clock: { time + 60_000_000_000 })
        _ = try fresh.verify(bytes, for: .canister(canister))
        let stale = CertificateVerifier(rootKey: .mainnet, clock: { time + 301_000_000_000 })
        #expect(throws: CertificateError.self) { try stale.verify(bytes, for: .canister(canister)) }
        let early = CertificateVerifier(rootKey: .mainnet, clock: { time - 301_000_000_000 })
        #expect(throws: CertificateError.fromTheFuture(certificateTime: time, now: time - 301_000_000_000)) {
            try early.verify(bytes, for: .canister(canister))
        }
        // A cached certificate is still subject to freshness.
        var now = time
        let clock = MutableClock(now)
        let cachedVerifier = CertificateVerifier(rootKey: .mainnet, clock: { clock.now })
        _ = try cachedVerifier.verify(bytes, for: .canister(canister))
        now += 400_000_000_000
        clock.now = now
        #expect(throws: CertificateError.self) { try cachedVerifier.verify(bytes, for: .canister(canister)) }
    }
}

final class MutableClock: @unchecked Sendable {
    var now: UInt64
    init(_ now: UInt64) { self.now = now }
}
