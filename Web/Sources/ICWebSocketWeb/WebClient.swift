import ICCertification
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol

/// One browser client session: the protocol state machine shared with the Swift SDK, plus the
/// request being signed. The JavaScript shell owns the WebSocket, the clock, randomness and the
/// Ed25519 key (WebCrypto); this side decides what to send and checks everything received.
struct WebClient {
    /// What a received frame asks the shell to do (the first byte of the output).
    enum Event: UInt8 {
        /// Nothing for the application (a verified service message was handled).
        case none = 0
        /// The canister's OpenMessage arrived: the session is open.
        case opened = 1
        /// A verified application message; the rest of the output is its Candid bytes.
        case message = 2
        /// An ack was processed: the shell must sign and send the prepared keep-alive
        /// (`icws_prepare_call` with kind 2).
        case keepAliveDue = 3
        /// The canister closed the session (ClosedByApplication).
        case closedByApplication = 4
    }

    /// The calls this client signs (`icws_prepare_call`'s `kind`).
    enum CallKind: Int32 {
        case open = 0
        case message = 1
        case keepAlive = 2
    }

    let canister: Principal
    let publicKeyDER: [UInt8]
    let principal: Principal
    let clientNonce: UInt64
    let ingressExpiry: Duration
    private(set) var machine: ClientStateMachine
    private(set) var gateway: Principal?
    /// The keep-alive the last ack asked for, until it is signed.
    private var keepAlive: WebsocketMessage?
    /// The request content waiting for its signature.
    private var pending: RequestContent?

    init(
        canister: Principal, rootKey: RootKey, publicKeyDER: [UInt8], clientNonce: UInt64, maxCertificateAge: Duration?,
        ackTimeout: Duration, clock: @escaping @Sendable () -> UInt64
    ) {
        self.canister = canister
        self.publicKeyDER = publicKeyDER
        principal = Principal.selfAuthenticating(derPublicKey: publicKeyDER)
        self.clientNonce = clientNonce
        ingressExpiry = IngressExpiry.defaultDelta
        machine = ClientStateMachine(
            canister: canister, clientKey: ClientKey(clientPrincipal: principal, clientNonce: clientNonce), rootKey: rootKey,
            maxCertificateAge: maxCertificateAge, ackTimeout: ackTimeout, clock: clock)
    }

    /// The gateway's first frame.
    mutating func receiveHandshake(_ frame: [UInt8]) throws(ICWebSocketClientError) {
        gateway = try machine.receiveHandshake(frame)
    }

    /// A canister message frame: the event, and the application bytes for `.message`.
    mutating func receive(_ frame: [UInt8]) throws(ICWebSocketClientError) -> (Event, [UInt8]) {
        switch try machine.receiveCanisterMessage(frame) {
        case .opened: return (.opened, [])
        case .none: return (.none, [])
        case .resumed, .lateResumeMessage, .skippedDuringResume:
            // The browser client never asks for a resumable session (no ws_resume is sent).
            throw .internalInconsistency("a resume's message, though this client never resumes")
        case .deliver(let content): return (.message, content)
        case .sendKeepAlive(let message):
            keepAlive = message
            return (.keepAliveDue, [])
        case .closedByApplication: return (.closedByApplication, [])
        }
    }

    /// Builds the next call's content and returns what must be signed
    /// (`"\x0Aic-request" · request_id`); `finishCall` turns the signature into a frame.
    mutating func prepareCall(
        _ kind: CallKind, nonce: [UInt8], application: [UInt8], now: UInt64
    ) throws(ICWebSocketClientError) -> [UInt8] {
        guard pending == nil else { throw .internalInconsistency("a call is already waiting for its signature") }
        let method: String
        let argument: [UInt8]
        switch kind {
        case .open:
            guard let gateway else { throw .notOpen }
            method = "ws_open"
            argument = ProtocolCandid.encode(CanisterWsOpenArguments(clientNonce: clientNonce, gatewayPrincipal: gateway))
        case .message:
            let message = try machine.nextMessage(content: application, isServiceMessage: false)
            method = "ws_message"
            argument = ProtocolCandid.encodeWsMessage(message)
        case .keepAlive:
            guard let message = keepAlive else { throw .internalInconsistency("no keep-alive is due") }
            keepAlive = nil
            method = "ws_message"
            argument = ProtocolCandid.encodeWsMessage(message)
        }
        let content = RequestContent(
            kind: .call(canisterID: canister, methodName: method, arg: argument), sender: principal,
            ingressExpiry: IngressExpiry.value(nowNanoseconds: now, delta: ingressExpiry), nonce: nonce)
        pending = content
        return content.requestID.signaturePayload
    }

    /// The signed call as a client request frame (protocol §2.4).
    mutating func finishCall(signature: [UInt8]) throws(ICWebSocketClientError) -> [UInt8] {
        guard let content = pending else { throw .internalInconsistency("no call is waiting for a signature") }
        pending = nil
        let envelope = CBORValue.map([
            (.text("content"), content.cbor),
            (.text("sender_pubkey"), .bytes(publicKeyDER)),
            (.text("sender_sig"), .bytes(signature)),
        ])
        do { return try ClientRequestFrame(envelopeBytes: CBOREncoder.encode(envelope)).encoded() } catch {
            throw .internalInconsistency("cannot wrap the envelope: \(error.description)")
        }
    }

    /// The ack deadline (§5.7): a gateway that withholds messages is caught here.
    func checkDeadlines() throws(ICWebSocketClientError) {
        try machine.checkAcknowledgementDeadline()
    }

    mutating func close() {
        machine.close()
    }
}
