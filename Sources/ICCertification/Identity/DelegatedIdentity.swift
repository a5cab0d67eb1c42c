import ICCore

extension Delegation {
    /// The delegation as a CBOR map (`pubkey`, `expiration`, optional `targets`).
    public var cbor: CBORValue {
        var entries: [(key: CBORValue, value: CBORValue)] = [
            (.text("pubkey"), .bytes(publicKey)),
            (.text("expiration"), .unsigned(expiration)),
        ]
        if let targets { entries.append((.text("targets"), .array(targets.map { .bytes($0.bytes) }))) }
        return .map(entries)
    }

    /// `hash_of_map(delegation)`, the value a delegation signature covers.
    public var hash: [UInt8] {
        guard let hash = try? RepresentationIndependentHash.hashOfMap(cbor) else {
            preconditionFailure("a delegation map is always hashable")
        }
        return hash
    }

    /// The signed payload: `"\x1Aic-request-auth-delegation" · hash_of_map(delegation)`.
    public var signaturePayload: [UInt8] { DomainSeparator.delegation + hash }

    /// Parses a delegation map.
    public init(cbor value: CBORValue) throws(EnvelopeError) {
        guard let key = value["pubkey"]?.bytes else { throw .malformed("delegation.pubkey must be a byte string") }
        guard let expiration = value["expiration"]?.uint64 else {
            throw .malformed("delegation.expiration must be an unsigned integer")
        }
        var targets: [Principal]?
        if let list = value["targets"] {
            guard let items = list.arrayItems else { throw .malformed("delegation.targets must be an array") }
            var parsed = [Principal]()
            for item in items {
                guard let bytes = item.bytes, let principal = try? Principal(bytes: bytes) else {
                    throw .malformed("delegation.targets must hold principals")
                }
                parsed.append(principal)
            }
            targets = parsed
        }
        self.init(publicKey: key, expiration: expiration, targets: targets)
    }
}

extension SignedDelegation {
    /// `{delegation: {...}, signature: bytes}`.
    public var cbor: CBORValue {
        .map([(.text("delegation"), delegation.cbor), (.text("signature"), .bytes(signature))])
    }

    /// Parses a signed delegation map.
    public init(cbor value: CBORValue) throws(EnvelopeError) {
        guard let delegation = value["delegation"] else { throw .malformed("signed delegation has no 'delegation'") }
        guard let signature = value["signature"]?.bytes else {
            throw .malformed("signed delegation 'signature' must be a byte string")
        }
        self.init(delegation: try Delegation(cbor: delegation), signature: signature)
    }

    /// Signs a delegation to `delegation.publicKey` with `identity`'s key.
    public static func sign(_ delegation: Delegation, by identity: any Identity) throws(IdentityError) -> SignedDelegation {
        SignedDelegation(delegation: delegation, signature: try identity.sign(delegation.signaturePayload))
    }
}

/// An identity that signs with a session key on behalf of another key, through a chain of
/// delegations (essentials §4.4). Requests are sent as the principal of the ORIGINAL key.
///
/// ```swift
/// let session = Ed25519Identity()
/// let delegation = try SignedDelegation.sign(
///     Delegation(publicKey: session.publicKeyDER!, expiration: expiry), by: rootIdentity)
/// let delegated = try DelegatedIdentity(delegatorPublicKey: rootIdentity.publicKeyDER!,
///                                       chain: [delegation], session: session)
/// ```
public struct DelegatedIdentity: Identity {
    /// DER public key of the original (delegating) key: the `sender_pubkey`.
    public let delegatorPublicKey: [UInt8]
    /// The chain, first entry signed by the delegator, last one naming the session key.
    public let chain: [SignedDelegation]
    /// The identity that holds the session key.
    public let session: any Identity

    /// Creates the identity after checking that the chain is non-empty, at most 20 long,
    /// and ends at the session key.
    public init(delegatorPublicKey: [UInt8], chain: [SignedDelegation], session: any Identity) throws(IdentityError) {
        guard !chain.isEmpty else { throw .invalidDelegation("the chain is empty") }
        guard chain.count <= 20 else { throw .invalidDelegation("the chain has \(chain.count) delegations; at most 20 are allowed") }
        guard let sessionKey = session.publicKeyDER, chain.last?.delegation.publicKey == sessionKey else {
            throw .invalidDelegation("the last delegation does not name the session key")
        }
        self.delegatorPublicKey = delegatorPublicKey
        self.chain = chain
        self.session = session
    }

    public var principal: Principal { Principal.selfAuthenticating(derPublicKey: delegatorPublicKey) }
    public var publicKeyDER: [UInt8]? { delegatorPublicKey }
    public var delegationChain: [SignedDelegation] { chain }

    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        try session.sign(message)
    }
}
