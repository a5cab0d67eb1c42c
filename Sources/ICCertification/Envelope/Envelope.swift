import ICCore

/// A request body as sent to the IC (essentials §2, §4.2): the content plus the sender's
/// authentication, CBOR-encoded under the self-describe tag.
///
/// ```swift
/// let content = RequestContent(kind: .call(canisterID: canister, methodName: "greet", arg: arg),
///                              sender: identity.principal, ingressExpiry: IngressExpiry.default())
/// let body = try Envelope.signed(content, by: identity).encoded()
/// ```
public struct Envelope: Sendable, Equatable {
    public var content: RequestContent
    /// `sender_pubkey` (DER), absent for anonymous requests.
    public var senderPublicKey: [UInt8]?
    /// `sender_sig`, absent for anonymous requests.
    public var senderSignature: [UInt8]?
    /// `sender_delegation`, absent when empty.
    public var senderDelegation: [SignedDelegation]?

    public init(
        content: RequestContent, senderPublicKey: [UInt8]? = nil, senderSignature: [UInt8]? = nil,
        senderDelegation: [SignedDelegation]? = nil
    ) {
        self.content = content
        self.senderPublicKey = senderPublicKey
        self.senderSignature = senderSignature
        self.senderDelegation = senderDelegation
    }

    /// Signs `content` with `identity`: `sender_sig = sign("\x0Aic-request" · request_id)`.
    /// Anonymous identities produce an unsigned envelope.
    public static func signed(_ content: RequestContent, by identity: any Identity) throws(IdentityError) -> Envelope {
        guard let publicKey = identity.publicKeyDER else { return Envelope(content: content) }
        let signature = try identity.sign(content.requestID.signaturePayload)
        let chain = identity.delegationChain
        return Envelope(
            content: content, senderPublicKey: publicKey, senderSignature: signature,
            senderDelegation: chain.isEmpty ? nil : chain)
    }

    /// The envelope as a CBOR map.
    public var cbor: CBORValue {
        var entries: [(key: CBORValue, value: CBORValue)] = [(.text("content"), content.cbor)]
        if let senderPublicKey { entries.append((.text("sender_pubkey"), .bytes(senderPublicKey))) }
        if let senderSignature { entries.append((.text("sender_sig"), .bytes(senderSignature))) }
        if let senderDelegation {
            entries.append((.text("sender_delegation"), .array(senderDelegation.map(\.cbor))))
        }
        return .map(entries)
    }

    /// The HTTP request body: CBOR with the self-describe tag.
    public func encoded() -> [UInt8] {
        CBOREncoder.encode(cbor, selfDescribe: true)
    }

    /// Decodes a request body (as a replica or a verifying gateway receives it).
    public init(cborBytes bytes: [UInt8], limits: CBORDecoder.Limits = .default) throws(EnvelopeError) {
        let value: CBORValue
        do { value = try CBORDecoder(limits: limits).decode(bytes) } catch {
            throw .malformed("request body is not valid CBOR: \(error)")
        }
        try self.init(cbor: value)
    }

    /// Decodes an envelope map.
    public init(cbor value: CBORValue) throws(EnvelopeError) {
        let value = value.removingSelfDescribeTag
        guard value.mapEntries != nil else { throw .malformed("request body is not a CBOR map") }
        guard let content = value["content"] else { throw .malformed("request body has no 'content'") }
        self.content = try RequestContent(cbor: content)
        if let key = value["sender_pubkey"] {
            guard let bytes = key.bytes else { throw .malformed("sender_pubkey must be a byte string") }
            senderPublicKey = bytes
        }
        if let signature = value["sender_sig"] {
            guard let bytes = signature.bytes else { throw .malformed("sender_sig must be a byte string") }
            senderSignature = bytes
        }
        if let delegations = value["sender_delegation"] {
            guard let items = delegations.arrayItems else { throw .malformed("sender_delegation must be an array") }
            var chain = [SignedDelegation]()
            for item in items { chain.append(try SignedDelegation(cbor: item)) }
            senderDelegation = chain
        }
    }
}
