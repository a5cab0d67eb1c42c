// Embeds a canister's Candid interface in its Wasm module as the custom section
// `icp:public candid:service`, the IC's convention (dfx writes and reads it; anyone can fetch
// it with read_state at /canister/<id>/metadata/candid:service). A section of that name that
// is already present is replaced, so running it twice leaves one copy.
//
//   wasm-embed-candid <module.wasm> <service.did>
//
// Compiled by scripts/build-canisters.sh with plain swiftc (no package), like wasm-check.

import Foundation

let sectionName = "icp:public candid:service"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("wasm-embed-candid: \(message)\n".utf8))
    exit(1)
}

func leb128(_ value: Int) -> [UInt8] {
    var value = UInt64(value)
    var bytes: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7f)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        bytes.append(byte)
    } while value != 0
    return bytes
}

func readLEB128(_ bytes: [UInt8], _ offset: inout Int) -> Int? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.count, shift < 35 {
        let byte = bytes[offset]
        offset += 1
        result |= UInt64(byte & 0x7f) << shift
        if byte & 0x80 == 0 { return Int(result) }
        shift += 7
    }
    return nil
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail("usage: wasm-embed-candid <module.wasm> <service.did>") }
guard let moduleData = FileManager.default.contents(atPath: arguments[1]) else { fail("cannot read \(arguments[1])") }
guard let did = FileManager.default.contents(atPath: arguments[2]) else { fail("cannot read \(arguments[2])") }
guard String(data: did, encoding: .utf8) != nil else { fail("\(arguments[2]) is not UTF-8 text") }

let module = [UInt8](moduleData)
guard module.count >= 8, module[0..<4] == [0x00, 0x61, 0x73, 0x6d] else { fail("\(arguments[1]) is not a Wasm module") }

// Copies every section except an earlier copy of ours.
var output = Array(module[0..<8])
var offset = 8
while offset < module.count {
    let start = offset
    let id = module[offset]
    offset += 1
    guard let size = readLEB128(module, &offset), offset + size <= module.count else {
        fail("\(arguments[1]): truncated section at byte \(start)")
    }
    let end = offset + size
    var isOurs = false
    if id == 0 {
        var nameOffset = offset
        if let length = readLEB128(module, &nameOffset), nameOffset + length <= end {
            isOurs = String(decoding: module[nameOffset..<(nameOffset + length)], as: UTF8.self) == sectionName
        }
    }
    if !isOurs { output += module[start..<end] }
    offset = end
}

let name = Array(sectionName.utf8)
let payload = leb128(name.count) + name + [UInt8](did)
output += [0x00] + leb128(payload.count) + payload

do {
    try Data(output).write(to: URL(fileURLWithPath: arguments[1]), options: .atomic)
} catch {
    fail("cannot write \(arguments[1]): \(error)")
}
print("\(arguments[1]): embedded \(arguments[2]) as '\(sectionName)' (\(did.count) bytes; module \(module.count) → \(output.count) bytes)")
