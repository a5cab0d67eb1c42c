/// Field names to show instead of numeric ids when printing Candid values.
///
/// The wire format carries only 32-bit field hashes; names come from whatever types the
/// printer knows (a `.did` file, the caller's own types, a list of likely names).
public struct CandidFieldNames: Sendable {
    private var names: [UInt32: String] = [:]

    /// No names: every field prints as its number.
    public init() {}

    /// Names whose hashes identify fields (`Ok`, `Err`, `client_key`, …).
    public init(_ names: [String]) {
        for name in names { add(name) }
    }

    /// Every record field and variant tag name that `type` mentions, recursively.
    public init(collectingFrom types: [CandidType]) {
        for type in types { collect(type) }
    }

    /// Adds one name (a name whose hash collides with a known one is ignored).
    public mutating func add(_ name: String) {
        let id = CandidFieldID.hash(name)
        if names[id] == nil { names[id] = name }
    }

    /// Adds the names of `other`.
    public mutating func merge(_ other: CandidFieldNames) {
        for (id, name) in other.names where names[id] == nil { names[id] = name }
    }

    /// The name of field `id`, if known.
    public func name(of id: UInt32) -> String? { names[id] }

    private mutating func collect(_ type: CandidType) {
        switch type {
        case .opt(let inner), .vec(let inner), .recursive(_, let inner): collect(inner)
        case .record(let fields), .variant(let fields):
            for field in fields {
                if let name = field.name { add(name) }
                collect(field.type)
            }
        case .function(let function):
            for argument in function.arguments { collect(argument) }
            for result in function.results { collect(result) }
        case .service(let methods):
            for method in methods { collect(method.type) }
        default: break
        }
    }
}

extension CandidValue {
    /// The value in Candid text form, with field names from `names` where known (numbers
    /// otherwise), as `didc decode` prints it. The output parses back with `CandidTextParser`;
    /// `multiline` indents records, variants and vectors by two spaces per level.
    public func candidText(names: CandidFieldNames = CandidFieldNames(), multiline: Bool = false) -> String {
        var printer = CandidTextPrinter(names: names, multiline: multiline)
        printer.write(self, depth: 0)
        return printer.out
    }

    /// An argument or result sequence in text form: `(v1, v2)`.
    public static func candidText(
        arguments: [CandidValue], names: CandidFieldNames = CandidFieldNames(),
        multiline: Bool = false
    ) -> String {
        var printer = CandidTextPrinter(names: names, multiline: multiline)
        printer.out += "("
        for (index, value) in arguments.enumerated() {
            if index > 0 { printer.out += multiline ? ",\n" : ", " }
            printer.write(value, depth: 0)
        }
        printer.out += ")"
        return printer.out
    }
}

/// Writes values; primitives as `CandidValue.description` does, composites with names.
private struct CandidTextPrinter {
    let names: CandidFieldNames
    let multiline: Bool
    var out = ""

    init(names: CandidFieldNames, multiline: Bool) {
        self.names = names
        self.multiline = multiline
    }

    mutating func write(_ value: CandidValue, depth: Int) {
        switch value {
        case .opt(let inner?):
            out += "opt "
            write(inner, depth: depth)
        case .vec(let values):
            block("vec", values.count, depth) { printer, index in printer.write(values[index], depth: depth + 1) }
        case .record(let fields):
            let isTuple = fields.enumerated().allSatisfy { $0.element.id == UInt32(truncatingIfNeeded: $0.offset) }
            block("record", fields.count, depth) { printer, index in
                if !isTuple { printer.label(fields[index].id) }
                printer.write(fields[index].value, depth: depth + 1)
            }
        case .variant(let field):
            out += "variant { "
            label(field.id, omitNullValue: field.value)
            if !field.value.isNull { write(field.value, depth: depth + 1) }
            out += " }"
        default:
            CandidValue.write(value, into: &out)
        }
    }

    /// `keyword { e1; e2 }` on one line, or one element per line when multiline.
    private mutating func block(_ keyword: String, _ count: Int, _ depth: Int, _ element: (inout CandidTextPrinter, Int) -> Void) {
        out += keyword + " {"
        if count == 0 {
            out += "}"
            return
        }
        for index in 0..<count {
            out += multiline ? "\n" + indentation(depth + 1) : " "
            element(&self, index)
            out += ";"
        }
        out += multiline ? "\n" + indentation(depth) + "}" : " }"
    }

    private func indentation(_ depth: Int) -> String {
        String(repeating: "  ", count: depth)
    }

    /// `name = ` (or `name` alone for a variant tag carrying `null`).
    private mutating func label(_ id: UInt32, omitNullValue value: CandidValue? = nil) {
        if let name = names.name(of: id) {
            out += Self.isPlainIdentifier(name) ? name : Self.quoted(name)
        } else {
            out += "\(id)"
        }
        if let value, value.isNull { return }
        out += " = "
    }

    private static let keywords: Set<String> = [
        "blob", "bool", "composite_query", "empty", "false", "float32", "float64", "func", "import", "int", "int8",
        "int16", "int32", "int64", "nat", "nat8", "nat16", "nat32", "nat64", "null", "oneway", "opt", "principal",
        "query", "record", "reserved", "service", "text", "true", "type", "variant", "vec",
    ]

    /// `[A-Za-z_][A-Za-z0-9_]*` and not a keyword.
    private static func isPlainIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        for byte in bytes where !(isLetter(byte) || byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39)) {
            return false
        }
        return !keywords.contains(name)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    private static func quoted(_ name: String) -> String {
        var out = ""
        CandidValue.write(.text(name), into: &out)
        return out
    }
}

extension CandidValue {
    /// Whether this is the `null` value (the payload of an enumeration tag).
    fileprivate var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
