#if !ICWS_SINGLE_MODULE
import BLS12381
import ICCore
#endif

/// The BLS12-381 public key that certificates are checked against.
public struct RootKey: Sendable, Hashable {
    /// The 96-byte compressed G2 point.
    public let raw: [UInt8]

    /// Wraps a 96-byte raw key.
    public init(raw: [UInt8]) throws(CertificateError) {
        guard raw.count == 96 else { throw .malformed("root key must be 96 bytes (raw) or 133 bytes (DER), got \(raw.count)") }
        self.raw = raw
    }

    /// Parses the 133-byte DER form served by `/api/v2/status` (or a 96-byte raw key).
    public init(der: [UInt8]) throws(CertificateError) {
        if der.count == 96 {
            try self.init(raw: der)
            return
        }
        let raw: [UInt8]
        do { raw = try BLS.rawPublicKey(fromDER: der) } catch {
            throw .malformed("root key: \(error)")
        }
        try self.init(raw: raw)
    }

    /// The 133-byte DER form.
    public var der: [UInt8] { BLS.publicKeyDERPrefix + raw }

    /// The IC mainnet root key (NNS root subnet `tdb26-jop6k-…-eqe`).
    public static let mainnet: RootKey = {
        let hex =
            "814c0e6ec71fab583b08bd81373c255c3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
        guard let bytes = try? Hex.decode(hex), let key = try? RootKey(raw: bytes) else {
            preconditionFailure("mainnet root key constant is malformed")
        }
        return key
    }()
}
