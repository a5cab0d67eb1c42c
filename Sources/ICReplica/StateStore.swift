import Foundation
import ICCore
import WasmKit

/// Persists the replica to `--state-dir`: the key seed, time, and every canister with its
/// module, heap image, globals and stable memory, as one CBOR file written atomically after
/// rounds that changed state.
struct StateStore {
    let directory: String
    var file: String { directory + "/replica-state.cbor" }

    struct SavedCanister {
        var id: Principal
        var controllers: [Principal]
        var stopped: Bool
        var module: [UInt8]?
        var certifiedData: [UInt8]
        var globalTimer: UInt64
        var stableMemory: [UInt8]
        var version: UInt64
        var creationTime: UInt64
        var lastInstallTime: UInt64?
        var memory: [UInt8]
        var globals: [UInt64]

        func restore(engine: Engine) throws(ReplicaError) -> HostedCanister {
            var canister = HostedCanister(id: id, controllers: controllers, creationTime: creationTime)
            canister.status = stopped ? .stopped : .running
            canister.certifiedData = certifiedData
            canister.globalTimer = globalTimer
            canister.stableMemory = stableMemory
            canister.version = version
            canister.lastInstallTime = lastInstallTime
            if let module {
                let validated: ModuleValidator.Validated
                do { validated = try ModuleValidator.validate(module) } catch { throw .invalidModule(error.reason) }
                let runtime = try CanisterRuntime(module: validated, engine: engine, canisterID: id)
                let types = runtime.globalValues
                let values: [Value] = zip(types, globals).map { current, bits in
                    switch current {
                    case .i32: return .i32(UInt32(truncatingIfNeeded: bits))
                    case .i64: return .i64(bits)
                    case .f32: return .f32(UInt32(truncatingIfNeeded: bits))
                    case .f64: return .f64(bits)
                    default: return current
                    }
                }
                try runtime.restore(memory: memory, globals: values)
                canister.runtime = runtime
                canister.setModule(module, validated)
            }
            return canister
        }
    }

    struct Snapshot {
        var seed: [UInt8]
        var time: UInt64
        var nextCanisterIndex: UInt64
        var canisters: [SavedCanister]
    }

    init(directory: String) throws(ReplicaError) {
        self.directory = directory
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .storage("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    func load() throws(ReplicaError) -> Snapshot? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        let value: CBORValue
        do {
            value = try CBORDecoder(limits: .init(maxDepth: 16, maxItems: 10_000_000, maxInputLength: Int.max, maxStringLength: Int.max))
                .decode(Array(data))
        } catch {
            throw .storage("\(file) is not valid CBOR (\(error)); move it away to start afresh")
        }
        guard let seed = value["seed"]?.bytes, let time = value["time"]?.uint64, let next = value["next_canister"]?.uint64,
            let items = value["canisters"]?.arrayItems
        else { throw .storage("\(file) lacks seed, time or canisters") }
        var canisters = [SavedCanister]()
        for item in items {
            guard let idBytes = item["id"]?.bytes, let id = try? Principal(bytes: idBytes) else {
                throw .storage("a canister without id in \(file)")
            }
            canisters.append(
                SavedCanister(
                    id: id,
                    controllers: (item["controllers"]?.arrayItems ?? []).compactMap { $0.bytes.flatMap { try? Principal(bytes: $0) } },
                    stopped: item["stopped"]?.boolValue ?? false, module: item["module"]?.bytes,
                    certifiedData: item["certified_data"]?.bytes ?? [], globalTimer: item["timer"]?.uint64 ?? 0,
                    stableMemory: item["stable"]?.bytes ?? [], version: item["version"]?.uint64 ?? 0,
                    creationTime: item["created"]?.uint64 ?? 0, lastInstallTime: item["installed"]?.uint64,
                    memory: item["memory"]?.bytes ?? [], globals: (item["globals"]?.arrayItems ?? []).compactMap(\.uint64)))
        }
        return Snapshot(seed: seed, time: time, nextCanisterIndex: next, canisters: canisters)
    }

    func save(_ snapshot: Snapshot) throws(ReplicaError) {
        var items = [CBORValue]()
        for c in snapshot.canisters {
            var entries: [(key: CBORValue, value: CBORValue)] = [
                (.text("id"), .bytes(c.id.bytes)), (.text("controllers"), .array(c.controllers.map { .bytes($0.bytes) })),
                (.text("stopped"), .bool(c.stopped)), (.text("certified_data"), .bytes(c.certifiedData)),
                (.text("timer"), .unsigned(c.globalTimer)), (.text("stable"), .bytes(c.stableMemory)),
                (.text("version"), .unsigned(c.version)), (.text("created"), .unsigned(c.creationTime)),
                (.text("memory"), .bytes(c.memory)), (.text("globals"), .array(c.globals.map { .unsigned($0) })),
            ]
            if let module = c.module { entries.append((.text("module"), .bytes(module))) }
            if let installed = c.lastInstallTime { entries.append((.text("installed"), .unsigned(installed))) }
            items.append(.map(entries))
        }
        let value = CBORValue.map([
            (.text("seed"), .bytes(snapshot.seed)), (.text("time"), .unsigned(snapshot.time)),
            (.text("next_canister"), .unsigned(snapshot.nextCanisterIndex)), (.text("canisters"), .array(items)),
        ])
        let bytes = CBOREncoder.encode(value, selfDescribe: true)
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw .storage("cannot write \(temporary)")
        }
        // rename(2) replaces the old state atomically; a crash leaves either the old or the new file.
        guard rename(temporary, file) == 0 else {
            throw .storage("cannot replace \(file) (errno \(errno))")
        }
    }
}

extension Replica {
    /// Writes `state` to the state directory.
    func persist(_ state: inout ReplicaState) {
        guard let directory = configuration.stateDirectory else { return }
        let saved = state.canisters.values.sorted { $0.id < $1.id }.map { c in
            StateStore.SavedCanister(
                id: c.id, controllers: c.controllers, stopped: c.status == .stopped, module: c.moduleBytes,
                certifiedData: c.certifiedData, globalTimer: c.globalTimer, stableMemory: c.stableMemory, version: c.version,
                creationTime: c.creationTime, lastInstallTime: c.lastInstallTime, memory: c.runtime?.memoryImage ?? [],
                globals: (c.runtime?.globalValues ?? []).map { value -> UInt64 in
                    switch value {
                    case .i32(let v): return UInt64(v)
                    case .i64(let v): return v
                    case .f32(let v): return UInt64(v)
                    case .f64(let v): return v
                    default: return 0
                    }
                })
        }
        do {
            try StateStore(directory: directory).save(
                .init(seed: seed, time: state.time, nextCanisterIndex: state.nextCanisterIndex, canisters: saved))
            state.needsPersisting = false
        } catch {
            logger.error("\(error)")
        }
    }
}
