/// Named type definitions (`type List = opt record { head : int; tail : List };`).
///
/// Names are resolved when a type is used: a definition is expanded in place, and a name
/// that refers back to a definition being expanded becomes a `.recursive` binder with a
/// `.reference` (so the resulting `CandidType` is self-contained).
public struct CandidTypeEnvironment: Sendable {
    /// Definitions by UTF-8 name; the types may mention other names (as `.reference`).
    private var definitions: [[UInt8]: CandidType] = [:]

    public init() {}

    /// Parses `type <name> = <type>;` definitions.
    public init(parsing text: String) throws(CandidError) {
        var parser = try CandidTextParser(text, environment: CandidTypeEnvironment())
        self = try parser.definitions()
    }

    /// Defines (or redefines) `name`. `type` may refer to names with `.reference(name)`.
    public mutating func define(_ name: String, _ type: CandidType) {
        definitions[Array(name.utf8)] = type
    }

    /// Whether `name` has a definition.
    public func isDefined(_ name: String) -> Bool { definitions[Array(name.utf8)] != nil }

    /// `type` with every name expanded (recursion becomes `.recursive`/`.reference`).
    public func resolve(_ type: CandidType) throws(CandidError) -> CandidType {
        var stack: [(name: [UInt8], used: Bool)] = []
        var budget = 100_000
        var depth = 0
        return try resolve(type, &stack, &budget, &depth)
    }

    /// Expansion is bounded in size and in nesting (the result is walked recursively later).
    private static let maxExpandedDepth = 512

    private func resolve(
        _ type: CandidType, _ stack: inout [(name: [UInt8], used: Bool)], _ budget: inout Int, _ depth: inout Int
    ) throws(CandidError) -> CandidType {
        budget -= 1
        depth += 1
        defer { depth -= 1 }
        guard budget > 0, depth <= CandidTypeEnvironment.maxExpandedDepth else {
            throw CandidError(.depthLimitExceeded(limit: CandidTypeEnvironment.maxExpandedDepth))
        }
        switch type {
        case .reference(let label):
            let name = Array(label.utf8)
            // A name being expanded further out: this is where the type recurses.
            var i = stack.count - 1
            while i >= 0 {
                if stack[i].name == name {
                    stack[i].used = true
                    return type
                }
                i -= 1
            }
            guard let definition = definitions[name] else { throw CandidError(.unknownTypeName(name)) }
            stack.append((name, false))
            let body = try resolve(definition, &stack, &budget, &depth)
            let used = stack.removeLast().used
            return used ? .recursive(label, body) : body
        case .recursive(let label, let body):
            // An explicit binder shadows a definition of the same name.
            stack.append((Array(label.utf8), true))
            defer { stack.removeLast() }
            return .recursive(label, try resolve(body, &stack, &budget, &depth))
        case .opt(let inner): return .opt(try resolve(inner, &stack, &budget, &depth))
        case .vec(let inner): return .vec(try resolve(inner, &stack, &budget, &depth))
        case .record(let fields): return .record(try resolve(fields, &stack, &budget, &depth))
        case .variant(let fields): return .variant(try resolve(fields, &stack, &budget, &depth))
        case .function(let function): return .function(try resolve(function, &stack, &budget, &depth))
        case .service(let methods):
            var out = [CandidMethod]()
            for method in methods {
                out.append(CandidMethod(name: method.name, type: try resolve(method.type, &stack, &budget, &depth)))
            }
            return .service(out)
        default:
            return type
        }
    }

    private func resolve(
        _ fields: [CandidField], _ stack: inout [(name: [UInt8], used: Bool)], _ budget: inout Int, _ depth: inout Int
    ) throws(CandidError) -> [CandidField] {
        var out = fields
        for i in out.indices { out[i].type = try resolve(out[i].type, &stack, &budget, &depth) }
        return out
    }

    private func resolve(
        _ function: CandidFunctionType, _ stack: inout [(name: [UInt8], used: Bool)], _ budget: inout Int,
        _ depth: inout Int
    ) throws(CandidError) -> CandidFunctionType {
        var out = function
        for i in out.arguments.indices { out.arguments[i] = try resolve(out.arguments[i], &stack, &budget, &depth) }
        for i in out.results.indices { out.results[i] = try resolve(out.results[i], &stack, &budget, &depth) }
        return out
    }
}

/// Parses the Candid text format: types (`(record { foo : int; bar : bool }, vec nat8)`),
/// type definitions, and values (`(42, "hi", opt record { 1 = true }, blob "\00",
/// principal "aaaaa-aa", variant { ok = 1 })`; Candid spec, "Values").
///
/// Values come out loosely typed (a number literal is `.nat`, `.int` or `.float64`); use
/// `CandidValue.coerce(_:to:)` to read them at types. A value annotated in the text
/// (`(5 : nat8)`) is coerced to its annotation right away.
public struct CandidTextParser {
    private var lexer: CandidTextLexer
    private var token: CandidToken
    private var lookahead: CandidToken?
    private var environment: CandidTypeEnvironment
    private var depth = 0
    private static let maxDepth = 256

    init(_ text: String, environment: CandidTypeEnvironment) throws(CandidError) {
        lexer = CandidTextLexer(text)
        token = CandidToken(kind: .end, offset: 0)
        self.environment = environment
        token = try lexer.next()
    }

    // MARK: Public entry points

    /// Parses one type, e.g. `vec record { nat; text }`.
    public static func parseType(
        _ text: String, environment: CandidTypeEnvironment = CandidTypeEnvironment()
    ) throws(CandidError) -> CandidType {
        var parser = try CandidTextParser(text, environment: environment)
        let type = try parser.dataType()
        try parser.expectEnd()
        return try environment.resolve(type)
    }

    /// Parses an argument type sequence, e.g. `(record { foo : int }, vec nat8)`.
    public static func parseArgumentTypes(
        _ text: String, environment: CandidTypeEnvironment = CandidTypeEnvironment()
    ) throws(CandidError) -> [CandidType] {
        var parser = try CandidTextParser(text, environment: environment)
        let types = try parser.argumentTypes()
        try parser.expectEnd()
        var out = [CandidType]()
        for type in types { out.append(try environment.resolve(type)) }
        return out
    }

    /// Parses one value, e.g. `opt record { 1 = true }`.
    public static func parseValue(
        _ text: String, environment: CandidTypeEnvironment = CandidTypeEnvironment()
    ) throws(CandidError) -> CandidValue {
        var parser = try CandidTextParser(text, environment: environment)
        let value = try parser.annotatedValue()
        try parser.expectEnd()
        return value
    }

    /// Parses an argument value sequence, e.g. `(42, "hi")`.
    public static func parseArguments(
        _ text: String, environment: CandidTypeEnvironment = CandidTypeEnvironment()
    ) throws(CandidError) -> [CandidValue] {
        var parser = try CandidTextParser(text, environment: environment)
        try parser.expect(UInt8(ascii: "("))
        var values = [CandidValue]()
        while !parser.isPunctuation(UInt8(ascii: ")")) {
            values.append(try parser.annotatedValue())
            if !parser.accept(UInt8(ascii: ",")) { break }
        }
        try parser.expect(UInt8(ascii: ")"))
        try parser.expectEnd()
        return values
    }

    // MARK: Token helpers

    private mutating func advance() throws(CandidError) {
        if let next = lookahead {
            token = next
            lookahead = nil
        } else {
            token = try lexer.next()
        }
    }

    private mutating func peek() throws(CandidError) -> CandidToken {
        if let next = lookahead { return next }
        let next = try lexer.next()
        lookahead = next
        return next
    }

    private func error(_ expected: CandidError.SyntaxExpectation) -> CandidError {
        CandidError(.syntax(expected: expected), offset: token.offset)
    }

    private func isPunctuation(_ c: UInt8) -> Bool {
        token.kind == .punctuation(c)
    }

    private mutating func accept(_ c: UInt8) -> Bool {
        guard isPunctuation(c) else { return false }
        do { try advance() } catch { return false }
        return true
    }

    private mutating func expect(_ c: UInt8) throws(CandidError) {
        guard isPunctuation(c) else { throw error(.token(c)) }
        try advance()
    }

    private mutating func expectEnd() throws(CandidError) {
        guard token.kind == .end else { throw error(.endOfInput) }
    }

    private func isKeyword(_ word: StaticString) -> Bool {
        guard case .identifier(let name) = token.kind else { return false }
        return CandidTextParser.equals(name, word)
    }

    private static func equals(_ bytes: [UInt8], _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let pointer = word.utf8Start
        for i in 0..<bytes.count where bytes[i] != pointer[i] { return false }
        return true
    }

    private mutating func enter() throws(CandidError) {
        depth += 1
        guard depth <= CandidTextParser.maxDepth else {
            throw CandidError(.depthLimitExceeded(limit: CandidTextParser.maxDepth), offset: token.offset)
        }
    }

    // MARK: Types

    mutating func definitions() throws(CandidError) -> CandidTypeEnvironment {
        var environment = self.environment
        while token.kind != .end {
            if accept(UInt8(ascii: ";")) { continue }
            guard isKeyword("type") else { throw error(.typeDefinition) }
            try advance()
            guard case .identifier(let name) = token.kind else { throw error(.name) }
            try advance()
            try expect(UInt8(ascii: "="))
            let type = try dataType()
            environment.define(String(decoding: name, as: UTF8.self), type)
            if token.kind != .end { try expect(UInt8(ascii: ";")) }
        }
        return environment
    }

    /// The primitive type (or `blob`) a keyword names. A function rather than a table: no
    /// global state to initialise (and nothing for leak checkers to misread).
    private static func primitive(_ word: [UInt8]) -> CandidType? {
        switch word.count {
        case 3:
            if equals(word, "nat") { return .nat }
            if equals(word, "int") { return .int }
        case 4:
            if equals(word, "null") { return .null }
            if equals(word, "bool") { return .bool }
            if equals(word, "nat8") { return .nat8 }
            if equals(word, "int8") { return .int8 }
            if equals(word, "text") { return .text }
            if equals(word, "blob") { return .vec(.nat8) }
        case 5:
            if equals(word, "nat16") { return .nat16 }
            if equals(word, "nat32") { return .nat32 }
            if equals(word, "nat64") { return .nat64 }
            if equals(word, "int16") { return .int16 }
            if equals(word, "int32") { return .int32 }
            if equals(word, "int64") { return .int64 }
            if equals(word, "empty") { return .empty }
        case 7:
            if equals(word, "float32") { return .float32 }
            if equals(word, "float64") { return .float64 }
        case 8:
            if equals(word, "reserved") { return .reserved }
        case 9:
            if equals(word, "principal") { return .principal }
        default:
            break
        }
        return nil
    }

    mutating func dataType() throws(CandidError) -> CandidType {
        try enter()
        defer { depth -= 1 }
        guard case .identifier(let word) = token.kind else { throw error(.type) }
        if let type = CandidTextParser.primitive(word) {
            try advance()
            return type
        }
        if isKeyword("opt") {
            try advance()
            return .opt(try dataType())
        }
        if isKeyword("vec") {
            try advance()
            return .vec(try dataType())
        }
        if isKeyword("record") {
            try advance()
            return .record(try fieldTypes(isVariant: false))
        }
        if isKeyword("variant") {
            try advance()
            return .variant(try fieldTypes(isVariant: true))
        }
        if isKeyword("func") {
            try advance()
            return .function(try functionType())
        }
        if isKeyword("service") {
            try advance()
            return .service(try serviceMethods())
        }
        try advance()
        return .reference(String(decoding: word, as: UTF8.self))  // a named type
    }

    /// A field name or number followed by `:` (or, in variants, standing alone).
    private mutating func fieldLabel(followedBy separator: UInt8) throws(CandidError) -> (id: UInt32, name: String?)? {
        let next = try peek()
        guard next.kind == .punctuation(separator) else { return nil }
        switch token.kind {
        case .identifier(let name), .text(let name):
            guard CandidUTF8.isValid(name, 0..<name.count) else { throw error(.name) }
            return (CandidFieldID.hash(utf8: name), String(decoding: name, as: UTF8.self))
        case .number(let digits):
            return (try fieldNumber(digits), nil)
        default:
            return nil
        }
    }

    private func fieldNumber(_ digits: [UInt8]) throws(CandidError) -> UInt32 {
        guard let n = CandidNumberText.natural(digits), let small = n.uint64Value, small <= UInt64(UInt32.max) else {
            throw error(.validNumber)
        }
        return UInt32(small)
    }

    private mutating func fieldTypes(isVariant: Bool) throws(CandidError) -> [CandidField] {
        try expect(UInt8(ascii: "{"))
        var fields = [CandidField]()
        var nextID: UInt32 = 0
        while !isPunctuation(UInt8(ascii: "}")) {
            if let label = try fieldLabel(followedBy: UInt8(ascii: ":")) {
                try advance()
                try advance()
                let type = try dataType()
                fields.append(CandidField(id: label.id, name: label.name, type: type))
                nextID = label.id &+ 1
            } else if isVariant {
                // `variant { foo; 3; "☃" }`: a tag alone carries null.
                let field: CandidField
                switch token.kind {
                case .identifier(let name), .text(let name):
                    guard CandidUTF8.isValid(name, 0..<name.count) else { throw error(.name) }
                    field = CandidField(id: CandidFieldID.hash(utf8: name), name: String(decoding: name, as: UTF8.self), type: .null)
                case .number(let digits):
                    field = CandidField(id: try fieldNumber(digits), type: .null)
                default:
                    throw error(.name)
                }
                try advance()
                fields.append(field)
                nextID = field.id &+ 1
            } else {
                // A tuple field: the next id after the previous field.
                fields.append(CandidField(id: nextID, type: try dataType()))
                nextID &+= 1
            }
            if !accept(UInt8(ascii: ";")) { break }
        }
        try expect(UInt8(ascii: "}"))
        return fields
    }

    /// `(a, name : b)` in function signatures and argument lists.
    mutating func argumentTypes() throws(CandidError) -> [CandidType] {
        try expect(UInt8(ascii: "("))
        var types = [CandidType]()
        while !isPunctuation(UInt8(ascii: ")")) {
            if try fieldLabel(followedBy: UInt8(ascii: ":")) != nil {
                try advance()
                try advance()
            }
            types.append(try dataType())
            if !accept(UInt8(ascii: ",")) { break }
        }
        try expect(UInt8(ascii: ")"))
        return types
    }

    private mutating func functionType() throws(CandidError) -> CandidFunctionType {
        let arguments = try argumentTypes()
        guard token.kind == .arrow else { throw error(.arrow) }
        try advance()
        let results = try argumentTypes()
        var annotations = CandidFunctionAnnotations()
        while true {
            if isKeyword("query") {
                annotations.insert(.query)
            } else if isKeyword("oneway") {
                annotations.insert(.oneway)
            } else if isKeyword("composite_query") {
                annotations.insert(.compositeQuery)
            } else {
                break
            }
            try advance()
        }
        return CandidFunctionType(arguments, results, annotations: annotations)
    }

    private mutating func serviceMethods() throws(CandidError) -> [CandidMethod] {
        try expect(UInt8(ascii: "{"))
        var methods = [CandidMethod]()
        while !isPunctuation(UInt8(ascii: "}")) {
            let name: [UInt8]
            switch token.kind {
            case .identifier(let n), .text(let n): name = n
            default: throw error(.name)
            }
            guard CandidUTF8.isValid(name, 0..<name.count) else { throw error(.name) }
            try advance()
            try expect(UInt8(ascii: ":"))
            let type: CandidType
            if isPunctuation(UInt8(ascii: "(")) {
                type = .function(try functionType())
            } else {
                type = try dataType()  // a name defined as a function type
            }
            methods.append(CandidMethod(name: String(decoding: name, as: UTF8.self), type: type))
            if !accept(UInt8(ascii: ";")) { break }
        }
        try expect(UInt8(ascii: "}"))
        return methods
    }

    // MARK: Values

    /// `<val>` or `<val> : <type>`.
    mutating func annotatedValue() throws(CandidError) -> CandidValue {
        let value = try plainValue()
        guard isPunctuation(UInt8(ascii: ":")) else { return value }
        try advance()
        let type = try environment.resolve(try dataType())
        return try value.coerced(to: type)
    }

    private mutating func textValue() throws(CandidError) -> String {
        guard case .text(let bytes) = token.kind else { throw error(.text) }
        guard CandidUTF8.isValid(bytes, 0..<bytes.count) else {
            throw CandidError(.invalidUTF8, offset: token.offset)
        }
        try advance()
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func principalValue() throws(CandidError) -> Principal {
        let at = token.offset
        let text = try textValue()
        do throws(Principal.Error) {
            return try Principal(text: text)
        } catch {
            throw CandidError(.invalidPrincipal, offset: at)
        }
    }

    private mutating func plainValue() throws(CandidError) -> CandidValue {
        try enter()
        defer { depth -= 1 }
        switch token.kind {
        case .number(let digits):
            let at = token.offset
            try advance()
            return try CandidNumberText.value(digits, negative: nil, at: at)
        case .punctuation(let c) where c == UInt8(ascii: "-") || c == UInt8(ascii: "+"):
            let at = token.offset
            try advance()
            guard case .number(let digits) = token.kind else { throw error(.number) }
            try advance()
            return try CandidNumberText.value(digits, negative: c == UInt8(ascii: "-"), at: at)
        case .text:
            return .text(try textValue())
        case .punctuation(let c) where c == UInt8(ascii: "("):
            try advance()
            let value = try annotatedValue()
            try expect(UInt8(ascii: ")"))
            return value
        case .identifier:
            break
        default:
            throw error(.value)
        }
        if isKeyword("true") { try advance(); return .bool(true) }
        if isKeyword("false") { try advance(); return .bool(false) }
        if isKeyword("null") { try advance(); return .null }
        if isKeyword("opt") {
            try advance()
            return .opt(try plainValue())
        }
        if isKeyword("vec") {
            try advance()
            try expect(UInt8(ascii: "{"))
            var elements = [CandidValue]()
            while !isPunctuation(UInt8(ascii: "}")) {
                elements.append(try annotatedValue())
                if !accept(UInt8(ascii: ";")) { break }
            }
            try expect(UInt8(ascii: "}"))
            return .vec(elements)
        }
        if isKeyword("blob") {
            try advance()
            guard case .text(let bytes) = token.kind else { throw error(.text) }
            try advance()
            return .blob(bytes)
        }
        if isKeyword("record") {
            try advance()
            try expect(UInt8(ascii: "{"))
            var fields = [CandidFieldValue]()
            var nextID: UInt32 = 0
            while !isPunctuation(UInt8(ascii: "}")) {
                let id: UInt32
                if let label = try fieldLabel(followedBy: UInt8(ascii: "=")) {
                    try advance()
                    try advance()
                    id = label.id
                } else {
                    id = nextID
                }
                fields.append(CandidFieldValue(id: id, value: try annotatedValue()))
                nextID = id &+ 1
                if !accept(UInt8(ascii: ";")) { break }
            }
            try expect(UInt8(ascii: "}"))
            fields.sort { $0.id < $1.id }
            if fields.count > 1 {
                for i in 1..<fields.count where fields[i - 1].id == fields[i].id {
                    throw CandidError(.duplicateField(id: fields[i].id), offset: token.offset)
                }
            }
            return .record(fields)
        }
        if isKeyword("variant") {
            try advance()
            try expect(UInt8(ascii: "{"))
            let field: CandidFieldValue
            if let label = try fieldLabel(followedBy: UInt8(ascii: "=")) {
                try advance()
                try advance()
                field = CandidFieldValue(id: label.id, value: try annotatedValue())
            } else {
                switch token.kind {
                case .identifier(let name), .text(let name):
                    guard CandidUTF8.isValid(name, 0..<name.count) else { throw error(.name) }
                    field = CandidFieldValue(id: CandidFieldID.hash(utf8: name), value: .null)
                case .number(let digits):
                    field = CandidFieldValue(id: try fieldNumber(digits), value: .null)
                default:
                    throw error(.name)
                }
                try advance()
            }
            _ = accept(UInt8(ascii: ";"))
            try expect(UInt8(ascii: "}"))
            return .variant(field)
        }
        if isKeyword("principal") {
            try advance()
            return .principal(try principalValue())
        }
        if isKeyword("service") {
            try advance()
            return .service(try principalValue())
        }
        if isKeyword("func") {
            try advance()
            let service = try principalValue()
            try expect(UInt8(ascii: "."))
            let method: String
            switch token.kind {
            case .identifier(let name):
                method = String(decoding: name, as: UTF8.self)
                try advance()
            case .text:
                method = try textValue()
            default:
                throw error(.name)
            }
            return .function(service: service, method: method)
        }
        throw error(.value)
    }
}

/// Number literals of the text format: `123`, `1_000`, `0xff`, `-5`, `0.5`, `1e-3`, `0x1p4`.
enum CandidNumberText {
    /// A natural number (decimal or `0x` hex, `_` separators), or nil.
    static func natural(_ digits: [UInt8]) -> BigNat? {
        var result = BigNat.zero
        var index = 0
        var base: UInt64 = 10
        if digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "x") || digits[1] == UInt8(ascii: "X") {
            base = 16
            index = 2
        }
        var sawDigit = false
        var previousWasSeparator = false
        while index < digits.count {
            let c = digits[index]
            index += 1
            if c == UInt8(ascii: "_") {
                guard sawDigit, !previousWasSeparator else { return nil }
                previousWasSeparator = true
                continue
            }
            guard let v = CandidTextLexer.hexValue(c), UInt64(v) < base else { return nil }
            result.multiplyAdd(multiplier: base, addend: UInt64(v))
            sawDigit = true
            previousWasSeparator = false
        }
        return sawDigit && !previousWasSeparator ? result : nil
    }

    /// The value of a literal: `.nat` for unsigned integers, `.int` for signed ones,
    /// `.float64` for anything with a fraction or exponent.
    static func value(_ digits: [UInt8], negative: Bool?, at offset: Int) throws(CandidError) -> CandidValue {
        if let n = natural(digits) {
            guard let negative else { return .nat(n) }
            return .int(BigInt(isNegative: negative, magnitude: n))
        }
        guard let f = float(digits) else { throw CandidError(.syntax(expected: .validNumber), offset: offset) }
        return .float64(negative == true ? -f : f)
    }

    /// A decimal or hexadecimal floating-point literal (host quality for common forms:
    /// exact when the digits fit in 53 bits and the decimal exponent is within ±22).
    static func float(_ digits: [UInt8]) -> Double? {
        var index = 0
        let hex =
            digits.count > 2 && digits[0] == UInt8(ascii: "0")
            && (digits[1] == UInt8(ascii: "x") || digits[1] == UInt8(ascii: "X"))
        if hex { index = 2 }
        let base: UInt64 = hex ? 16 : 10
        var mantissa: UInt64 = 0
        var scale = 0  // in units of the base (decimal digits) or of bits (hex) below
        var sawDigit = false
        var afterPoint = false
        var sawExponent = false
        var exponent = 0
        while index < digits.count {
            let c = digits[index]
            index += 1
            if c == UInt8(ascii: "_") { continue }
            if c == UInt8(ascii: ".") {
                guard !afterPoint else { return nil }
                afterPoint = true
                continue
            }
            let isExponent =
                hex
                ? (c == UInt8(ascii: "p") || c == UInt8(ascii: "P"))
                : (c == UInt8(ascii: "e") || c == UInt8(ascii: "E"))
            if isExponent {
                guard sawDigit else { return nil }
                var sign = 1
                if index < digits.count, digits[index] == UInt8(ascii: "-") || digits[index] == UInt8(ascii: "+") {
                    if digits[index] == UInt8(ascii: "-") { sign = -1 }
                    index += 1
                }
                var sawExponentDigit = false
                while index < digits.count {
                    let d = digits[index]
                    index += 1
                    if d == UInt8(ascii: "_") { continue }
                    guard CandidTextLexer.isDigit(d) else { return nil }
                    if exponent < 100_000 { exponent = exponent * 10 + Int(d - UInt8(ascii: "0")) }
                    sawExponentDigit = true
                }
                guard sawExponentDigit else { return nil }
                exponent *= sign
                sawExponent = true
                break
            }
            guard let v = CandidTextLexer.hexValue(c), UInt64(v) < base else { return nil }
            sawDigit = true
            if mantissa <= (UInt64.max - 15) / base {
                mantissa = mantissa * base + UInt64(v)
                if afterPoint { scale -= 1 }
            } else if !afterPoint {
                scale += 1  // digits beyond 64 bits of precision
            }
        }
        guard sawDigit, afterPoint || sawExponent else { return nil }
        var result = Double(mantissa)
        if hex {
            return scaled(result, byPowerOf: 2, 4 * scale + exponent)
        }
        let decimalExponent = scale + exponent
        // Exact operands, one rounding: correctly rounded (the classic fast path).
        if mantissa < 1 << 53 {
            if decimalExponent < 0, decimalExponent >= -22 { return result / power10(-decimalExponent) }
            if decimalExponent >= 0, decimalExponent <= 22 { return result * power10(decimalExponent) }
        }
        result = scaled(result, byPowerOf: 10, decimalExponent)
        return result
    }

    private static func power10(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= 10 }
        return result
    }

    private static func scaled(_ value: Double, byPowerOf base: Double, _ exponent: Int) -> Double {
        var result = value
        if exponent >= 0 {
            for _ in 0..<min(exponent, 5000) { result *= base }
        } else {
            for _ in 0..<min(-exponent, 5000) { result /= base }
        }
        return result
    }
}
