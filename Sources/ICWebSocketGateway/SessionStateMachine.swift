import ICCore
import ICWebSocketProtocol

/// One WebSocket connection's protocol state (§6.3): INIT → SETUP → OPEN → closed, as a plain
/// value. Events go in, actions come out; the caller (``ClientSession``) does all I/O, so every
/// row of the table is testable without sockets or clocks.
public struct SessionStateMachine: Sendable {
    /// Where the session is.
    public enum State: Equatable, Sendable {
        /// Handshake sent, waiting for the `ws_open` (or `ws_resume`) frame.
        case initial
        /// Registered and `ws_open` forwarded; waiting for the first canister message.
        case setup(SessionTarget)
        /// At least one canister message relayed.
        case open(SessionTarget)
        case closed
    }

    /// What the session is bound to once `ws_open` is accepted.
    public struct SessionTarget: Hashable, Sendable {
        public let canister: Principal
        public let clientKey: ClientKey
        public init(canister: Principal, clientKey: ClientKey) {
            self.canister = canister
            self.clientKey = clientKey
        }
    }

    /// Something that happened to the session.
    public enum Event: Sendable {
        /// A binary WebSocket message from the client.
        case binaryFrame([UInt8])
        /// A text WebSocket message from the client.
        case textFrame
        /// A message the WebSocket layer cannot deliver: above the size limit, or badly fragmented.
        case invalidMessage(code: GatewayCloseCode, reason: String)
        /// The client sent Close, or reading failed (connection lost, frame above the limit).
        case clientGone(reason: String)
        /// The poller has a canister message (an encoded G2 frame) for this client.
        case canisterMessage([UInt8])
        /// Writing to the client failed.
        case writeFailed(reason: String)
        /// The canister's poller stopped for good; it already dropped the canister's state.
        case pollerFailed(code: GatewayCloseCode, reason: String)
        /// The client's outbound queue overflowed: it reads slower than its canister writes.
        /// `reason` names the limit and its value (it becomes the Close frame's reason).
        case outboundOverflow(reason: String)
        /// The client kept sending envelopes after the gateway stopped reading from it, beyond
        /// the per-connection budget (a well-behaved client is held back by TCP instead).
        case callBacklogExceeded(reason: String)
        /// No `ws_open` frame within the handshake timeout.
        case handshakeTimeout
        /// No canister message within the SETUP timeout.
        case setupTimeout
        /// The gateway is shutting down.
        case shutdown
        /// A `ws_resume` of the same client key arrived on another connection, which now holds
        /// the key (the client resumed before this connection's end was noticed).
        case superseded
        /// The canister refused (or the IC rejected) this connection's `ws_resume`.
        case resumeRefused(reason: String)
    }

    /// How the session ends.
    public struct Ending: Equatable, Sendable {
        /// The Close frame to send, if the connection can still carry one.
        public let closeFrame: (code: GatewayCloseCode, reason: String)?
        /// Whether the client key must be removed from the gateway state.
        public let unregisters: Bool
        /// Whether `ws_close` must be called on the canister (§6.6).
        public let callsWsClose: Bool
        /// For logs and metrics.
        public let reason: String

        public static func == (lhs: Ending, rhs: Ending) -> Bool {
            lhs.closeFrame?.code == rhs.closeFrame?.code && lhs.closeFrame?.reason == rhs.closeFrame?.reason
                && lhs.unregisters == rhs.unregisters && lhs.callsWsClose == rhs.callsWsClose && lhs.reason == rhs.reason
        }
    }

    /// What the caller must do.
    public enum Action: Equatable, Sendable {
        /// Register `target` in the gateway state, **then** forward the envelope (§6.3: a running
        /// poller must not fetch the OpenMessage before the session is known).
        case registerAndForward(SessionTarget, ForwardedEnvelope)
        /// Forward a later envelope (after the previous ones of this connection).
        case forward(ForwardedEnvelope)
        /// Write a canister message frame to the client.
        case send([UInt8])
        /// Drop the input, logging why (the session goes on).
        case ignore(reason: String)
        /// End the session.
        case end(Ending)
        /// The session already ended; nothing to do.
        case none
    }

    public private(set) var state: State = .initial
    /// The gateway's own principal: a `ws_open` naming another gateway could never be served.
    public let gatewayPrincipal: Principal
    public let maxEnvelopeBytes: Int
    /// The configured timeouts, named in the Close reasons they cause.
    public let handshakeTimeout: Duration?
    public let setupTimeout: Duration?

    public init(gatewayPrincipal: Principal, maxEnvelopeBytes: Int, handshakeTimeout: Duration? = nil, setupTimeout: Duration? = nil) {
        self.gatewayPrincipal = gatewayPrincipal
        self.maxEnvelopeBytes = maxEnvelopeBytes
        self.handshakeTimeout = handshakeTimeout
        self.setupTimeout = setupTimeout
    }

    /// The target once `ws_open` was accepted.
    public var target: SessionTarget? {
        switch state {
        case .setup(let target), .open(let target): return target
        case .initial, .closed: return nil
        }
    }

    public mutating func handle(_ event: Event) -> Action {
        switch state {
        case .closed:
            return .none
        case .initial:
            return handleInInit(event)
        case .setup(let target):
            return handleInSetup(event, target)
        case .open(let target):
            return handleInOpen(event, target)
        }
    }

    private mutating func handleInInit(_ event: Event) -> Action {
        switch event {
        case .binaryFrame(let bytes):
            do throws(ForwardedEnvelope.Rejection) {
                let envelope = try ForwardedEnvelope(frame: bytes, maxEnvelopeBytes: maxEnvelopeBytes)
                // `ws_resume` (icws extension) continues a session; it opens one here like `ws_open`.
                let method = envelope.isResume ? "ws_resume" : "ws_open"
                let (nonce, namedGateway): (UInt64, Principal)
                if envelope.isResume {
                    let resume = try envelope.resumeArguments()
                    (nonce, namedGateway) = (resume.clientNonce, resume.gatewayPrincipal)
                } else {
                    let open = try envelope.openArguments()
                    (nonce, namedGateway) = (open.clientNonce, open.gatewayPrincipal)
                }
                guard envelope.sender != .anonymous else {
                    return end(closeWith: .policyViolation, "\(method) from the anonymous principal", registered: false)
                }
                guard namedGateway == gatewayPrincipal else {
                    return end(
                        closeWith: .policyViolation,
                        "\(method) names gateway \(namedGateway), this gateway is \(gatewayPrincipal)",
                        registered: false)
                }
                let target = SessionTarget(
                    canister: envelope.canister, clientKey: ClientKey(clientPrincipal: envelope.sender, clientNonce: nonce))
                state = .setup(target)
                return .registerAndForward(target, envelope)
            } catch {
                return end(closeWith: error.code, "bad first frame: \(error.reason)", registered: false)
            }
        case .textFrame:
            return end(closeWith: .unsupportedData, "bad first frame: text frame", registered: false)
        case .invalidMessage(let code, let reason):
            return end(closeWith: code, "bad first frame: \(reason)", registered: false)
        case .clientGone(let reason), .writeFailed(let reason):
            return end(nil, reason, registered: false)
        case .handshakeTimeout:
            return end(
                closeWith: .policyViolation, "no ws_open frame within \(Self.describe(handshakeTimeout)) (--handshake-timeout)",
                registered: false)
        case .shutdown:
            return end(closeWith: .goingAway, "gateway shutting down", registered: false)
        case .canisterMessage, .pollerFailed, .outboundOverflow, .callBacklogExceeded, .setupTimeout, .superseded,
            .resumeRefused:
            return .ignore(reason: "not registered yet")
        }
    }

    private mutating func handleInSetup(_ event: Event, _ target: SessionTarget) -> Action {
        switch event {
        case .binaryFrame, .textFrame:
            // Reference behaviour (§6.3): frames before the first canister message are dropped.
            return .ignore(reason: "client frame before the open message was relayed")
        case .canisterMessage(let frame):
            state = .open(target)
            return .send(frame)
        case .invalidMessage(let code, let reason):
            return end(closeWith: code, "protocol error: \(reason)", registered: true)
        case .setupTimeout:
            return end(
                closeWith: .policyViolation,
                "no open message from the canister within \(Self.describe(setupTimeout)) (--setup-timeout)", registered: true)
        case .handshakeTimeout:
            return .ignore(reason: "handshake already done")
        default:
            return handleCommon(event)
        }
    }

    private mutating func handleInOpen(_ event: Event, _ target: SessionTarget) -> Action {
        switch event {
        case .binaryFrame(let bytes):
            do throws(ForwardedEnvelope.Rejection) {
                let envelope = try ForwardedEnvelope(frame: bytes, maxEnvelopeBytes: maxEnvelopeBytes)
                // The reference checks neither; the IC would accept such an envelope, but it
                // could not belong to this session (§6.3 notes), so it is dropped.
                guard envelope.canister == target.canister else {
                    return .ignore(reason: "envelope for canister \(envelope.canister), session is bound to \(target.canister)")
                }
                guard envelope.sender == target.clientKey.clientPrincipal else {
                    return .ignore(reason: "envelope from \(envelope.sender), session belongs to \(target.clientKey.clientPrincipal)")
                }
                return .forward(envelope)
            } catch {
                return end(closeWith: error.code, "protocol error: \(error.reason)", registered: true)
            }
        case .textFrame:
            return end(closeWith: .unsupportedData, "protocol error: text frame", registered: true)
        case .invalidMessage(let code, let reason):
            return end(closeWith: code, "protocol error: \(reason)", registered: true)
        case .canisterMessage(let frame):
            return .send(frame)
        case .setupTimeout, .handshakeTimeout:
            return .ignore(reason: "session already open")
        default:
            return handleCommon(event)
        }
    }

    /// Rows shared by SETUP and OPEN.
    private mutating func handleCommon(_ event: Event) -> Action {
        switch event {
        case .clientGone(let reason), .writeFailed(let reason):
            return end(nil, reason, registered: true)
        case .pollerFailed(let code, let reason):
            // The poller already removed the canister's state; no ws_close (§6.3 last row).
            state = .closed
            return .end(Ending(closeFrame: (code, reason), unregisters: false, callsWsClose: false, reason: reason))
        case .outboundOverflow(let reason), .callBacklogExceeded(let reason):
            return end(closeWith: .policyViolation, reason, registered: true)
        case .shutdown:
            return end(closeWith: .goingAway, "gateway shutting down", registered: true)
        case .superseded:
            // The key belongs to the new connection now, and the session goes on there: the
            // canister is told of this connection's end (`ws_close`) only so that a canister
            // that cannot resume forgets it as usual.
            return end(
                closeWith: .policyViolation, "superseded by a resumed connection (ws_resume) of the same client key",
                registered: true)
        case .resumeRefused(let reason):
            state = .closed
            let text = "ws_resume refused: \(reason)"
            return .end(
                Ending(closeFrame: (.resumeRefused, String(text.prefix(120))), unregisters: true, callsWsClose: false, reason: text))
        case .binaryFrame, .textFrame, .invalidMessage, .canisterMessage, .setupTimeout, .handshakeTimeout:
            return .none
        }
    }

    private static func describe(_ timeout: Duration?) -> String {
        guard let timeout else { return "the time limit" }
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }

    private mutating func end(closeWith code: GatewayCloseCode, _ reason: String, registered: Bool) -> Action {
        end((code, reason), reason, registered: registered)
    }

    private mutating func end(_ frame: (code: GatewayCloseCode, reason: String)?, _ reason: String, registered: Bool) -> Action {
        state = .closed
        return .end(Ending(closeFrame: frame, unregisters: registered, callsWsClose: registered, reason: reason))
    }
}
