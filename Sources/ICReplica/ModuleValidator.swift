/// Checks a canister module the way the IC does before installing it (essentials §10):
/// imports only from `ic0` with the spec's signatures, `canister_*` exports of type `() -> ()`,
/// at most one memory, the size limits, and the `icp:` metadata sections.
///
/// The one statement of these rules: `scripts/build-canisters.sh` compiles this file and
/// `WasmBinary.swift` into its build-time check (`Canisters/Tools/wasm-check.swift`), so this
/// file imports nothing and depends on nothing else in the replica.
public enum ModuleValidator {
    /// Limits of the IC's module validation.
    public static let maxFunctions = 50_000
    public static let maxGlobals = 1_000
    public static let maxExportedMethods = 1_000
    public static let maxExportedNameBytes = 20_000
    public static let maxModuleBytes = 100 << 20

    typealias Signature = (parameters: [WasmBinary.ValueType], results: [WasmBinary.ValueType])

    /// The ic0 functions a 32-bit canister may import, with their signatures.
    static let ic0Signatures: [String: Signature] = {
        let i = WasmBinary.ValueType.i32, l = WasmBinary.ValueType.i64
        return [
            "msg_arg_data_size": ([], [i]), "msg_arg_data_copy": ([i, i, i], []),
            "msg_caller_size": ([], [i]), "msg_caller_copy": ([i, i, i], []),
            "msg_reject_code": ([], [i]), "msg_reject_msg_size": ([], [i]), "msg_reject_msg_copy": ([i, i, i], []),
            "msg_reply_data_append": ([i, i], []), "msg_reply": ([], []), "msg_reject": ([i, i], []),
            "msg_method_name_size": ([], [i]), "msg_method_name_copy": ([i, i, i], []),
            "accept_message": ([], []), "msg_deadline": ([], [l]),
            "msg_cycles_available128": ([i], []), "msg_cycles_accept128": ([l, l, i], []),
            "msg_cycles_refunded128": ([i], []),
            "msg_cycles_available": ([], [l]), "msg_cycles_accept": ([l], [l]), "msg_cycles_refunded": ([], [l]),
            "canister_self_size": ([], [i]), "canister_self_copy": ([i, i, i], []),
            "canister_cycle_balance128": ([i], []), "canister_cycle_balance": ([], [l]),
            "canister_liquid_cycle_balance128": ([i], []),
            "canister_status": ([], [i]), "canister_version": ([], [l]),
            "call_new": ([i, i, i, i, i, i, i, i], []), "call_data_append": ([i, i], []),
            "call_cycles_add128": ([l, l], []), "call_cycles_add": ([l], []), "call_on_cleanup": ([i, i], []),
            "call_with_best_effort_response": ([i], []), "call_perform": ([], [i]),
            "stable64_size": ([], [l]), "stable64_grow": ([l], [l]),
            "stable64_write": ([l, l, l], []), "stable64_read": ([l, l, l], []),
            "stable_size": ([], [i]), "stable_grow": ([i], [i]),
            "stable_write": ([i, i, i], []), "stable_read": ([i, i, i], []),
            "certified_data_set": ([i, i], []),
            "data_certificate_present": ([], [i]), "data_certificate_size": ([], [i]), "data_certificate_copy": ([i, i, i], []),
            "root_key_size": ([], [i]), "root_key_copy": ([i, i, i], []),
            "time": ([], [l]), "global_timer_set": ([l], [l]),
            "performance_counter": ([i], [l]), "is_controller": ([i, i], [i]), "in_replicated_execution": ([], [i]),
            "debug_print": ([i, i], []), "trap": ([i, i], []),
            "subnet_self_size": ([], [i]), "subnet_self_copy": ([i, i, i], []),
            "cycles_burn128": ([l, l, i], []),
            "cost_call": ([l, l, i], []), "cost_create_canister": ([i], []), "cost_http_request": ([l, l, i], []),
            "cost_sign_with_ecdsa": ([i, i, i, i], [i]), "cost_sign_with_schnorr": ([i, i, i, i], [i]),
        ]
    }()

    static let plainEntryPoints: Set<String> = [
        "canister_init", "canister_inspect_message", "canister_heartbeat", "canister_global_timer",
        "canister_pre_upgrade", "canister_post_upgrade", "canister_on_low_wasm_memory",
    ]
    static let methodPrefixes = ["canister_update ", "canister_query ", "canister_composite_query "]

    /// A validated module: what the runtime needs to know about it.
    public static let maxMetadataSections = 16
    public static let maxMetadataBytes = 1 << 20

    struct Validated {
        var binary: WasmBinary
        var updateMethods: Set<String>
        var queryMethods: Set<String>
        /// The `icp:public <name>` / `icp:private <name>` custom sections, by name.
        var metadata: [String: CanisterMetadata]
    }

    /// Validates `bytes`; the error says which rule was broken and by what.
    static func validate(_ bytes: [UInt8]) throws(ModuleValidationError) -> Validated {
        guard bytes.count <= maxModuleBytes else {
            throw .invalidModule("the module is \(bytes.count) bytes; at most \(maxModuleBytes) are allowed")
        }
        let binary: WasmBinary
        do { binary = try WasmBinary(bytes: bytes) } catch { throw .invalidModule(error.description) }
        for entry in binary.imports {
            guard entry.module == "ic0" else {
                throw .invalidModule("import \(entry.module).\(entry.name): only functions from module 'ic0' may be imported")
            }
            guard case .function(let typeIndex) = entry.kind else {
                throw .invalidModule("import ic0.\(entry.name) is not a function")
            }
            guard let expected = ic0Signatures[entry.name] else {
                throw .invalidModule("import ic0.\(entry.name) is not part of the System API")
            }
            guard typeIndex < binary.types.count else { throw .invalidModule("import ic0.\(entry.name) has an invalid type index") }
            let actual = binary.types[Int(typeIndex)]
            guard actual.parameters == expected.parameters, actual.results == expected.results else {
                throw .invalidModule(
                    "import ic0.\(entry.name) has type \(describe(actual.parameters, actual.results)); expected \(describe(expected.parameters, expected.results))"
                )
            }
        }
        let memoryCount = binary.memories.count + binary.imports.filter { $0.kind == .memory }.count
        guard memoryCount <= 1 else { throw .invalidModule("the module declares \(memoryCount) memories; at most one is allowed") }
        guard binary.functionTypeIndices.count <= maxFunctions else {
            throw .invalidModule("the module defines \(binary.functionTypeIndices.count) functions; at most \(maxFunctions) are allowed")
        }
        guard binary.definedGlobalsMutable.count <= maxGlobals else {
            throw .invalidModule("the module defines \(binary.definedGlobalsMutable.count) globals; at most \(maxGlobals) are allowed")
        }
        var updates = Set<String>(), queries = Set<String>(), methodNames = Set<String>()
        var nameBytes = 0
        for export in binary.exports where export.name.hasPrefix("canister_") {
            let isPlain = plainEntryPoints.contains(export.name)
            let prefix = methodPrefixes.first { export.name.hasPrefix($0) }
            guard isPlain || prefix != nil else {
                throw .invalidModule("export '\(export.name)' is not a valid canister entry point")
            }
            guard export.kind == 0 else { throw .invalidModule("export '\(export.name)' is not a function") }
            guard let type = binary.functionType(ofFunction: export.index) else {
                throw .invalidModule("export '\(export.name)' refers to a missing function")
            }
            guard type.parameters.isEmpty, type.results.isEmpty else {
                throw .invalidModule(
                    "export '\(export.name)' has type \(describe(type.parameters, type.results)); entry points must be () -> ()")
            }
            if let prefix {
                let method = String(export.name.dropFirst(prefix.count))
                guard methodNames.insert(method).inserted else {
                    throw .invalidModule("method '\(method)' is exported more than once")
                }
                nameBytes += method.utf8.count
                if prefix == "canister_update " { updates.insert(method) } else { queries.insert(method) }
            }
        }
        guard methodNames.count <= maxExportedMethods else {
            throw .invalidModule("the module exports \(methodNames.count) methods; at most \(maxExportedMethods) are allowed")
        }
        guard nameBytes <= maxExportedNameBytes else {
            throw .invalidModule("exported method names total \(nameBytes) bytes; at most \(maxExportedNameBytes) are allowed")
        }
        var metadata: [String: CanisterMetadata] = [:]
        var metadataBytes = 0
        for section in binary.customSections where section.name.hasPrefix("icp:") {
            let parts = section.name.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == "icp:public" || parts[0] == "icp:private" else {
                throw .invalidModule("custom section '\(section.name)': only 'icp:public <name>' and 'icp:private <name>' are allowed")
            }
            let name = String(parts[1])
            guard metadata[name] == nil else {
                throw .invalidModule("custom section name '\(name)' is declared twice")
            }
            metadataBytes += section.name.utf8.count + section.contents.count
            metadata[name] = CanisterMetadata(isPublic: parts[0] == "icp:public", contents: Array(bytes[section.contents]))
        }
        guard metadata.count <= maxMetadataSections else {
            throw .invalidModule("the module has \(metadata.count) icp: custom sections; at most \(maxMetadataSections) are allowed")
        }
        guard metadataBytes <= maxMetadataBytes else {
            throw .invalidModule("the module's icp: custom sections total \(metadataBytes) bytes; at most \(maxMetadataBytes) are allowed")
        }
        return Validated(binary: binary, updateMethods: updates, queryMethods: queries, metadata: metadata)
    }

    private static func describe(_ parameters: [WasmBinary.ValueType], _ results: [WasmBinary.ValueType]) -> String {
        func list(_ types: [WasmBinary.ValueType]) -> String { "(" + types.map { "\($0)" }.joined(separator: ",") + ")" }
        return list(parameters) + " -> " + list(results)
    }
}

/// Why a module was refused, naming the rule and the offending import, export or section.
public enum ModuleValidationError: Error, Equatable, CustomStringConvertible {
    case invalidModule(String)

    public var description: String {
        switch self {
        case .invalidModule(let why): return "invalid canister module: \(why)"
        }
    }

    var reason: String {
        switch self {
        case .invalidModule(let why): return why
        }
    }
}

/// One `icp:public <name>` or `icp:private <name>` custom section of a canister's module
/// (essentials §5.4): public sections are readable by anyone through `read_state`, private
/// ones only by the canister's controllers.
struct CanisterMetadata: Equatable {
    var isPublic: Bool
    var contents: [UInt8]
}
