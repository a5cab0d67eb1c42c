import ICCore

/// The management canister `aaaaa-aa` (essentials §11): canister lifecycle and settings.
/// Runs inside a round; every method works on the replica's state `inout`.
enum VirtualManagementCanister {
    /// Methods a user may call through ingress; the others (`raw_rand`, `deposit_cycles`, …) are
    /// refused at ingress as on the IC.
    static let ingressMethods: Set<String> = [
        "provisional_create_canister_with_cycles", "create_canister", "install_code", "canister_status",
        "update_settings", "stop_canister", "start_canister", "delete_canister", "uninstall_code", "provisional_top_up_canister",
    ]

    /// Methods whose argument names no canister: any effective canister id in range routes them.
    static let creationMethods: Set<String> = ["provisional_create_canister_with_cycles", "create_canister"]

    /// The `canister_id` field of the argument record, which must equal the effective canister id.
    static func targetCanister(method: String, argument: [UInt8]) -> Principal? {
        guard let values = try? Candid.decodeValues(from: argument), let first = values.first,
            let record = try? first.record(), case .principal(let id)? = record.value("canister_id")
        else { return nil }
        return id
    }

    static func call(
        replica: Replica, state: inout ReplicaState, sender: Principal, method: String, argument: [UInt8]
    ) -> Result<[UInt8], Reject> {
        do {
            return .success(
                try dispatch(replica: replica, state: &state, sender: sender, method: method, argument: argument, replicated: true))
        } catch {
            return .failure(error)
        }
    }

    static func query(
        replica: Replica, state: inout ReplicaState, sender: Principal, method: String, argument: [UInt8]
    ) -> Result<[UInt8], Reject> {
        guard method == "canister_status" else {
            return .failure(.canisterError("Management canister has no query method '\(method)'", "IC0536"))
        }
        do {
            return .success(
                try dispatch(replica: replica, state: &state, sender: sender, method: method, argument: argument, replicated: false))
        } catch {
            return .failure(error)
        }
    }

    private static func invalidArgument(_ method: String, _ why: String) -> Reject {
        Reject(code: 5, message: "Error decoding candid for \(method): \(why)", errorCode: "IC0503")
    }

    private static func dispatch(
        replica: Replica, state: inout ReplicaState, sender: Principal, method: String, argument: [UInt8], replicated: Bool
    ) throws(Reject) -> [UInt8] {
        let record: CandidRecordReader
        do {
            let values = try Candid.decodeValues(from: argument)
            guard let first = values.first else { throw invalidArgument(method, "no argument") }
            record = try first.record()
        } catch let reject as Reject { throw reject } catch {
            throw invalidArgument(method, "\(error)")
        }
        switch method {
        case "provisional_create_canister_with_cycles", "create_canister":
            let settings = try optional(record.value("settings")).map { value throws(Reject) in try settingsRecord(value, method) }
            var specified: Principal?
            if case .principal(let id)? = try optional(record.value("specified_id")) { specified = id }
            let controllers = try settings.flatMap { settings throws(Reject) in try controllersField(settings, method) } ?? [sender]
            let id = try state.createCanister(
                controllers: controllers, specifiedID: specified, range: replica.canisterRange,
                maxCanisters: replica.configuration.maxCanisters)
            return encode(
                .record(sorting: [.field("canister_id", .principal(id))]),
                .record([.field("canister_id", .principal)]))
        case "provisional_top_up_canister":
            _ = try canister(state, record, method)
            return Candid.encode()
        default:
            break
        }
        let target = try canister(state, record, method)
        guard target.controllers.contains(sender) else {
            throw Reject(code: 5, message: "Only controllers of canister \(target.id) can call ic00 method \(method)", errorCode: "IC0512")
        }
        switch method {
        case "install_code":
            guard case .variant(let mode)? = record.value("mode") else { throw invalidArgument(method, "missing mode") }
            guard let module = blob(record.value("wasm_module")) else { throw invalidArgument(method, "missing wasm_module") }
            let arg = blob(record.value("arg")) ?? []
            let installMode: InstallMode
            if mode.id == CandidFieldID.hash("install") {
                installMode = .install
            } else if mode.id == CandidFieldID.hash("reinstall") {
                installMode = .reinstall
            } else if mode.id == CandidFieldID.hash("upgrade") {
                var skip = false
                if case .opt(.some(let options)) = mode.value, let fields = try? options.record(),
                    case .opt(.some(.bool(let value)))? = fields.value("skip_pre_upgrade")
                {
                    skip = value
                }
                installMode = .upgrade(skipPreUpgrade: skip)
            } else {
                throw invalidArgument(method, "unknown install mode")
            }
            try replica.installCode(target.id, in: &state, mode: installMode, module: module, argument: arg, sender: sender)
            return Candid.encode()
        case "uninstall_code":
            state.updateCanister(target.id) { canister in
                canister.removeModule()
                canister.certifiedData = []
                canister.globalTimer = 0
                canister.stableMemory = []
                canister.version += 1
            }
            return Candid.encode()
        case "canister_status":
            return status(replica, target)
        case "update_settings":
            guard let settingsValue = record.value("settings") else { throw invalidArgument(method, "missing settings") }
            let settings = try settingsRecord(settingsValue, method)
            let controllers = try controllersField(settings, method)
            state.updateCanister(target.id) { canister in
                if let controllers { canister.controllers = controllers }
                canister.version += 1
            }
            return Candid.encode()
        case "stop_canister":
            state.updateCanister(target.id) { $0.status = .stopped }
            return Candid.encode()
        case "start_canister":
            state.updateCanister(target.id) { $0.status = .running }
            return Candid.encode()
        case "delete_canister":
            guard target.status == .stopped else {
                throw Reject(code: 5, message: "Canister \(target.id) must be stopped before it is deleted.", errorCode: "IC0510")
            }
            state.canisters[target.id] = nil
            state.needsPersisting = true
            return Candid.encode()
        default:
            throw Reject.canisterError("Management canister has no method '\(method)'", "IC0536")
        }
    }

    enum InstallMode: Equatable { case install, reinstall, upgrade(skipPreUpgrade: Bool) }

    private static func optional(_ value: CandidValue?) throws(Reject) -> CandidValue? {
        switch value {
        case nil, .null?, .opt(nil)?: return nil
        case .opt(.some(let inner))?: return inner
        case let other?: return other
        }
    }

    private static func blob(_ value: CandidValue?) -> [UInt8]? {
        switch value {
        case .blob(let bytes)?: return bytes
        case .vec(let items)?:
            var bytes = [UInt8]()
            for item in items { guard case .nat8(let byte) = item else { return nil }; bytes.append(byte) }
            return bytes
        default: return nil
        }
    }

    private static func settingsRecord(_ value: CandidValue, _ method: String) throws(Reject) -> CandidRecordReader {
        do { return try value.record() } catch { throw invalidArgument(method, "settings: \(error)") }
    }

    private static func controllersField(_ settings: CandidRecordReader, _ method: String) throws(Reject) -> [Principal]? {
        guard let value = try optional(settings.value("controllers")) else { return nil }
        guard case .vec(let items) = value else { throw invalidArgument(method, "controllers must be a vec principal") }
        var controllers = [Principal]()
        for item in items {
            guard case .principal(let p) = item else { throw invalidArgument(method, "controllers must be a vec principal") }
            if !controllers.contains(p) { controllers.append(p) }
        }
        guard controllers.count <= 10 else {
            throw Reject(
                code: 5, message: "Invalid settings: at most 10 controllers are allowed, got \(controllers.count)", errorCode: "IC0503")
        }
        return controllers
    }

    private static func canister(
        _ state: ReplicaState, _ record: CandidRecordReader, _ method: String
    ) throws(Reject) -> HostedCanister {
        guard case .principal(let id)? = record.value("canister_id") else { throw invalidArgument(method, "missing canister_id") }
        guard let canister = state.canisters[id] else { throw Reject.destinationInvalid("Canister \(id) not found") }
        return canister
    }

    private static func encode(_ value: CandidValue, _ type: CandidType) -> [UInt8] {
        guard let bytes = try? CandidEncoder.encode([value], types: [type]) else {
            preconditionFailure("management canister replies match their types")
        }
        return bytes
    }

    static let visibilityType: CandidType = .variant([
        .init(name: "controllers", type: .null), .init(name: "public", type: .null),
        .init(name: "allowed_viewers", type: .vec(.principal)),
    ])

    static let statusType: CandidType = .record([
        .init(name: "status", type: .enumeration(["running", "stopping", "stopped"])),
        .init(name: "ready_for_migration", type: .bool),
        .init(name: "version", type: .nat64),
        .init(
            name: "settings",
            type: .record([
                .init(name: "controllers", type: .vec(.principal)),
                .init(name: "compute_allocation", type: .nat), .init(name: "memory_allocation", type: .nat),
                .init(name: "freezing_threshold", type: .nat), .init(name: "reserved_cycles_limit", type: .nat),
                .init(name: "minimum_incoming_canister_call_cycles", type: .nat),
                .init(name: "log_visibility", type: visibilityType), .init(name: "snapshot_visibility", type: visibilityType),
                .init(name: "status_visibility", type: visibilityType),
                .init(name: "wasm_memory_limit", type: .nat), .init(name: "wasm_memory_threshold", type: .nat),
                .init(
                    name: "environment_variables",
                    type: .vec(.record([.init(name: "name", type: .text), .init(name: "value", type: .text)]))),
            ])),
        .init(name: "module_hash", type: .opt(.blob)),
        .init(name: "memory_size", type: .nat),
        .init(
            name: "memory_metrics",
            type: .record(
                [
                    "wasm_memory_size", "stable_memory_size", "global_memory_size", "wasm_binary_size",
                    "custom_sections_size", "canister_history_size", "wasm_chunk_store_size",
                    "snapshots_size",
                ].map { .init(name: $0, type: .nat) })),
        .init(name: "cycles", type: .nat),
        .init(name: "reserved_cycles", type: .nat),
        .init(name: "idle_cycles_burned_per_day", type: .nat),
        .init(
            name: "query_stats",
            type: .record(
                [
                    "num_calls_total", "num_instructions_total", "request_payload_bytes_total",
                    "response_payload_bytes_total",
                ].map { .init(name: $0, type: .nat) })),
    ])

    private static func status(_ replica: Replica, _ canister: HostedCanister) -> [UInt8] {
        func nat(_ value: Int) -> CandidValue { .nat(BigNat(UInt64(value))) }
        func nat(_ value: UInt64) -> CandidValue { .nat(BigNat(value)) }
        let status: String =
            switch canister.status {
            case .running: "running";
            case .stopping: "stopping";
            case .stopped: "stopped"
            }
        let wasm = canister.runtime?.memorySize ?? 0
        let stable = canister.stableMemory.count
        let binary = canister.moduleBytes?.count ?? 0
        let value: CandidValue = .record(sorting: [
            .field("status", .variant(status)),
            .field("ready_for_migration", .bool(false)),
            .field("version", .nat64(canister.version)),
            .field(
                "settings",
                .record(sorting: [
                    .field("controllers", .vec(canister.controllers.map { .principal($0) })),
                    .field("compute_allocation", nat(0)), .field("memory_allocation", nat(0)),
                    .field("freezing_threshold", nat(2_592_000)), .field("reserved_cycles_limit", nat(5_000_000_000_000)),
                    .field("minimum_incoming_canister_call_cycles", nat(0)),
                    .field("log_visibility", .variant("controllers")), .field("snapshot_visibility", .variant("controllers")),
                    .field("status_visibility", .variant("controllers")),
                    .field("wasm_memory_limit", nat(0)), .field("wasm_memory_threshold", nat(0)),
                    .field("environment_variables", .vec([])),
                ])),
            .field("module_hash", .opt(canister.moduleHash.map { .blob($0) })),
            .field("memory_size", nat(wasm + stable + binary)),
            .field(
                "memory_metrics",
                .record(sorting: [
                    .field("wasm_memory_size", nat(wasm)), .field("stable_memory_size", nat(stable)),
                    .field("global_memory_size", nat(0)), .field("wasm_binary_size", nat(binary)),
                    .field("custom_sections_size", nat(0)), .field("canister_history_size", nat(0)),
                    .field("wasm_chunk_store_size", nat(0)), .field("snapshots_size", nat(0)),
                ])),
            .field("cycles", nat(replica.configuration.cycleBalance)),
            .field("reserved_cycles", nat(0)),
            .field("idle_cycles_burned_per_day", nat(0)),
            .field(
                "query_stats",
                .record(sorting: [
                    .field("num_calls_total", nat(0)), .field("num_instructions_total", nat(0)),
                    .field("request_payload_bytes_total", nat(0)), .field("response_payload_bytes_total", nat(0)),
                ])),
        ])
        return encode(value, statusType)
    }
}
