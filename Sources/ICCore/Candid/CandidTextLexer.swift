/// Tokens of the Candid text format (types and values; Candid spec, "Type Structure" and
/// "Values"). Works on UTF-8 bytes; positions are byte offsets.
struct CandidToken: Equatable {
    enum Kind: Equatable {
        /// One of `( ) { } ; : , = . + -`.
        case punctuation(UInt8)
        case arrow
        /// An identifier or keyword.
        case identifier([UInt8])
        /// The raw characters of a number (digits, `_`, `.`, exponent, `0x` prefix).
        case number([UInt8])
        /// A text literal with escapes resolved: raw bytes (UTF-8 is checked where needed).
        case text([UInt8])
        case end
    }

    var kind: Kind
    var offset: Int
}

struct CandidTextLexer {
    let input: [UInt8]
    private(set) var offset = 0

    init(_ text: String) {
        input = Array(text.utf8)
    }

    private func syntax(_ expected: CandidError.SyntaxExpectation, at position: Int) -> CandidError {
        CandidError(.syntax(expected: expected), offset: position)
    }

    private mutating func skipTrivia() throws(CandidError) {
        while offset < input.count {
            let c = input[offset]
            if c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d {
                offset += 1
            } else if c == UInt8(ascii: "/"), offset + 1 < input.count, input[offset + 1] == UInt8(ascii: "/") {
                while offset < input.count && input[offset] != 0x0a { offset += 1 }
            } else if c == UInt8(ascii: "/"), offset + 1 < input.count, input[offset + 1] == UInt8(ascii: "*") {
                // Block comments nest.
                let start = offset
                var nesting = 0
                repeat {
                    guard offset + 1 < input.count else { throw syntax(.token(UInt8(ascii: "/")), at: start) }
                    if input[offset] == UInt8(ascii: "/") && input[offset + 1] == UInt8(ascii: "*") {
                        nesting += 1
                        offset += 2
                    } else if input[offset] == UInt8(ascii: "*") && input[offset + 1] == UInt8(ascii: "/") {
                        nesting -= 1
                        offset += 2
                    } else {
                        offset += 1
                    }
                } while nesting > 0
            } else {
                return
            }
        }
    }

    static func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    mutating func next() throws(CandidError) -> CandidToken {
        try skipTrivia()
        let start = offset
        guard offset < input.count else { return CandidToken(kind: .end, offset: start) }
        let c = input[offset]
        if CandidTextLexer.isIdentifierStart(c) {
            while offset < input.count,
                CandidTextLexer.isIdentifierStart(input[offset]) || CandidTextLexer.isDigit(input[offset])
            {
                offset += 1
            }
            return CandidToken(kind: .identifier(Array(input[start..<offset])), offset: start)
        }
        if CandidTextLexer.isDigit(c) {
            offset += 1
            let hex =
                c == UInt8(ascii: "0") && offset < input.count
                && (input[offset] == UInt8(ascii: "x") || input[offset] == UInt8(ascii: "X"))
            if hex { offset += 1 }
            while offset < input.count {
                let d = input[offset]
                let isExponent =
                    hex
                    ? (d == UInt8(ascii: "p") || d == UInt8(ascii: "P"))
                    : (d == UInt8(ascii: "e") || d == UInt8(ascii: "E"))
                if isExponent {
                    offset += 1
                    if offset < input.count, input[offset] == UInt8(ascii: "+") || input[offset] == UInt8(ascii: "-") {
                        offset += 1
                    }
                } else if CandidTextLexer.isDigit(d) || d == UInt8(ascii: "_") || (hex && CandidTextLexer.hexValue(d) != nil) {
                    offset += 1
                } else if d == UInt8(ascii: "."),
                    offset + 1 >= input.count || !CandidTextLexer.isIdentifierStart(input[offset + 1])
                        || (hex && CandidTextLexer.hexValue(input[offset + 1]) != nil)
                {
                    offset += 1
                } else {
                    break
                }
            }
            return CandidToken(kind: .number(Array(input[start..<offset])), offset: start)
        }
        if c == UInt8(ascii: "\"") { return CandidToken(kind: .text(try textLiteral()), offset: start) }
        if c == UInt8(ascii: "-"), offset + 1 < input.count, input[offset + 1] == UInt8(ascii: ">") {
            offset += 2
            return CandidToken(kind: .arrow, offset: start)
        }
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ";"),
            UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: "."), UInt8(ascii: "+"),
            UInt8(ascii: "-"):
            offset += 1
            return CandidToken(kind: .punctuation(c), offset: start)
        default:
            throw syntax(.value, at: start)
        }
    }

    /// `"…"` with escapes `\n \r \t \\ \" \'`, `\HH` (a raw byte) and `\u{HHHH}`.
    private mutating func textLiteral() throws(CandidError) -> [UInt8] {
        let start = offset
        offset += 1
        var out = [UInt8]()
        while true {
            guard offset < input.count else { throw syntax(.token(UInt8(ascii: "\"")), at: start) }
            let c = input[offset]
            offset += 1
            if c == UInt8(ascii: "\"") { return out }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            let escapeOffset = offset - 1
            guard offset < input.count else { throw syntax(.validEscape, at: escapeOffset) }
            let e = input[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
            case UInt8(ascii: "u"):
                guard offset < input.count, input[offset] == UInt8(ascii: "{") else {
                    throw syntax(.validEscape, at: escapeOffset)
                }
                offset += 1
                var scalar: UInt32 = 0
                var digits = 0
                while offset < input.count, input[offset] != UInt8(ascii: "}") {
                    let d = input[offset]
                    offset += 1
                    if d == UInt8(ascii: "_") { continue }
                    guard let v = CandidTextLexer.hexValue(d), digits < 6 else { throw syntax(.validEscape, at: escapeOffset) }
                    scalar = scalar << 4 | UInt32(v)
                    digits += 1
                }
                guard offset < input.count, digits > 0 else { throw syntax(.validEscape, at: escapeOffset) }
                offset += 1
                guard CandidTextLexer.appendUTF8(scalar, to: &out) else { throw syntax(.validEscape, at: escapeOffset) }
            default:
                guard let high = CandidTextLexer.hexValue(e), offset < input.count,
                    let low = CandidTextLexer.hexValue(input[offset])
                else {
                    throw syntax(.validEscape, at: escapeOffset)
                }
                offset += 1
                out.append(high << 4 | low)
            }
        }
    }

    /// Appends the UTF-8 of a Unicode scalar value; false for surrogates and > U+10FFFF.
    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) -> Bool {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xc0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3f))
        case 0xd800...0xdfff:
            return false
        case 0x800..<0x10000:
            out.append(UInt8(0xe0 | scalar >> 12))
            out.append(UInt8(0x80 | (scalar >> 6) & 0x3f))
            out.append(UInt8(0x80 | scalar & 0x3f))
        case 0x10000...0x10ffff:
            out.append(UInt8(0xf0 | scalar >> 18))
            out.append(UInt8(0x80 | (scalar >> 12) & 0x3f))
            out.append(UInt8(0x80 | (scalar >> 6) & 0x3f))
            out.append(UInt8(0x80 | scalar & 0x3f))
        default:
            return false
        }
        return true
    }
}
