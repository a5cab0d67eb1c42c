/// The WebSocket close codes the gateway sends, and why (protocol §2.8 leaves them open: the
/// reference sends a Close without status, and clients must not depend on codes).
public enum GatewayCloseCode: UInt16, Sendable, CaseIterable {
    /// The client closed; echoed by the WebSocket layer.
    case normal = 1000
    /// The gateway is shutting down.
    case goingAway = 1001
    /// A frame that breaks the WebSocket protocol itself (RFC 6455 §7.4.1), such as a fragmented
    /// control frame or an unknown opcode.
    case protocolError = 1002
    /// A text frame: every protocol frame is binary (§2.1).
    case unsupportedData = 1003
    /// A binary frame that is not a CBOR client request (§2.4).
    case invalidFrame = 1007
    /// A well-formed frame that breaks a protocol rule (not a `call`, not `ws_open` first, a
    /// timeout, a client too slow to read its messages).
    case policyViolation = 1008
    /// A frame, message or envelope above the configured limit.
    case messageTooBig = 1009
    /// The canister's poller failed for good (canister stopped, deleted, misbehaving).
    case canisterUnavailable = 1011
    /// The IC could not be reached within the retry budget; the client may reconnect later.
    case tryAgainLater = 1013
    /// The canister refused (or the IC rejected) the client's `ws_resume`; the reason is the
    /// canister's text. An icws client then opens a new session
    /// (`CanisterWsResumeArguments.refusedCloseCode`).
    case resumeRefused = 4002
}
