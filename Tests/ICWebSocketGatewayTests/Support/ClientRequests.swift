import ICAgent
import ICCore
import ICWebSocketProtocol

/// Builds and signs client request frames (C1) the way a client SDK does (protocol §2.4).
struct ClientRequests {
    let identity: any Identity
    let canister: Principal
    let clock: @Sendable () -> UInt64
    let clientNonce: UInt64

    var clientKey: ClientKey { ClientKey(clientPrincipal: identity.principal, clientNonce: clientNonce) }

    init(
        identity: any Identity = Ed25519Identity(), canister: Principal, clientNonce: UInt64 = .random(in: 1...UInt64.max),
        clock: @escaping @Sendable () -> UInt64 = CertificateVerifier.systemClock
    ) {
        self.identity = identity
        self.clientNonce = clientNonce
        self.canister = canister
        self.clock = clock
    }

    /// A signed envelope for `method` with `arg`, wrapped in C1.
    func frame(method: String, arg: [UInt8], requestType: RequestContent.Kind? = nil) throws -> [UInt8] {
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let content = RequestContent(
            kind: requestType ?? .call(canisterID: canister, methodName: method, arg: arg),
            sender: identity.principal,
            ingressExpiry: IngressExpiry.value(nowNanoseconds: clock(), delta: .seconds(300)), nonce: nonce)
        let envelope = try Envelope.signed(content, by: identity)
        return try ClientRequestFrame(envelopeBytes: CBOREncoder.encode(envelope.cbor, selfDescribe: false)).encoded()
    }

    func open(gateway: Principal) throws -> [UInt8] {
        try frame(method: "ws_open", arg: Candid.encode(CanisterWsOpenArguments(clientNonce: clientNonce, gatewayPrincipal: gateway)))
    }

    /// `ws_resume` (icws extension) naming `gateway`.
    func resume(gateway: Principal, lastReceived: UInt64 = 0, counter: UInt64 = 1) throws -> [UInt8] {
        try frame(
            method: "ws_resume",
            arg: Candid.encode(
                CanisterWsResumeArguments(
                    clientNonce: clientNonce, gatewayPrincipal: gateway, lastReceivedSequenceNum: lastReceived, resumeCounter: counter)))
    }

    /// `ws_message` with an application payload, as the JS client encodes it: `(args, opt null)` with none.
    func message(sequenceNumber: UInt64, content: [UInt8]) throws -> [UInt8] {
        let message = WebsocketMessage(
            clientKey: clientKey, sequenceNum: sequenceNumber, timestamp: clock(),
            isServiceMessage: false, content: content)
        return try frame(
            method: "ws_message",
            arg: Candid.encode(CanisterWsMessageArguments(msg: message), CandidNull?.none))
    }
}

/// Claims another principal while signing with a fresh key. Only for endpoints that check no
/// signatures (the fault-injecting IC), to reproduce the fixtures' client key.
struct ImpersonatingIdentity: Identity {
    let principal: Principal
    private let key = Ed25519Identity()
    init(principal: Principal) { self.principal = principal }
    var publicKeyDER: [UInt8]? { key.publicKeyDER }
    func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] { try key.sign(message) }
}
