import ICCertification
import ICCore
import ICWebSocketProtocol

/// Everything that can go wrong on a client connection. Each case says what failed and, where
/// it helps, what to do; texts follow the reference client's where it has one (protocol §2.8).
public enum ICWebSocketClientError: Error, Sendable, CustomStringConvertible {
    /// The arguments cannot work (anonymous identity, bad URL, …); fix the call.
    case invalidConfiguration(String)
    /// The IC root key could not be obtained (only with a network that fetches it).
    case rootKeyUnavailable(String)
    /// The WebSocket to the gateway could not be opened or failed.
    case transport(String)
    /// The gateway's first frame is not a valid handshake (§2.3).
    case invalidHandshake(String)
    /// The identity could not sign a request.
    case signing(IdentityError)
    /// No OpenMessage arrived in time (§5.7).
    case openTimeout(Duration)
    /// A canister message failed verification; the named check says which (§5.1, §5.2).
    case verification(CanisterMessageVerificationError)
    /// A verified service message could not be decoded or is not allowed here (§5.5).
    case invalidServiceMessage(String)
    /// The OpenMessage carries another client's key (§5.5: `Client key does not match`).
    case openMessageForAnotherClient(expected: ClientKey, found: ClientKey)
    /// An application message could not be decoded as the application's message type.
    case messageDecoding(String)
    /// The canister acknowledged a sequence number this client never sent (§5.6: `Ack message error`).
    case acknowledgementForUnsentMessage(acknowledged: UInt64, lastSent: UInt64)
    /// Acks stopped arriving: the gateway drops or delays messages (§5.6: `Ack message timeout`).
    case acknowledgementTimeout(unacknowledged: [UInt64])
    /// The canister closed the connection with a reason other than `ClosedByApplication` (§5.5).
    case closedByCanister(CloseMessageReason)
    /// The gateway closed the WebSocket (code and reason as received, if any).
    case connectionClosed(code: UInt16?, reason: String?)
    /// `send` before the connection is open (§1.4.1: `Connection is not established yet`).
    case notOpen
    /// `send` after the connection was closed.
    case closed
    /// The application value could not be Candid-encoded.
    case messageEncoding(String)
    /// Too many sent messages are waiting for acknowledgement; slow down or check the gateway.
    case tooManyUnacknowledgedMessages(limit: Int)
    /// The application did not consume received messages and the buffer limit was reached.
    case receiveBufferFull(limit: Int)
    /// The session could not be resumed (the canister or gateway refused or ignored `ws_resume`);
    /// a new session is opened when the reconnect policy allows.
    case resumeFailed(String)
    /// A bug in this library (an invariant was broken); please report it.
    case internalInconsistency(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): return "invalid configuration: \(why)"
        case .rootKeyUnavailable(let why): return "cannot obtain the IC root key: \(why)"
        case .transport(let why): return "WebSocket to the gateway failed: \(why)"
        case .invalidHandshake(let why): return "invalid gateway handshake: \(why)"
        case .signing(let error): return "cannot sign the request: \(error)"
        case .openTimeout(let timeout):
            return "Open timeout expired before receiving the open message (waited \(timeout))"
        case .verification(let error): return "[onWsMessage] Certificate validation failed: \(error)"
        case .invalidServiceMessage(let why): return "Service message error: \(why)"
        case .openMessageForAnotherClient(let expected, let found):
            return "Client key does not match: the open message is for \(found), this client is \(expected)"
        case .messageDecoding(let why): return "cannot decode the application message: \(why)"
        case .acknowledgementForUnsentMessage(let acknowledged, let lastSent):
            return "Ack message error: the canister acknowledged sequence number \(acknowledged), but the last one sent is \(lastSent)"
        case .acknowledgementTimeout(let numbers):
            return "Ack message timeout. Not received ack for sequence numbers: \(numbers.map(String.init).joined(separator: ","))"
        case .closedByCanister(let reason): return "Received close message from canister: \(reason.name)"
        case .connectionClosed(let code, let reason):
            return "the gateway closed the connection\(code.map { " (code \($0))" } ?? "")\(reason.map { ": \($0)" } ?? "")"
        case .notOpen: return "Connection is not established yet"
        case .closed: return "the connection is closed"
        case .messageEncoding(let why): return "cannot encode the message: \(why)"
        case .tooManyUnacknowledgedMessages(let limit):
            return "\(limit) sent messages are still unacknowledged; wait for acknowledgements before sending more"
        case .receiveBufferFull(let limit):
            return "\(limit) received messages were not consumed; read `messages` faster or raise the limit"
        case .resumeFailed(let why): return "the session could not be resumed: \(why)"
        case .internalInconsistency(let why): return "internal error in ICWebSocketClient (please report): \(why)"
        }
    }

    /// The WebSocket close code the client sends for this error (§2.8).
    var closeCode: UInt16 { 4000 }
}
