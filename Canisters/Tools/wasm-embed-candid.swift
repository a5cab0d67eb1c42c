// Embeds a canister's Candid interface in its Wasm module as the custom section
// `icp:public candid:service`, the IC's convention (dfx writes and reads it; anyone can fetch
// it with read_state at /canister/<id>/metadata/candid:service). A section of that name that
// is already present is replaced, so running it twice leaves one copy.
//
//   wasm-embed-candid <module.wasm> <service.did>
//
// Compiled by scripts/build-canisters.sh together with the replica's dependency-free
// Sources/ICReplica/WasmBinary.swift, which parses and rewrites the module.

import Foundation

@main
enum WasmEmbedCandid {
    static let sectionName = "icp:public candid:service"

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count == 3 else { fail("usage: wasm-embed-candid <module.wasm> <service.did>") }
        guard let moduleData = FileManager.default.contents(atPath: arguments[1]) else { fail("cannot read \(arguments[1])") }
        guard let did = FileManager.default.contents(atPath: arguments[2]) else { fail("cannot read \(arguments[2])") }
        guard String(data: did, encoding: .utf8) != nil else { fail("\(arguments[2]) is not UTF-8 text") }
        let binary: WasmBinary
        do { binary = try WasmBinary(bytes: [UInt8](moduleData)) } catch { fail("\(arguments[1]): \(error)") }
        let output = binary.replacingCustomSection(named: sectionName, with: [UInt8](did))
        do {
            try Data(output).write(to: URL(fileURLWithPath: arguments[1]), options: .atomic)
        } catch {
            fail("cannot write \(arguments[1]): \(error)")
        }
        print(
            "\(arguments[1]): embedded \(arguments[2]) as '\(sectionName)' "
                + "(\(did.count) bytes; module \(moduleData.count) → \(output.count) bytes)")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("wasm-embed-candid: \(message)\n".utf8))
        exit(1)
    }
}
