/// The group a point belongs to, for error messages.
public enum BLSGroup: Sendable, Equatable {
    /// G1 ⊂ E(Fp), 48-byte compressed points (signatures).
    case g1
    /// G2 ⊂ E'(Fp2), 96-byte compressed points (public keys).
    case g2

    var name: String { self == .g1 ? "G1" : "G2" }
    var compressedSize: Int { self == .g1 ? 48 : 96 }
}

/// Why a BLS operation failed. Every decoding error names what was wrong.
public enum BLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The encoding does not have the compressed length (48 bytes for G1, 96 for G2).
    case wrongLength(BLSGroup, actual: Int)
    /// The uncompressed form (96 bytes for G1, 192 for G2) was given; only compressed points are accepted.
    case uncompressedEncoding(BLSGroup)
    /// The compression flag (0x80 of the first byte) is not set.
    case compressionFlagNotSet(BLSGroup)
    /// The infinity flag (0x40) is set but the sign flag or some coordinate bit is not zero.
    case invalidInfinityEncoding(BLSGroup)
    /// A coordinate (x for G1; x.c0 or x.c1 for G2) is not less than p.
    case coordinateNotReduced(BLSGroup)
    /// x is not the abscissa of a curve point (x³ + b has no square root).
    case notOnCurve(BLSGroup)
    /// The point lies on the curve but not in the prime-order subgroup.
    case notInSubgroup(BLSGroup)
    /// The signature is the identity point (rejected explicitly).
    case identitySignature
    /// The public key is the identity point (rejected explicitly).
    case identityPublicKey
    /// A secret key is zero or not less than r, or does not have 32 bytes.
    case invalidSecretKey
    /// The DER wrapper of a public key is not the expected 37-byte prefix plus 96 bytes.
    case invalidDER
    /// Every encoding was valid, but the pairing equation does not hold.
    case signatureMismatch
    /// expand_message_xmd cannot produce the requested length.
    case invalidExpandLength

    public var description: String {
        switch self {
        case let .wrongLength(g, actual):
            return "\(g.name) point encoding has \(actual) bytes, expected \(g.compressedSize) (compressed)"
        case let .uncompressedEncoding(g):
            return "\(g.name) point is in uncompressed form (\(2 * g.compressedSize) bytes); only the compressed form is accepted"
        case let .compressionFlagNotSet(g):
            return "\(g.name) point compression flag (0x80) is not set"
        case let .invalidInfinityEncoding(g):
            return "\(g.name) point has the infinity flag set together with other non-zero bits"
        case let .coordinateNotReduced(g):
            return "\(g.name) point x coordinate is not less than p"
        case let .notOnCurve(g):
            return "\(g.name) point is not on the curve (x³ + b is not a square)"
        case let .notInSubgroup(g):
            return "\(g.name) point is not in the prime-order subgroup"
        case .identitySignature:
            return "signature is the identity point"
        case .identityPublicKey:
            return "public key is the identity point"
        case .invalidSecretKey:
            return "secret key must be 32 bytes encoding a non-zero integer less than r"
        case .invalidDER:
            return "public key DER must be the 37-byte BLS12-381 G2 prefix followed by 96 bytes"
        case .signatureMismatch:
            return "signature does not verify (pairing check failed)"
        case .invalidExpandLength:
            return "expand_message_xmd: requested length is too large"
        }
    }
}
