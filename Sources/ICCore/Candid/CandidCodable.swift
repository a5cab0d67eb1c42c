/// The typed layer: Swift types that know their Candid type and convert to and from
/// `CandidValue`. Works without reflection, existentials or Foundation (Embedded Swift).
///
/// Decoding through this layer applies the full coercion rules: the message is decoded at
/// `T.candidType` (wire type → expected type), and `init(candid:)` then receives the value in
/// canonical form for that type (absent optional fields are `.opt(nil)`, fields are sorted).
///
/// ```swift
/// struct ClientKey: CandidCodable {
///     var principal: Principal
///     var nonce: UInt64
///
///     static var candidType: CandidType {
///         .record([.field("client_principal", Principal.self), .field("client_nonce", UInt64.self)])
///     }
///     func candidValue() -> CandidValue {
///         .record(sorting: [.field("client_principal", principal), .field("client_nonce", nonce)])
///     }
///     init(candid value: CandidValue) throws(CandidError) {
///         let record = try value.record()
///         principal = try record.field("client_principal")
///         nonce = try record.field("client_nonce")
///     }
/// }
/// let bytes = try Candid.encode(key)
/// let back = try Candid.decode(ClientKey.self, from: bytes)
/// ```
public protocol CandidTyped {
    /// The Candid type values of this Swift type are encoded at and decoded from.
    static var candidType: CandidType { get }
}

public protocol CandidEncodable: CandidTyped {
    /// The value, in canonical form for `Self.candidType` (other forms are coerced).
    func candidValue() -> CandidValue
}

public protocol CandidDecodable: CandidTyped {
    /// Creates an instance from a value in canonical form for `Self.candidType`.
    init(candid value: CandidValue) throws(CandidError)
}

public typealias CandidCodable = CandidEncodable & CandidDecodable

// MARK: - Building types and values

extension CandidField {
    /// `.field("name", UInt64.self)`: a field whose type is a Swift type's Candid type.
    public static func field<T: CandidTyped>(_ name: String, _ type: T.Type) -> CandidField {
        CandidField(name: name, type: T.candidType)
    }

    /// `.field(0, UInt64.self)`.
    public static func field<T: CandidTyped>(_ id: UInt32, _ type: T.Type) -> CandidField {
        CandidField(id: id, type: T.candidType)
    }
}

extension CandidFieldValue {
    /// `.field("name", swiftValue)`.
    public static func field<T: CandidEncodable>(_ name: String, _ value: T) -> CandidFieldValue {
        CandidFieldValue(name: name, value: value.candidValue())
    }

    /// `.field(0, swiftValue)`.
    public static func field<T: CandidEncodable>(_ id: UInt32, _ value: T) -> CandidFieldValue {
        CandidFieldValue(id: id, value: value.candidValue())
    }
}

extension CandidValue {
    /// A variant value by tag name with a typed payload.
    public static func variant<T: CandidEncodable>(_ name: String, _ payload: T) -> CandidValue {
        .variant(CandidFieldValue(id: CandidFieldID.hash(name), value: payload.candidValue()))
    }
}

// MARK: - Reading values

/// Field access on a record value, by name (hashed) or id.
public struct CandidRecordReader: Sendable {
    public let fields: [CandidFieldValue]
    private let sorted: Bool

    init(_ fields: [CandidFieldValue]) {
        self.fields = fields
        self.sorted = CandidValueCoercer.isSorted(fields)
    }

    /// The raw value of field `id`, if present.
    public func value(_ id: UInt32) -> CandidValue? {
        if sorted {
            var low = 0, high = fields.count
            while low < high {
                let mid = (low + high) / 2
                let candidate = fields[mid].id
                if candidate == id { return fields[mid].value }
                if candidate < id { low = mid + 1 } else { high = mid }
            }
            return nil
        }
        for field in fields where field.id == id { return field.value }
        return nil
    }

    /// The raw value of field `name`, if present.
    public func value(_ name: String) -> CandidValue? { value(CandidFieldID.hash(name)) }

    /// Field `id` as a Swift value.
    public func field<T: CandidDecodable>(_ id: UInt32, as type: T.Type = T.self) throws(CandidError) -> T {
        guard let value = value(id) else { throw CandidError(.missingField(id: id)) }
        return try T(candid: value)
    }

    /// Field `name` as a Swift value.
    public func field<T: CandidDecodable>(_ name: String, as type: T.Type = T.self) throws(CandidError) -> T {
        try field(CandidFieldID.hash(name), as: type)
    }
}

/// The chosen tag and payload of a variant value.
public struct CandidVariantReader: Sendable {
    public let id: UInt32
    public let value: CandidValue

    /// Whether the tag is `name`.
    public func `is`(_ name: String) -> Bool { id == CandidFieldID.hash(name) }

    /// The payload as a Swift value.
    public func payload<T: CandidDecodable>(as type: T.Type = T.self) throws(CandidError) -> T {
        try T(candid: value)
    }

    /// The error to throw for a tag the Swift type does not know.
    public func unknownTag() -> CandidError { CandidError(.unknownVariantTag(id: id)) }
}

extension CandidValue {
    private func mismatch(_ expected: CandidTypeKind) -> CandidError {
        CandidError(.typeMismatch(expected: expected, found: kind))
    }

    /// This record's fields.
    public func record() throws(CandidError) -> CandidRecordReader {
        guard case .record(let fields) = self else { throw mismatch(.record) }
        return CandidRecordReader(fields)
    }

    /// This variant's tag and payload.
    public func variant() throws(CandidError) -> CandidVariantReader {
        guard case .variant(let field) = self else { throw mismatch(.variant) }
        return CandidVariantReader(id: field.id, value: field.value)
    }

    /// The elements of a vector (a blob gives `nat8` values).
    public func vector() throws(CandidError) -> [CandidValue] {
        switch self {
        case .vec(let values): return values
        case .blob(let bytes):
            var values = [CandidValue]()
            values.reserveCapacity(bytes.count)
            for byte in bytes { values.append(.nat8(byte)) }
            return values
        default: throw mismatch(.vec)
        }
    }

    /// The payload of an option (`nil` if absent; `.null` also reads as absent).
    public func option() throws(CandidError) -> CandidValue?? {
        switch self {
        case .opt(let payload): return .some(payload)
        case .null: return .some(nil)
        default: throw mismatch(.opt)
        }
    }
}

// MARK: - Conformances

extension Bool: CandidCodable {
    public static var candidType: CandidType { .bool }
    public func candidValue() -> CandidValue { .bool(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .bool(let b) = value else { throw CandidError(.typeMismatch(expected: .bool, found: value.kind)) }
        self = b
    }
}

extension String: CandidCodable {
    public static var candidType: CandidType { .text }
    public func candidValue() -> CandidValue { .text(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .text(let s) = value else { throw CandidError(.typeMismatch(expected: .text, found: value.kind)) }
        self = s
    }
}

extension Principal: CandidCodable {
    public static var candidType: CandidType { .principal }
    public func candidValue() -> CandidValue { .principal(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        switch value {
        case .principal(let p), .service(let p): self = p
        default: throw CandidError(.typeMismatch(expected: .principal, found: value.kind))
        }
    }
}

extension BigNat: CandidCodable {
    public static var candidType: CandidType { .nat }
    public func candidValue() -> CandidValue { .nat(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .nat(let n) = value else { throw CandidError(.typeMismatch(expected: .nat, found: value.kind)) }
        self = n
    }
}

extension BigInt: CandidCodable {
    public static var candidType: CandidType { .int }
    public func candidValue() -> CandidValue { .int(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        switch value {
        case .int(let i): self = i
        case .nat(let n): self = BigInt(n)
        default: throw CandidError(.typeMismatch(expected: .int, found: value.kind))
        }
    }
}

extension Float: CandidCodable {
    public static var candidType: CandidType { .float32 }
    public func candidValue() -> CandidValue { .float32(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .float32(let f) = value else { throw CandidError(.typeMismatch(expected: .float32, found: value.kind)) }
        self = f
    }
}

extension Double: CandidCodable {
    public static var candidType: CandidType { .float64 }
    public func candidValue() -> CandidValue { .float64(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .float64(let f) = value else { throw CandidError(.typeMismatch(expected: .float64, found: value.kind)) }
        self = f
    }
}

extension UInt8: CandidCodable {
    public static var candidType: CandidType { .nat8 }
    public func candidValue() -> CandidValue { .nat8(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .nat8(let n) = value else { throw CandidError(.typeMismatch(expected: .nat8, found: value.kind)) }
        self = n
    }
}

extension UInt16: CandidCodable {
    public static var candidType: CandidType { .nat16 }
    public func candidValue() -> CandidValue { .nat16(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .nat16(let n) = value else { throw CandidError(.typeMismatch(expected: .nat16, found: value.kind)) }
        self = n
    }
}

extension UInt32: CandidCodable {
    public static var candidType: CandidType { .nat32 }
    public func candidValue() -> CandidValue { .nat32(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .nat32(let n) = value else { throw CandidError(.typeMismatch(expected: .nat32, found: value.kind)) }
        self = n
    }
}

extension UInt64: CandidCodable {
    public static var candidType: CandidType { .nat64 }
    public func candidValue() -> CandidValue { .nat64(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .nat64(let n) = value else { throw CandidError(.typeMismatch(expected: .nat64, found: value.kind)) }
        self = n
    }
}

extension Int8: CandidCodable {
    public static var candidType: CandidType { .int8 }
    public func candidValue() -> CandidValue { .int8(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .int8(let n) = value else { throw CandidError(.typeMismatch(expected: .int8, found: value.kind)) }
        self = n
    }
}

extension Int16: CandidCodable {
    public static var candidType: CandidType { .int16 }
    public func candidValue() -> CandidValue { .int16(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .int16(let n) = value else { throw CandidError(.typeMismatch(expected: .int16, found: value.kind)) }
        self = n
    }
}

extension Int32: CandidCodable {
    public static var candidType: CandidType { .int32 }
    public func candidValue() -> CandidValue { .int32(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .int32(let n) = value else { throw CandidError(.typeMismatch(expected: .int32, found: value.kind)) }
        self = n
    }
}

extension Int64: CandidCodable {
    public static var candidType: CandidType { .int64 }
    public func candidValue() -> CandidValue { .int64(self) }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .int64(let n) = value else { throw CandidError(.typeMismatch(expected: .int64, found: value.kind)) }
        self = n
    }
}

/// `blob` (`vec nat8`) as bytes. `[UInt8]` is `vec nat8` too, but element by element;
/// this wrapper keeps the bytes in one array.
public struct CandidBlob: CandidCodable, Hashable, Sendable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public static var candidType: CandidType { .vec(.nat8) }
    public func candidValue() -> CandidValue { .blob(bytes) }
    public init(candid value: CandidValue) throws(CandidError) {
        switch value {
        case .blob(let b): bytes = b
        case .vec(let values):
            var out = [UInt8]()
            out.reserveCapacity(values.count)
            for v in values {
                guard case .nat8(let byte) = v else { throw CandidError(.typeMismatch(expected: .nat8, found: v.kind)) }
                out.append(byte)
            }
            bytes = out
        default:
            throw CandidError(.typeMismatch(expected: .vec, found: value.kind))
        }
    }
}

/// The unit value `null` (e.g. the payload of enum-like variant cases).
public struct CandidNull: CandidCodable, Hashable, Sendable {
    public init() {}
    public static var candidType: CandidType { .null }
    public func candidValue() -> CandidValue { .null }
    public init(candid value: CandidValue) throws(CandidError) {
        guard case .null = value else { throw CandidError(.typeMismatch(expected: .null, found: value.kind)) }
    }
}

/// `reserved`: accepts anything, keeps nothing.
public struct CandidReserved: CandidCodable, Hashable, Sendable {
    public init() {}
    public static var candidType: CandidType { .reserved }
    public func candidValue() -> CandidValue { .reserved }
    public init(candid value: CandidValue) throws(CandidError) {}
}

extension Optional: CandidTyped where Wrapped: CandidTyped {
    public static var candidType: CandidType { .opt(Wrapped.candidType) }
}

extension Optional: CandidEncodable where Wrapped: CandidEncodable {
    public func candidValue() -> CandidValue {
        switch self {
        case .some(let wrapped): return .opt(wrapped.candidValue())
        case .none: return .opt(nil)
        }
    }
}

extension Optional: CandidDecodable where Wrapped: CandidDecodable {
    public init(candid value: CandidValue) throws(CandidError) {
        switch value {
        case .opt(let payload?): self = .some(try Wrapped(candid: payload))
        case .opt(nil), .null: self = .none
        default: throw CandidError(.typeMismatch(expected: .opt, found: value.kind))
        }
    }
}

extension Array: CandidTyped where Element: CandidTyped {
    public static var candidType: CandidType { .vec(Element.candidType) }
}

extension Array: CandidEncodable where Element: CandidEncodable {
    public func candidValue() -> CandidValue {
        var values = [CandidValue]()
        values.reserveCapacity(count)
        for element in self { values.append(element.candidValue()) }
        return .vec(values)
    }
}

extension Array: CandidDecodable where Element: CandidDecodable {
    public init(candid value: CandidValue) throws(CandidError) {
        var out = [Element]()
        switch value {
        case .vec(let values):
            out.reserveCapacity(values.count)
            for v in values { out.append(try Element(candid: v)) }
        case .blob(let bytes):
            out.reserveCapacity(bytes.count)
            for byte in bytes { out.append(try Element(candid: .nat8(byte))) }
        default:
            throw CandidError(.typeMismatch(expected: .vec, found: value.kind))
        }
        self = out
    }
}

// MARK: - Argument sequences

/// Encoding and decoding whole argument sequences of typed values.
public enum Candid {
    /// `()`.
    public static func encode() -> [UInt8] { [0x44, 0x49, 0x44, 0x4c, 0, 0] }

    public static func encode<A: CandidEncodable>(_ a: A) throws(CandidError) -> [UInt8] {
        try CandidEncoder.encode([a.candidValue()], types: [A.candidType])
    }

    public static func encode<A: CandidEncodable, B: CandidEncodable>(_ a: A, _ b: B) throws(CandidError) -> [UInt8] {
        try CandidEncoder.encode([a.candidValue(), b.candidValue()], types: [A.candidType, B.candidType])
    }

    public static func encode<A: CandidEncodable, B: CandidEncodable, C: CandidEncodable>(
        _ a: A, _ b: B, _ c: C
    ) throws(CandidError) -> [UInt8] {
        try CandidEncoder.encode(
            [a.candidValue(), b.candidValue(), c.candidValue()], types: [A.candidType, B.candidType, C.candidType])
    }

    public static func encode<A: CandidEncodable, B: CandidEncodable, C: CandidEncodable, D: CandidEncodable>(
        _ a: A, _ b: B, _ c: C, _ d: D
    ) throws(CandidError) -> [UInt8] {
        try CandidEncoder.encode(
            [a.candidValue(), b.candidValue(), c.candidValue(), d.candidValue()],
            types: [A.candidType, B.candidType, C.candidType, D.candidType])
    }

    /// Encodes one value at precompiled types (`CandidArgumentTypes(A.self)`, built once),
    /// saving the compilation of `A.candidType` on every call.
    public static func encode<A: CandidEncodable>(_ a: A, as types: CandidArgumentTypes) throws(CandidError) -> [UInt8] {
        try CandidEncoder.encode([a.candidValue()], as: types)
    }

    /// Decodes one value at precompiled types (`CandidArgumentTypes(A.self)`, built once).
    public static func decode<A: CandidDecodable>(
        _ a: A.Type, from bytes: [UInt8], as types: CandidArgumentTypes, limits: CandidDecoder.Limits = .default
    ) throws(CandidError) -> A {
        let values = try CandidDecoder(limits: limits).decode(bytes, as: types)
        guard let first = values.first else { throw CandidError(.argumentCountMismatch(values: 0, types: 1)) }
        return try A(candid: first)
    }

    /// Checks that `bytes` is a valid message whose arguments can be read as `()`.
    public static func decode(from bytes: [UInt8], limits: CandidDecoder.Limits = .default) throws(CandidError) {
        _ = try CandidDecoder(limits: limits).decode(bytes, as: [])
    }

    public static func decode<A: CandidDecodable>(
        _ a: A.Type, from bytes: [UInt8], limits: CandidDecoder.Limits = .default
    ) throws(CandidError) -> A {
        let values = try CandidDecoder(limits: limits).decode(bytes, as: [A.candidType])
        return try A(candid: values[0])
    }

    public static func decode<A: CandidDecodable, B: CandidDecodable>(
        _ a: A.Type, _ b: B.Type, from bytes: [UInt8], limits: CandidDecoder.Limits = .default
    ) throws(CandidError) -> (A, B) {
        let values = try CandidDecoder(limits: limits).decode(bytes, as: [A.candidType, B.candidType])
        return (try A(candid: values[0]), try B(candid: values[1]))
    }

    public static func decode<A: CandidDecodable, B: CandidDecodable, C: CandidDecodable>(
        _ a: A.Type, _ b: B.Type, _ c: C.Type, from bytes: [UInt8], limits: CandidDecoder.Limits = .default
    ) throws(CandidError) -> (A, B, C) {
        let values = try CandidDecoder(limits: limits).decode(bytes, as: [A.candidType, B.candidType, C.candidType])
        return (try A(candid: values[0]), try B(candid: values[1]), try C(candid: values[2]))
    }

    public static func decode<A: CandidDecodable, B: CandidDecodable, C: CandidDecodable, D: CandidDecodable>(
        _ a: A.Type, _ b: B.Type, _ c: C.Type, _ d: D.Type, from bytes: [UInt8],
        limits: CandidDecoder.Limits = .default
    ) throws(CandidError) -> (A, B, C, D) {
        let values = try CandidDecoder(limits: limits).decode(
            bytes, as: [A.candidType, B.candidType, C.candidType, D.candidType])
        return (try A(candid: values[0]), try B(candid: values[1]), try C(candid: values[2]), try D(candid: values[3]))
    }

    /// The argument values at their wire types (no expected type).
    public static func decodeValues(from bytes: [UInt8], limits: CandidDecoder.Limits = .default) throws(CandidError) -> [CandidValue] {
        try CandidDecoder(limits: limits).decode(bytes)
    }
}

extension CandidArgumentTypes {
    /// The argument sequence `(A)`, compiled.
    public init<A: CandidTyped>(_ a: A.Type) throws(CandidError) {
        try self.init([A.candidType])
    }
}
