import ICCore
import WasmKit

/// One instantiated canister module on WasmKit, with the committed state a trapping message or
/// a query is rolled back to (essentials §10; embedded-canisters.md §3).
///
/// WasmKit cannot shrink a memory or enumerate globals, so the module is instrumented to export
/// every mutable global, the committed memory image and global values are kept on the host, and
/// a message that grew memory and is then rolled back re-instantiates the module with the old
/// memory size.
final class CanisterRuntime {
    /// The result of running one entry point.
    enum Outcome {
        case completed
        case trapped(ExecutionTrap)
    }

    let module: ModuleValidator.Validated
    let engine: Engine
    let host: HostState
    private let canisterID: Principal
    private var store: Store
    private var functions: [String: Function] = [:]
    private var globals: [Global] = []
    private var committedMemory: [UInt8] = []
    private var committedGlobals: [Value] = []
    /// How often a rollback needed a new instance (memory had grown).
    private(set) var reinstantiations = 0
    /// Instructions (fuel units) used by the last message.
    private(set) var lastInstructions: UInt64 = 0
    /// Host time the last message's Wasm execution took (not its commit or rollback).
    private(set) var lastDuration: Duration = .zero
    /// The export the last message ran.
    private(set) var lastExport = ""

    var memorySize: Int { committedMemory.count }

    init(module: ModuleValidator.Validated, engine: Engine, canisterID: Principal) throws(ReplicaError) {
        self.module = module
        self.engine = engine
        self.canisterID = canisterID
        host = HostState(context: .start(canisterID: canisterID))
        store = Store(engine: engine)
        try instantiate(minimumPages: nil)
        commit()
    }

    private func instantiate(minimumPages: UInt64?) throws(ReplicaError) {
        let (bytes, globalIndices) = module.binary.instrumented(minimumPages: minimumPages)
        let context = host.context
        host.context = .start(canisterID: canisterID)
        defer { host.context = context }
        do {
            let parsed = try parseWasm(bytes: bytes)
            let store = Store(engine: engine)
            let imports = SystemAPI.imports(for: module.binary, store: store, host: host)
            store.fuel = Fuel(remaining: 50_000_000)
            let instance = try parsed.instantiate(store: store, imports: imports)
            self.store = store
            var functions = [String: Function]()
            var memory: Memory?
            for (name, value) in instance.exports {
                switch value {
                case .function(let function) where name.hasPrefix("canister_"): functions[name] = function
                case .memory(let exported): memory = memory ?? exported
                default: break
                }
            }
            self.functions = functions
            host.memory = memory
            let exportedGlobalNames = Dictionary(
                module.binary.exports.filter { $0.kind == 3 }.map { (Int($0.index), $0.name) },
                uniquingKeysWith: { first, _ in first })
            globals = globalIndices.compactMap { index in
                instance.exports[global: exportedGlobalNames[index] ?? WasmBinary.globalExportName(index)]
            }
        } catch {
            throw .invalidModule("instantiation failed: \(error)")
        }
    }

    /// Translates every function body of `module` once (WasmKit validates code lazily, at first
    /// call; the IC refuses an invalid module at install time).
    static func validateCode(of module: ModuleValidator.Validated, engine: Engine, canisterID: Principal) throws(ReplicaError) {
        let host = HostState(context: .start(canisterID: canisterID))
        do {
            let parsed = try parseWasm(bytes: module.binary.bytes)
            let store = Store(engine: engine)
            store.fuel = Fuel(remaining: 50_000_000)
            _ = try parsed.instantiate(store: store, imports: SystemAPI.imports(for: module.binary, store: store, host: host))
        } catch {
            throw .invalidModule("\(error)")
        }
    }

    func hasEntryPoint(_ name: String) -> Bool { functions[name] != nil }

    /// Runs the export `name` in `context`. Effects on memory and globals are kept only when
    /// `commitOnSuccess` and the export did not trap; the caller commits the context's staged
    /// effects the same way.
    func run(_ name: String, context: ExecutionContext, fuel: UInt64, commitOnSuccess: Bool) -> Outcome {
        guard let function = functions[name] else {
            return .trapped(ExecutionTrap(message: "the canister has no export '\(name)'"))
        }
        host.context = context
        context.fuelBudget = fuel
        store.fuel = Fuel(remaining: fuel)
        var outcome = Outcome.completed
        let started = ContinuousClock.now
        defer { lastExport = name }
        do {
            try function.invoke([])
        } catch let trap as ExecutionTrap {
            outcome = .trapped(trap)
        } catch {
            var text = "\(error)"
            if let newline = text.firstIndex(of: "\n") { text = String(text[..<newline]) }
            if text.contains("out of fuel") {
                text = "Canister exceeded the instruction limit for a single message execution (\(fuel) instructions)"
            }
            outcome = .trapped(ExecutionTrap(message: text))
        }
        lastDuration = ContinuousClock.now - started
        lastInstructions = fuel &- (store.fuel?.remaining ?? 0)
        host.context = .start(canisterID: canisterID)
        if case .completed = outcome, commitOnSuccess {
            commit()
        } else {
            rollback()
        }
        return outcome
    }

    /// Makes the current memory and globals the committed state.
    private func commit() {
        if let memory = host.memory {
            let count = memory.byteCount
            if committedMemory.count != count { committedMemory = [UInt8](repeating: 0, count: count) }
            memory.withUnsafeBufferPointer(offset: 0, count: count) { source in
                committedMemory.withUnsafeMutableBytes { $0.copyMemory(from: source) }
            }
        }
        committedGlobals = globals.map(\.value)
    }

    /// Restores the committed memory and globals.
    private func rollback() {
        if let memory = host.memory, memory.byteCount != committedMemory.count {
            // Memory grew: WasmKit cannot shrink it, so start over with the committed size.
            reinstantiations += 1
            do { try instantiate(minimumPages: UInt64(committedMemory.count) / SystemAPI.pageSize) } catch {
                preconditionFailure("re-instantiating an already validated module failed: \(error)")
            }
        }
        if let memory = host.memory, !committedMemory.isEmpty {
            memory.withUnsafeMutableBufferPointer(offset: 0, count: committedMemory.count) { target in
                committedMemory.withUnsafeBytes { target.copyMemory(from: $0) }
            }
        }
        for (global, value) in zip(globals, committedGlobals) { try? global.assign(value) }
    }

    /// The committed memory image (for persistence).
    var memoryImage: [UInt8] { committedMemory }
    var globalValues: [Value] { committedGlobals }

    /// Restores a persisted memory image and globals (after instantiation of the same module).
    func restore(memory image: [UInt8], globals values: [Value]) throws(ReplicaError) {
        if image.count != committedMemory.count {
            try instantiate(minimumPages: UInt64(image.count) / SystemAPI.pageSize)
        }
        committedMemory = image
        if values.count == globals.count { committedGlobals = values }
        rollback()
    }
}
