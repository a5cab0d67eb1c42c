import ICCanister
import ICCore
import ICWebSocketCDK
import ICWebSocketCanisterCore
import ICWebSocketProtocol

// The reference test canister's interface (ic-websocket-cdk-rs `src/tests/test_canister`):
//
//   type AppMessage = record { text : text };
//   service : (nat64, nat64) -> {   // max_number_of_returned_messages, send_ack_interval_ms
//     ws_open; ws_close; ws_message : (CanisterWsMessageArguments, opt AppMessage) -> ...;
//     ws_get_messages;
//     send : (ClientPrincipal, vec blob) -> (CanisterSendResult);
//     close : (ClientPrincipal) -> (CanisterCloseResult);
//     wipe : (nat64, nat64) -> ();
//   }
//
// checked against the reference's `test_canister.did` and `lib.rs` (ic-websocket-cdk-rs 0.4.1):
// `init`/`post_upgrade` take the same two arguments, `send` queues each blob in order and
// returns the first error (earlier sends stay queued), `wipe` clears the library and runs `init`.
//
// Its handlers only log, as the reference's do: the CDK conformance scenarios (protocol §8.1)
// count exactly the messages the library itself queues. One method is ours alone,
// `set_handlers_trap : (bool) -> ()`: while set, every handler traps, so the replica tests can
// check that a trapping handler rolls back its whole call (the reference's handlers never trap,
// so the reference integration tests never call it).

struct AppMessage: CandidCodable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// Ours, beyond the reference: an optional third `init`/`wipe` argument,
/// `opt record { session_resumption : opt bool; resume_grace_period_ms : opt nat64 }`, for the
/// resumable-session tests (`session_resumption = false` gives the reference behaviour).
struct ResumptionOptions: CandidCodable {
    var sessionResumption: Bool?
    var resumeGracePeriodMs: UInt64?
    static var candidType: CandidType {
        .record([.field("session_resumption", Bool?.self), .field("resume_grace_period_ms", UInt64?.self)])
    }
    func candidValue() -> CandidValue {
        .record(sorting: [.field("session_resumption", sessionResumption), .field("resume_grace_period_ms", resumeGracePeriodMs)])
    }
    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        sessionResumption = try record.field("session_resumption")
        resumeGracePeriodMs = try record.field("resume_grace_period_ms")
    }
}

func decodeInit() -> WebSocketParameters {
    let bytes = Message.argumentBytes()
    do {
        let (max, interval, options) = try Candid.decode(UInt64.self, UInt64.self, ResumptionOptions?.self, from: bytes)
        var parameters = WebSocketParameters(maxNumberOfReturnedMessages: Int(max), sendAckIntervalMs: interval)
        if let allowed = options?.sessionResumption { parameters.allowsSessionResumption = allowed }
        if let grace = options?.resumeGracePeriodMs { parameters.resumeGracePeriodMs = grace }
        return parameters
    } catch {
        trap("failed to decode the init arguments: \(error)")
    }
}

/// Set by `set_handlers_trap`; not reset by `wipe` (it is not library state).
nonisolated(unsafe) var handlersTrap = false

func trapIfRequested(_ handler: String) {
    if handlersTrap { trap("\(handler) trapped as requested by set_handlers_trap") }
}

func handlers() -> WebSocketHandlers {
    WebSocketHandlers(
        onOpen: { principal in
            trapIfRequested("on_open")
            print("Opened websocket: \(principal)")
        },
        onMessage: { (principal, bytes) throws(WebSocketMessageRefusal) in
            trapIfRequested("on_message")
            // The reference only logs; ours also refuses what is not an AppMessage, so a client
            // that sends the wrong shape is told (the library logs the refusal too).
            let message = try WebSocketMessageRefusal.decode(AppMessage.self, named: "AppMessage", from: bytes)
            // For tests of the refusal path: "refuse: <reason>" is refused with that reason.
            let refusal = Array("refuse: ".utf8)
            if message.text.utf8.starts(with: refusal) {
                throw WebSocketMessageRefusal(UTF8Text(utf8: Array(message.text.utf8.dropFirst(refusal.count))))
            }
            print("Received message: \(principal)")
        },
        onClose: { principal in
            trapIfRequested("on_close")
            print("Client \(principal) disconnected")
        })
}

@_expose(wasm, "canister_init") @_cdecl("canister_init")
func canisterInit() {
    ICWebSocket.initialize(parameters: decodeInit(), handlers: handlers())
    icws_flushOutput()
}

// Ours, beyond the reference: sessions survive upgrades (the reference drops them). The
// post-upgrade argument may carry a third value, `opt record { clear_sessions : bool }`;
// `clear_sessions = true` drops the sessions as the reference does.
@_expose(wasm, "canister_pre_upgrade") @_cdecl("canister_pre_upgrade")
func canisterPreUpgrade() {
    let bytes = ICWebSocket.saveForUpgrade()
    // For `icws-bench canister`: the replica keeps no statistics of the old module's last run.
    debugPrint("pre_upgrade: saved \(bytes) bytes of sessions in \(instructionCounter()) instructions")
}

@_expose(wasm, "canister_post_upgrade") @_cdecl("canister_post_upgrade")
func canisterPostUpgrade() {
    let parameters: WebSocketParameters
    let options: SessionUpgradeOptions?
    do {
        let (max, interval, decoded) = try Candid.decode(
            UInt64.self, UInt64.self, SessionUpgradeOptions?.self, from: Message.argumentBytes())
        parameters = WebSocketParameters(maxNumberOfReturnedMessages: Int(max), sendAckIntervalMs: interval)
        options = decoded
    } catch {
        trap("failed to decode the post_upgrade arguments (nat64, nat64, opt record { clear_sessions : bool }): \(error)")
    }
    ICWebSocket.restoreAfterUpgrade(
        parameters: parameters, handlers: handlers(), sessions: options?.clearSessions == true ? .clear : .keep)
    icws_flushOutput()
}

/// `send : (principal, vec blob) -> (variant { Ok; Err : text })`: queues each blob as one
/// application message; stops at the first error.
@_expose(wasm, "canister_update send") @_cdecl("canister_update_send")
func sendMethod() {
    let principal: Principal
    let messages: [[UInt8]]
    do throws(CandidError) {
        (principal, messages) = try decodeSendArguments(Message.argumentBytes())
    } catch {
        trap("failed to decode the arguments (principal, vec blob): \(error)")
    }
    var result = WebSocketResult.ok
    for message in messages {
        result = ICWebSocket.send(principal, message)
        if case .err = result { break }
    }
    Message.reply(bytes: result.candidReply)
    icws_flushOutput()
}

/// `(principal, vec blob)` read at its wire types (the generic decoder costs ~29 k instructions,
/// a fifth of a one-message `send`; `icws-bench canister` measures `send` through this method).
func decodeSendArguments(_ bytes: [UInt8]) throws(CandidError) -> (Principal, [[UInt8]]) {
    var reader = try CandidWireReader(bytes)
    let principal = try reader.principal(try reader.nextArgument())
    let (count, element) = try reader.vector(try reader.nextArgument())
    var messages = [[UInt8]]()
    messages.reserveCapacity(count)
    for _ in 0..<count { messages.append(try reader.blob(element)) }
    try reader.finish()
    return (principal, messages)
}

@_expose(wasm, "canister_update close") @_cdecl("canister_update_close")
func closeMethod() {
    Canister.update(Principal.self) { principal in ICWebSocket.close(principal).wire }
}

/// `wipe : (nat64, nat64) -> ()`: clears all state and re-initialises with new parameters.
@_expose(wasm, "canister_update wipe") @_cdecl("canister_update_wipe")
func wipeMethod() {
    let parameters = decodeInit()
    ICWebSocket.wipe()
    ICWebSocket.initialize(parameters: parameters, handlers: handlers())
    Message.reply(bytes: Candid.encode())
    icws_flushOutput()
}

/// `set_handlers_trap : (bool) -> ()` (not in the reference interface): makes every handler trap.
@_expose(wasm, "canister_update set_handlers_trap") @_cdecl("canister_update_set_handlers_trap")
func setHandlersTrap() {
    Canister.method(Bool.self) { (enabled: Bool) -> Void in handlersTrap = enabled }
}

/// Ours, beyond the reference: `broadcast : (opt vec principal, blob) -> (nat64)` queues one
/// message for the given clients (`null`: every registered client) with
/// `ICWebSocket.broadcast` and replies how many were queued (`icws-bench canister` measures
/// the cost per recipient with it).
@_expose(wasm, "canister_update broadcast") @_cdecl("canister_update_broadcast")
func broadcastMethod() {
    Canister.method([Principal]?.self, CandidBlob.self) { principals, message in
        UInt64(ICWebSocket.broadcast(message.bytes, to: principals ?? ICWebSocket.clientPrincipals))
    }
}
