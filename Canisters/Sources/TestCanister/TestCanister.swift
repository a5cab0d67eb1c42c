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
// Its handlers only log, as the reference's do: the CDK conformance scenarios (protocol §8.1)
// count exactly the messages the library itself queues.

struct AppMessage: CandidCodable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}


func decodeInit() -> WebSocketParameters {
    let bytes = Message.argumentBytes()
    do {
        let (max, interval) = try Candid.decode(UInt64.self, UInt64.self, from: bytes)
        return WebSocketParameters(maxNumberOfReturnedMessages: Int(max), sendAckIntervalMs: interval)
    } catch {
        trap("failed to decode the init arguments: \(error)")
    }
}

func handlers() -> WebSocketHandlers {
    WebSocketHandlers(
        onOpen: { principal in print("Opened websocket: \(principal)") },
        onMessage: { principal, _ in print("Received message: \(principal)") },
        onClose: { principal in print("Client \(principal) disconnected") })
}

@_expose(wasm, "canister_init") @_cdecl("canister_init")
func canisterInit() {
    ICWebSocket.initialize(parameters: decodeInit(), handlers: handlers())
    icws_flushOutput()
}

@_expose(wasm, "canister_post_upgrade") @_cdecl("canister_post_upgrade")
func canisterPostUpgrade() {
    ICWebSocket.initialize(parameters: decodeInit(), handlers: handlers())
    icws_flushOutput()
}

/// `send : (principal, vec blob) -> (variant { Ok; Err : text })`: queues each blob as one
/// application message; stops at the first error.
@_expose(wasm, "canister_update send") @_cdecl("canister_update_send")
func sendMethod() {
    Canister.method(Principal.self, [CandidBlob].self) { principal, messages in
        for message in messages {
            let result = ICWebSocket.send(principal, message.bytes)
            if case .err = result { return result }
        }
        return CanisterWsResult.ok
    }
}

@_expose(wasm, "canister_update close") @_cdecl("canister_update_close")
func closeMethod() {
    Canister.update(Principal.self) { principal in ICWebSocket.close(principal) }
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
