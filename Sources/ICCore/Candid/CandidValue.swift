/// A Candid value (Candid spec, "Values").
///
/// Values produced by the decoder (and by `coerced(to:)`) are in canonical form for their
/// type: each primitive type has its own case, `vec nat8` is `.blob`, a missing option is
/// `.opt(nil)`, and record fields are sorted by id. Values written by hand or parsed from
/// text may be looser (a number literal is `.nat`/`.int`, `null` stands for an absent
/// option); the encoder accepts those by coercing them first.
public indirect enum CandidValue: Sendable {
    case null
    case bool(Bool)
    case nat(BigNat)
    case int(BigInt)
    case nat8(UInt8)
    case nat16(UInt16)
    case nat32(UInt32)
    case nat64(UInt64)
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case text(String)
    /// The value of type `reserved` (all values coerce to it).
    case reserved
    case principal(Principal)
    /// `opt v` (`.opt(v)`) or the absent option (`.opt(nil)`).
    case opt(CandidValue?)
    case vec([CandidValue])
    /// `vec nat8` in compact form.
    case blob([UInt8])
    /// Fields sorted by increasing id (see `CandidValue.record(_:)` to sort).
    case record([CandidFieldValue])
    case variant(CandidFieldValue)
    /// A public method reference `func "principal".method`.
    case function(service: Principal, method: String)
    /// A service reference.
    case service(Principal)

    /// The absent option.
    public static var none: CandidValue { .opt(nil) }

    /// A record from fields in any order (sorted by id here).
    public static func record(sorting fields: [CandidFieldValue]) -> CandidValue {
        .record(fields.sorted { $0.id < $1.id })
    }

    /// A tuple: a record with fields 0, 1, 2, ….
    public static func tuple(_ elements: [CandidValue]) -> CandidValue {
        var fields = [CandidFieldValue]()
        fields.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            fields.append(CandidFieldValue(id: UInt32(truncatingIfNeeded: index), value: element))
        }
        return .record(fields)
    }

    /// A variant value by tag name.
    public static func variant(_ name: String, _ value: CandidValue = .null) -> CandidValue {
        .variant(CandidFieldValue(id: CandidFieldID.hash(name), value: value))
    }

    /// The kind of type this value is canonical for (literals count as their own kind).
    public var kind: CandidTypeKind {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .nat: return .nat
        case .int: return .int
        case .nat8: return .nat8
        case .nat16: return .nat16
        case .nat32: return .nat32
        case .nat64: return .nat64
        case .int8: return .int8
        case .int16: return .int16
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .text: return .text
        case .reserved: return .reserved
        case .principal: return .principal
        case .opt: return .opt
        case .vec, .blob: return .vec
        case .record: return .record
        case .variant: return .variant
        case .function: return .function
        case .service: return .service
        }
    }
}

/// A record field or variant payload: the field id and its value.
public struct CandidFieldValue: Sendable {
    public var id: UInt32
    public var value: CandidValue

    public init(id: UInt32, value: CandidValue) {
        self.id = id
        self.value = value
    }

    /// A field named `name` (its id is `idHash(name)`).
    public init(name: String, value: CandidValue) {
        self.id = CandidFieldID.hash(name)
        self.value = value
    }

    /// `.field("name", value)`.
    public static func field(_ name: String, _ value: CandidValue) -> CandidFieldValue {
        CandidFieldValue(name: name, value: value)
    }

    /// `.field(0, value)`.
    public static func field(_ id: UInt32, _ value: CandidValue) -> CandidFieldValue {
        CandidFieldValue(id: id, value: value)
    }
}

// MARK: - Equality

extension CandidValue: Equatable {
    /// Structural equality. Text and names compare bytewise, `.blob` equals the `.vec` of the
    /// same `nat8` values, records compare by field id regardless of order, and floats compare
    /// by value (with identical NaN bit patterns equal).
    public static func == (lhs: CandidValue, rhs: CandidValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null), (.reserved, .reserved): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.nat(let a), .nat(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.nat8(let a), .nat8(let b)): return a == b
        case (.nat16(let a), .nat16(let b)): return a == b
        case (.nat32(let a), .nat32(let b)): return a == b
        case (.nat64(let a), .nat64(let b)): return a == b
        case (.int8(let a), .int8(let b)): return a == b
        case (.int16(let a), .int16(let b)): return a == b
        case (.int32(let a), .int32(let b)): return a == b
        case (.int64(let a), .int64(let b)): return a == b
        case (.float32(let a), .float32(let b)): return a == b || a.bitPattern == b.bitPattern
        case (.float64(let a), .float64(let b)): return a == b || a.bitPattern == b.bitPattern
        case (.text(let a), .text(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.principal(let a), .principal(let b)): return a.bytes == b.bytes
        case (.service(let a), .service(let b)): return a.bytes == b.bytes
        case (.function(let s1, let m1), .function(let s2, let m2)):
            return s1.bytes == s2.bytes && m1.utf8.elementsEqual(m2.utf8)
        case (.opt(let a), .opt(let b)):
            switch (a, b) {
            case (nil, nil): return true
            case (let x?, let y?): return x == y
            default: return false
            }
        case (.blob(let a), .blob(let b)): return a == b
        case (.vec(let a), .vec(let b)): return a == b
        case (.blob(let bytes), .vec(let values)), (.vec(let values), .blob(let bytes)):
            guard bytes.count == values.count else { return false }
            for (byte, value) in zip(bytes, values) {
                guard case .nat8(let element) = value, element == byte else { return false }
            }
            return true
        case (.record(let a), .record(let b)):
            guard a.count == b.count else { return false }
            let x = a.sorted { $0.id < $1.id }, y = b.sorted { $0.id < $1.id }
            for (f, g) in zip(x, y) where f.id != g.id || f.value != g.value { return false }
            return true
        case (.variant(let a), .variant(let b)):
            return a.id == b.id && a.value == b.value
        default:
            return false
        }
    }
}

extension CandidFieldValue: Equatable {}

// MARK: - Text form

extension CandidValue: CustomStringConvertible {
    /// The Candid textual form (field names appear as their numeric ids).
    public var description: String {
        var out = ""
        CandidValue.write(self, into: &out)
        return out
    }

    static func write(_ value: CandidValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .reserved: out += "null : reserved"
        case .bool(let b): out += b ? "true" : "false"
        case .nat(let n): out += n.description
        case .int(let i): out += (i.isNegative ? "" : "+") + i.description
        case .nat8(let n): out += "\(n) : nat8"
        case .nat16(let n): out += "\(n) : nat16"
        case .nat32(let n): out += "\(n) : nat32"
        case .nat64(let n): out += "\(n) : nat64"
        case .int8(let n): out += "\(n) : int8"
        case .int16(let n): out += "\(n) : int16"
        case .int32(let n): out += "\(n) : int32"
        case .int64(let n): out += "\(n) : int64"
        case .float32(let f): out += "\(f) : float32"
        case .float64(let f): out += "\(f)"
        case .text(let s): writeText(Array(s.utf8), into: &out)
        case .principal(let p): out += "principal \"" + p.description + "\""
        case .service(let p): out += "service \"" + p.description + "\""
        case .function(let s, let m):
            out += "func \"" + s.description + "\"."
            writeText(Array(m.utf8), into: &out)
        case .opt(let inner):
            if let inner {
                out += "opt "
                write(inner, into: &out)
            } else {
                out += "null"
            }
        case .blob(let bytes):
            out += "blob \""
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var escaped = [UInt8]()
            for byte in bytes {
                escaped.append(UInt8(ascii: "\\"))
                escaped.append(digits[Int(byte >> 4)])
                escaped.append(digits[Int(byte & 15)])
            }
            out += String(decoding: escaped, as: UTF8.self) + "\""
        case .vec(let values):
            out += "vec {"
            for (index, element) in values.enumerated() {
                out += index == 0 ? " " : "; "
                write(element, into: &out)
            }
            out += values.isEmpty ? "}" : " }"
        case .record(let fields):
            out += "record {"
            for (index, field) in fields.enumerated() {
                out += index == 0 ? " " : "; "
                out += "\(field.id) = "
                write(field.value, into: &out)
            }
            out += fields.isEmpty ? "}" : " }"
        case .variant(let field):
            out += "variant { \(field.id) = "
            write(field.value, into: &out)
            out += " }"
        }
    }

    private static func writeText(_ bytes: [UInt8], into out: inout String) {
        var escaped: [UInt8] = [UInt8(ascii: "\"")]
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                escaped.append(UInt8(ascii: "\\"))
                escaped.append(byte)
            case 0x20..<0x7f, 0x80...:
                escaped.append(byte)
            default:
                escaped.append(UInt8(ascii: "\\"))
                escaped.append(digits[Int(byte >> 4)])
                escaped.append(digits[Int(byte & 15)])
            }
        }
        escaped.append(UInt8(ascii: "\""))
        out += String(decoding: escaped, as: UTF8.self)
    }
}
