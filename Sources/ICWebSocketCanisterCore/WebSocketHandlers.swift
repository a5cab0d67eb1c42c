import ICCore
import ICWebSocketProtocol

/// The application's callbacks (protocol §3.4). Each receives the client principal;
/// `onMessage` also the raw Candid bytes the client sent. They run after the library has
/// finished its own state change, so they may call `send` and `close` (but `close` must not be
/// called from `onClose`, as in the reference).
///
/// `onMessage` may throw a `WebSocketMessageRefusal` for a message it cannot use (most often
/// one that does not decode as the application's message type); `ws_message` then replies
/// `Err(reason)` and the library logs the refusal with `debug_print`, so no message is dropped
/// silently.
public struct WebSocketHandlers {
    public var onOpen: ((Principal) -> Void)?
    public var onMessage: ((Principal, [UInt8]) throws(WebSocketMessageRefusal) -> Void)?
    public var onClose: ((Principal) -> Void)?
    /// A resumable client continued its session (`ws_resume`, docs/SESSION-RESUMPTION.md); it
    /// was not closed in between, so `onClose` was not called.
    public var onResume: ((Principal) -> Void)?

    public init(
        onOpen: ((Principal) -> Void)? = nil,
        onMessage: ((Principal, [UInt8]) throws(WebSocketMessageRefusal) -> Void)? = nil,
        onClose: ((Principal) -> Void)? = nil,
        onResume: ((Principal) -> Void)? = nil
    ) {
        self.onOpen = onOpen
        self.onMessage = onMessage
        self.onClose = onClose
        self.onResume = onResume
    }

    /// A message the application refused, with the client who sent it.
    public struct Refusal: Equatable, Sendable {
        public var clientPrincipal: Principal
        public var refusal: WebSocketMessageRefusal

        public init(clientPrincipal: Principal, refusal: WebSocketMessageRefusal) {
            self.clientPrincipal = clientPrincipal
            self.refusal = refusal
        }
    }

    /// Calls the handler of every event, in order, and returns the refusals of `onMessage`.
    /// A refusal does not stop the later events: each was already committed by the core.
    public func deliver(_ events: [WebSocketEvent]) -> [Refusal] {
        var refusals: [Refusal] = []
        for event in events {
            switch event {
            case .open(let principal): onOpen?(principal)
            case .message(let principal, let content):
                do throws(WebSocketMessageRefusal) {
                    try onMessage?(principal, content)
                } catch {
                    refusals.append(Refusal(clientPrincipal: principal, refusal: error))
                }
            case .close(let principal): onClose?(principal)
            case .resume(let principal): onResume?(principal)
            case .log: break
            }
        }
        return refusals
    }
}

extension WebSocketCanisterCore {
    /// `ws_message`'s reply once the handlers have run: the core's own error wins (the
    /// message was not delivered at all); otherwise the application's refusal becomes
    /// `Err(reason)`. Either way the core already consumed the sequence number.
    public static func messageReply(
        _ coreResult: WebSocketResult, refusals: [WebSocketHandlers.Refusal]
    ) -> WebSocketResult {
        guard case .ok = coreResult, let first = refusals.first else { return coreResult }
        return .err(first.refusal.reason)
    }

    /// The `debug_print` line for a refused message, naming the client.
    public static func logLine(for refusal: WebSocketHandlers.Refusal) -> UTF8Text {
        "ws_message from client \(refusal.clientPrincipal) refused: \(refusal.refusal.reason)"
    }
}
