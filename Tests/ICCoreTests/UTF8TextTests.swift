import ICCore
import Testing

@Suite("UTF8Text: messages built without String")
struct UTF8TextTests {
    @Test("literals, including non-ASCII, are their UTF-8 bytes")
    func literals() {
        let empty: UTF8Text = ""
        #expect(empty.utf8.isEmpty && empty.isEmpty)
        let ascii: UTF8Text = "no open connection"
        #expect(ascii.utf8 == Array("no open connection".utf8))
        let accented: UTF8Text = "déjà vu — ✓ 𝄞"
        #expect(accented.utf8 == Array("déjà vu — ✓ 𝄞".utf8))
        #expect(accented.description == "déjà vu — ✓ 𝄞")
        let single: UTF8Text = "é"
        #expect(single.utf8 == [0xC3, 0xA9])
    }

    @Test(
        "integers interpolate in decimal as String does, at every width and both extremes",
        arguments: [0, 1, 9, 10, 99, 100, 12_345, Int64.max, Int64.min, -1, -10])
    func signedIntegers(value: Int64) {
        let text: UTF8Text = "[\(value)]"
        #expect(text.description == "[\(value)]")
    }

    @Test("unsigned and narrow integers")
    func unsignedIntegers() {
        let values: [UInt64] = [0, 7, 1_000_000_000_000, UInt64.max, UInt64.max - 1, 10_000_000_000_000_000_000]
        for value in values {
            let text: UTF8Text = "\(value)"
            #expect(text.description == String(value))
        }
        let narrow: UTF8Text = "\(UInt8.max) \(Int8.min) \(UInt32.max) \(Int(-42))"
        #expect(narrow.description == "255 -128 4294967295 -42")
    }

    @Test("principals, nested texts and Strings interpolate; literal pieces stay in order")
    func values() {
        let principal = Principal.canister(index: 2)
        let inner: UTF8Text = "inner \(3)"
        let text: UTF8Text = "a \(principal) b \(inner) c \("string") d"
        #expect(text.description == "a \(principal.description) b inner 3 c string d")
        #expect(principal.utf8Text.description == principal.description)
        #expect(("x" as UTF8Text) + "y\(1)" == "xy1")
    }

    @Test("a CandidError's text is the same through UTF8Text and description")
    func candidErrors() {
        let errors = [
            CandidError(.typeMismatch(expected: .nat64, found: .text), offset: 12),
            CandidError(.invalidTypeOpcode(-30)),
            CandidError(.unknownTypeName(Array("Foo".utf8)), offset: 3),
            CandidError(.syntax(expected: .token(UInt8(ascii: ")")))),
        ]
        #expect(
            errors.map { $0.description } == [
                "expected nat64 at offset 12, found text",
                "invalid type table opcode -30",
                "unknown type name Foo at offset 3",
                "syntax error: expected ')'",
            ])
        for error in errors { #expect(error.utf8Text.description == error.description) }
    }
}
