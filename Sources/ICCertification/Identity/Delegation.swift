import ICCore

/// A delegation from one key to another (essentials §4.4): the holder of `publicKey` may
/// sign requests for the delegating principal until `expiration`, for the `targets` only
/// when they are given.
public struct Delegation: Hashable, Sendable {
    /// DER public key of the delegate.
    public var publicKey: [UInt8]
    /// Expiry in nanoseconds since 1970.
    public var expiration: UInt64
    /// Canisters the delegation is restricted to, if any.
    public var targets: [Principal]?

    public init(publicKey: [UInt8], expiration: UInt64, targets: [Principal]? = nil) {
        self.publicKey = publicKey
        self.expiration = expiration
        self.targets = targets
    }
}

/// A delegation and the signature over it by the delegating key.
public struct SignedDelegation: Hashable, Sendable {
    public var delegation: Delegation
    public var signature: [UInt8]

    public init(delegation: Delegation, signature: [UInt8]) {
        self.delegation = delegation
        self.signature = signature
    }
}
