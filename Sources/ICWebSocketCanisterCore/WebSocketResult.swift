import ICCore
import ICWebSocketProtocol

/// The outcome of a WebSocket operation in the canister: a `ws_open`, `ws_message`, `ws_close`
/// or `ws_resume` call, or the application's `send`, `close` and `join`.
///
/// On the wire it is `CanisterWsResult` (`variant { Ok : null; Err : text }`); here the error
/// text is `UTF8Text`, so a canister builds and replies it without linking `String`
/// (``candidReply``). `wire` gives the protocol type, for host code.
public enum WebSocketResult: Hashable, Sendable {
    case ok
    case err(UTF8Text)

    /// The Candid reply bytes, `variant { Ok : null; Err : text }`.
    public var candidReply: [UInt8] {
        switch self {
        case .ok: return ProtocolCandid.encodeResult(errorUTF8: nil)
        case .err(let text): return ProtocolCandid.encodeResult(errorUTF8: text.utf8)
        }
    }

    /// The same result as the protocol's type.
    public var wire: CanisterWsResult {
        switch self {
        case .ok: return .ok
        case .err(let text): return .err(text.description)
        }
    }
}
