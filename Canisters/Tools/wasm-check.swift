// wasm-check: validates IC canister modules and prints a summary of each.
//
//   wasm-check [--quiet] module.wasm...
//
// The IC's rules are not restated here: scripts/build-canisters.sh compiles this file together
// with the replica's Sources/ICReplica/ModuleValidator.swift and WasmBinary.swift (which import
// nothing), so a module passes this check exactly when the replica would install it. On top,
// what an Embedded Swift build must also get right: no start function, and exactly one
// exported memory named `memory`.
//
// Why it matters: Swift silently produces wrong signatures when `@_extern(c)` or `@_cdecl` is
// missing, and a missing libc symbol under --allow-undefined becomes an `env.*` import.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
enum WasmCheck {
    static func main() {
        var quiet = false
        var paths = [String]()
        for argument in CommandLine.arguments.dropFirst() {
            if argument == "--quiet" { quiet = true } else { paths.append(argument) }
        }
        if paths.isEmpty {
            print("usage: wasm-check [--quiet] module.wasm...")
            exit(2)
        }
        var failed = false
        for path in paths {
            guard let bytes = readFile(path) else {
                print("\(path): cannot read")
                failed = true
                continue
            }
            if !check(path, bytes, quiet: quiet) { failed = true }
        }
        exit(failed ? 1 : 0)
    }

    /// Prints the module's summary and problems; returns whether it passed.
    static func check(_ path: String, _ bytes: [UInt8], quiet: Bool) -> Bool {
        let binary: WasmBinary
        do { binary = try WasmBinary(bytes: bytes) } catch {
            print("\(path): ERROR: \(error)")
            return false
        }
        var problems = [String]()
        do { _ = try ModuleValidator.validate(bytes) } catch { problems.append(error.reason) }
        if binary.hasStart { problems.append("the module has a start function") }
        let memoryExports = binary.exports.filter { $0.kind == 2 }
        if memoryExports.count != 1 || memoryExports.first?.name != "memory" {
            problems.append("expected exactly one exported memory named 'memory'")
        }
        let size = { (id: UInt8) in binary.sections.filter { $0.id == id }.reduce(0) { $0 + $1.payload.count } }
        // The IC's code section limit (essentials §10), which the replica's validator leaves out.
        if size(10) > 10 << 20 { problems.append("the code section has \(size(10)) bytes; the IC takes at most 10 MiB") }
        let entryPoints = binary.exports.filter { $0.name.hasPrefix("canister_") }.map(\.name)
        let imports = binary.imports.map { entry -> String in
            guard case .function(let index) = entry.kind, Int(index) < binary.types.count else { return entry.name }
            let type = binary.types[Int(index)]
            func list(_ types: [WasmBinary.ValueType]) -> String { types.map { "\($0)" }.joined(separator: ",") }
            return "\(entry.name)(\(list(type.parameters)))->(\(list(type.results)))"
        }
        print(
            "\(path): \(bytes.count) bytes (code \(size(10)), data \(size(11))), "
                + "\(binary.imports.count) ic0 imports, \(entryPoints.count) entry points, "
                + "memory min \(binary.memories.first?.min ?? 0) pages, \(binary.definedGlobalsMutable.count) globals"
                + (problems.isEmpty ? ": ok" : ": \(problems.count) problem(s)"))
        if !quiet || !problems.isEmpty {
            print("  imports: " + imports.joined(separator: " "))
            print("  exports: " + entryPoints.joined(separator: " | "))
        }
        for problem in problems { print("  ERROR: \(problem)") }
        return problems.isEmpty
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }
}
