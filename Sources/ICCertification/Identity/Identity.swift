import ICCore

/// Who signs requests to the IC.
///
/// An identity has a principal (the request's `sender`), a DER public key that proves it
/// (`sender_pubkey`, absent for the anonymous identity), optionally a delegation chain
/// (`sender_delegation`), and signs the bytes the IC asks for (`sender_sig`).
///
/// Implementations: ``AnonymousIdentity``, ``Ed25519Identity``, ``P256Identity``,
/// ``Secp256k1Identity`` and ``DelegatedIdentity``. Load one from a dfx PEM file with
/// ``IdentityPEM/load(pem:)``.
public protocol Identity: Sendable {
    /// The principal requests are sent as.
    var principal: Principal { get }
    /// The DER `SubjectPublicKeyInfo` sent as `sender_pubkey`, or `nil` when anonymous.
    var publicKeyDER: [UInt8]? { get }
    /// Delegations sent as `sender_delegation` (empty for plain keys).
    var delegationChain: [SignedDelegation] { get }
    /// Signs `message` (already prefixed with its domain separator) with the key that
    /// `sender_sig` must be made with.
    func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8]
}

extension Identity {
    public var delegationChain: [SignedDelegation] { [] }
}

/// The anonymous principal `2vxsx-fae`: requests carry no key and no signature.
public struct AnonymousIdentity: Identity {
    public init() {}
    public var principal: Principal { .anonymous }
    public var publicKeyDER: [UInt8]? { nil }
    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        throw .anonymousCannotSign
    }
}

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
