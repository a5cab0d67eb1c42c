/// Why an identity could not be created, loaded or used.
public enum IdentityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The anonymous identity was asked to sign.
    case anonymousCannotSign
    /// A key's bytes are not valid for its algorithm.
    case invalidKey(String)
    /// A PEM file could not be read or has an unsupported content.
    case invalidPEM(String)
    /// A delegation chain is unusable (empty, too long, or does not chain up).
    case invalidDelegation(String)
    /// The underlying crypto library failed to sign.
    case signingFailed(String)

    public var description: String {
        switch self {
        case .anonymousCannotSign: return "the anonymous identity cannot sign"
        case .invalidKey(let why): return "invalid key: \(why)"
        case .invalidPEM(let why): return "invalid PEM identity file: \(why)"
        case .invalidDelegation(let why): return "invalid delegation chain: \(why)"
        case .signingFailed(let why): return "signing failed: \(why)"
        }
    }
}
