import Foundation

/// `certificates/certificates.json` as the certificate verification tests read it: each mainnet
/// certificate with its expected root hash and signature, and the root keys and scopes under
/// which it must verify or fail (shared by the certification and agent tests).
public struct CertificateVerificationVectors: Decodable, Sendable {
    public struct Key: Decodable, Sendable { public let der_hex: String }
    public struct Scenario: Decodable, Sendable {
        public let root_key: String
        public let expect: String
        public let effective_canister_id: String?
        public let effective_subnet_id: String?
        public let reason: String?
    }
    public struct Delegation: Decodable, Sendable {
        public let subnet_id_text: String
        public let canister_ranges: [[String]]?
    }
    public struct Expected: Decodable, Sendable {
        public let root_hash_hex: String
        public let signature_hex: String
        public let time_ns: String?
        public let delegation: Delegation?
    }
    public struct Entry: Decodable, Sendable {
        public let id: String
        public let certificate_cbor_hex: String
        public let expected: Expected
        public let verification_scenarios: [Scenario]
    }
    public let root_keys: [String: Key]
    public let certificates: [Entry]

    public static let loaded: CertificateVerificationVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(CertificateVerificationVectors.self, from: "certificates/certificates.json") : nil
}
