/// A minimal reader and rewriter of Wasm binaries: just what the replica needs to validate a
/// canister module like the IC does and to instrument it for rollback.
///
/// WasmKit 0.4.2 exposes neither import signatures nor non-exported globals, so the replica
/// reads the type, import, function, global, memory and export sections itself, and rewrites
/// the module to export every mutable global (as the IC's own instrumentation does) and to
/// change the memory minimum when a rolled-back message grew memory.
struct WasmBinary {
    enum ValueType: UInt8, Equatable, Sendable {
        case i32 = 0x7F, i64 = 0x7E, f32 = 0x7D, f64 = 0x7C, v128 = 0x7B, funcref = 0x70, externref = 0x6F
    }

    struct FunctionType: Equatable, Sendable {
        var parameters: [ValueType]
        var results: [ValueType]
    }

    enum ImportKind: Equatable, Sendable {
        case function(typeIndex: UInt32)
        case table, memory, global, tag
    }

    struct Import: Equatable, Sendable {
        var module: String
        var name: String
        var kind: ImportKind
    }

    struct Export: Equatable, Sendable {
        var name: String
        var kind: UInt8
        var index: UInt32
    }

    struct Section {
        var id: UInt8
        /// Range of the whole section (id byte, size, payload) in `bytes`.
        var range: Range<Int>
        /// Range of the payload.
        var payload: Range<Int>
    }

    let bytes: [UInt8]
    private(set) var sections: [Section] = []
    private(set) var types: [FunctionType] = []
    private(set) var imports: [Import] = []
    /// Type index of each function defined by the module.
    private(set) var functionTypeIndices: [UInt32] = []
    /// Mutability of each global defined by the module (imported globals come first in the index space).
    private(set) var definedGlobalsMutable: [Bool] = []
    private(set) var exports: [Export] = []
    /// Memories defined by the module: (min pages, max pages).
    private(set) var memories: [(min: UInt64, max: UInt64?)] = []
    /// Custom sections in module order: name, and where their contents lie in `bytes`.
    private(set) var customSections: [(name: String, contents: Range<Int>)] = []
    private(set) var hasStart = false

    enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self {
            case .malformed(let why): return "malformed Wasm module: \(why)"
            }
        }
    }

    init(bytes: [UInt8]) throws(Error) {
        self.bytes = bytes
        guard bytes.count >= 8, bytes[0..<4].elementsEqual([0, 0x61, 0x73, 0x6D]) else {
            throw .malformed("no \\0asm magic")
        }
        guard bytes[4..<8].elementsEqual([1, 0, 0, 0]) else { throw .malformed("unsupported Wasm version") }
        var reader = Reader(bytes: bytes, offset: 8, end: bytes.count)
        while !reader.atEnd {
            let start = reader.offset
            let id = try reader.byte()
            let size = Int(try reader.u32())
            let payloadStart = reader.offset
            guard size <= reader.end - payloadStart else { throw .malformed("section \(id) overruns the module") }
            let section = Section(id: id, range: start..<(payloadStart + size), payload: payloadStart..<(payloadStart + size))
            sections.append(section)
            try parse(section)
            reader.offset = payloadStart + size
        }
    }

    private mutating func parse(_ section: Section) throws(Error) {
        var r = Reader(bytes: bytes, offset: section.payload.lowerBound, end: section.payload.upperBound)
        switch section.id {
        case 0:
            let name = try r.name()
            customSections.append((name, r.offset..<r.end))
        case 1:
            for _ in 0..<(try r.u32()) {
                guard try r.byte() == 0x60 else { throw .malformed("type entry is not a function type") }
                var parameters = [ValueType]()
                for _ in 0..<(try r.u32()) { parameters.append(try r.valueType()) }
                var results = [ValueType]()
                for _ in 0..<(try r.u32()) { results.append(try r.valueType()) }
                types.append(FunctionType(parameters: parameters, results: results))
            }
        case 2:
            for _ in 0..<(try r.u32()) {
                let module = try r.name()
                let name = try r.name()
                let kind: ImportKind
                switch try r.byte() {
                case 0: kind = .function(typeIndex: try r.u32())
                case 1: _ = try r.byte(); try r.limits(); kind = .table
                case 2: try r.limits(); kind = .memory
                case 3: _ = try r.byte(); _ = try r.byte(); kind = .global
                case 4: _ = try r.byte(); _ = try r.u32(); kind = .tag
                default: throw .malformed("unknown import kind")
                }
                imports.append(Import(module: module, name: name, kind: kind))
            }
        case 3:
            for _ in 0..<(try r.u32()) { functionTypeIndices.append(try r.u32()) }
        case 5:
            for _ in 0..<(try r.u32()) {
                let flags = try r.byte()
                let min = try r.u64()
                let max = flags & 1 != 0 ? try r.u64() : nil
                memories.append((min, max))
            }
        case 6:
            for _ in 0..<(try r.u32()) {
                _ = try r.byte()
                let mutability = try r.byte()
                definedGlobalsMutable.append(mutability == 1)
                try r.skipConstantExpression()
            }
        case 7:
            for _ in 0..<(try r.u32()) {
                let name = try r.name()
                let kind = try r.byte()
                exports.append(Export(name: name, kind: kind, index: try r.u32()))
            }
        case 8:
            hasStart = true
        default:
            break
        }
    }

    /// The signature of function `index` (imports first), if it exists.
    func functionType(ofFunction index: UInt32) -> FunctionType? {
        var importIndex: UInt32 = 0
        for entry in imports {
            guard case .function(let typeIndex) = entry.kind else { continue }
            if importIndex == index { return typeIndex < types.count ? types[Int(typeIndex)] : nil }
            importIndex += 1
        }
        let defined = Int(index) - Int(importIndex)
        guard defined >= 0, defined < functionTypeIndices.count else { return nil }
        let typeIndex = functionTypeIndices[defined]
        return typeIndex < types.count ? types[Int(typeIndex)] : nil
    }

    var importedGlobalCount: Int { imports.filter { $0.kind == .global }.count }

    /// Name under which the rewritten module exports its memory when it did not itself.
    static let memoryExportName = "__icreplica_memory"

    /// Name under which the rewritten module exports global `index`.
    static func globalExportName(_ index: Int) -> String { "__icreplica_global_\(index)" }

    /// The module with an export for every mutable defined global and, if given, the first
    /// memory's minimum set to `minimumPages`.
    func instrumented(minimumPages: UInt64? = nil) -> (bytes: [UInt8], globalIndices: [Int]) {
        let firstGlobal = importedGlobalCount
        let exported = Set(exports.filter { $0.kind == 3 }.map { Int($0.index) })
        var extra = [(name: String, index: Int, kind: UInt8)]()
        var globalIndices = [Int]()
        for (offset, mutable) in definedGlobalsMutable.enumerated() where mutable {
            let index = firstGlobal + offset
            globalIndices.append(index)
            if !exported.contains(index) { extra.append((Self.globalExportName(index), index, 3)) }
        }
        // The host reads and writes guest memory for the System API, so it must be reachable.
        if memories.count == 1, !exports.contains(where: { $0.kind == 2 }) {
            extra.append((Self.memoryExportName, 0, 2))
        }
        var out = Array(bytes[0..<8])
        var wroteExports = false
        func appendSection(_ id: UInt8, _ payload: [UInt8]) {
            out.append(id)
            out += Self.leb(UInt64(payload.count))
            out += payload
        }
        func exportPayload() -> [UInt8] {
            var payload = Self.leb(UInt64(exports.count + extra.count))
            for export in exports {
                payload += Self.leb(UInt64(export.name.utf8.count)) + Array(export.name.utf8)
                payload.append(export.kind)
                payload += Self.leb(UInt64(export.index))
            }
            for (name, index, kind) in extra {
                payload += Self.leb(UInt64(name.utf8.count)) + Array(name.utf8)
                payload.append(kind)
                payload += Self.leb(UInt64(index))
            }
            return payload
        }
        // Export section (7) comes after memory (5) and global (6) and before start (8).
        let order: [UInt8: Int] = [1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12, 13: 6]
        for section in sections {
            if !wroteExports, section.id != 0, section.id != 7, (order[section.id] ?? 0) > 7, !extra.isEmpty {
                appendSection(7, exportPayload())
                wroteExports = true
            }
            switch section.id {
            case 7:
                appendSection(7, exportPayload())
                wroteExports = true
            case 5 where minimumPages != nil && !memories.isEmpty:
                var payload = Self.leb(UInt64(memories.count))
                for (position, memory) in memories.enumerated() {
                    let min = position == 0 ? minimumPages! : memory.min
                    payload.append(memory.max == nil ? 0 : 1)
                    payload += Self.leb(min)
                    if let max = memory.max { payload += Self.leb(max) }
                }
                appendSection(5, payload)
            default:
                out += bytes[section.range]
            }
        }
        if !wroteExports, !extra.isEmpty { appendSection(7, exportPayload()) }
        return (out, globalIndices)
    }

    /// The module with every custom section called `name` removed and one with `contents`
    /// appended (custom sections may stand anywhere; the IC reads `icp:` ones by name).
    func replacingCustomSection(named name: String, with contents: [UInt8]) -> [UInt8] {
        var out = Array(bytes[0..<8])
        for section in sections {
            if section.id == 0 {
                var reader = Reader(bytes: bytes, offset: section.payload.lowerBound, end: section.payload.upperBound)
                if (try? reader.name()) == name { continue }
            }
            out += bytes[section.range]
        }
        let payload = Self.leb(UInt64(name.utf8.count)) + Array(name.utf8) + contents
        return out + [0] + Self.leb(UInt64(payload.count)) + payload
    }

    static func leb(_ value: UInt64) -> [UInt8] {
        var value = value
        var out = [UInt8]()
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        var atEnd: Bool { offset >= end }

        mutating func byte() throws(Error) -> UInt8 {
            guard offset < end else { throw .malformed("unexpected end at offset \(offset)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u64() throws(Error) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw .malformed("LEB128 too long at offset \(offset)") }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }

        mutating func u32() throws(Error) -> UInt32 {
            let value = try u64()
            guard value <= UInt32.max else { throw .malformed("u32 out of range at offset \(offset)") }
            return UInt32(value)
        }

        mutating func name() throws(Error) -> String {
            let count = Int(try u32())
            guard count <= end - offset else { throw .malformed("name overruns its section") }
            defer { offset += count }
            return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
        }

        mutating func valueType() throws(Error) -> ValueType {
            let b = try byte()
            guard let type = ValueType(rawValue: b) else { throw .malformed("unknown value type 0x\(String(b, radix: 16))") }
            return type
        }

        mutating func limits() throws(Error) {
            let flags = try byte()
            _ = try u64()
            if flags & 1 != 0 { _ = try u64() }
        }

        /// Skips a constant expression up to its `end` (0x0B), following immediates.
        mutating func skipConstantExpression() throws(Error) {
            while true {
                let op = try byte()
                switch op {
                case 0x0B: return
                case 0x41, 0x42, 0x23, 0xD2: _ = try u64()  // i32/i64.const (signed LEB; same length), global.get, ref.func
                case 0x43: offset += 4
                case 0x44: offset += 8
                case 0xD0: _ = try byte()
                case 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E: break  // extended-const arithmetic
                case 0xFD: _ = try u32(); offset += 16  // v128.const
                default: throw .malformed("unsupported opcode 0x\(String(op, radix: 16)) in a constant expression")
                }
            }
        }
    }
}
