import BLS12381
import Foundation
import ICCertification
import ICCore
import Logging
import NIOConcurrencyHelpers
import WasmKit

/// A local Internet Computer: one root subnet with one node, executing canisters on WasmKit in
/// rounds and certifying its state with its own BLS root key after each round.
///
/// ```swift
/// let replica = try Replica(configuration: .init(seed: Array(repeating: 7, count: 32), autoProgress: false))
/// try replica.setTime(1_700_000_000_000_000_000)
/// replica.tick()                        // executes queued ingress, timers, heartbeats; certifies
/// let server = ReplicaServer(replica: replica, host: "127.0.0.1", port: 4943)
/// ```
///
/// Everything that changes is one ``ReplicaState`` value behind one lock: execution is
/// sequential, as on one IC node, and the HTTP handlers of any number of connections can call in.
/// (`@unchecked Sendable` because the state holds WasmKit instances, which are not `Sendable`;
/// they are only touched with the state's lock held.)
public final class Replica: @unchecked Sendable {
    public let configuration: ReplicaConfiguration
    /// The DER root key certificates are signed under (served at `/api/v2/status`).
    public let rootKey: RootKey
    /// The root subnet: the self-authenticating id of the root key's DER.
    public let subnetID: Principal
    /// The node that signs query responses.
    public let nodeID: Principal
    /// The canister id range of the subnet.
    public let canisterRange: ClosedRange<Principal>

    let issuer: CertificateIssuer
    let nodeIdentity: Ed25519Identity
    let logger: Logger
    let engine: Engine
    /// Compiles whole modules at install, so invalid code is refused then rather than at first call.
    let validationEngine: Engine
    /// The seed the keys were derived from (persisted with the state).
    let seed: [UInt8]

    /// Canisters, ingress, statuses, time, certified state.
    let state: NIOLockedValueBox<ReplicaState>
    /// Callers of `/call` v3 waiting for their request's outcome.
    let outcomeWaiters = NIOLockedValueBox(OutcomeWaiters())
    /// Wakes ``runRounds()`` when there is work (ingress, a time change).
    let roundWakeup = NIOLockedValueBox<AsyncStream<Void>.Continuation?>(nil)

    /// Creates a replica; with a state directory, loads what was persisted there.
    public init(configuration: ReplicaConfiguration = .init(), logger: Logger = Logger(label: "icws.replica")) throws(ReplicaError) {
        self.configuration = configuration
        self.logger = logger
        var stored: StateStore.Snapshot?
        if let directory = configuration.stateDirectory {
            stored = try StateStore(directory: directory).load()
        }
        let seed = configuration.seed ?? stored?.seed ?? (0..<32).map { _ in UInt8.random(in: 0...255) }
        guard seed.count >= 32 else { throw .badRequest("the root key seed must be at least 32 bytes, got \(seed.count)") }
        let secretKey: BLS.SecretKey
        do { secretKey = try BLS.SecretKey(seed: seed) } catch { throw .badRequest("cannot derive a BLS key from the seed: \(error)") }
        issuer = CertificateIssuer(secretKey: secretKey)
        rootKey = issuer.publicKey
        subnetID = Principal.selfAuthenticating(derPublicKey: rootKey.der)
        do { nodeIdentity = try Ed25519Identity(seed: SHA256.hash(Array("icws replica node".utf8) + seed)) } catch {
            throw .badRequest("cannot derive the node key: \(error)")
        }
        nodeID = nodeIdentity.principal
        canisterRange = Principal.canister(index: 0)...Principal.canister(index: 0xFFFFF)
        // Software bounds checks: mprotect reserves ~4 GiB of address space per memory.
        engine = Engine(configuration: EngineConfiguration(memoryBoundsChecking: .software, fuelMetering: true))
        validationEngine = Engine(
            configuration: EngineConfiguration(
                compilationMode: .eager, memoryBoundsChecking: .software,
                fuelMetering: true))
        self.seed = seed
        var initial = ReplicaState(time: Self.wallClock())
        if let stored {
            initial.time = max(initial.time, stored.time)
            initial.nextCanisterIndex = stored.nextCanisterIndex
            for saved in stored.canisters {
                do { initial.canisters[saved.id] = try saved.restore(engine: engine) } catch {
                    logger.error("cannot restore canister \(saved.id): \(error)")
                }
            }
        }
        state = NIOLockedValueBox(initial)
        withState { state in
            certify(&state)
            // The root key is generated once and kept with the state from the first start on.
            if configuration.stateDirectory != nil, stored == nil { persist(&state) }
        }
    }

    /// Runs `body` on the state with its lock held (typed throws, which `withLockedValue` lacks).
    func withState<T, E: Error>(_ body: (inout ReplicaState) throws(E) -> T) throws(E) -> T {
        let result: Result<T, E> = state.withLockedValue { state in
            do throws(E) { return .success(try body(&state)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func wallClock() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    private func wakeRoundLoop() {
        roundWakeup.withLockedValue { _ = $0?.yield() }
    }

    // MARK: Time and rounds

    /// The replica's current time (ns since 1970).
    public var currentTime: UInt64 { withState { $0.time } }

    /// Sets the time (it may not go backwards) and certifies it.
    public func setTime(_ nanoseconds: UInt64) throws(ReplicaError) {
        try withState { (state) throws(ReplicaError) in
            guard nanoseconds >= state.time else { throw .badRequest("time cannot go backwards: \(nanoseconds) < \(state.time)") }
            state.time = nanoseconds
            certify(&state)
        }
        wakeRoundLoop()
    }

    /// Moves time forward by `duration` and certifies it.
    public func advanceTime(by duration: Duration) {
        withState { state in
            state.time += duration.icNanoseconds
            certify(&state)
        }
        wakeRoundLoop()
    }

    /// Runs one round: queued ingress, due timers, heartbeats; then certifies the state.
    public func tick() {
        let completed: [RequestID] = withState { state in
            if configuration.autoProgress { state.time = max(state.time + 1, Self.wallClock()) }
            state.round += 1
            let batch = state.takeIngress()
            for message in batch {
                let outcome = execute(message, in: &state)
                state.requests.complete(message.requestID, with: outcome)
            }
            runTimersAndHeartbeats(&state)
            state.requests.expire(now: state.time, keepingAtMost: configuration.maxRequestStatuses)
            certify(&state)
            if state.needsPersisting, configuration.stateDirectory != nil { persist(&state) }
            return batch.map(\.requestID)
        }
        let ready = outcomeWaiters.withLockedValue { $0.removeAll(for: completed) }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Runs rounds until cancelled, only when there is work: at once when ingress arrives, when
    /// the earliest canister timer is due, every ``ReplicaConfiguration/roundInterval`` while a
    /// canister has a heartbeat, and every ``ReplicaConfiguration/idleRoundInterval`` otherwise
    /// (fresh certified time). An idle replica thus signs its state twice a minute instead of
    /// ten times a second.
    public func runRounds() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        roundWakeup.withLockedValue { $0 = continuation }
        var alarm: Task<Void, Never>?
        /// Wakes the loop when the next scheduled round is due (a round may have moved it).
        func arm() {
            alarm?.cancel()
            let delay = nextScheduledRound()
            alarm = Task {
                do { try await Task.sleep(for: delay) } catch { return }
                continuation.yield()
            }
        }
        await withTaskCancellationHandler {
            arm()
            for await _ in stream {
                if Task.isCancelled { break }
                tick()
                arm()
            }
        } onCancel: {
            continuation.finish()
        }
        alarm?.cancel()
        roundWakeup.withLockedValue { $0 = nil }
    }

    /// How long until a round is needed without new ingress.
    func nextScheduledRound() -> Duration {
        withState { state in
            var delay = configuration.idleRoundInterval
            // The next round's time: the wall clock, or the replica's own time if a test or tool
            // moved it ahead (timers are due in replica time).
            let now = max(state.time &+ 1, Self.wallClock())
            for canister in state.canisters.values where canister.status == .running {
                guard let runtime = canister.runtime else { continue }
                if runtime.hasEntryPoint("canister_heartbeat") { delay = min(delay, configuration.roundInterval) }
                if canister.globalTimer != 0 {
                    let due = canister.globalTimer > now ? canister.globalTimer - now : 0
                    delay = min(delay, .nanoseconds(Int64(clamping: due)))
                }
            }
            return delay
        }
    }

    /// Rounds run so far (the state tree's height).
    public var roundsRun: UInt64 { withState { $0.round } }

    // MARK: Ingress

    /// Queues a validated call for the next round.
    func enqueue(_ message: ReplicaState.Ingress, expiry: UInt64) throws(ReplicaError) {
        try withState { (state) throws(ReplicaError) in
            try state.enqueue(message, expiry: expiry, maxQueued: configuration.maxQueuedIngress)
        }
        wakeRoundLoop()
    }

    /// Waits until `requestID` has a certified outcome; `false` after `timeout`.
    func waitForOutcome(_ requestID: RequestID, timeout: Duration) async -> Bool {
        let token = outcomeWaiters.withLockedValue { $0.newToken() }
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            let waiter = outcomeWaiters.withLockedValue { $0.expire(requestID, token: token) }
            waiter?.resume(returning: false)
        }
        defer {
            timer.cancel()
            outcomeWaiters.withLockedValue { $0.forget(token) }
        }
        return await withCheckedContinuation { continuation in
            guard outcomeWaiters.withLockedValue({ $0.add(requestID, token: token, continuation) }) else {
                continuation.resume(returning: false)  // timed out before it was added
                return
            }
            // The round may have completed the request before the waiter was added.
            if withState({ $0.requests[requestID]?.isTerminal ?? false }),
                let waiter = outcomeWaiters.withLockedValue({ $0.remove(requestID, token: token) })
            {
                waiter.resume(returning: true)
            }
        }
    }

    /// Runs one queued call.
    private func execute(_ message: ReplicaState.Ingress, in state: inout ReplicaState) -> Result<[UInt8], Reject> {
        if message.canisterID == .managementCanister {
            return VirtualManagementCanister.call(
                replica: self, state: &state, sender: message.sender, method: message.method, argument: message.argument)
        }
        return executeCanisterCall(message, in: &state)
    }

    private func executeCanisterCall(_ message: ReplicaState.Ingress, in state: inout ReplicaState) -> Result<[UInt8], Reject> {
        guard let canister = state.canisters[message.canisterID] else {
            return .failure(.destinationInvalid("Canister \(message.canisterID) not found"))
        }
        guard canister.status == .running else {
            return .failure(
                .canisterError(
                    "Canister \(canister.id) is \(canister.status == .stopped ? "stopped" : "stopping")",
                    canister.status == .stopped ? "IC0508" : "IC0509"))
        }
        guard let runtime = canister.runtime else {
            return .failure(.canisterError("Canister \(canister.id) is empty: it has no Wasm module", "IC0537"))
        }
        let kind: EntryKind
        let export: String
        if runtime.module.updateMethods.contains(message.method) {
            kind = .update
            export = "canister_update \(message.method)"
        } else if runtime.module.queryMethods.contains(message.method) {
            kind = .replicatedQuery
            export =
                runtime.hasEntryPoint("canister_query \(message.method)")
                ? "canister_query \(message.method)" : "canister_composite_query \(message.method)"
        } else {
            return .failure(.canisterError("Canister \(canister.id) has no update method '\(message.method)'", "IC0536"))
        }
        return runMethod(
            message.canisterID, in: &state, kind: kind, export: export, caller: message.sender, method: message.method,
            argument: message.argument, fuel: configuration.updateInstructionLimit)
    }

    /// Runs a method that replies (update, query), committing its effects when it may change state.
    func runMethod(
        _ id: Principal, in state: inout ReplicaState, kind: EntryKind, export: String, caller: Principal, method: String,
        argument: [UInt8], fuel: UInt64, dataCertificate: [UInt8]? = nil
    ) -> Result<[UInt8], Reject> {
        guard let canister = state.canisters[id], let runtime = canister.runtime else {
            return .failure(.canisterError("Canister \(id) is empty: it has no Wasm module", "IC0537"))
        }
        let context = makeContext(
            canister, time: state.time, kind: kind, caller: caller, method: method, argument: argument,
            dataCertificate: dataCertificate)
        let outcome = runtime.run(export, context: context, fuel: fuel, commitOnSuccess: kind.mayChangeState)
        state.canisters[id]!.log(context.debugPrints)
        switch outcome {
        case .trapped(let trap):
            state.canisters[id]!.log(["[TRAP]: \(trap.message)"])
            logger.debug("canister \(id) trapped in \(export): \(trap.message)")
            let text = trap.explicit ? "Canister called `ic0.trap` with message: '\(trap.message)'" : "Canister trapped: \(trap.message)"
            return .failure(.canisterError("Error from Canister \(id): \(text)", trap.explicit ? "IC0503" : "IC0502"))
        case .completed:
            if kind.mayChangeState { commit(context, to: id, in: &state) }
            switch context.response {
            case .reply(let bytes): return .success(bytes)
            case .reject(let text): return .failure(.canisterReject(text))
            case nil:
                return .failure(.canisterError("Error from Canister \(id): Canister did not reply to the call", "IC0506"))
            }
        }
    }

    func makeContext(
        _ canister: HostedCanister, time: UInt64, kind: EntryKind, caller: Principal, method: String = "",
        argument: [UInt8] = [], dataCertificate: [UInt8]? = nil
    ) -> ExecutionContext {
        ExecutionContext(
            kind: kind, canisterID: canister.id, caller: caller, methodName: method, argument: argument, time: time,
            controllers: canister.controllers, rootKeyDER: rootKey.der, cycleBalance: configuration.cycleBalance,
            canisterVersion: canister.version, isStopping: canister.status == .stopping, dataCertificate: dataCertificate,
            certifiedData: canister.certifiedData, globalTimer: canister.globalTimer,
            stableMemory: canister.stableMemory, maxStablePages: configuration.maxStableMemoryPages)
    }

    /// Makes a completed message's staged effects the canister's state.
    func commit(_ context: ExecutionContext, to id: Principal, in state: inout ReplicaState) {
        state.updateCanister(id) { canister in
            canister.certifiedData = context.certifiedData
            canister.globalTimer = context.globalTimer
            canister.stableMemory = context.stableMemory
        }
    }

    /// Runs a system entry point (timer, heartbeat) that cannot reply; traps roll it back.
    @discardableResult
    func runSystemTask(
        _ id: Principal, in state: inout ReplicaState, kind: EntryKind, argument: [UInt8] = [], caller: Principal? = nil,
        fuel: UInt64
    ) -> ExecutionTrap? {
        guard let canister = state.canisters[id], let runtime = canister.runtime, let export = kind.exportName,
            runtime.hasEntryPoint(export)
        else { return nil }
        let context = makeContext(canister, time: state.time, kind: kind, caller: caller ?? id, argument: argument)
        let outcome = runtime.run(export, context: context, fuel: fuel, commitOnSuccess: true)
        state.canisters[id]!.log(context.debugPrints)
        switch outcome {
        case .completed:
            commit(context, to: id, in: &state)
            return nil
        case .trapped(let trap):
            state.canisters[id]!.log(["[TRAP]: \(trap.message)"])
            logger.debug("canister \(id) trapped in \(export): \(trap.message)")
            return trap
        }
    }

    private func runTimersAndHeartbeats(_ state: inout ReplicaState) {
        let due = state.canisters.values.filter { $0.status == .running && $0.runtime != nil }.map(\.id).sorted()
        for id in due {
            if let timer = state.canisters[id]?.globalTimer, timer != 0, timer <= state.time {
                // The timer is cleared before the handler runs, which may set it again.
                state.canisters[id]!.globalTimer = 0
                runSystemTask(id, in: &state, kind: .globalTimer, fuel: configuration.updateInstructionLimit)
            }
            runSystemTask(id, in: &state, kind: .heartbeat, fuel: configuration.updateInstructionLimit)
        }
    }

    // MARK: Queries

    /// Runs a non-replicated query. It changes no state but the canister's log.
    func query(canisterID: Principal, method: String, argument: [UInt8], sender: Principal) -> Result<[UInt8], Reject> {
        withState { state in
            if canisterID == .managementCanister {
                return VirtualManagementCanister.query(replica: self, state: &state, sender: sender, method: method, argument: argument)
            }
            guard let canister = state.canisters[canisterID] else {
                return .failure(.destinationInvalid("Canister \(canisterID) not found"))
            }
            guard canister.status == .running else {
                return .failure(.canisterError("Canister \(canister.id) is stopped", "IC0508"))
            }
            guard let runtime = canister.runtime else {
                return .failure(.canisterError("Canister \(canister.id) is empty: it has no Wasm module", "IC0537"))
            }
            let export: String
            if runtime.hasEntryPoint("canister_query \(method)") {
                export = "canister_query \(method)"
            } else if runtime.hasEntryPoint("canister_composite_query \(method)") {
                export = "canister_composite_query \(method)"
            } else {
                return .failure(.canisterError("Canister \(canister.id) has no query method '\(method)'", "IC0536"))
            }
            let certificate = dataCertificate(for: canisterID, in: state)
            return runMethod(
                canisterID, in: &state, kind: .query, export: export, caller: sender, method: method, argument: argument,
                fuel: configuration.queryInstructionLimit, dataCertificate: certificate)
        }
    }

    /// Runs `canister_inspect_message` if the canister has it; `nil` means accepted.
    func inspect(canisterID: Principal, method: String, argument: [UInt8], sender: Principal) -> Reject? {
        withState { state in
            guard let canister = state.canisters[canisterID], let runtime = canister.runtime,
                runtime.hasEntryPoint("canister_inspect_message")
            else { return nil }
            let context = makeContext(canister, time: state.time, kind: .inspect, caller: sender, method: method, argument: argument)
            let outcome = runtime.run(
                "canister_inspect_message", context: context, fuel: configuration.queryInstructionLimit,
                commitOnSuccess: false)
            state.canisters[canisterID]!.log(context.debugPrints)
            switch outcome {
            case .trapped(let trap):
                return .canisterError("Error from Canister \(canisterID): Canister trapped in inspect_message: \(trap.message)", "IC0503")
            case .completed:
                return context.accepted
                    ? nil
                    : Reject(code: 4, message: "Canister \(canisterID) rejected the message", errorCode: "IC0406")
            }
        }
    }

    // MARK: Canisters (library API, used by tests and the management canister)

    /// Ids of all canisters.
    public var canisterIDs: [Principal] { withState { $0.canisters.keys.sorted() } }

    /// The last lines a canister printed (debug_print and traps).
    public func log(of canister: Principal) -> [String] { withState { $0.canisters[canister]?.debugLog ?? [] } }

    /// The lines a canister logged after line number `cursor` (0 = since creation) that are still
    /// kept, and the cursor to pass next time: lets `icws dev` follow canister logs.
    public func log(of canister: Principal, after cursor: Int) -> (lines: [String], cursor: Int) {
        withState { state in
            guard let canister = state.canisters[canister] else { return ([], cursor) }
            let firstKept = canister.loggedLines - canister.debugLog.count
            let start = max(cursor, firstKept) - firstKept
            return (start < canister.debugLog.count ? Array(canister.debugLog[start...]) : [], canister.loggedLines)
        }
    }

    /// The SHA-256 of a canister's installed module (`nil`: no such canister, or empty).
    public func moduleHash(of canister: Principal) -> [UInt8]? { withState { $0.canisters[canister]?.moduleHash } }

    /// The certified data of a canister as last committed.
    public func certifiedData(of canister: Principal) -> [UInt8]? { withState { $0.canisters[canister]?.certifiedData } }
}
