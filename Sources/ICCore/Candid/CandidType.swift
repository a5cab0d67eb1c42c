/// A Candid type (Candid spec, "Type Structure").
///
/// Recursive types are written with an explicit binder: `.recursive("List", body)` binds the
/// label `List` inside `body`, where `.reference("List")` stands for the whole type again:
///
/// ```swift
/// // type List = opt record { head : int; tail : List }
/// let list: CandidType = .recursive("List", .opt(.record([
///     .field("head", .int), .field("tail", .reference("List")),
/// ])))
/// ```
///
/// Record and variant fields may be given in any order; they are sorted by id when the type
/// is compiled into a `CandidTypeTable` (which the encoder and decoder work on).
public indirect enum CandidType: Sendable {
    case null, bool, nat, int, nat8, nat16, nat32, nat64, int8, int16, int32, int64
    case float32, float64, text, reserved, empty, principal
    case opt(CandidType)
    case vec(CandidType)
    case record([CandidField])
    case variant([CandidField])
    case function(CandidFunctionType)
    case service([CandidMethod])
    /// A recursive type: `label` is bound to the whole type inside `body`.
    case recursive(String, CandidType)
    /// Refers to the nearest enclosing `.recursive` binder with this label.
    case reference(String)

    /// `blob`, i.e. `vec nat8`.
    public static var blob: CandidType { .vec(.nat8) }

    /// A tuple: a record whose fields are numbered 0, 1, 2, ….
    public static func tuple(_ elements: [CandidType]) -> CandidType {
        var fields = [CandidField]()
        fields.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            fields.append(CandidField(id: UInt32(truncatingIfNeeded: index), type: element))
        }
        return .record(fields)
    }

    /// An enumeration: a variant whose tags all carry `null`.
    public static func enumeration(_ names: [String]) -> CandidType {
        var fields = [CandidField]()
        fields.reserveCapacity(names.count)
        for name in names { fields.append(CandidField(name: name, type: .null)) }
        return .variant(fields)
    }

    /// The broad kind of the type (`nil` for `.reference`, which needs its binder).
    public var kind: CandidTypeKind? {
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
        case .empty: return .empty
        case .principal: return .principal
        case .opt: return .opt
        case .vec: return .vec
        case .record: return .record
        case .variant: return .variant
        case .function: return .function
        case .service: return .service
        case .recursive(_, let body): return body.kind
        case .reference: return nil
        }
    }
}

/// A record field or variant tag: a 32-bit id, optionally the name it was hashed from.
public struct CandidField: Sendable {
    public var id: UInt32
    /// The textual name, if the field was given by name (`id == idHash(name)`).
    public var name: String?
    public var type: CandidType

    /// A field with a numeric id (tuple fields use 0, 1, 2 …).
    public init(id: UInt32, type: CandidType) {
        self.id = id
        self.name = nil
        self.type = type
    }

    /// A field with a textual name; its id is `idHash(name)`.
    public init(name: String, type: CandidType) {
        self.id = CandidFieldID.hash(name)
        self.name = name
        self.type = type
    }

    init(id: UInt32, name: String?, type: CandidType) {
        self.id = id
        self.name = name
        self.type = type
    }

    /// `.field("name", .nat64)`.
    public static func field(_ name: String, _ type: CandidType) -> CandidField {
        CandidField(name: name, type: type)
    }

    /// `.field(0, .nat64)`.
    public static func field(_ id: UInt32, _ type: CandidType) -> CandidField {
        CandidField(id: id, type: type)
    }
}

/// Function annotations (Candid spec, "Functions"); compared as sets.
public struct CandidFunctionAnnotations: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let query = CandidFunctionAnnotations(rawValue: 1 << 1)
    public static let oneway = CandidFunctionAnnotations(rawValue: 1 << 2)
    public static let compositeQuery = CandidFunctionAnnotations(rawValue: 1 << 3)

    /// The set for one binary annotation byte (`01` query, `02` oneway, `03` composite_query).
    static func fromWire(_ byte: UInt8) -> CandidFunctionAnnotations? {
        switch byte {
        case 1: return .query
        case 2: return .oneway
        case 3: return .compositeQuery
        default: return nil
        }
    }

    /// The binary annotation bytes, in a fixed order.
    var wireBytes: [UInt8] {
        var out = [UInt8]()
        if contains(.query) { out.append(1) }
        if contains(.oneway) { out.append(2) }
        if contains(.compositeQuery) { out.append(3) }
        return out
    }
}

/// `func (arguments) -> (results) annotations`.
public struct CandidFunctionType: Sendable {
    public var arguments: [CandidType]
    public var results: [CandidType]
    public var annotations: CandidFunctionAnnotations

    public init(_ arguments: [CandidType], _ results: [CandidType], annotations: CandidFunctionAnnotations = []) {
        self.arguments = arguments
        self.results = results
        self.annotations = annotations
    }
}

/// A service method: its name and its type (which must be, or refer to, a function type).
public struct CandidMethod: Sendable {
    public var name: String
    public var type: CandidType

    public init(name: String, type: CandidType) {
        self.name = name
        self.type = type
    }

    public init(name: String, _ function: CandidFunctionType) {
        self.name = name
        self.type = .function(function)
    }
}
