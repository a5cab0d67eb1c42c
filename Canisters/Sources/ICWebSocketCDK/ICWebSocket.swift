import ICCanister
import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol

/// `WebSocketHandlers` and `WebSocketMessageRefusal` live in `ICWebSocketCanisterCore` (host
/// tested); these names let a canister that imports only this module use them.
public typealias WebSocketHandlers = ICWebSocketCanisterCore.WebSocketHandlers
public typealias WebSocketMessageRefusal = ICWebSocketCanisterCore.WebSocketMessageRefusal

/// The IC WebSocket canister library: `WebSocketCanisterCore` wired to the System API.
///
/// Linking this module exports the four protocol methods (`ws_open`, `ws_message`,
/// `ws_close`, `ws_get_messages`); the canister only calls `initialize` from its
/// `canister_init` **and** `canister_post_upgrade` and uses `send`/`close`.
public enum ICWebSocket {
    nonisolated(unsafe) static var core = WebSocketCanisterCore()
    nonisolated(unsafe) static var handlers = WebSocketHandlers()
    nonisolated(unsafe) static var timer: Timers.ID?
    nonisolated(unsafe) static var hookInstalled = false

    /// The library's `init` (§3.4): traps with the reference text when
    /// `send_ack_interval_ms ≤ 60 000`; starts the ack timer.
    public static func initialize(parameters: WebSocketParameters = WebSocketParameters(), handlers: WebSocketHandlers) {
        do {
            try core.start(parameters: parameters, now: currentTime())
        } catch {
            trap(error.message)
        }
        self.handlers = handlers
        if !hookInstalled {
            hookInstalled = true
            // Certified data is published once per message, after all of its sends.
            Canister.endOfMessageHooks.append { ICWebSocket.publishCertifiedData() }
        }
        syncTimer()
        // Always, not only when the queues changed: the IC keeps certified data across an
        // upgrade, and after one the old value would still certify the forgotten messages
        // (the Rust library leaves it so until the next send).
        CertifiedData.set(core.certifiedData())
    }

    /// Queues an application message (Candid bytes of one value) for a client.
    @discardableResult
    public static func send(_ principal: Principal, _ candidBytes: [UInt8]) -> CanisterWsResult {
        let result = core.send(to: principal, candidBytes, now: currentTime())
        dispatchEvents()
        return result
    }

    /// Queues an application message for a client, Candid-encoding `value`.
    @discardableResult
    public static func send<T: CandidEncodable>(_ principal: Principal, value: T) -> CanisterWsResult {
        do {
            return send(principal, try Candid.encode(value))
        } catch {
            trap("failed to encode the message: \(error)")
        }
    }

    /// Queues one application message (Candid bytes of one value) for several clients; the
    /// new messages are certified together, once, at the end of the IC message. Principals
    /// without an open connection are skipped; returns how many were queued.
    @discardableResult
    public static func broadcast(_ candidBytes: [UInt8], to principals: [Principal]) -> Int {
        let queued = core.broadcast(candidBytes, to: principals, now: currentTime())
        dispatchEvents()
        return queued
    }

    /// Queues one application message for every member of a group.
    @discardableResult
    public static func broadcast(_ candidBytes: [UInt8], toGroup group: String) -> Int {
        let queued = core.broadcast(candidBytes, toGroup: group, now: currentTime())
        dispatchEvents()
        return queued
    }

    /// Adds a connected client to a named group (it leaves every group when it disconnects).
    @discardableResult
    public static func join(_ principal: Principal, group: String) -> CanisterWsResult {
        core.join(principal, group: group)
    }

    /// Removes a client from a named group.
    public static func leave(_ principal: Principal, group: String) { core.leave(principal, group: group) }

    /// The members of a group, sorted.
    public static func members(of group: String) -> [Principal] { core.members(of: group) }

    /// Closes a client's connection with `CloseMessage { ClosedByApplication }`.
    @discardableResult
    public static func close(_ principal: Principal) -> CanisterWsResult {
        let result = core.close(principal, now: currentTime())
        dispatchEvents()
        return result
    }

    /// Removes every client and all state (tests).
    public static func wipe() {
        core.wipe(now: currentTime())
        dispatchEvents()
    }

    /// The registered clients (principal and nonce), sorted.
    public static var clients: [ClientKey] { core.registeredClients }

    // MARK: - Wiring

    /// Runs the handlers of the core's pending events; every refused message is logged with
    /// `debug_print` (the replica shows canister logs) and returned.
    @discardableResult
    static func dispatchEvents() -> [WebSocketHandlers.Refusal] {
        let refusals = handlers.deliver(core.takeEvents())
        for refusal in refusals { debugPrint(WebSocketCanisterCore.logLine(for: refusal)) }
        return refusals
    }

    static func publishCertifiedData() {
        if let hash = core.takeCertifiedDataChange() { CertifiedData.set(hash) }
    }

    /// Keeps one kit timer armed for the core's earliest deadline.
    static func syncTimer() {
        if let timer { Timers.cancel(timer) }
        timer = nil
        guard let deadline = core.nextTimerDeadline else { return }
        timer = Timers.schedule(at: deadline) {
            ICWebSocket.timer = nil
            ICWebSocket.core.runTimers(now: currentTime())
            ICWebSocket.dispatchEvents()
            ICWebSocket.syncTimer()
        }
    }
}

// MARK: - The protocol's methods (§3.3)

@_expose(wasm, "canister_update ws_open") @_cdecl("canister_update_ws_open")
func wsOpen() {
    Canister.update(
        CanisterWsOpenArguments.self,
        replyBytes: { args in
            let result = ICWebSocket.core.wsOpen(caller: Message.caller(), args, now: currentTime())
            ICWebSocket.dispatchEvents()
            return WsResultReply.encode(result)
        })
}

@_expose(wasm, "canister_update ws_message") @_cdecl("canister_update_ws_message")
func wsMessage() {
    // The second argument (`opt AppMessage`) only documents the application type; decoding
    // the first is enough. The fast decoder reads the exact type the SDKs send; anything else
    // goes through the generic decoder.
    let bytes = Message.argumentBytes()
    let args: CanisterWsMessageArguments
    if let fast = WsMessageArgumentsDecoder.decode(bytes) {
        args = fast
    } else {
        do {
            args = try Candid.decode(CanisterWsMessageArguments.self, from: bytes)
        } catch {
            trap("failed to decode the argument: \(error)")
        }
    }
    let result = ICWebSocket.core.wsMessage(caller: Message.caller(), args, now: currentTime())
    Message.reply(bytes: WsResultReply.encode(WebSocketCanisterCore.messageReply(result, refusals: ICWebSocket.dispatchEvents())))
    icws_flushOutput()
}

@_expose(wasm, "canister_update ws_close") @_cdecl("canister_update_ws_close")
func wsClose() {
    Canister.update(
        CanisterWsCloseArguments.self,
        replyBytes: { args in
            let result = ICWebSocket.core.wsClose(caller: Message.caller(), args, now: currentTime())
            ICWebSocket.dispatchEvents()
            return WsResultReply.encode(result)
        })
}

@_expose(wasm, "canister_query ws_get_messages") @_cdecl("canister_query_ws_get_messages")
func wsGetMessages() {
    Canister.query(
        CanisterWsGetMessagesArguments.self,
        replyBytes: { args in
            let result: CanisterWsGetMessagesResult
            do throws(CanisterTrap) {
                let caller = Message.caller()
                let certificate = CertifiedData.certificate()
                result = try ICWebSocket.core.wsGetMessages(caller: caller, args, certificate: certificate)
            } catch {
                trap(error.message)
            }
            // The batch is written straight to Candid (the generic encoder costs ~10× more).
            if case .ok(let batch) = result { return GetMessagesReply.encode(batch) }
            return unwrapOrTrap(try? Candid.encode(result), "failed to encode the reply")
        })
}
