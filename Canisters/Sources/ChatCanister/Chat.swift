import ICCanister
import ICCore
import ICWebSocketCDK
import ICWebSocketCanisterCore
import ICWebSocketProtocol

// A chat room: every message a client sends goes to every connected client, prefixed with
// the sender; joins and leaves are announced.
//
//   type ChatMessage = record { from : text; text : text };
//   service : (opt record { clear_sessions : bool }) -> {   // post_upgrade only; init takes none
//             ws_open; ws_close; ws_message : (CanisterWsMessageArguments, opt record { text : text }) -> ...;
//               ws_get_messages; members : () -> (vec principal) query }
//
// Clients send `record { text : text }`, or a whole `ChatMessage` (Candid subtyping drops the
// extra field; `from` is always the sender's principal).

/// What a client sends.
struct ChatInput: CandidCodable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

struct ChatMessage: CandidCodable {
    var from: String
    var text: String
    static var candidType: CandidType { .record([.field("from", String.self), .field("text", String.self)]) }
    func candidValue() -> CandidValue { .record(sorting: [.field("from", from), .field("text", text)]) }
    init(from: String, text: String) {
        self.from = from
        self.text = text
    }
    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        from = try record.field("from")
        text = try record.field("text")
    }
}

/// Every connected client is in this group.
let room = "chat"

/// Encodes once; the library queues a copy per member and certifies them in one pass.
func broadcast(_ message: ChatMessage) {
    let bytes = unwrapOrTrap(try? Candid.encode(message), "encoding failed")
    ICWebSocket.broadcast(bytes, toGroup: room)
}

func handlers() -> WebSocketHandlers {
    WebSocketHandlers(
        onOpen: { principal in
            ICWebSocket.join(principal, group: room)
            broadcast(ChatMessage(from: "system", text: "\(principal) joined"))
        },
        onMessage: { (principal, bytes) throws(WebSocketMessageRefusal) in
            // Refused, not ignored: the library logs the refusal and replies `Err` to the client.
            let message = try WebSocketMessageRefusal.decode(ChatInput.self, named: "record { text : text }", from: bytes)
            broadcast(ChatMessage(from: principal.description, text: message.text))
        },
        onClose: { principal in broadcast(ChatMessage(from: "system", text: "\(principal) left")) })
}

@_expose(wasm, "canister_init") @_cdecl("canister_init")
func canisterInit() {
    ICWebSocket.initialize(handlers: handlers())
    icws_flushOutput()
}

// Sessions survive upgrades: the old module saves them, the new one restores them, unless the
// upgrade argument is `(opt record { clear_sessions = true })` (the reference's behaviour:
// every client must open a new session). No argument keeps them.
@_expose(wasm, "canister_pre_upgrade") @_cdecl("canister_pre_upgrade")
func canisterPreUpgrade() {
    ICWebSocket.saveForUpgrade()
}

@_expose(wasm, "canister_post_upgrade") @_cdecl("canister_post_upgrade")
func canisterPostUpgrade() {
    let options = Canister.decodeArgument(SessionUpgradeOptions?.self)
    ICWebSocket.restoreAfterUpgrade(handlers: handlers(), sessions: options?.clearSessions == true ? .clear : .keep)
    icws_flushOutput()
}

@_expose(wasm, "canister_query members") @_cdecl("canister_query_members")
func members() {
    Canister.query(CandidNull?.self) { _ in ICWebSocket.clients.map { $0.clientPrincipal } }
}
