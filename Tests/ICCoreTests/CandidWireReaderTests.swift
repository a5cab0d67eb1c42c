import ICCore
import ICTestSupport
import Testing

@Suite("Candid: reading at wire types (CandidWireReader)")
struct CandidWireReaderTests {
    /// `(principal, vec blob)` the way the test canister's `send` reads it.
    private func readSendArguments(_ bytes: [UInt8]) throws(CandidError) -> (Principal, [[UInt8]]) {
        var reader = try CandidWireReader(bytes)
        let principal = try reader.principal(try reader.nextArgument())
        let (count, element) = try reader.vector(try reader.nextArgument())
        var blobs = [[UInt8]]()
        for _ in 0..<count { blobs.append(try reader.blob(element)) }
        try reader.finish()
        return (principal, blobs)
    }

    @Test("vec blob: the same values as the generic decoder, for 0 to 40 blobs of 0 to 300 bytes")
    func vectorOfBlobs() throws {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for count in [0, 1, 2, 17, 40] {
            let principal = try Principal(bytes: (0..<Int(next() % 30)).map { _ in UInt8(next() & 0xff) })
            let blobs = (0..<count).map { _ in (0..<Int(next() % 301)).map { _ in UInt8(next() & 0xff) } }
            let bytes = try Candid.encode(principal, blobs.map { CandidBlob($0) })
            let (readPrincipal, readBlobs) = try readSendArguments(bytes)
            #expect(readPrincipal == principal)
            #expect(readBlobs == blobs)
            let generic = try Candid.decode(Principal.self, [CandidBlob].self, from: bytes)
            #expect(generic.1.map(\.bytes) == readBlobs)
        }
    }

    @Test("a vec longer than the bytes left is refused before anything is reserved")
    func vectorLengthBeyondInput() throws {
        // DIDL, table [vec 1, vec nat8], args [principal, type 0], principal aaaaa-aa, count 2^40.
        var bytes: [UInt8] = Array("DIDL".utf8) + [2, 0x6d, 0x01, 0x6d, 0x7b, 2, 0x68, 0x00, 1, 0]
        bytes += [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]
        #expect(throws: CandidError.self) { try readSendArguments(bytes) }
        do {
            _ = try readSendArguments(bytes)
        } catch {
            #expect(error.kind == .truncated)
        }
    }

    @Test("vec null may be longer than the input, up to the zero-sized limit")
    func vectorOfNulls() throws {
        let bytes = try Candid.encode([CandidNull](repeating: CandidNull(), count: 5_000))
        var reader = try CandidWireReader(bytes)
        let (count, element) = try reader.vector(try reader.nextArgument())
        #expect(count == 5_000)
        for _ in 0..<count { try reader.null(element) }
        try reader.finish()

        var limited = try CandidWireReader(bytes, limits: .init(maxZeroSizedValues: 100))
        #expect(throws: CandidError.self) { _ = try limited.vector(try limited.nextArgument()) }
    }

    @Test("vector of something that is not a vec is a type mismatch")
    func notAVector() throws {
        var reader = try CandidWireReader(try Candid.encode(UInt64(5)))
        do {
            _ = try reader.vector(try reader.nextArgument())
            Issue.record("a nat64 was read as a vec")
        } catch {
            guard case .typeMismatch = error.kind else {
                Issue.record("expected a type mismatch, got \(error)")
                return
            }
        }
    }

    @Test("text: the generic decoder's strings and errors")
    func text() throws {
        for value in ["", "hello", "héllo ✓ 🎉", String(repeating: "x", count: 300)] {
            var reader = try CandidWireReader(try Candid.encode(value))
            #expect(try reader.text(try reader.nextArgument()) == value)
            try reader.finish()
        }
        // DIDL, no table, one text argument: length 2, an invalid UTF-8 sequence.
        let invalid: [UInt8] = Array("DIDL".utf8) + [0, 1, 0x71, 2, 0xc3, 0x28]
        var reader = try CandidWireReader(invalid)
        #expect(throws: CandidError(.invalidUTF8, offset: 7)) { try reader.text(try reader.nextArgument()) }
        #expect(throws: CandidError.self) { try Candid.decode(String.self, from: invalid) }
        var nat = try CandidWireReader(try Candid.encode(UInt64(1)))
        #expect {
            try nat.text(try nat.nextArgument())
        } throws: { error in
            guard let error = error as? CandidError, case .typeMismatch(expected: .text, found: .nat64) = error.kind else { return false }
            return true
        }
    }

    @Test("optional: Candid's opt rule, as the generic decoder applies it to opt text")
    func optionalRule() throws {
        func direct(_ bytes: [UInt8]) throws -> String? {
            var reader = try CandidWireReader(bytes)
            let table = reader.table
            var value: String?
            if let type = try reader.optional(try reader.nextArgument(), accepts: { table.kind($0) == .text }) {
                value = try reader.text(type)
            }
            try reader.finish()
            return value
        }
        let cases: [(String, String, String?)] = [
            ("(opt \"a\")", "(opt text)", "a"), ("(null)", "(opt text)", nil), ("(\"bare\")", "(text)", "bare"),
            ("(null)", "(null)", nil), ("(null)", "(reserved)", nil), ("(opt (1 : nat))", "(opt nat)", nil),
            ("(1 : nat)", "(nat)", nil), ("(opt opt \"a\")", "(opt opt text)", nil),
            ("(record { a = \"x\" })", "(record { a : text })", nil),
        ]
        for (values, types, expected) in cases {
            let bytes = try CandidTestInputs.bytes(values, types)
            #expect(try direct(bytes) == expected, "\(values) : \(types)")
            #expect(try Candid.decode(String?.self, from: bytes) == expected, "\(values) : \(types)")
        }
        let valid = try CandidTestInputs.bytes("(opt \"héllo\")", "(opt text)")
        for change in CandidTestInputs.singleByteChanges(of: valid) {
            #expect((try? direct(change.bytes)) == (try? Candid.decode(String?.self, from: change.bytes)), "\(change.name)")
        }
    }

    @Test("CandidWireWriter writes what CandidEncoder writes")
    func writer() throws {
        let principal = try Principal(text: "aaaaa-aa")
        let long = try Principal(bytes: Array(0..<29))
        for (text, blob, number, flag) in [("", [UInt8](), UInt64(0), false), ("héllo ✓", Array(0..<200), UInt64.max, true)] {
            let generic = try CandidTestInputs.bytes(
                "(\(number) : nat64, \"\(text)\", blob \"\(blob.map { "\\" + String($0, radix: 16).leftPadded(2) }.joined())\", "
                    + "\(flag), principal \"\(principal)\", principal \"\(long)\", 300 : nat)",
                "(nat64, text, blob, bool, principal, principal, nat)")
            let header = Array(generic[..<(try CandidWireReader(generic)).offset])
            var writer = CandidWireWriter(header: header)
            writer.nat64(number)
            writer.text(text)
            writer.blob(blob)
            writer.bool(flag)
            writer.principal(principal)
            writer.principal(long)
            writer.leb(300)
            #expect(writer.bytes == generic)
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
