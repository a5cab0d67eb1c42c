import ICCore

/// Checks that an envelope's sender really sent it (essentials §4.2–4.4): the sender is the
/// self-authenticating id of `sender_pubkey` (or anonymous with no authentication at all),
/// every delegation is signed by the previous key and unexpired, the targets admit the
/// addressed canister, and `sender_sig` is made by the last key over the request id.
public struct RequestAuthentication: Sendable {
    /// Verifies the individual signatures.
    public let signatures: SignatureVerifier
    /// Whether delegation expiry is checked (off to replay recorded envelopes).
    public var checksExpiry: Bool

    public init(signatures: SignatureVerifier, checksExpiry: Bool = true) {
        self.signatures = signatures
        self.checksExpiry = checksExpiry
    }

    /// What was established about a request.
    public struct Result: Sendable, Equatable {
        public let requestID: RequestID
        public let sender: Principal
        /// The canisters the delegations restrict the sender to (`nil`: unrestricted).
        public let targets: Set<Principal>?
    }

    /// Authenticates `envelope` at time `now` (ns since 1970).
    public func authenticate(_ envelope: Envelope, now: UInt64) throws(AuthenticationError) -> Result {
        let content = envelope.content
        let requestID = content.requestID
        guard let publicKey = envelope.senderPublicKey else {
            guard envelope.senderSignature == nil, envelope.senderDelegation == nil else {
                throw .invalid("sender_sig or sender_delegation given without sender_pubkey")
            }
            guard content.sender.isAnonymous else {
                throw .invalid(
                    "request from \(content.sender) carries no signature; only the anonymous principal may send unsigned requests")
            }
            return Result(requestID: requestID, sender: content.sender, targets: nil)
        }
        guard let signature = envelope.senderSignature else { throw .invalid("sender_pubkey given without sender_sig") }
        let derived = Principal.selfAuthenticating(derPublicKey: publicKey)
        guard derived == content.sender else {
            throw .invalid("sender \(content.sender) is not the self-authenticating id of sender_pubkey (\(derived))")
        }

        var signingKey = publicKey
        var targets: Set<Principal>?
        var seenKeys: Set<[UInt8]> = [publicKey]
        let chain = envelope.senderDelegation ?? []
        guard chain.count <= 20 else { throw .invalid("\(chain.count) delegations; at most 20 are allowed") }
        for (index, signed) in chain.enumerated() {
            let delegation = signed.delegation
            do {
                try signatures.verify(signature: signed.signature, message: delegation.signaturePayload, publicKeyDER: signingKey)
            } catch {
                throw .invalid("delegation \(index) signature: \(error)")
            }
            if checksExpiry, delegation.expiration < now {
                throw .invalid("delegation \(index) expired at \(delegation.expiration) (now \(now))")
            }
            if let restricted = delegation.targets {
                guard restricted.count <= 1000 else { throw .invalid("delegation \(index) has more than 1000 targets") }
                let set = Set(restricted)
                targets = targets.map { $0.intersection(set) } ?? set
            }
            guard seenKeys.insert(delegation.publicKey).inserted else {
                throw .invalid("delegation \(index) repeats a key of the chain")
            }
            signingKey = delegation.publicKey
        }
        if let targets, let canister = content.canisterID, !targets.contains(canister) {
            throw .invalid("canister \(canister) is not among the delegation targets")
        }
        do {
            try signatures.verify(signature: signature, message: requestID.signaturePayload, publicKeyDER: signingKey)
        } catch {
            throw .invalid("sender_sig: \(error)")
        }
        return Result(requestID: requestID, sender: content.sender, targets: targets)
    }
}

/// Why a request's authentication was refused.
public enum AuthenticationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let why): return "request authentication failed: \(why)"
        }
    }
}
