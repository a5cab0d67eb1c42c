import ICAgent

/// What became of one application message the client sent, read from the IC's certified
/// request status of the client's own signed `ws_message` call (see ``CallOutcomeChecks``).
///
/// The gateway relays the call but never tells the client its result; this is how a client
/// learns that the canister refused a message (the CDK's `WebSocketMessageRefusal`, e.g. a
/// message that does not decode as the canister's type). An outcome never closes the connection.
public enum ICWebSocketCallOutcome: Sendable, Equatable {
    /// `ws_message` replied `Ok`: the canister accepted the message.
    case accepted(sequenceNumber: UInt64)
    /// `ws_message` replied `Err(reason)`: the canister refused the message (its sequence number
    /// is consumed; the session stays open).
    case refused(sequenceNumber: UInt64, reason: String)
    /// The IC rejected the call (the canister trapped, or is stopped, missing, out of cycles…).
    case rejected(sequenceNumber: UInt64, reject: RejectError)
    /// The outcome could not be learnt: the check gave up at the call's ingress expiry (the
    /// gateway may never have submitted it), too many checks were outstanding, the reply was not
    /// a `CanisterWsMessageResult`, or reading the request status failed. `reason` says which.
    case unknown(sequenceNumber: UInt64, reason: String)

    /// The message's sequence number.
    public var sequenceNumber: UInt64 {
        switch self {
        case .accepted(let number), .refused(let number, _), .rejected(let number, _), .unknown(let number, _):
            return number
        }
    }
}

/// Opt-in checks of each sent message's call outcome (``ICWebSocketClientConfiguration/callOutcomeChecks``).
///
/// Cost: for every sent message, `read_state` of `/request_status/<id>` signed by the client's
/// identity, repeated with back-off (50 ms doubling to 2 s) until the call has a result or its
/// ingress expiry passes, each certificate verified against the network's root key. The client
/// then talks to the IC's HTTP API directly (``ICNetwork/url``), not only to the gateway.
public struct CallOutcomeChecks: Sendable, Equatable {
    /// Most checks running at once; a message sent beyond it is reported ``ICWebSocketCallOutcome/unknown(sequenceNumber:reason:)``
    /// at once instead of checked (default 64).
    public var maxOutstanding: Int
    /// Whether accepted messages are reported too (default `false`: only refusals, rejections
    /// and unknown outcomes, which need attention).
    public var reportsAccepted: Bool

    public init(maxOutstanding: Int = 64, reportsAccepted: Bool = false) {
        self.maxOutstanding = max(1, maxOutstanding)
        self.reportsAccepted = reportsAccepted
    }
}
