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
