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
/// `ws_close`, `ws_get_messages`); the canister calls `initialize` from its `canister_init`
/// and uses `send`/`close`. For upgrades, either `initialize` again from
/// `canister_post_upgrade` (sessions are dropped, as in the reference), or `saveForUpgrade`
/// from `canister_pre_upgrade` and `restoreAfterUpgrade` from `canister_post_upgrade`
/// (sessions survive; docs/CANISTER-UPGRADES.md).
public enum ICWebSocket {
    nonisolated(unsafe) static var core = WebSocketCanisterCore()
    nonisolated(unsafe) static var handlers = WebSocketHandlers()
    nonisolated(unsafe) static var timer: Timers.ID?
    nonisolated(unsafe) static var hookInstalled = false

    /// The library's `init` (§3.4): traps with the reference text when
    /// `send_ack_interval_ms ≤ 60 000`; starts the ack timer.
    public static func initialize(parameters: WebSocketParameters = WebSocketParameters(), handlers: WebSocketHandlers) {
        // A module that drops sessions on upgrade must not leave the previous module's saved
        // ones for a later module that restores: they would come back stale.
        invalidateSavedSnapshot()
        do {
            try core.start(parameters: parameters, now: currentTime())
        } catch {
            trap(error.message)
        }
        finishInitialization(handlers: handlers)
    }

    /// Handlers, the end-of-message hook, the timer and the certified data: what `initialize`
    /// and `restoreAfterUpgrade` both do once the core is ready.
    static func finishInitialization(handlers: WebSocketHandlers) {
        self.handlers = handlers
        if !hookInstalled {
            hookInstalled = true
            // Certified data is published once per message, after all of its sends.
            Canister.endOfMessageHooks.append { ICWebSocket.publishCertifiedData() }
        }
        syncTimer()
        // Always, not only when the queues changed: the IC keeps certified data across an
        // upgrade, and after one the old value would still certify the forgotten messages
        // (the Rust library leaves it so until the next send); after a restore it is the
        // restored queues' root, recomputed from them.
        CertifiedData.set(core.certifiedData())
    }

    // MARK: - Upgrades

    /// What `restoreAfterUpgrade` does with the sessions `saveForUpgrade` left in stable memory.
    public enum UpgradeSessions: Equatable, Sendable {
        /// Restore them: every client keeps its session, sequence numbers and queued messages.
        case keep
        /// Drop them, as the reference libraries do: clients notice (no more acks, their
        /// messages refused) and must open new sessions.
        case clear
    }

    /// Saves the sessions to stable memory from offset 0 (`SessionSnapshot` layout): call it
    /// from `canister_pre_upgrade`. Stable memory is otherwise unused by the library; an
    /// application that stores its own data there must keep it above the snapshot (or save
    /// the snapshot itself with `core.snapshot()`).
    ///
    /// If it traps (e.g. out of instructions with a very large queue) the upgrade is refused
    /// and the old module keeps running; `install_code` with `skip_pre_upgrade = opt true` then
    /// upgrades without saving (the sessions are dropped).
    /// Returns the number of bytes written.
    @discardableResult
    public static func saveForUpgrade() -> Int {
        let snapshot = core.snapshot()
        StableMemory.write(snapshot, at: 0)
        return snapshot.count
    }

    /// The library's `init` after an upgrade: with `.keep`, restores the sessions that
    /// `saveForUpgrade` saved (if the old module saved any: otherwise it starts empty, as
    /// `initialize` does), re-arms the ack and keep-alive timers the IC cleared and sets the
    /// certified data to the restored queues' root; with `.clear`, drops them. Either way the
    /// saved bytes are invalidated, so a later upgrade from a module that does not save never
    /// restores stale sessions. Traps (rolling the upgrade back) when the saved sessions have
    /// an unknown layout version or are damaged.
    public static func restoreAfterUpgrade(
        parameters: WebSocketParameters = WebSocketParameters(), handlers: WebSocketHandlers, sessions: UpgradeSessions = .keep
    ) {
        if let saved = savedSnapshot() {
            // Invalidate first: the magic goes, the bytes stay (rewriting them costs instructions).
            invalidateSavedSnapshot()
            if sessions == .keep {
                do throws(SessionSnapshotError) {
                    core = try WebSocketCanisterCore(restoringSnapshot: saved)
                } catch {
                    trap("ICWebSocket: cannot restore the saved sessions: \(error.message)")
                }
                do {
                    try core.resume(parameters: parameters, now: currentTime())
                } catch {
                    trap(error.message)
                }
                finishInitialization(handlers: handlers)
                return
            }
        }
        initialize(parameters: parameters, handlers: handlers)
    }

    /// Removes the magic of a snapshot at offset 0, if there is one (the bytes stay).
    static func invalidateSavedSnapshot() {
        guard StableMemory.pageCount > 0 else { return }
        let magic = SessionSnapshot.magic
        guard StableMemory.read(at: 0, count: magic.count) == magic else { return }
        StableMemory.write([UInt8](repeating: 0, count: magic.count), at: 0)
    }

    /// The snapshot in stable memory, or `nil` when there is none (no stable memory, or no
    /// magic: never saved, or already restored).
    static func savedSnapshot() -> [UInt8]? {
        guard StableMemory.pageCount > 0 else { return nil }
        let header = StableMemory.read(at: 0, count: SessionSnapshot.headerSize)
        let total: Int?
        do throws(SessionSnapshotError) {
            total = try SessionSnapshot.totalSize(header: header)
        } catch {
            trap("ICWebSocket: cannot restore the saved sessions: \(error.message)")
        }
        guard let total else { return nil }
        guard UInt64(total) <= StableMemory.pageCount * StableMemory.pageSize else {
            trap("ICWebSocket: cannot restore the saved sessions: they claim \(total) bytes, stable memory is smaller")
        }
        return StableMemory.read(at: 0, count: total)
    }

    /// Queues an application message (Candid bytes of one value) for a client.
    /// Queues an application message (Candid bytes of one value) for a client.
    @discardableResult
    public static func send(_ principal: Principal, _ candidBytes: [UInt8]) -> WebSocketResult {
        let result = core.send(to: principal, candidBytes, now: currentTime())
        dispatchEvents()
        return result
    }

    /// Queues an application message for a client, Candid-encoding `value`.
    @discardableResult
    public static func send<T: CandidEncodable>(_ principal: Principal, value: T) -> WebSocketResult {
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
    public static func broadcast(_ candidBytes: [UInt8], toGroup group: UTF8Text) -> Int {
        let queued = core.broadcast(candidBytes, toGroup: group, now: currentTime())
        dispatchEvents()
        return queued
    }

    /// Adds a connected client to a named group (it leaves every group when it disconnects).
    @discardableResult
    public static func join(_ principal: Principal, group: UTF8Text) -> WebSocketResult {
        core.join(principal, group: group)
    }

    /// Removes a client from a named group.
    public static func leave(_ principal: Principal, group: UTF8Text) { core.leave(principal, group: group) }

    /// The members of a group, sorted.
    public static func members(of group: UTF8Text) -> [Principal] { core.members(of: group) }

    /// Closes a client's connection with `CloseMessage { ClosedByApplication }`.
    @discardableResult
    public static func close(_ principal: Principal) -> WebSocketResult {
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

    /// The registered clients' principals, sorted (cheaper than `clients` when the nonces are
    /// not needed: a broadcast to everyone).
    public static var clientPrincipals: [Principal] { core.clientPrincipals }

    // MARK: - Wiring

    /// Runs the handlers of the core's pending events; every refused message is logged with
    /// `debug_print` (the replica shows canister logs) and returned.
    @discardableResult
    static func dispatchEvents() -> [WebSocketHandlers.Refusal] {
        let events = core.takeEvents()
        for case .log(let line) in events { debugPrint("ICWebSocket: \(line)") }
        let refusals = handlers.deliver(events)
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
    // At the extended type, so that `resumable : opt bool` is read (absent: the reference).
    let args: CanisterWsOpenArguments
    do throws(CandidError) {
        args = try ProtocolCandid.decodeWsOpenArguments(Message.argumentBytes())
    } catch {
        trap("failed to decode the argument: \(error)")
    }
    let result = ICWebSocket.core.wsOpen(caller: Message.caller(), args, now: currentTime())
    ICWebSocket.dispatchEvents()
    Message.reply(bytes: result.candidReply)
    icws_flushOutput()
}

/// icws extension (docs/SESSION-RESUMPTION.md): a resumable client continues its session.
@_expose(wasm, "canister_update ws_resume") @_cdecl("canister_update_ws_resume")
func wsResume() {
    Canister.update(
        decoding: ProtocolCandid.decodeWsResumeArguments,
        replyBytes: { args in
            let result = ICWebSocket.core.wsResume(caller: Message.caller(), args, now: currentTime())
            ICWebSocket.dispatchEvents()
            // The replayed messages may be due for the timer (none is armed for a detached client).
            ICWebSocket.syncTimer()
            return result.candidReply
        })
}

@_expose(wasm, "canister_update ws_message") @_cdecl("canister_update_ws_message")
func wsMessage() {
    // The second argument (`opt AppMessage`) only documents the application type; the
    // decoder skips it (validated).
    let args: CanisterWsMessageArguments
    do throws(CandidError) {
        args = try ProtocolCandid.decodeWsMessageArguments(Message.argumentBytes())
    } catch {
        trap("failed to decode the argument: \(error)")
    }
    let result = ICWebSocket.core.wsMessage(caller: Message.caller(), args, now: currentTime())
    Message.reply(bytes: WebSocketCanisterCore.messageReply(result, refusals: ICWebSocket.dispatchEvents()).candidReply)
    icws_flushOutput()
}

@_expose(wasm, "canister_update ws_close") @_cdecl("canister_update_ws_close")
func wsClose() {
    Canister.update(
        decoding: ProtocolCandid.decodeWsCloseArguments,
        replyBytes: { args in
            let result = ICWebSocket.core.wsClose(caller: Message.caller(), args, now: currentTime())
            ICWebSocket.dispatchEvents()
            // A resumable client is only detached: its grace period needs the timer.
            ICWebSocket.syncTimer()
            return result.candidReply
        })
}

@_expose(wasm, "canister_query ws_get_messages") @_cdecl("canister_query_ws_get_messages")
func wsGetMessages() {
    Canister.query(
        decoding: ProtocolCandid.decodeWsGetMessagesArguments,
        replyBytes: { args in
            let batch: PolledBatch?
            do throws(CanisterTrap) {
                let caller = Message.caller()
                let certificate = CertifiedData.certificate()
                batch = try ICWebSocket.core.poll(caller: caller, args, certificate: certificate)
            } catch {
                trap(error.message)
            }
            // The batch is written straight to Candid (the generic encoder costs ~10× more).
            if let batch { return GetMessagesReply.encode(batch) }
            return GetMessagesReply.empty
        })
}
