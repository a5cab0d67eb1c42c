extension CandidType {
    /// The type a value written in Candid text most plausibly has, as `didc encode` infers it
    /// without a `.did`: a number literal is `nat` (or `int` when signed, `float64` with a
    /// fraction), an annotated value (`5 : nat64`) keeps its type, `null` is `null`, an absent
    /// option is `opt empty`, a vector takes the type of its first element (`vec empty` when
    /// empty), and records and variants are built field by field.
    ///
    /// Annotate values whose receiving type differs (`(10 : nat64)`): Candid numbers do not
    /// coerce between `nat` and `nat64` on decoding.
    public static func inferred(from value: CandidValue) -> CandidType {
        switch value {
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
        case .opt(let inner): return .opt(inner.map(inferred(from:)) ?? .empty)
        case .vec(let values): return .vec(values.first.map(inferred(from:)) ?? .empty)
        case .blob: return .blob
        case .record(let fields): return .record(fields.map { CandidField(id: $0.id, type: inferred(from: $0.value)) })
        case .variant(let field): return .variant([CandidField(id: field.id, type: inferred(from: field.value))])
        case .function: return .function(CandidFunctionType([], []))
        case .service: return .service([])
        }
    }
}
