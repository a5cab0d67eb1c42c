#if !ICWS_SINGLE_MODULE
import ICCore
#endif

/// Why a secp256k1 key or signature was refused.
public enum Secp256k1Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// A secret key must be 32 bytes encoding a scalar in [1, n−1].
    case invalidSecretKey
    /// A public key has the wrong length or prefix byte.
    case invalidPublicKeyEncoding(length: Int, prefix: UInt8?)
    /// A public key coordinate is not below the field prime.
    case coordinateOutOfRange
    /// The public key point is not on the curve.
    case publicKeyNotOnCurve
    /// A DER public key does not carry the secp256k1 SubjectPublicKeyInfo prefix.
    case invalidDERPrefix
    /// A signature must be 64 bytes `r ‖ s`.
    case invalidSignatureLength(Int)

    public var description: String {
        switch self {
        case .invalidSecretKey: return "secp256k1 secret key must be 32 bytes encoding a scalar in [1, n-1]"
        case .invalidPublicKeyEncoding(let length, let prefix):
            let shown = prefix.map { Hex.encode([$0]) } ?? "none"
            return "secp256k1 public key must be 65 bytes starting 04 or 33 bytes starting 02/03; got \(length) bytes starting \(shown)"
        case .coordinateOutOfRange: return "secp256k1 public key coordinate is not below the field prime"
        case .publicKeyNotOnCurve: return "secp256k1 public key is not a point on the curve"
        case .invalidDERPrefix:
            return "DER public key is not a secp256k1 SubjectPublicKeyInfo (expected prefix 3056301006072a8648ce3d020106052b8104000a034200)"
        case .invalidSignatureLength(let n): return "secp256k1 signature must be 64 bytes (r ‖ s); got \(n)"
        }
    }
}
