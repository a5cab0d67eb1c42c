import ICAgent
import ICCore
import ICWebSocketProtocol

/// Builds the client's signed C1 frames (protocol §2.4): `ws_open` and `ws_message` call
/// envelopes signed by the client's own identity, so the gateway can relay but not forge them.
struct ClientRequestSigner: Sendable {
    let identity: any Identity
    let canister: Principal
    let ingressExpiry: Duration
    let clock: @Sendable () -> UInt64

    /// C1 for `ws_open(record { client_nonce; gateway_principal })`, with `resumable = opt true`
    /// when the session should survive its connection (docs/SESSION-RESUMPTION.md).
    func openRequest(clientNonce: UInt64, gateway: Principal, resumable: Bool = false) throws(ICWebSocketClientError) -> [UInt8] {
        let arg: [UInt8]
        do {
            arg = try CanisterWsOpenArguments(
                clientNonce: clientNonce, gatewayPrincipal: gateway, resumable: resumable ? true : nil
            ).encodedArgument()
        } catch {
            throw .internalInconsistency("cannot encode ws_open arguments: \(error)")
        }
        return try frame(method: "ws_open", arg: arg)
    }

    /// C1 for `ws_resume(record { client_nonce; gateway_principal; last_received_sequence_num;
    /// resume_counter })` (icws extension).
    func resumeRequest(_ arguments: CanisterWsResumeArguments) throws(ICWebSocketClientError) -> [UInt8] {
        let arg: [UInt8]
        do { arg = try Candid.encode(arguments) } catch {
            throw .internalInconsistency("cannot encode ws_resume arguments: \(error)")
        }
        return try frame(method: "ws_resume", arg: arg)
    }

    /// C1 for `ws_message(record { msg }, opt null)`: the second argument is an empty `opt`, as
    /// the JS client sends it (§2.4); the canister's `opt AppMessage` accepts it by subtyping.
    func messageRequest(_ message: WebsocketMessage) throws(ICWebSocketClientError) -> [UInt8] {
        try signedMessageRequest(message).bytes
    }

    /// A signed frame with what the client needs to look up the call's outcome later.
    struct SignedFrame: Sendable {
        var bytes: [UInt8]
        var requestID: RequestID
        var ingressExpiry: UInt64
    }

    /// `messageRequest` keeping the envelope's request id and expiry (call outcome checks).
    func signedMessageRequest(_ message: WebsocketMessage) throws(ICWebSocketClientError) -> SignedFrame {
        let arg: [UInt8]
        do { arg = try Candid.encode(CanisterWsMessageArguments(msg: message), CandidNull?.none) } catch {
            throw .internalInconsistency("cannot encode ws_message arguments: \(error)")
        }
        return try signedFrame(method: "ws_message", arg: arg)
    }

    private func frame(method: String, arg: [UInt8]) throws(ICWebSocketClientError) -> [UInt8] {
        try signedFrame(method: method, arg: arg).bytes
    }

    private func signedFrame(method: String, arg: [UInt8]) throws(ICWebSocketClientError) -> SignedFrame {
        let content = RequestContent(
            kind: .call(canisterID: canister, methodName: method, arg: arg), sender: identity.principal,
            ingressExpiry: IngressExpiry.value(nowNanoseconds: clock(), delta: ingressExpiry),
            nonce: (0..<16).map { _ in UInt8.random(in: 0...255) })
        let envelope: Envelope
        do { envelope = try Envelope.signed(content, by: identity) } catch { throw .signing(error) }
        // The envelope item carries no tag of its own: the reference gateway decodes it into a
        // fixed structure (§2.4, §6.4).
        let request: ClientRequestFrame
        do { request = try ClientRequestFrame(envelopeBytes: CBOREncoder.encode(envelope.cbor)) } catch {
            throw .internalInconsistency("cannot wrap the envelope: \(error)")
        }
        return SignedFrame(bytes: request.encoded(), requestID: content.requestID, ingressExpiry: content.ingressExpiry)
    }
}
