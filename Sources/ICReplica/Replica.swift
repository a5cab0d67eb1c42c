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
/// All state sits behind one lock: execution is sequential, as on one IC node, and the HTTP
/// handlers of any number of connections can call in.
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
    let lock = NIOLock()

    // State guarded by `lock`.
    var canisters: [Principal: HostedCanister] = [:]
    var nextCanisterIndex: UInt64 = 0
    var queue: [Ingress] = []
    var statuses: [RequestID: RequestRecord] = [:]
    /// `/request_status` of the state tree, kept in step with `statuses`.
    var requestStatusTree = MerkleLabelMap()
    /// Request ids in the order they arrived, for expiring statuses without scanning them all.
    var statusOrder: [RequestID] = []
    var statusOrderStart = 0
    var time: UInt64
    var round: UInt64 = 0
    var certified: CertifiedState
    var waiters: [RequestID: [(token: Int, continuation: CheckedContinuation<Bool, Never>)]] = [:]
    var nextWaiterToken = 0
    var wake: AsyncStream<Void>.Continuation?
    var stateDirty = false

    /// An accepted ingress message waiting for its round.
    struct Ingress {
        var requestID: RequestID
        var sender: Principal
        var canisterID: Principal
        var method: String
        var argument: [UInt8]
        var effectiveCanisterID: Principal
    }

    /// What is known about a request (for `/request_status` and replay refusal).
    struct RequestRecord {
        enum Status { case received, replied([UInt8]), rejected(Reject) }
        var status: Status
        var sender: Principal
        var effectiveCanisterID: Principal
        var expiry: UInt64
        var sequence: UInt64
    }

    /// The latest certified state: the tree and the BLS signature over its root hash.
    struct CertifiedState {
        var tree: StateTree
        var signature: [UInt8]
        var time: UInt64
    }

    var statusSequence: UInt64 = 0

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
        time = Self.wallClock()
        certified = CertifiedState(tree: StateTree([]), signature: [], time: 0)
        if let stored {
            time = max(time, stored.time)
            nextCanisterIndex = stored.nextCanisterIndex
            for saved in stored.canisters {
                do { canisters[saved.id] = try saved.restore(engine: engine) } catch {
                    logger.error("cannot restore canister \(saved.id): \(error)")
                }
            }
        }
        self.seed = seed
        lock.withLock {
            certify()
            // The root key is generated once and kept with the state from the first start on.
            if configuration.stateDirectory != nil, stored == nil { persist() }
        }
    }

    /// The seed the keys were derived from (persisted with the state).
    let seed: [UInt8]

    /// `lock.withLock` with typed throws.
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    static func wallClock() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    // MARK: Time and rounds

    /// The replica's current time (ns since 1970).
    public var currentTime: UInt64 { lock.withLock { time } }

    /// Sets the time (it may not go backwards) and certifies it.
    public func setTime(_ nanoseconds: UInt64) throws(ReplicaError) {
        try locked { () throws(ReplicaError) in
            guard nanoseconds >= time else { throw .badRequest("time cannot go backwards: \(nanoseconds) < \(time)") }
            time = nanoseconds
            certify()
            wake?.yield()
        }
    }

    /// Moves time forward by `duration` and certifies it.
    public func advanceTime(by duration: Duration) {
        lock.withLock {
            time += duration.icNanoseconds
            certify()
            wake?.yield()
        }
    }

    /// Runs one round: queued ingress, due timers, heartbeats; then certifies the state.
    public func tick() {
        let completed: [RequestID] = lock.withLock {
            if configuration.autoProgress { time = max(time + 1, Self.wallClock()) }
            round += 1
            var done = [RequestID]()
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            for message in batch {
                execute(message)
                done.append(message.requestID)
            }
            runTimersAndHeartbeats()
            expireStatuses()
            certify()
            if stateDirty, configuration.stateDirectory != nil { persist() }
            return done
        }
        resumeWaiters(for: completed)
    }

    /// Runs rounds until cancelled, only when there is work: at once when ingress arrives, when
    /// the earliest canister timer is due, every ``ReplicaConfiguration/roundInterval`` while a
    /// canister has a heartbeat, and every ``ReplicaConfiguration/idleRoundInterval`` otherwise
    /// (fresh certified time). An idle replica thus signs its state twice a minute instead of
    /// ten times a second.
    public func runRounds() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        lock.withLock { wake = continuation }
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
        lock.withLock { wake = nil }
    }

    /// How long until a round is needed without new ingress.
    func nextScheduledRound() -> Duration {
        lock.withLock {
            var delay = configuration.idleRoundInterval
            // The next round's time: the wall clock, or the replica's own time if a test or tool
            // moved it ahead (timers are due in replica time).
            let now = max(time &+ 1, Self.wallClock())
            for canister in canisters.values where canister.status == .running {
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
    public var roundsRun: UInt64 { lock.withLock { round } }

    // MARK: Ingress

    /// Queues a validated call for the next round.
    func enqueue(_ message: Ingress, expiry: UInt64) throws(ReplicaError) {
        try locked { () throws(ReplicaError) in
            guard statuses[message.requestID] == nil else {
                throw .badRequest("request \(message.requestID.description) was already received; a request id may be submitted once")
            }
            guard queue.count < configuration.maxQueuedIngress else {
                throw .limitReached("\(queue.count) ingress messages are queued; at most \(configuration.maxQueuedIngress)")
            }
            statusSequence += 1
            setStatus(
                RequestRecord(
                    status: .received, sender: message.sender, effectiveCanisterID: message.effectiveCanisterID,
                    expiry: expiry, sequence: statusSequence), of: message.requestID)
            statusOrder.append(message.requestID)
            queue.append(message)
            wake?.yield()
        }
    }

    /// Waits until `requestID` has a certified outcome; `false` after `timeout`.
    func waitForOutcome(_ requestID: RequestID, timeout: Duration) async -> Bool {
        let token: Int = lock.withLock {
            nextWaiterToken += 1; return nextWaiterToken
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter = lock.withLock { () -> CheckedContinuation<Bool, Never>? in
                guard let index = waiters[requestID]?.firstIndex(where: { $0.token == token }) else { return nil }
                return waiters[requestID]?.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Bool in
                if let record = statuses[requestID], record.isTerminal { return true }
                waiters[requestID, default: []].append((token, continuation))
                return false
            }
            if done { continuation.resume(returning: true) }
        }
    }

    private func resumeWaiters(for requests: [RequestID]) {
        let ready = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            var ready = [CheckedContinuation<Bool, Never>]()
            for id in requests { if let list = waiters.removeValue(forKey: id) { ready += list.map(\.continuation) } }
            return ready
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Runs one queued call (lock held).
    private func execute(_ message: Ingress) {
        let result: Result<[UInt8], Reject>
        if message.canisterID == .managementCanister {
            result = VirtualManagementCanister.call(
                replica: self, sender: message.sender, method: message.method, argument: message.argument)
        } else {
            result = executeCanisterCall(message)
        }
        guard var record = statuses[message.requestID] else { return }
        switch result {
        case .success(let reply): record.status = .replied(reply)
        case .failure(let reject): record.status = .rejected(reject)
        }
        setStatus(record, of: message.requestID)
    }

    private func executeCanisterCall(_ message: Ingress) -> Result<[UInt8], Reject> {
        guard let canister = canisters[message.canisterID] else {
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
            canister, kind: kind, export: export, caller: message.sender, method: message.method,
            argument: message.argument, fuel: configuration.updateInstructionLimit)
    }

    /// Runs a method that replies (update, query), committing its effects when it may change state.
    func runMethod(
        _ canister: HostedCanister, kind: EntryKind, export: String, caller: Principal, method: String,
        argument: [UInt8], fuel: UInt64, dataCertificate: [UInt8]? = nil
    ) -> Result<[UInt8], Reject> {
        guard let runtime = canister.runtime else {
            return .failure(.canisterError("Canister \(canister.id) is empty: it has no Wasm module", "IC0537"))
        }
        let context = makeContext(
            canister, kind: kind, caller: caller, method: method, argument: argument, dataCertificate: dataCertificate)
        let outcome = runtime.run(export, context: context, fuel: fuel, commitOnSuccess: kind.mayChangeState)
        canister.log(context.debugPrints)
        switch outcome {
        case .trapped(let trap):
            canister.log(["[TRAP]: \(trap.message)"])
            logger.debug("canister \(canister.id) trapped in \(export): \(trap.message)")
            let text = trap.explicit ? "Canister called `ic0.trap` with message: '\(trap.message)'" : "Canister trapped: \(trap.message)"
            return .failure(.canisterError("Error from Canister \(canister.id): \(text)", trap.explicit ? "IC0503" : "IC0502"))
        case .completed:
            if kind.mayChangeState { commit(context, to: canister) }
            switch context.response {
            case .reply(let bytes): return .success(bytes)
            case .reject(let text): return .failure(.canisterReject(text))
            case nil:
                return .failure(.canisterError("Error from Canister \(canister.id): Canister did not reply to the call", "IC0506"))
            }
        }
    }

    func makeContext(
        _ canister: HostedCanister, kind: EntryKind, caller: Principal, method: String = "", argument: [UInt8] = [],
        dataCertificate: [UInt8]? = nil
    ) -> ExecutionContext {
        ExecutionContext(
            kind: kind, canisterID: canister.id, caller: caller, methodName: method, argument: argument, time: time,
            controllers: canister.controllers, rootKeyDER: rootKey.der, cycleBalance: configuration.cycleBalance,
            canisterVersion: canister.version, isStopping: canister.status == .stopping, dataCertificate: dataCertificate,
            certifiedData: canister.certifiedData, globalTimer: canister.globalTimer,
            stableMemory: canister.stableMemory, maxStablePages: configuration.maxStableMemoryPages)
    }

    /// Makes a completed message's staged effects the canister's state.
    func commit(_ context: ExecutionContext, to canister: HostedCanister) {
        canister.certifiedData = context.certifiedData
        canister.globalTimer = context.globalTimer
        canister.stableMemory = context.stableMemory
        stateDirty = true
    }

    /// Runs a system entry point (timer, heartbeat) that cannot reply; traps roll it back.
    @discardableResult
    func runSystemTask(
        _ canister: HostedCanister, kind: EntryKind, argument: [UInt8] = [], caller: Principal? = nil, fuel: UInt64
    ) -> ExecutionTrap? {
        guard let runtime = canister.runtime, let export = kind.exportName, runtime.hasEntryPoint(export) else { return nil }
        let context = makeContext(canister, kind: kind, caller: caller ?? canister.id, argument: argument)
        let outcome = runtime.run(export, context: context, fuel: fuel, commitOnSuccess: true)
        canister.log(context.debugPrints)
        switch outcome {
        case .completed:
            commit(context, to: canister)
            return nil
        case .trapped(let trap):
            canister.log(["[TRAP]: \(trap.message)"])
            logger.debug("canister \(canister.id) trapped in \(export): \(trap.message)")
            return trap
        }
    }

    private func runTimersAndHeartbeats() {
        for canister in canisters.values.sorted(by: { $0.id < $1.id }) where canister.status == .running && canister.runtime != nil {
            if canister.globalTimer != 0, canister.globalTimer <= time {
                // The timer is cleared before the handler runs, which may set it again.
                canister.globalTimer = 0
                runSystemTask(canister, kind: .globalTimer, fuel: configuration.updateInstructionLimit)
            }
            runSystemTask(canister, kind: .heartbeat, fuel: configuration.updateInstructionLimit)
        }
    }

    /// Drops statuses from the oldest on: expired ones (after its expiry a request can no longer
    /// be replayed: the expiry check refuses it) and, beyond `maxRequestStatuses`, the oldest
    /// terminal ones. O(dropped) per round: a status younger than the first one kept waits for it.
    private func expireStatuses() {
        while statusOrderStart < statusOrder.count {
            let id = statusOrder[statusOrderStart]
            if let record = statuses[id] {
                guard record.isTerminal, record.expiry < time || statuses.count > configuration.maxRequestStatuses else { break }
                removeStatus(id)
            }
            statusOrderStart += 1
        }
        if statusOrderStart > 1024, statusOrderStart * 2 > statusOrder.count {
            statusOrder.removeFirst(statusOrderStart)
            statusOrderStart = 0
        }
    }

    // MARK: Queries

    /// Runs a non-replicated query (lock taken here). Never changes state.
    func query(canisterID: Principal, method: String, argument: [UInt8], sender: Principal) -> Result<[UInt8], Reject> {
        lock.withLock {
            if canisterID == .managementCanister {
                return VirtualManagementCanister.query(replica: self, sender: sender, method: method, argument: argument)
            }
            guard let canister = canisters[canisterID] else {
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
            let certificate = dataCertificate(for: canisterID)
            return runMethod(
                canister, kind: .query, export: export, caller: sender, method: method, argument: argument,
                fuel: configuration.queryInstructionLimit, dataCertificate: certificate)
        }
    }

    /// Runs `canister_inspect_message` if the canister has it; `nil` means accepted.
    func inspect(canisterID: Principal, method: String, argument: [UInt8], sender: Principal) -> Reject? {
        lock.withLock {
            guard let canister = canisters[canisterID], let runtime = canister.runtime,
                runtime.hasEntryPoint("canister_inspect_message")
            else { return nil }
            let context = makeContext(canister, kind: .inspect, caller: sender, method: method, argument: argument)
            let outcome = runtime.run(
                "canister_inspect_message", context: context, fuel: configuration.queryInstructionLimit,
                commitOnSuccess: false)
            canister.log(context.debugPrints)
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
    public var canisterIDs: [Principal] { lock.withLock { canisters.keys.sorted() } }

    /// The last lines a canister printed (debug_print and traps).
    public func log(of canister: Principal) -> [String] { lock.withLock { canisters[canister]?.debugLog ?? [] } }

    /// The lines a canister logged after line number `cursor` (0 = since creation) that are still
    /// kept, and the cursor to pass next time: lets `icws dev` follow canister logs.
    public func log(of canister: Principal, after cursor: Int) -> (lines: [String], cursor: Int) {
        lock.withLock {
            guard let canister = canisters[canister] else { return ([], cursor) }
            let firstKept = canister.loggedLines - canister.debugLog.count
            let start = max(cursor, firstKept) - firstKept
            return (start < canister.debugLog.count ? Array(canister.debugLog[start...]) : [], canister.loggedLines)
        }
    }

    /// The SHA-256 of a canister's installed module (`nil`: no such canister, or empty).
    public func moduleHash(of canister: Principal) -> [UInt8]? { lock.withLock { canisters[canister]?.moduleHash } }

    /// The certified data of a canister as last committed.
    public func certifiedData(of canister: Principal) -> [UInt8]? { lock.withLock { canisters[canister]?.certifiedData } }
}

extension Replica.RequestRecord {
    var isTerminal: Bool {
        if case .received = status { return false }
        return true
    }
}
