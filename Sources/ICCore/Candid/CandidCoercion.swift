/// Coerces values written by hand or parsed from text to a type, giving the canonical form
/// the decoder would produce (Candid spec, "Coercion", applied to values whose type is not
/// known): number literals become the expected number type (range-checked), `null` reads as
/// an absent option, `vec nat8` becomes `.blob`, record fields are sorted and matched by id
/// (extra fields dropped, absent null/opt/reserved fields filled in), and a failure under
/// an `opt` gives null.
///
/// Function and service references carry no type here, so they are accepted as they are.
struct CandidValueCoercer {
    let table: CandidTypeTable
    let maxDepth: Int
    private var depth = 0

    init(table: CandidTypeTable, maxDepth: Int = 256) {
        self.table = table
        self.maxDepth = maxDepth
    }

    private func misfit(_ t: Int) -> CandidError {
        CandidError(.valueDoesNotFitType(expected: table.kind(t)))
    }

    private func outOfRange(_ t: Int) -> CandidError {
        CandidError(.numberOutOfRange(expected: table.kind(t)))
    }

    /// The value of an absent field or argument of type `t`, or `nil` if `t` needs a value.
    func absentValue(_ t: Int) -> CandidValue? {
        if t == CandidOpcode.null { return .null }
        if t == CandidOpcode.reserved { return .reserved }
        if t >= 0, case .opt = table.nodes[t] { return .opt(nil) }
        return nil
    }

    /// Argument tuples: trailing missing values must accept null; extra values are dropped.
    mutating func coerceArguments(_ values: [CandidValue], to refs: [Int]) throws(CandidError) -> [CandidValue] {
        var out = [CandidValue]()
        out.reserveCapacity(refs.count)
        for (index, ref) in refs.enumerated() {
            if index < values.count {
                out.append(try coerce(values[index], to: ref))
            } else {
                guard let absent = absentValue(ref) else { throw CandidError(.missingArgument(index: index)) }
                out.append(absent)
            }
        }
        return out
    }

    mutating func coerce(_ value: CandidValue, to t: Int) throws(CandidError) -> CandidValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw CandidError(.depthLimitExceeded(limit: maxDepth)) }
        if t < 0 { return try primitive(value, t) }
        switch table.nodes[t] {
        case .opt(let inner):
            switch value {
            case .null, .reserved, .opt(nil):
                return .opt(nil)
            case .opt(let payload?):
                return try optional(payload, inner)
            default:
                return try optional(value, inner)
            }
        case .vec(let element):
            switch value {
            case .blob(let bytes):
                if element == CandidOpcode.nat8 { return value }
                var out = [CandidValue]()
                out.reserveCapacity(bytes.count)
                for byte in bytes { out.append(try coerce(.nat8(byte), to: element)) }
                return .vec(out)
            case .vec(let values):
                if element == CandidOpcode.nat8 {
                    var bytes = [UInt8]()
                    bytes.reserveCapacity(values.count)
                    for v in values {
                        guard case .nat8(let byte) = try coerce(v, to: element) else { throw misfit(element) }
                        bytes.append(byte)
                    }
                    return .blob(bytes)
                }
                var out = [CandidValue]()
                out.reserveCapacity(values.count)
                for v in values { out.append(try coerce(v, to: element)) }
                return .vec(out)
            default:
                throw misfit(t)
            }
        case .record(let fields):
            guard case .record(let given) = value else { throw misfit(t) }
            var sorted = given
            if !CandidValueCoercer.isSorted(sorted) { sorted.sort { $0.id < $1.id } }
            var out = [CandidFieldValue]()
            out.reserveCapacity(fields.count)
            var i = 0
            for field in fields {
                while i < sorted.count && sorted[i].id < field.id { i += 1 }
                if i < sorted.count && sorted[i].id == field.id {
                    if i + 1 < sorted.count && sorted[i + 1].id == field.id {
                        throw CandidError(.duplicateField(id: field.id))
                    }
                    out.append(CandidFieldValue(id: field.id, value: try coerce(sorted[i].value, to: field.type)))
                } else {
                    guard let absent = absentValue(field.type) else { throw CandidError(.missingField(id: field.id)) }
                    out.append(CandidFieldValue(id: field.id, value: absent))
                }
            }
            return .record(out)
        case .variant(let fields):
            guard case .variant(let chosen) = value else { throw misfit(t) }
            guard let j = CandidValueReader.find(chosen.id, in: fields) else {
                throw CandidError(.unknownVariantTag(id: chosen.id))
            }
            return .variant(CandidFieldValue(id: chosen.id, value: try coerce(chosen.value, to: fields[j].type)))
        case .function:
            guard case .function = value else { throw misfit(t) }
            return value
        case .service:
            guard case .service = value else { throw misfit(t) }
            return value
        case .future:
            throw misfit(t)
        }
    }

    private mutating func optional(_ payload: CandidValue, _ inner: Int) throws(CandidError) -> CandidValue {
        do throws(CandidError) {
            return .opt(try coerce(payload, to: inner))
        } catch  where error.isCoercionFailure {
            return .opt(nil)
        }
    }

    static func isSorted(_ fields: [CandidFieldValue]) -> Bool {
        var i = 1
        while i < fields.count {
            if fields[i - 1].id >= fields[i].id { return false }
            i += 1
        }
        return true
    }

    /// An integer-like value as (negative, magnitude), if it is one.
    private static func integer(_ value: CandidValue) -> BigInt? {
        switch value {
        case .nat(let n): return BigInt(n)
        case .int(let i): return i
        case .nat8(let n): return BigInt(BigNat(UInt64(n)))
        case .nat16(let n): return BigInt(BigNat(UInt64(n)))
        case .nat32(let n): return BigInt(BigNat(UInt64(n)))
        case .nat64(let n): return BigInt(BigNat(n))
        case .int8(let n): return BigInt(Int64(n))
        case .int16(let n): return BigInt(Int64(n))
        case .int32(let n): return BigInt(Int64(n))
        case .int64(let n): return BigInt(n)
        default: return nil
        }
    }

    private func primitive(_ value: CandidValue, _ t: Int) throws(CandidError) -> CandidValue {
        switch t {
        case CandidOpcode.reserved:
            return .reserved
        case CandidOpcode.null:
            guard case .null = value else { throw misfit(t) }
            return .null
        case CandidOpcode.bool:
            guard case .bool = value else { throw misfit(t) }
            return value
        case CandidOpcode.text:
            guard case .text = value else { throw misfit(t) }
            return value
        case CandidOpcode.principal:
            switch value {
            case .principal: return value
            case .service(let p): return .principal(p)
            default: throw misfit(t)
            }
        case CandidOpcode.empty:
            throw misfit(t)
        case CandidOpcode.float32:
            switch value {
            case .float32: return value
            case .float64(let d): return .float32(Float(d))
            default:
                guard let i = CandidValueCoercer.integer(value) else { throw misfit(t) }
                return .float32(Float(CandidValueCoercer.double(i)))
            }
        case CandidOpcode.float64:
            switch value {
            case .float64: return value
            case .float32(let f): return .float64(Double(f))
            default:
                guard let i = CandidValueCoercer.integer(value) else { throw misfit(t) }
                return .float64(CandidValueCoercer.double(i))
            }
        default:
            break
        }
        // Integer types: the value must be an integer in range.
        guard let i = CandidValueCoercer.integer(value) else { throw misfit(t) }
        switch t {
        case CandidOpcode.nat:
            guard !i.isNegative else { throw outOfRange(t) }
            return .nat(i.magnitude)
        case CandidOpcode.int:
            return .int(i)
        default:
            break
        }
        switch t {
        case CandidOpcode.nat8:
            guard let n = i.int64Value, let v = UInt8(exactly: n) else { throw outOfRange(t) }
            return .nat8(v)
        case CandidOpcode.nat16:
            guard let n = i.int64Value, let v = UInt16(exactly: n) else { throw outOfRange(t) }
            return .nat16(v)
        case CandidOpcode.nat32:
            guard let n = i.int64Value, let v = UInt32(exactly: n) else { throw outOfRange(t) }
            return .nat32(v)
        case CandidOpcode.nat64:
            guard !i.isNegative, let n = i.magnitude.uint64Value else { throw outOfRange(t) }
            return .nat64(n)
        case CandidOpcode.int8:
            guard let n = i.int64Value, let v = Int8(exactly: n) else { throw outOfRange(t) }
            return .int8(v)
        case CandidOpcode.int16:
            guard let n = i.int64Value, let v = Int16(exactly: n) else { throw outOfRange(t) }
            return .int16(v)
        case CandidOpcode.int32:
            guard let n = i.int64Value, let v = Int32(exactly: n) else { throw outOfRange(t) }
            return .int32(v)
        case CandidOpcode.int64:
            guard let n = i.int64Value else { throw outOfRange(t) }
            return .int64(n)
        default:
            throw misfit(t)
        }
    }

    private static func double(_ i: BigInt) -> Double {
        var result = 0.0
        for limb in i.magnitude.limbs.reversed() { result = result * 18446744073709551616.0 + Double(limb) }
        return i.isNegative ? -result : result
    }
}

extension CandidValue {
    /// This value in the canonical form for `type` (see `CandidValueCoercer`).
    public func coerced(to type: CandidType) throws(CandidError) -> CandidValue {
        let (table, refs) = try CandidTypeTable.compile([type])
        var coercer = CandidValueCoercer(table: table)
        return try coercer.coerce(self, to: refs[0])
    }

    /// Argument values in canonical form for argument types (missing trailing values are
    /// filled with null where the type allows it; extra values are dropped).
    public static func coerce(_ values: [CandidValue], to types: [CandidType]) throws(CandidError) -> [CandidValue] {
        let (table, refs) = try CandidTypeTable.compile(types)
        var coercer = CandidValueCoercer(table: table)
        return try coercer.coerceArguments(values, to: refs)
    }
}
