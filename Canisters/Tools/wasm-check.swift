// wasm-check: validates IC canister modules the way the IC does (ic-interface-essentials §10)
// and prints a summary. A tiny Wasm section parser: no dependencies, so build-canisters.sh
// compiles it with plain swiftc.
//
//   wasm-check [--quiet] module.wasm...
//
// Fails (exit 1) when a module imports anything but the ic0 functions below, or with another
// signature; exports a `canister_*` function that is not `() -> ()` or not an IC entry point;
// has a start function; or does not export exactly one memory named `memory`.
//
// Why it matters: Swift silently produces wrong signatures when `@_extern(c)` or `@_cdecl` is
// missing, and a missing libc symbol under --allow-undefined becomes an `env.*` import.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ValType: UInt8 { case i32 = 0x7f, i64 = 0x7e, f32 = 0x7d, f64 = 0x7c, v128 = 0x7b, funcref = 0x70, externref = 0x6f }

struct FuncType: Equatable {
    var params: [ValType]
    var results: [ValType]
    var text: String {
        func list(_ types: [ValType]) -> String { types.map { "\($0)" }.joined(separator: ",") }
        return "(\(list(params)))->(\(list(results)))"
    }
}

/// The ic0 functions a canister may import, wasm32 signatures.
let ic0: [String: FuncType] = {
    let i = ValType.i32, l = ValType.i64
    func f(_ p: [ValType], _ r: [ValType] = []) -> FuncType { FuncType(params: p, results: r) }
    return [
        "msg_arg_data_size": f([], [i]), "msg_arg_data_copy": f([i, i, i]),
        "msg_caller_size": f([], [i]), "msg_caller_copy": f([i, i, i]),
        "msg_reject_code": f([], [i]), "msg_reject_msg_size": f([], [i]), "msg_reject_msg_copy": f([i, i, i]),
        "msg_deadline": f([], [l]),
        "msg_reply_data_append": f([i, i]), "msg_reply": f([]), "msg_reject": f([i, i]),
        "msg_cycles_available128": f([i]), "msg_cycles_refunded128": f([i]), "msg_cycles_accept128": f([l, l, i]),
        "msg_method_name_size": f([], [i]), "msg_method_name_copy": f([i, i, i]), "accept_message": f([]),
        "cycles_burn128": f([l, l, i]),
        "canister_self_size": f([], [i]), "canister_self_copy": f([i, i, i]),
        "canister_cycle_balance128": f([i]), "canister_liquid_cycle_balance128": f([i]),
        "canister_status": f([], [i]), "canister_version": f([], [l]),
        "subnet_self_size": f([], [i]), "subnet_self_copy": f([i, i, i]),
        "call_new": f([i, i, i, i, i, i, i, i]), "call_on_cleanup": f([i, i]), "call_data_append": f([i, i]),
        "call_with_best_effort_response": f([i]), "call_cycles_add128": f([l, l]), "call_perform": f([], [i]),
        "stable64_size": f([], [l]), "stable64_grow": f([l], [l]), "stable64_write": f([l, l, l]),
        "stable64_read": f([l, l, l]),
        "certified_data_set": f([i, i]), "data_certificate_present": f([], [i]),
        "data_certificate_size": f([], [i]), "data_certificate_copy": f([i, i, i]),
        "root_key_size": f([], [i]), "root_key_copy": f([i, i, i]),
        "time": f([], [l]), "global_timer_set": f([l], [l]), "performance_counter": f([i], [l]),
        "is_controller": f([i, i], [i]), "in_replicated_execution": f([], [i]),
        "cost_call": f([l, l, i]), "cost_create_canister": f([i]), "cost_http_request": f([l, l, i]),
        "cost_sign_with_ecdsa": f([i, i, i, i], [i]), "cost_sign_with_schnorr": f([i, i, i, i], [i]),
        "debug_print": f([i, i]), "trap": f([i, i]),
        "stable_size": f([], [i]), "stable_grow": f([i], [i]), "stable_write": f([i, i, i]), "stable_read": f([i, i, i]),
    ]
}()

let entryPoints: Set<String> = [
    "canister_init", "canister_inspect_message", "canister_heartbeat", "canister_global_timer",
    "canister_pre_upgrade", "canister_post_upgrade", "canister_on_low_wasm_memory",
]
let methodPrefixes = ["canister_update ", "canister_query ", "canister_composite_query "]

struct ParseError: Error { var message: String }

struct Reader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var atEnd: Bool { offset >= end }

    mutating func byte() throws -> UInt8 {
        guard offset < end else { throw ParseError(message: "unexpected end at \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws -> UInt32 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift < 35 else { throw ParseError(message: "LEB128 too long at \(offset)") }
        }
        guard result <= UInt64(UInt32.max) else { throw ParseError(message: "u32 overflow at \(offset)") }
        return UInt32(result)
    }

    mutating func name() throws -> String {
        let length = Int(try u32())
        guard offset + length <= end else { throw ParseError(message: "name past end at \(offset)") }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func valType() throws -> ValType {
        let b = try byte()
        guard let type = ValType(rawValue: b) else { throw ParseError(message: "bad value type \(b)") }
        return type
    }

    mutating func limits() throws -> (min: UInt32, max: UInt32?) {
        let flags = try byte()
        let min = try u32()
        let max = flags & 1 != 0 ? try u32() : nil
        return (min, max)
    }
}

struct Module {
    var types: [FuncType] = []
    var imports: [(module: String, name: String, kind: UInt8, type: FuncType?)] = []
    var importedFunctionCount = 0
    var functionTypes: [UInt32] = []
    var exports: [(name: String, kind: UInt8, index: UInt32)] = []
    var memories = 0
    var importedMemories = 0
    var memoryMin: UInt32 = 0
    var hasStart = false
    var globals = 0
    var customSections: [String] = []
    var codeSize = 0
    var dataSize = 0

    func functionType(_ index: UInt32) -> FuncType? {
        if Int(index) < importedFunctionCount {
            var seen = 0
            for entry in imports where entry.kind == 0 {
                if seen == Int(index) { return entry.type }
                seen += 1
            }
            return nil
        }
        let local = Int(index) - importedFunctionCount
        guard local < functionTypes.count, Int(functionTypes[local]) < types.count else { return nil }
        return types[Int(functionTypes[local])]
    }
}

func parse(_ bytes: [UInt8]) throws -> Module {
    guard bytes.count >= 8, Array(bytes[0..<4]) == [0, 0x61, 0x73, 0x6d] else { throw ParseError(message: "not a wasm module") }
    guard Array(bytes[4..<8]) == [1, 0, 0, 0] else { throw ParseError(message: "unsupported wasm version") }
    var module = Module()
    var reader = Reader(bytes, from: 8)
    while !reader.atEnd {
        let id = try reader.byte()
        let size = Int(try reader.u32())
        let start = reader.offset
        guard start + size <= bytes.count else { throw ParseError(message: "section \(id) past end") }
        var section = Reader(bytes, from: start, to: start + size)
        switch id {
        case 0:
            module.customSections.append(try section.name())
        case 1:
            for _ in 0..<(try section.u32()) {
                guard try section.byte() == 0x60 else { throw ParseError(message: "bad function type") }
                var params = [ValType]()
                for _ in 0..<(try section.u32()) { params.append(try section.valType()) }
                var results = [ValType]()
                for _ in 0..<(try section.u32()) { results.append(try section.valType()) }
                module.types.append(FuncType(params: params, results: results))
            }
        case 2:
            for _ in 0..<(try section.u32()) {
                let moduleName = try section.name()
                let name = try section.name()
                let kind = try section.byte()
                var type: FuncType? = nil
                switch kind {
                case 0:
                    let index = Int(try section.u32())
                    type = index < module.types.count ? module.types[index] : nil
                    module.importedFunctionCount += 1
                case 1: _ = try section.byte(); _ = try section.limits()
                case 2: _ = try section.limits(); module.importedMemories += 1
                case 3: _ = try section.valType(); _ = try section.byte()
                default: throw ParseError(message: "bad import kind \(kind)")
                }
                module.imports.append((moduleName, name, kind, type))
            }
        case 3:
            for _ in 0..<(try section.u32()) { module.functionTypes.append(try section.u32()) }
        case 5:
            let count = try section.u32()
            module.memories += Int(count)
            if count > 0 { module.memoryMin = try section.limits().min }
        case 6:
            module.globals = Int(try section.u32())
        case 7:
            for _ in 0..<(try section.u32()) {
                let name = try section.name()
                let kind = try section.byte()
                let index = try section.u32()
                module.exports.append((name, kind, index))
            }
        case 8:
            module.hasStart = true
        case 10:
            module.codeSize = size
        case 11:
            module.dataSize = size
        default:
            break
        }
        reader.offset = start + size
    }
    return module
}

func check(_ module: Module) -> [String] {
    var problems = [String]()
    for entry in module.imports {
        guard entry.module == "ic0" else {
            problems.append("import \(entry.module).\(entry.name): only ic0 imports are allowed")
            continue
        }
        guard entry.kind == 0 else { problems.append("import ic0.\(entry.name) is not a function"); continue }
        guard let expected = ic0[entry.name] else { problems.append("import ic0.\(entry.name) is not a System API function"); continue }
        if entry.type != expected {
            problems.append("import ic0.\(entry.name) has type \(entry.type?.text ?? "?"), expected \(expected.text)")
        }
    }
    if module.hasStart { problems.append("the module has a start function") }
    if module.memories + module.importedMemories > 1 { problems.append("more than one memory") }
    let memoryExports = module.exports.filter { $0.kind == 2 }
    if memoryExports.count != 1 || memoryExports.first?.name != "memory" {
        problems.append("expected exactly one exported memory named 'memory'")
    }
    var names = Set<String>()
    for export in module.exports where export.name.hasPrefix("canister_") {
        let isMethod = methodPrefixes.contains { export.name.hasPrefix($0) && export.name.count > $0.count }
        if !isMethod && !entryPoints.contains(export.name) {
            problems.append("export '\(export.name)' is not an IC entry point")
        }
        if isMethod {
            let method = String(export.name.split(separator: " ", maxSplits: 1)[1])
            if !names.insert(method).inserted { problems.append("method '\(method)' is exported twice") }
        }
        guard export.kind == 0 else { problems.append("export '\(export.name)' is not a function"); continue }
        let type = module.functionType(export.index)
        if type != FuncType(params: [], results: []) {
            problems.append("export '\(export.name)' has type \(type?.text ?? "?"), expected ()->()")
        }
    }
    return problems
}

var quiet = false
var paths = [String]()
for argument in CommandLine.arguments.dropFirst() {
    if argument == "--quiet" { quiet = true } else { paths.append(argument) }
}
if paths.isEmpty {
    print("usage: wasm-check [--quiet] module.wasm...")
    exit(2)
}

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return bytes
}

var failed = false
for path in paths {
    guard let bytes = readFile(path) else {
        print("\(path): cannot read")
        failed = true
        continue
    }
    do {
        let module = try parse(bytes)
        let problems = check(module)
        let methods = module.exports.filter { $0.name.hasPrefix("canister_") }.map { $0.name }
        print("\(path): \(bytes.count) bytes (code \(module.codeSize), data \(module.dataSize)), "
            + "\(module.imports.count) ic0 imports, \(methods.count) entry points, memory min \(module.memoryMin) pages, "
            + "\(module.globals) globals" + (problems.isEmpty ? ": ok" : ": \(problems.count) problem(s)"))
        if !quiet {
            print("  imports: " + module.imports.map { "\($0.name)\($0.type?.text ?? "")" }.joined(separator: " "))
            print("  exports: " + methods.joined(separator: " | "))
        }
        for problem in problems { print("  ERROR: \(problem)") }
        if !problems.isEmpty { failed = true }
    } catch let error as ParseError {
        print("\(path): ERROR: \(error.message)")
        failed = true
    } catch {
        print("\(path): ERROR: \(error)")
        failed = true
    }
}
exit(failed ? 1 : 0)
