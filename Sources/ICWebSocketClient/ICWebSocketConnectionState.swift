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
    /// Closed for good: `nil` after ``ICWebSocketConnection/close()`` or a canister close with
    /// `ClosedByApplication`, else the error that ended it.
    case closed(ICWebSocketClientError?)

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .open(let key, let gateway): return "open (client \(key), gateway \(gateway))"
        case .reconnecting(let attempt, let cause, let unacknowledged):
            return "reconnecting (attempt \(attempt)) after: \(cause); \(unacknowledged.count) unacknowledged message(s)"
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
