/// Encodes argument values at argument types into a binary Candid message
/// (`DIDL · type table · argument types · values`; Candid spec, "Parameters and Results").
///
/// Values in canonical form (what the decoder and the typed layer produce) are written
/// directly. Any other value (a number literal, `null` for an absent option, unsorted record
/// fields, a `vec` of `nat8`) is first coerced to the type, as `CandidValue.coerced(to:)`
/// does; a value that does not fit its type is an error.
public enum CandidEncoder {
    /// Encodes `values` at `types` (as many values as types; trailing null-like types may be
    /// left out).
    public static func encode(_ values: [CandidValue], types: [CandidType]) throws(CandidError) -> [UInt8] {
        try encode(values, as: CandidArgumentTypes(types))
    }

    /// Encodes `values` at precompiled argument types.
    public static func encode(_ values: [CandidValue], as types: CandidArgumentTypes) throws(CandidError) -> [UInt8] {
        guard values.count <= types.refs.count else {
            throw CandidError(.argumentCountMismatch(values: values.count, types: types.refs.count))
        }
        var writer = CandidValueWriter(table: types.table)
        writer.out.append(contentsOf: [0x44, 0x49, 0x44, 0x4c])
        types.table.encode(into: &writer.out)
        LEB128.encode(UInt64(types.refs.count), into: &writer.out)
        for ref in types.refs { LEB128.encodeSigned(Int64(ref), into: &writer.out) }
        for (index, ref) in types.refs.enumerated() {
            if index < values.count {
                try writer.write(values[index], ref)
            } else {
                let coercer = CandidValueCoercer(table: types.table)
                guard let absent = coercer.absentValue(ref) else { throw CandidError(.missingArgument(index: index)) }
                try writer.write(absent, ref)
            }
        }
        return writer.out
    }
}

struct CandidValueWriter {
    let table: CandidTypeTable
    var out: [UInt8] = []

    init(table: CandidTypeTable) {
        self.table = table
        out.reserveCapacity(64)
    }

    /// Writes a canonical value; anything else is coerced first, then written.
    mutating func write(_ value: CandidValue, _ t: Int) throws(CandidError) {
        if try writeCanonical(value, t) { return }
        var coercer = CandidValueCoercer(table: table)
        let canonical = try coercer.coerce(value, to: t)
        guard try writeCanonical(canonical, t) else {
            throw CandidError(.valueDoesNotFitType(expected: table.kind(t)))
        }
    }

    private mutating func principal(_ p: Principal) {
        out.append(1)
        LEB128.encode(UInt64(p.bytes.count), into: &out)
        out.append(contentsOf: p.bytes)
    }

    private mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            LEB128.encode(UInt64(utf8.count), into: &out)
            out.append(contentsOf: utf8)
        }
    }

    @inline(__always)
    private mutating func fixed<T: FixedWidthInteger>(_ value: T) {
        var v = value
        for _ in 0..<(T.bitWidth / 8) {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// Writes `value` if it is already in canonical form for `t`; returns false if not (so
    /// nothing was written for it; partial output of children is never left behind because
    /// children are only visited once the parent's shape matched).
    private mutating func writeCanonical(_ value: CandidValue, _ t: Int) throws(CandidError) -> Bool {
        if t < 0 {
            switch (t, value) {
            case (CandidOpcode.reserved, _): return true
            case (CandidOpcode.null, .null): return true
            case (CandidOpcode.bool, .bool(let b)): out.append(b ? 1 : 0)
            case (CandidOpcode.nat, .nat(let n)): LEB128.encode(n, into: &out)
            case (CandidOpcode.int, .int(let i)): LEB128.encodeSigned(i, into: &out)
            case (CandidOpcode.nat8, .nat8(let n)): out.append(n)
            case (CandidOpcode.nat16, .nat16(let n)): fixed(n)
            case (CandidOpcode.nat32, .nat32(let n)): fixed(n)
            case (CandidOpcode.nat64, .nat64(let n)): fixed(n)
            case (CandidOpcode.int8, .int8(let n)): fixed(n)
            case (CandidOpcode.int16, .int16(let n)): fixed(n)
            case (CandidOpcode.int32, .int32(let n)): fixed(n)
            case (CandidOpcode.int64, .int64(let n)): fixed(n)
            case (CandidOpcode.float32, .float32(let f)): fixed(f.bitPattern)
            case (CandidOpcode.float64, .float64(let f)): fixed(f.bitPattern)
            case (CandidOpcode.text, .text(let s)): text(s)
            case (CandidOpcode.principal, .principal(let p)): principal(p)
            default: return false
            }
            return true
        }
        switch (table.nodes[t], value) {
        case (.opt, .opt(nil)):
            out.append(0)
        case (.opt(let inner), .opt(let payload?)):
            out.append(1)
            try write(payload, inner)
        case (.vec(let element), .blob(let bytes)) where element == CandidOpcode.nat8:
            LEB128.encode(UInt64(bytes.count), into: &out)
            out.append(contentsOf: bytes)
        case (.vec(let element), .vec(let values)) where element != CandidOpcode.nat8:
            LEB128.encode(UInt64(values.count), into: &out)
            for v in values { try write(v, element) }
        case (.record(let fields), .record(let given)):
            guard given.count == fields.count else { return false }
            var inOrder = true
            for (field, v) in zip(fields, given) where field.id != v.id {
                inOrder = false
                break
            }
            if inOrder {
                for (field, v) in zip(fields, given) { try write(v.value, field.type) }
            } else {
                // Hand-built records list fields in declaration order, not by hash.
                var order = [Int]()
                order.reserveCapacity(fields.count)
                for field in fields {
                    guard let k = given.firstIndex(where: { $0.id == field.id }) else { return false }
                    order.append(k)
                }
                for (field, k) in zip(fields, order) { try write(given[k].value, field.type) }
            }
        case (.variant(let fields), .variant(let chosen)):
            guard let index = CandidValueReader.find(chosen.id, in: fields) else {
                throw CandidError(.unknownVariantTag(id: chosen.id))
            }
            LEB128.encode(UInt64(index), into: &out)
            try write(chosen.value, fields[index].type)
        case (.function, .function(let service, let method)):
            out.append(1)
            principal(service)
            text(method)
        case (.service, .service(let p)):
            principal(p)
        default:
            return false
        }
        return true
    }
}
