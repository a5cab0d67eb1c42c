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
//
// The messages are read and written at their wire types (`CandidWireReader`,
// `CandidWireWriter`), as the library does for the protocol's own, so the module links none of
// the generic Candid layer (`CandidValue`, type tables built per call): ~70 KB of Wasm.

/// What a client sends: a record with a `text : text` field (other fields are skipped).
struct ChatInput {
    static let textID: UInt32 = 0x4cf9_ccad  // text

    /// Validated UTF-8 (the module links no `String`).
    var text: [UInt8]

    static func read(_ reader: inout CandidWireReader, _ type: Int) throws(CandidError) -> ChatInput {
        var text: [UInt8]?
        for field in try reader.beginRecord(type) {
            if field.id == textID { text = try reader.textUTF8(field.type) } else { try reader.skip(field.type) }
        }
        reader.endRecord()
        return ChatInput(text: try reader.required(text, field: textID))
    }
}

/// What every member receives: `record { from : text; text : text }`.
struct ChatMessage {
    /// `DIDL`, one record type with its fields in id order (`from` 0x43c2a56a, `text`
    /// 0x4cf9ccad, both `text`), one argument of that type.
    static let header: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x01, 0x6c, 0x02, 0xea, 0xca, 0x8a, 0x9e, 0x04, 0x71, 0xad, 0x99, 0xe7,
        0xe7, 0x04, 0x71, 0x01, 0x00,
    ]

    var from: UTF8Text
    var text: UTF8Text

    func encoded() -> [UInt8] {
        var out = CandidWireWriter(header: Self.header, capacity: 4 + from.utf8.count + text.utf8.count)
        out.text(utf8: from.utf8)
        out.text(utf8: text.utf8)
        return out.bytes
    }
}

/// `(vec principal)`, the reply of `members`.
func encodeMembers(_ principals: [Principal]) -> [UInt8] {
    var out = CandidWireWriter(header: [0x44, 0x49, 0x44, 0x4c, 0x01, 0x6d, 0x68, 0x01, 0x00], capacity: 1 + 31 * principals.count)
    out.leb(UInt64(principals.count))
    for principal in principals { out.principal(principal) }
    return out.bytes
}

/// Every connected client is in this group.
let room: UTF8Text = "chat"

/// Encodes once; the library queues a copy per member and certifies them in one pass.
func broadcast(_ message: ChatMessage) {
    ICWebSocket.broadcast(message.encoded(), toGroup: room)
}

func handlers() -> WebSocketHandlers {
    WebSocketHandlers(
        onOpen: { principal in
            ICWebSocket.join(principal, group: room)
            broadcast(ChatMessage(from: "system", text: "\(principal) joined"))
        },
        onMessage: { (principal, bytes) throws(WebSocketMessageRefusal) in
            // Refused, not ignored: the library logs the refusal and replies `Err` to the client.
            let message = try WebSocketMessageRefusal.decode(named: "record { text : text }", from: bytes, reading: ChatInput.read)
            broadcast(ChatMessage(from: principal.utf8Text, text: UTF8Text(utf8: message.text)))
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
    let options = Canister.decodeArgument(decoding: SessionUpgradeOptions.decodeArgument)
    ICWebSocket.restoreAfterUpgrade(handlers: handlers(), sessions: options?.clearSessions == true ? .clear : .keep)
    icws_flushOutput()
}

@_expose(wasm, "canister_query members") @_cdecl("canister_query_members")
func members() {
    Canister.query { encodeMembers(ICWebSocket.clientPrincipals) }
}
