/// Reads a binary Candid message at its wire types, value by value, without building
/// `CandidValue`s or an expected type table: the base of direct decoders for a few fixed types
/// (the WebSocket protocol's service messages). The caller names the type it expects at each
/// step (`nat64(_:)`, `record(_:_:)`, …) and gets a `typeMismatch` when the wire type is not
/// that one; what it does not ask for (extra record fields, extra arguments) is skipped and
/// validated exactly as ``CandidDecoder`` skips it, under the same ``CandidDecoder/Limits``.
///
/// It reads what a subtype of the expected type may send for records, variants and the
/// primitives it offers (no numeric coercions exist in Candid for those); a direct decoder of a
/// type with `opt` values reads them with ``optional(_:accepts:)``, which applies Candid's `opt`
/// rule. ``CandidWireWriter`` is its counterpart for direct encoders.
public struct CandidWireReader: Sendable {
    var reader: CandidByteReader
    public let table: CandidTypeTable
    public let argumentTypes: [Int]
    let limits: CandidDecoder.Limits
    var depth = 0
    var zeroSized = 0
    var argumentsRead = 0

    /// Parses `DIDL`, the type table and the argument types; values are read next.
    public init(_ bytes: [UInt8], limits: CandidDecoder.Limits = .default) throws(CandidError) {
        let header = try CandidMessageHeader(parsing: bytes, limits: limits)
        reader = CandidByteReader(bytes, offset: header.valuesOffset)
        table = header.table
        argumentTypes = header.argumentTypes
        self.limits = limits
    }

    init(reader: CandidByteReader, table: CandidTypeTable, limits: CandidDecoder.Limits, depth: Int, zeroSized: Int) {
        self.reader = reader
        self.table = table
        argumentTypes = []
        self.limits = limits
        self.depth = depth
        self.zeroSized = zeroSized
    }

    /// Byte offset of the next value.
    public var offset: Int { reader.offset }

    /// The wire type of the next argument; `missingArgument` when the message has no more.
    public mutating func nextArgument() throws(CandidError) -> Int {
        guard argumentsRead < argumentTypes.count else {
            throw CandidError(.missingArgument(index: argumentsRead), offset: reader.offset)
        }
        argumentsRead += 1
        return argumentTypes[argumentsRead - 1]
    }

    /// Skips (and validates) the arguments not read, then requires the end of the message.
    public mutating func finish() throws(CandidError) {
        while argumentsRead < argumentTypes.count { try skip(try nextArgument()) }
        guard reader.isAtEnd else { throw CandidError(.trailingBytes(count: reader.remaining), offset: reader.offset) }
    }

    // MARK: Primitives

    public mutating func nat64(_ type: Int) throws(CandidError) -> UInt64 {
        try expect(type, CandidOpcode.nat64, .nat64)
        return try reader.fixed(UInt64.self)
    }

    public mutating func bool(_ type: Int) throws(CandidError) -> Bool {
        try expect(type, CandidOpcode.bool, .bool)
        let at = reader.offset
        let byte = try reader.byte()
        guard byte <= 1 else { throw CandidError(.invalidBool(byte), offset: at) }
        return byte == 1
    }

    public mutating func null(_ type: Int) throws(CandidError) {
        try expect(type, CandidOpcode.null, .null)
        try chargeZeroSized()
    }

    public mutating func principal(_ type: Int) throws(CandidError) -> Principal {
        try expect(type, CandidOpcode.principal, .principal)
        return try reader.principal()
    }

    /// `text`, validated UTF-8.
    public mutating func text(_ type: Int) throws(CandidError) -> String {
        try expect(type, CandidOpcode.text, .text)
        return try reader.text()
    }

    /// `text` as its validated UTF-8 bytes (no `String`: what canisters that avoid linking it
    /// read).
    public mutating func textUTF8(_ type: Int) throws(CandidError) -> [UInt8] {
        try expect(type, CandidOpcode.text, .text)
        return try reader.textUTF8()
    }

    /// Starts reading a value at an expected type `opt T`, by Candid's `opt` rule: returns the
    /// wire type of the value to read next, or `nil` when there is none. `accepts` says whether
    /// a wire type is a subtype of `T` (the caller reads values of those types). An `opt` of an
    /// accepted type gives its value when present; a bare value of an accepted type gives that
    /// value; anything else (`null`, `reserved`, an `opt` or value of another type) is skipped,
    /// validated, and gives `nil`.
    public mutating func optional(_ type: Int, accepts: (Int) -> Bool) throws(CandidError) -> Int? {
        if type >= 0, case .opt(let inner) = table.nodes[type] {
            let at = reader.offset
            switch try reader.byte() {
            case 0: return nil
            case 1:
                if accepts(inner) { return inner }
                try skip(inner)
                return nil
            case let tag: throw CandidError(.invalidOptionTag(tag), offset: at)
            }
        }
        if accepts(type) { return type }
        try skip(type)
        return nil
    }

    /// A value read at the expected type `opt bool` (``optional(_:accepts:)``'s rule).
    public mutating func optionalBool(_ type: Int) throws(CandidError) -> Bool? {
        guard let value = try optional(type, accepts: { $0 == CandidOpcode.bool }) else { return nil }
        return try bool(value)
    }

    /// `vec nat8` (a blob).
    public mutating func blob(_ type: Int) throws(CandidError) -> [UInt8] {
        guard type >= 0, case .vec(let element) = table.nodes[type], element == CandidOpcode.nat8 else {
            throw mismatch(type, .vec)
        }
        let length = try reader.count()
        let start = reader.offset
        reader.offset += length
        return Array(reader.bytes[start..<reader.offset])
    }

    /// Starts reading a `vec`: its length and element wire type; the caller reads that many
    /// elements next. A length beyond the bytes left is refused (`truncated`) unless the
    /// elements are `null` or `reserved` (those take no bytes; their number is bounded by
    /// ``CandidDecoder/Limits/maxZeroSizedValues``), so a caller may reserve `count` elements.
    public mutating func vector(_ type: Int) throws(CandidError) -> (count: Int, element: Int) {
        guard type >= 0, case .vec(let element) = table.nodes[type] else { throw mismatch(type, .vec) }
        if element == CandidOpcode.null || element == CandidOpcode.reserved {
            let at = reader.offset
            let count = try reader.leb()
            guard count <= UInt64(limits.maxZeroSizedValues) else {
                throw CandidError(.zeroSizedValueLimitExceeded(limit: limits.maxZeroSizedValues), offset: at)
            }
            return (Int(count), element)
        }
        return (try reader.count(), element)
    }

    // MARK: Records and variants

    /// Starts reading a record: its wire fields, in the order their values follow. The caller
    /// reads the fields it knows, ``skip(_:)``s the others, and then calls ``endRecord()``; it
    /// checks that the fields it needs were there (``CandidError/Kind/missingField(id:)``).
    public mutating func beginRecord(_ type: Int) throws(CandidError) -> [CandidTypeTable.Field] {
        guard type >= 0, case .record(let fields) = table.nodes[type] else { throw mismatch(type, .record) }
        try enter()
        try chargeZeroSized()
        return fields
    }

    /// The wire type of field `id` when `type` is a record that has it (to decide what an
    /// ``optional(_:accepts:)`` accepts).
    public static func recordField(_ type: Int, id: UInt32, in table: CandidTypeTable) -> Int? {
        guard type >= 0, case .record(let fields) = table.nodes[type] else { return nil }
        for field in fields where field.id == id { return field.type }
        return nil
    }

    /// A record field the caller needs: its value, or ``CandidError/Kind/missingField(id:)``
    /// when the record did not have it.
    public func required<T>(_ value: T?, field id: UInt32) throws(CandidError) -> T {
        guard let value else { throw CandidError(.missingField(id: id), offset: reader.offset) }
        return value
    }

    /// Ends the record ``beginRecord(_:)`` started.
    public mutating func endRecord() { depth -= 1 }

    /// Reads a variant's tag: the case's id and wire type (its payload is read next). The case
    /// sent must be one of `known`, else `unknownVariantTag` (as the generic decoder, other tags
    /// of the wire type do not matter).
    public mutating func variant(_ type: Int, known: [UInt32]) throws(CandidError) -> (id: UInt32, type: Int) {
        guard type >= 0, case .variant(let fields) = table.nodes[type] else { throw mismatch(type, .variant) }
        let at = reader.offset
        let index = try reader.leb()
        guard index < UInt64(fields.count) else {
            throw CandidError(.variantIndexOutOfRange(index: index, count: fields.count), offset: at)
        }
        let field = fields[Int(index)]
        guard known.contains(field.id) else { throw CandidError(.unknownVariantTag(id: field.id), offset: at) }
        return (field.id, field.type)
    }

    // MARK: Skipping

    /// Skips a value of wire type `w`, validating it.
    public mutating func skip(_ w: Int) throws(CandidError) {
        try enter()
        defer { depth -= 1 }
        if w < 0 {
            switch w {
            case CandidOpcode.null, CandidOpcode.reserved: try chargeZeroSized()
            case CandidOpcode.empty: throw CandidError(.emptyValue, offset: reader.offset)
            case CandidOpcode.bool:
                let at = reader.offset
                let b = try reader.byte()
                guard b <= 1 else { throw CandidError(.invalidBool(b), offset: at) }
            case CandidOpcode.nat, CandidOpcode.int: try reader.skipLEB()
            case CandidOpcode.nat8, CandidOpcode.int8: try reader.skip(1)
            case CandidOpcode.nat16, CandidOpcode.int16: try reader.skip(2)
            case CandidOpcode.nat32, CandidOpcode.int32, CandidOpcode.float32: try reader.skip(4)
            case CandidOpcode.nat64, CandidOpcode.int64, CandidOpcode.float64: try reader.skip(8)
            case CandidOpcode.text: try reader.skipText()
            default: try reader.skipPrincipal()  // principal
            }
            return
        }
        switch table.nodes[w] {
        case .opt(let inner):
            let at = reader.offset
            let tag = try reader.byte()
            switch tag {
            case 0: break
            case 1: try skip(inner)
            default: throw CandidError(.invalidOptionTag(tag), offset: at)
            }
        case .vec(let element):
            let countOffset = reader.offset
            let count = try reader.leb()
            if element == CandidOpcode.nat8 || element == CandidOpcode.int8 {
                guard count <= UInt64(reader.remaining) else { throw CandidError(.truncated, offset: countOffset) }
                reader.offset += Int(count)
                return
            }
            var i: UInt64 = 0
            while i < count {
                try skip(element)
                i += 1
            }
        case .record(let fields):
            try chargeZeroSized()
            for field in fields { try skip(field.type) }
        case .variant(let fields):
            let at = reader.offset
            let index = try reader.leb()
            guard index < UInt64(fields.count) else {
                throw CandidError(.variantIndexOutOfRange(index: index, count: fields.count), offset: at)
            }
            try skip(fields[Int(index)].type)
        case .function:
            let at = reader.offset
            let tag = try reader.byte()
            guard tag == 1 else { throw CandidError(.invalidReferenceTag(tag), offset: at) }
            try reader.skipPrincipal()
            try reader.skipText()
        case .service:
            try reader.skipPrincipal()
        case .future:
            // leb128(m) · leb128(n) · m bytes (n references travel outside the byte stream).
            let length = try reader.count()
            try reader.skipLEB()
            try reader.skip(length)
        }
    }

    // MARK: Limits and errors

    @inline(__always)
    mutating func chargeZeroSized() throws(CandidError) {
        try Self.chargeZeroSized(&zeroSized, limits, at: reader.offset)
    }

    @inline(__always)
    mutating func enter() throws(CandidError) {
        try Self.enter(&depth, limits, at: reader.offset)
    }

    /// One more value that takes no input bytes (both decoders count them the same way).
    @inline(__always)
    static func chargeZeroSized(_ zeroSized: inout Int, _ limits: CandidDecoder.Limits, at offset: Int) throws(CandidError) {
        zeroSized += 1
        guard zeroSized <= limits.maxZeroSizedValues else {
            throw CandidError(.zeroSizedValueLimitExceeded(limit: limits.maxZeroSizedValues), offset: offset)
        }
    }

    /// One level deeper (both decoders count nesting the same way).
    @inline(__always)
    static func enter(_ depth: inout Int, _ limits: CandidDecoder.Limits, at offset: Int) throws(CandidError) {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw CandidError(.depthLimitExceeded(limit: limits.maxDepth), offset: offset)
        }
    }

    private func expect(_ type: Int, _ opcode: Int, _ kind: CandidTypeKind) throws(CandidError) {
        guard type == opcode else { throw mismatch(type, kind) }
    }

    private func mismatch(_ type: Int, _ expected: CandidTypeKind) -> CandidError {
        CandidError(.typeMismatch(expected: expected, found: table.kind(type)), offset: reader.offset)
    }
}
