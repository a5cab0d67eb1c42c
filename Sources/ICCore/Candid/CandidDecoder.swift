/// Decodes binary Candid messages (Candid spec, "Binary Format" and "Deserialisation").
///
/// A message is decoded in one pass at the expected types: each value is read at its wire
/// type and coerced to the expected type as it is read ("Coercion"). Where the spec turns a
/// failed coercion into `null` (an expected `opt`), the reader rewinds to the start of the
/// value and skips it at its wire type — so invalid bytes are still rejected, and the
/// result is the same as decoding the whole value first and coercing it afterwards.
///
/// Resource bombs are bounded by `Limits`: counts are checked against the bytes left, every
/// value that occupies no input bytes (`null`, `reserved`, records, defaulted fields) is
/// charged against `maxZeroSizedValues`, so total work is at most proportional to the input
/// length plus that budget, and nesting (of values, and of the subtype check on reference
/// types) is limited by `maxDepth`.
public struct CandidDecoder: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Maximum nesting of values (and of types, in the subtype check). Each level costs
        /// stack: keep it modest on small stacks.
        public var maxDepth: Int
        /// Maximum number of values that occupy no input bytes (`null`, `reserved`, records,
        /// absent optional fields filled with null), skipped values included. This bounds
        /// the work for inputs like `vec null` with a count of 10⁹.
        public var maxZeroSizedValues: Int
        /// Maximum number of entries in the wire type table.
        public var maxTypeTableEntries: Int

        public init(maxDepth: Int = 256, maxZeroSizedValues: Int = 1_000_000, maxTypeTableEntries: Int = 10_000) {
            self.maxDepth = maxDepth
            self.maxZeroSizedValues = maxZeroSizedValues
            self.maxTypeTableEntries = maxTypeTableEntries
        }

        public static let `default` = Limits()
    }

    public var limits: Limits

    public init(limits: Limits = .default) {
        self.limits = limits
    }

    /// Decodes `bytes` at the expected argument types.
    public func decode(_ bytes: [UInt8], as types: [CandidType]) throws(CandidError) -> [CandidValue] {
        let schema = try CandidArgumentTypes(types)
        return try decode(bytes, as: schema)
    }

    /// Decodes `bytes` at precompiled argument types (compile once, decode many messages).
    public func decode(_ bytes: [UInt8], as types: CandidArgumentTypes) throws(CandidError) -> [CandidValue] {
        let header = try CandidMessageHeader(parsing: bytes, limits: limits)
        var reader = CandidValueReader(
            bytes: bytes, offset: header.valuesOffset, wire: header.table, expected: types.table,
            expectedIsWire: false, limits: limits)
        return try reader.arguments(wire: header.argumentTypes, expected: types.refs)
    }

    /// Decodes `bytes` at their own wire types (no coercion): e.g. to inspect a message.
    /// Values of future types decode as `.reserved`.
    public func decode(_ bytes: [UInt8]) throws(CandidError) -> [CandidValue] {
        let header = try CandidMessageHeader(parsing: bytes, limits: limits)
        var reader = CandidValueReader(
            bytes: bytes, offset: header.valuesOffset, wire: header.table, expected: header.table,
            expectedIsWire: true, limits: limits)
        return try reader.arguments(wire: header.argumentTypes, expected: header.argumentTypes)
    }

    /// Parses only the header: the wire type table and the argument types.
    public func header(of bytes: [UInt8]) throws(CandidError) -> CandidMessageHeader {
        try CandidMessageHeader(parsing: bytes, limits: limits)
    }
}

/// Argument types compiled once into a type table, for repeated decoding.
public struct CandidArgumentTypes: Sendable {
    public let table: CandidTypeTable
    public let refs: [Int]

    public init(_ types: [CandidType]) throws(CandidError) {
        (table, refs) = try CandidTypeTable.compile(types)
    }
}

/// `DIDL · type table · argument types` of a binary message.
public struct CandidMessageHeader: Sendable {
    public var table: CandidTypeTable
    public var argumentTypes: [Int]
    /// Where the argument values start.
    public var valuesOffset: Int

    init(parsing bytes: [UInt8], limits: CandidDecoder.Limits) throws(CandidError) {
        guard bytes.count >= 4, bytes[0] == 0x44, bytes[1] == 0x49, bytes[2] == 0x44, bytes[3] == 0x4c else {
            throw CandidError(.badMagic, offset: 0)
        }
        var reader = CandidByteReader(bytes, offset: 4)
        let countOffset = reader.offset
        let count = try reader.count()
        guard count <= limits.maxTypeTableEntries else {
            throw CandidError(.typeTableLimitExceeded(limit: limits.maxTypeTableEntries), offset: countOffset)
        }
        var nodes = [CandidTypeTable.Node]()
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            nodes.append(try CandidMessageHeader.entry(&reader, tableSize: count))
        }
        // Method types must be function types; checked once all entries are known.
        for node in nodes {
            guard case .service(let methods) = node else { continue }
            for method in methods {
                guard method.type >= 0, case .function = nodes[method.type] else {
                    throw CandidError(.methodNotFunction)
                }
            }
        }
        let argumentCount = try reader.count()
        var arguments = [Int]()
        arguments.reserveCapacity(argumentCount)
        for _ in 0..<argumentCount { arguments.append(try CandidMessageHeader.reference(&reader, tableSize: count)) }
        table = CandidTypeTable(nodes: nodes)
        argumentTypes = arguments
        valuesOffset = reader.offset
    }

    private static func reference(_ reader: inout CandidByteReader, tableSize: Int) throws(CandidError) -> Int {
        let start = reader.offset
        let ref = try reader.sleb()
        if ref >= 0 {
            guard ref < Int64(tableSize) else { throw CandidError(.invalidTypeReference(ref), offset: start) }
        } else {
            guard ref >= -24, CandidOpcode.isPrimitive(Int(ref)) else {
                throw CandidError(.invalidTypeReference(ref), offset: start)
            }
        }
        return Int(ref)
    }

    private static func fields(_ reader: inout CandidByteReader, tableSize: Int) throws(CandidError) -> [CandidTypeTable.Field] {
        let n = try reader.count()
        var list = [CandidTypeTable.Field]()
        list.reserveCapacity(n)
        var previous: UInt64? = nil
        for _ in 0..<n {
            let start = reader.offset
            let id = try reader.leb()
            guard id <= UInt64(UInt32.max) else { throw CandidError(.fieldIDTooLarge, offset: start) }
            if let previous, id <= previous {
                throw CandidError(.unsortedFields(id: UInt32(id)), offset: start)
            }
            previous = id
            list.append(CandidTypeTable.Field(id: UInt32(id), type: try reference(&reader, tableSize: tableSize)))
        }
        return list
    }

    private static func entry(_ reader: inout CandidByteReader, tableSize: Int) throws(CandidError) -> CandidTypeTable.Node {
        let start = reader.offset
        let opcode = try reader.sleb()
        switch opcode {
        case Int64(CandidOpcode.opt):
            return .opt(try reference(&reader, tableSize: tableSize))
        case Int64(CandidOpcode.vec):
            return .vec(try reference(&reader, tableSize: tableSize))
        case Int64(CandidOpcode.record):
            return .record(try fields(&reader, tableSize: tableSize))
        case Int64(CandidOpcode.variant):
            return .variant(try fields(&reader, tableSize: tableSize))
        case Int64(CandidOpcode.function):
            var arguments = [Int]()
            let argumentCount = try reader.count()
            arguments.reserveCapacity(argumentCount)
            for _ in 0..<argumentCount { arguments.append(try reference(&reader, tableSize: tableSize)) }
            var results = [Int]()
            let resultCount = try reader.count()
            results.reserveCapacity(resultCount)
            for _ in 0..<resultCount { results.append(try reference(&reader, tableSize: tableSize)) }
            var annotations = CandidFunctionAnnotations()
            let annotationCount = try reader.count()
            for _ in 0..<annotationCount {
                let at = reader.offset
                let byte = try reader.byte()
                guard let annotation = CandidFunctionAnnotations.fromWire(byte) else {
                    throw CandidError(.invalidAnnotation(byte), offset: at)
                }
                annotations.insert(annotation)
            }
            return .function(CandidTypeTable.Function(arguments: arguments, results: results, annotations: annotations))
        case Int64(CandidOpcode.service):
            let n = try reader.count()
            var methods = [CandidTypeTable.Method]()
            methods.reserveCapacity(n)
            for _ in 0..<n {
                let nameOffset = reader.offset
                let length = try reader.count()
                guard CandidUTF8.isValid(reader.bytes, reader.offset..<reader.offset + length) else {
                    throw CandidError(.invalidUTF8, offset: nameOffset)
                }
                let name = Array(reader.bytes[reader.offset..<reader.offset + length])
                reader.offset += length
                if let last = methods.last, !last.name.lexicographicallyPrecedes(name) {
                    throw CandidError(last.name == name ? .duplicateMethod : .unsortedMethods, offset: nameOffset)
                }
                methods.append(CandidTypeTable.Method(name: name, type: try reference(&reader, tableSize: tableSize)))
            }
            return .service(methods)
        default:
            guard opcode < Int64(CandidOpcode.principal) else {
                throw CandidError(.invalidTypeOpcode(opcode), offset: start)
            }
            // A future type: leb128(length) · length bytes we cannot interpret.
            let length = try reader.count()
            try reader.skip(length)
            return .future(opcode: opcode < Int64(Int32.min) ? Int(Int32.min) : Int(opcode))
        }
    }
}

// MARK: - Values

/// Reads values at (wire type, expected type) pairs, coercing as it goes.
struct CandidValueReader {
    var reader: CandidByteReader
    let wire: CandidTypeTable
    let expected: CandidTypeTable
    /// Decoding at the wire types themselves: every pair is (t, t).
    let expectedIsWire: Bool
    let limits: CandidDecoder.Limits
    var depth = 0
    var zeroSized = 0
    var subtyping: CandidSubtypeChecker?

    init(
        bytes: [UInt8], offset: Int, wire: CandidTypeTable, expected: CandidTypeTable,
        expectedIsWire: Bool, limits: CandidDecoder.Limits
    ) {
        self.reader = CandidByteReader(bytes, offset: offset)
        self.wire = wire
        self.expected = expected
        self.expectedIsWire = expectedIsWire
        self.limits = limits
    }

    /// Argument sequences coerce like tuple records (spec, "Tuple types"): extra wire
    /// arguments are skipped (but still validated), missing ones must accept null.
    mutating func arguments(wire wireArgs: [Int], expected expectedArgs: [Int]) throws(CandidError) -> [CandidValue] {
        var values = [CandidValue]()
        values.reserveCapacity(expectedArgs.count)
        for (index, e) in expectedArgs.enumerated() {
            if index < wireArgs.count {
                values.append(try value(wireArgs[index], e))
            } else {
                guard let missing = try absentValue(e) else {
                    throw CandidError(.missingArgument(index: index), offset: reader.offset)
                }
                values.append(missing)
            }
        }
        if wireArgs.count > expectedArgs.count {
            for w in wireArgs[expectedArgs.count...] { try skip(w) }
        }
        guard reader.isAtEnd else { throw CandidError(.trailingBytes(count: reader.remaining), offset: reader.offset) }
        return values
    }

    @inline(__always)
    mutating func chargeZeroSized() throws(CandidError) {
        try CandidWireReader.chargeZeroSized(&zeroSized, limits, at: reader.offset)
    }

    @inline(__always)
    mutating func enter() throws(CandidError) {
        try CandidWireReader.enter(&depth, limits, at: reader.offset)
    }

    /// The value an absent record field or argument of expected type `e` takes, or `nil`
    /// if the type does not accept null.
    mutating func absentValue(_ e: Int) throws(CandidError) -> CandidValue? {
        if e == CandidOpcode.null { try chargeZeroSized(); return .null }
        if e == CandidOpcode.reserved { try chargeZeroSized(); return .reserved }
        if e >= 0, case .opt = expected.nodes[e] { try chargeZeroSized(); return .opt(nil) }
        return nil
    }

    func mismatch(_ w: Int, _ e: Int) -> CandidError {
        CandidError(.typeMismatch(expected: expected.kind(e), found: wire.kind(w)), offset: reader.offset)
    }

    /// Reads a value of wire type `w` and coerces it to expected type `e`.
    mutating func value(_ w: Int, _ e: Int) throws(CandidError) -> CandidValue {
        try enter()
        defer { depth -= 1 }
        if e == CandidOpcode.reserved {
            try skip(w)
            return .reserved
        }
        if w == CandidOpcode.empty { throw CandidError(.emptyValue, offset: reader.offset) }
        if e < 0 {
            return try primitive(w, e)
        }
        switch expected.nodes[e] {
        case .opt(let inner):
            return try option(w, inner)
        case .vec(let elementType):
            guard w >= 0, case .vec(let wireElement) = wire.nodes[w] else { throw mismatch(w, e) }
            let countOffset = reader.offset
            let count64 = try reader.leb()
            if wireElement == CandidOpcode.nat8 && elementType == CandidOpcode.nat8 {
                guard count64 <= UInt64(reader.remaining) else { throw CandidError(.truncated, offset: countOffset) }
                let count = Int(count64)
                let start = reader.offset
                reader.offset += count
                return .blob(Array(reader.bytes[start..<start + count]))
            }
            // Each element takes a byte or a unit of the zero-sized budget, so the loop
            // ends early on a bogus count; only reserve what the input could hold.
            var elements = [CandidValue]()
            elements.reserveCapacity(Int(min(count64, UInt64(reader.remaining))))
            var i: UInt64 = 0
            while i < count64 {
                elements.append(try value(wireElement, elementType))
                i += 1
            }
            // Only nat8 reads as nat8, so this is an empty vector of another element type.
            if elementType == CandidOpcode.nat8 { return .blob([]) }
            return .vec(elements)
        case .record(let expectedFields):
            guard w >= 0, case .record(let wireFields) = wire.nodes[w] else { throw mismatch(w, e) }
            try chargeZeroSized()
            var fields = [CandidFieldValue]()
            fields.reserveCapacity(expectedFields.count)
            var j = 0
            for wireField in wireFields {
                while j < expectedFields.count && expectedFields[j].id < wireField.id {
                    try appendAbsent(expectedFields[j], to: &fields)
                    j += 1
                }
                if j < expectedFields.count && expectedFields[j].id == wireField.id {
                    fields.append(CandidFieldValue(id: wireField.id, value: try value(wireField.type, expectedFields[j].type)))
                    j += 1
                } else {
                    try skip(wireField.type)
                }
            }
            while j < expectedFields.count {
                try appendAbsent(expectedFields[j], to: &fields)
                j += 1
            }
            return .record(fields)
        case .variant(let expectedFields):
            guard w >= 0, case .variant(let wireFields) = wire.nodes[w] else { throw mismatch(w, e) }
            let indexOffset = reader.offset
            let index = try reader.leb()
            guard index < UInt64(wireFields.count) else {
                throw CandidError(.variantIndexOutOfRange(index: index, count: wireFields.count), offset: indexOffset)
            }
            let wireField = wireFields[Int(index)]
            guard let j = CandidValueReader.find(wireField.id, in: expectedFields) else {
                throw CandidError(.unknownVariantTag(id: wireField.id), offset: indexOffset)
            }
            return .variant(CandidFieldValue(id: wireField.id, value: try value(wireField.type, expectedFields[j].type)))
        case .function:
            guard w >= 0, case .function = wire.nodes[w] else { throw mismatch(w, e) }
            try requireSubtype(w, e)
            return try functionReference()
        case .service:
            guard w >= 0, case .service = wire.nodes[w] else { throw mismatch(w, e) }
            try requireSubtype(w, e)
            return .service(try reader.principal())
        case .future:
            // Only when decoding at wire types: we cannot interpret it, so keep nothing.
            try skip(w)
            return .reserved
        }
    }

    private mutating func appendAbsent(_ field: CandidTypeTable.Field, to fields: inout [CandidFieldValue]) throws(CandidError) {
        guard let absent = try absentValue(field.type) else {
            throw CandidError(.missingField(id: field.id), offset: reader.offset)
        }
        fields.append(CandidFieldValue(id: field.id, value: absent))
    }

    static func find(_ id: UInt32, in fields: [CandidTypeTable.Field]) -> Int? {
        var low = 0, high = fields.count
        while low < high {
            let mid = (low + high) / 2
            let candidate = fields[mid].id
            if candidate == id { return mid }
            if candidate < id { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// The opt rules (spec, "Coercion" / "Options"): null and reserved give null; `opt v`
    /// and plain values give `opt v'` if `v` coerces, else null.
    private mutating func option(_ w: Int, _ inner: Int) throws(CandidError) -> CandidValue {
        if w == CandidOpcode.null || w == CandidOpcode.reserved {
            try chargeZeroSized()
            return .opt(nil)
        }
        if w >= 0, case .opt(let wireInner) = wire.nodes[w] {
            let tagOffset = reader.offset
            let tag = try reader.byte()
            switch tag {
            case 0: return .opt(nil)
            case 1: return try optionalPayload(wireInner, inner)
            default: throw CandidError(.invalidOptionTag(tag), offset: tagOffset)
            }
        }
        return try optionalPayload(w, inner)
    }

    private mutating func optionalPayload(_ w: Int, _ e: Int) throws(CandidError) -> CandidValue {
        let start = reader.offset
        do throws(CandidError) {
            return .opt(try value(w, e))
        } catch  where error.isCoercionFailure {
            reader.offset = start
            try skip(w)
            return .opt(nil)
        }
    }

    private mutating func requireSubtype(_ w: Int, _ e: Int) throws(CandidError) {
        if expectedIsWire && w == e { return }
        if subtyping == nil {
            subtyping = CandidSubtypeChecker(sub: wire, sup: expected, maxDepth: limits.maxDepth)
        }
        guard try subtyping!.isSubtype(w, e) else {
            throw CandidError(.notASubtype(expected: expected.kind(e)), offset: reader.offset)
        }
    }

    private mutating func functionReference() throws(CandidError) -> CandidValue {
        let start = reader.offset
        let tag = try reader.byte()
        guard tag == 1 else { throw CandidError(.invalidReferenceTag(tag), offset: start) }
        let service = try reader.principal()
        let method = try reader.text()
        return .function(service: service, method: method)
    }

    private mutating func primitive(_ w: Int, _ e: Int) throws(CandidError) -> CandidValue {
        switch e {
        case CandidOpcode.principal:
            if w == CandidOpcode.principal { return .principal(try reader.principal()) }
            // A service reference reads as a principal (spec, "Coercion" / "Primitive Types").
            if w >= 0, case .service = wire.nodes[w] { return .principal(try reader.principal()) }
            throw mismatch(w, e)
        case CandidOpcode.int:
            if w == CandidOpcode.int { return .int(try reader.int()) }
            if w == CandidOpcode.nat { return .int(BigInt(try reader.nat())) }
            throw mismatch(w, e)
        case CandidOpcode.empty:
            throw mismatch(w, e)
        default:
            break
        }
        guard w == e else { throw mismatch(w, e) }
        switch e {
        case CandidOpcode.null:
            try chargeZeroSized()
            return .null
        case CandidOpcode.bool:
            let at = reader.offset
            let b = try reader.byte()
            guard b <= 1 else { throw CandidError(.invalidBool(b), offset: at) }
            return .bool(b == 1)
        case CandidOpcode.nat: return .nat(try reader.nat())
        case CandidOpcode.nat8: return .nat8(try reader.byte())
        case CandidOpcode.nat16: return .nat16(try reader.fixed(UInt16.self))
        case CandidOpcode.nat32: return .nat32(try reader.fixed(UInt32.self))
        case CandidOpcode.nat64: return .nat64(try reader.fixed(UInt64.self))
        case CandidOpcode.int8: return .int8(Int8(bitPattern: try reader.byte()))
        case CandidOpcode.int16: return .int16(try reader.fixed(Int16.self))
        case CandidOpcode.int32: return .int32(try reader.fixed(Int32.self))
        case CandidOpcode.int64: return .int64(try reader.fixed(Int64.self))
        case CandidOpcode.float32: return .float32(Float(bitPattern: try reader.fixed(UInt32.self)))
        case CandidOpcode.float64: return .float64(Double(bitPattern: try reader.fixed(UInt64.self)))
        case CandidOpcode.text: return .text(try reader.text())
        default:
            throw mismatch(w, e)
        }
    }

    /// Validates and skips a value of wire type `w`.
    mutating func skip(_ w: Int) throws(CandidError) {
        // One skipping rule for both decoders: the direct reader's, with this reader's state.
        var wireReader = CandidWireReader(reader: reader, table: wire, limits: limits, depth: depth, zeroSized: zeroSized)
        defer {
            reader.offset = wireReader.reader.offset
            zeroSized = wireReader.zeroSized
        }
        try wireReader.skip(w)
    }
}
