import ICCore
import ICWebSocketProtocol

/// The life of a connection as ``ICWebSocketConnection/states`` reports it.
public enum ICWebSocketConnectionState: Sendable, CustomStringConvertible {
    /// Opening the WebSocket, waiting for the handshake and the verified OpenMessage.
    case connecting
    /// OPEN: the canister registered `clientKey`; messages can be sent.
    case open(clientKey: ClientKey, gateway: Principal)
    /// The connection failed and, by the reconnect policy, is being opened again.
    /// `unacknowledged` are the application messages the failed connection sent that the
    /// canister never acknowledged (they may or may not have been executed).
    case reconnecting(attempt: Int, cause: ICWebSocketClientError, unacknowledged: [UnacknowledgedMessage])
    /// The connection failed; the same session is being resumed (`ws_resume`) through the
    /// gateway at `gatewayURL`. Nothing is lost: sends wait until the session is open again.
    case resuming(attempt: Int, cause: ICWebSocketClientError, gatewayURL: String)
    /// The session continues through `gateway` with the same `clientKey`; `resent` of this
    /// client's messages the canister had not executed were sent again.
    case resumed(clientKey: ClientKey, gateway: Principal, resent: Int)
    /// Closed for good: `nil` after ``ICWebSocketConnection/close()`` or a canister close with
    /// `ClosedByApplication`, else the error that ended it.
    case closed(ICWebSocketClientError?)

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .open(let key, let gateway): return "open (client \(key), gateway \(gateway))"
        case .reconnecting(let attempt, let cause, let unacknowledged):
            return "reconnecting (attempt \(attempt)) after: \(cause); \(unacknowledged.count) unacknowledged message(s)"
        case .resuming(let attempt, let cause, let url):
            return "resuming the session through \(url) (attempt \(attempt)) after: \(cause)"
        case .resumed(let key, let gateway, let resent):
            return "resumed (client \(key), gateway \(gateway)); \(resent) message(s) sent again"
        case .closed(nil): return "closed"
        case .closed(let error?): return "closed: \(error)"
        }
    }
}

/// An application message sent on a connection that failed before the canister acknowledged it.
public struct UnacknowledgedMessage: Sendable, Equatable {
    /// Its client sequence number on the failed connection.
    public let sequenceNumber: UInt64
    /// The Candid bytes of the application value (decode with `Candid.decode(Message.self, from:)`).
    public let content: [UInt8]
}
