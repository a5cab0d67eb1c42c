import ICCanister
import ICCore
import ICWebSocketCDK
import ICWebSocketCanisterCore
import ICWebSocketProtocol

// Ping-pong, as the reference gateway's end-to-end test canister (protocol scenario 46): a new
// client receives `{text = "ping"}`; every message `{text = t}` is answered with
// `{text = t # " ping"}` (so "ping-pong" → "ping-pong ping").
//
//   type AppMessage = record { text : text };
//   service : { ws_open; ws_close; ws_message : (CanisterWsMessageArguments, opt AppMessage) -> ...;
//               ws_get_messages; pings : () -> (nat64) query }

struct AppMessage: CandidCodable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

nonisolated(unsafe) var pings: UInt64 = 0

func handlers() -> WebSocketHandlers {
    WebSocketHandlers(
        onOpen: { principal in ICWebSocket.send(principal, value: AppMessage(text: "ping")) },
        onMessage: { (principal, bytes) throws(WebSocketMessageRefusal) in
            // Refused, not trapped on: the library logs it and replies `Err` to the client.
            let message = try WebSocketMessageRefusal.decode(AppMessage.self, named: "AppMessage", from: bytes)
            pings += 1
            ICWebSocket.send(principal, value: AppMessage(text: message.text + " ping"))
        })
}

@_expose(wasm, "canister_init") @_cdecl("canister_init")
func canisterInit() {
    ICWebSocket.initialize(handlers: handlers())
    icws_flushOutput()
}

@_expose(wasm, "canister_post_upgrade") @_cdecl("canister_post_upgrade")
func canisterPostUpgrade() {
    ICWebSocket.initialize(handlers: handlers())
    icws_flushOutput()
}

@_expose(wasm, "canister_query pings") @_cdecl("canister_query_pings")
func pingCount() { Canister.query(CandidNull?.self) { _ in pings } }
