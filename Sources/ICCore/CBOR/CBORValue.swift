/// A CBOR data item (RFC 8949), as decoded by `CBORDecoder` and written by `CBOREncoder`.
///
/// Maps keep their entries in wire order (a list of key/value pairs, not a dictionary), so
/// decoding and re-encoding preserves the input's structure; `subscript(key:)` finds an
/// entry by text key. Bignums (tags 2 and 3) stay `.tagged(2/3, .byteString(...))`; read
/// them with `bigNat` / `bigInt`.
///
/// Equality is structural and byte-exact: text strings compare by their UTF-8 bytes (not by
/// Unicode canonical equivalence) and floats by their bit pattern (so `NaN == NaN` when the
/// bits agree).
///
/// ```swift
/// let content: CBORValue = [
///     "request_type": "call",
///     "canister_id": .byteString([0, 0, 0, 0, 0, 0, 4, 0xd2]),
///     "ingress_expiry": .unsigned(1_685_570_400_000_000_000),
/// ]
/// content["request_type"]?.text     // "call"
/// content["ingress_expiry"]?.uint64 // 1685570400000000000
/// ```
public enum CBORValue: Sendable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the negative integer `-1 - n`.
    case negative(UInt64)
    /// Major type 2: a byte string.
    case byteString([UInt8])
    /// Major type 3: a UTF-8 text string.
    case textString(String)
    /// Major type 4: an array.
    case array([CBORValue])
    /// Major type 5: a map, as key/value pairs in wire order.
    case map([(key: CBORValue, value: CBORValue)])
    /// Major type 6: a tagged item.
    indirect case tagged(UInt64, CBORValue)
    /// Simple values 20 and 21.
    case bool(Bool)
    /// Simple value 22.
    case null
    /// Simple value 23.
    case undefined
    /// Another simple value (0–19 or 32–255; 20–31 are not valid here).
    case simple(UInt8)
    /// A half-, single- or double-precision float (encoded as double).
    case float(Double)
}

// MARK: - Well-known tags

extension CBORValue {
    /// Tag 2: unsigned bignum (big-endian byte string).
    public static let unsignedBignumTag: UInt64 = 2
    /// Tag 3: negative bignum `-1 - n` (big-endian byte string n).
    public static let negativeBignumTag: UInt64 = 3
    /// Tag 55799: self-described CBOR; encoded as the three bytes `d9 d9 f7`.
    public static let selfDescribeTag: UInt64 = 55799
}

// MARK: - Convenience initialisers

extension CBORValue {
    /// A text string.
    @inlinable
    public static func text(_ string: String) -> CBORValue { .textString(string) }

    /// A byte string.
    @inlinable
    public static func bytes(_ bytes: [UInt8]) -> CBORValue { .byteString(bytes) }

    /// An integer: `.unsigned` for values ≥ 0, else `.negative`.
    public init(_ value: Int64) {
        if value >= 0 {
            self = .unsigned(UInt64(value))
        } else {
            // -1 - n = value  ⇒  n = -1 - value = ~value (two's complement), never overflows.
            self = .negative(UInt64(bitPattern: ~value))
        }
    }

    /// An integer: `.unsigned` for values ≥ 0, else `.negative`.
    public init(_ value: Int) {
        self.init(Int64(value))
    }

    /// An unsigned integer.
    public init(_ value: UInt64) {
        self = .unsigned(value)
    }

    /// A natural number: `.unsigned` when it fits 64 bits, else an unsigned bignum (tag 2).
    public init(bigNat value: BigNat) {
        if let small = value.uint64Value {
            self = .unsigned(small)
        } else {
            self = .tagged(CBORValue.unsignedBignumTag, .byteString(CBORValue.bigEndianBytes(of: value)))
        }
    }

    /// An integer: `.unsigned`/`.negative` when it fits 64 bits, else a bignum (tag 2 or 3).
    public init(bigInt value: BigInt) {
        if !value.isNegative {
            self.init(bigNat: value.magnitude)
            return
        }
        // value = -1 - n  ⇒  n = magnitude - 1 (magnitude ≥ 1).
        let n = BigNat.subtracting(value.magnitude, BigNat(1))!
        if let small = n.uint64Value {
            self = .negative(small)
        } else {
            self = .tagged(CBORValue.negativeBignumTag, .byteString(CBORValue.bigEndianBytes(of: n)))
        }
    }
}

// MARK: - Accessors

extension CBORValue {
    /// The value of an unsigned integer (major type 0), else `nil`.
    public var uint64: UInt64? {
        if case .unsigned(let n) = self { return n }
        return nil
    }

    /// The value of an integer (major type 0 or 1) that fits `Int64`, else `nil`.
    public var int64: Int64? {
        switch self {
        case .unsigned(let n): return n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): return n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: return nil
        }
    }

    /// The bytes of a byte string, else `nil`.
    public var bytes: [UInt8]? {
        if case .byteString(let b) = self { return b }
        return nil
    }

    /// The text of a text string, else `nil`.
    public var text: String? {
        if case .textString(let s) = self { return s }
        return nil
    }

    /// The elements of an array, else `nil`.
    public var arrayItems: [CBORValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The entries of a map in wire order, else `nil`.
    public var mapEntries: [(key: CBORValue, value: CBORValue)]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// The value of `true`/`false`, else `nil`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value of a float, else `nil`.
    public var double: Double? {
        if case .float(let d) = self { return d }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The tag number of a tagged item, else `nil`.
    public var tag: UInt64? {
        if case .tagged(let tag, _) = self { return tag }
        return nil
    }

    /// The item inside a tag, else `nil`.
    public var tagContent: CBORValue? {
        if case .tagged(_, let content) = self { return content }
        return nil
    }

    /// The value with any self-describe tags (55799) around it removed.
    public var removingSelfDescribeTag: CBORValue {
        var value = self
        while case .tagged(CBORValue.selfDescribeTag, let inner) = value { value = inner }
        return value
    }

    /// The value of a natural number: an unsigned integer or an unsigned bignum (tag 2).
    public var bigNat: BigNat? {
        switch self {
        case .unsigned(let n): return BigNat(n)
        case .tagged(CBORValue.unsignedBignumTag, .byteString(let bytes)):
            return CBORValue.bigNat(bigEndian: bytes)
        default: return nil
        }
    }

    /// The value of an integer: major type 0 or 1, or a bignum (tag 2 or 3).
    public var bigInt: BigInt? {
        switch self {
        case .negative(let n):
            return BigInt(isNegative: true, magnitude: BigNat(n) + BigNat(1))
        case .tagged(CBORValue.negativeBignumTag, .byteString(let bytes)):
            return BigInt(isNegative: true, magnitude: CBORValue.bigNat(bigEndian: bytes) + BigNat(1))
        default:
            return bigNat.map { BigInt($0) }
        }
    }

    /// The value of the first map entry whose key is the text string `key`
    /// (compared by UTF-8 bytes); `nil` if this is not a map or the key is missing.
    public subscript(key: String) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries {
            if case .textString(let k) = entry.key, k.utf8.elementsEqual(key.utf8) { return entry.value }
        }
        return nil
    }

    /// The value of the first map entry whose key equals `key`; `nil` if missing.
    public subscript(key key: CBORValue) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries where entry.key == key { return entry.value }
        return nil
    }

    /// The array element at `index`; `nil` if this is not an array or out of range.
    public subscript(index: Int) -> CBORValue? {
        guard case .array(let items) = self, index >= 0, index < items.count else { return nil }
        return items[index]
    }

    static func bigEndianBytes(of value: BigNat) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(value.limbs.count * 8)
        for limb in value.limbs.reversed() {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift)))
            }
        }
        var start = 0
        while start < out.count, out[start] == 0 { start += 1 }
        return Array(out[start...])
    }

    static func bigNat(bigEndian bytes: [UInt8]) -> BigNat {
        var limbs = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
        var index = 0
        for byte in bytes.reversed() {
            limbs[index / 8] |= UInt64(byte) << UInt64((index % 8) * 8)
            index += 1
        }
        return BigNat(limbs: limbs)
    }
}

// MARK: - Equality and hashing

extension CBORValue: Hashable {
    public static func == (lhs: CBORValue, rhs: CBORValue) -> Bool {
        switch (lhs, rhs) {
        case (.unsigned(let a), .unsigned(let b)): return a == b
        case (.negative(let a), .negative(let b)): return a == b
        case (.byteString(let a), .byteString(let b)): return a == b
        case (.textString(let a), .textString(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for index in 0..<a.count where a[index].key != b[index].key || a[index].value != b[index].value {
                return false
            }
            return true
        case (.tagged(let t1, let v1), .tagged(let t2, let v2)): return t1 == t2 && v1 == v2
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null), (.undefined, .undefined): return true
        case (.simple(let a), .simple(let b)): return a == b
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .unsigned(let n): hasher.combine(0 as UInt8); hasher.combine(n)
        case .negative(let n): hasher.combine(1 as UInt8); hasher.combine(n)
        case .byteString(let b): hasher.combine(2 as UInt8); hasher.combine(b)
        case .textString(let s):
            hasher.combine(3 as UInt8)
            hasher.combine(s.utf8.count)
            for byte in s.utf8 { hasher.combine(byte) }
        case .array(let items): hasher.combine(4 as UInt8); hasher.combine(items)
        case .map(let entries):
            hasher.combine(5 as UInt8)
            hasher.combine(entries.count)
            for entry in entries {
                hasher.combine(entry.key)
                hasher.combine(entry.value)
            }
        case .tagged(let tag, let value): hasher.combine(6 as UInt8); hasher.combine(tag); hasher.combine(value)
        case .bool(let b): hasher.combine(7 as UInt8); hasher.combine(b)
        case .null: hasher.combine(8 as UInt8)
        case .undefined: hasher.combine(9 as UInt8)
        case .simple(let n): hasher.combine(10 as UInt8); hasher.combine(n)
        case .float(let d): hasher.combine(11 as UInt8); hasher.combine(d.bitPattern)
        }
    }
}

// MARK: - Literals

extension CBORValue: ExpressibleByIntegerLiteral {
    /// An integer literal: `.unsigned` or `.negative`.
    public init(integerLiteral value: Int64) { self.init(value) }
}

extension CBORValue: ExpressibleByStringLiteral {
    /// A string literal: a text string.
    public init(stringLiteral value: String) { self = .textString(value) }
}

extension CBORValue: ExpressibleByBooleanLiteral {
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension CBORValue: ExpressibleByFloatLiteral {
    /// A float literal.
    public init(floatLiteral value: Double) { self = .float(value) }
}

extension CBORValue: ExpressibleByArrayLiteral {
    /// An array literal.
    public init(arrayLiteral elements: CBORValue...) { self = .array(elements) }
}

extension CBORValue: ExpressibleByDictionaryLiteral {
    /// A dictionary literal: a map with the entries in the order written.
    public init(dictionaryLiteral elements: (CBORValue, CBORValue)...) {
        self = .map(elements.map { (key: $0.0, value: $0.1) })
    }
}
