import ICCore
import Testing

@Suite("Candid text printer and type inference")
struct CandidTextPrinterTests {
    static let resultNames = CandidFieldNames(["Ok", "Err", "messages", "cert", "tree", "is_end_of_queue", "text", "first name"])

    @Test("names known from a type are printed; unknown ids stay numbers")
    func names() throws {
        let type = try CandidTextParser.parseType("variant { Ok : record { count : nat64; label : text }; Err : text }")
        let names = CandidFieldNames(collectingFrom: [type])
        let value = try CandidTextParser.parseValue("variant { Ok = record { count = 3 : nat64; label = \"x\"; 42 = true } }")
        #expect(value.candidText(names: names).hasPrefix("variant { Ok = record { "))
        #expect(value.candidText(names: names).contains("count = 3 : nat64;"))
        #expect(value.candidText(names: names).contains("42 = true;"))
        #expect(value.candidText(names: names).contains("label = \"x\";"))
        #expect(value.candidText().contains("\(CandidFieldID.hash("count")) = 3 : nat64"))
    }

    @Test("keywords and non-identifiers are quoted; enumeration tags stand alone; tuples are positional")
    func labels() throws {
        let value: CandidValue = .record(sorting: [
            .field("text", .text("hi")), .field("first name", .nat64(1)), .field("Ok", .variant("Err")),
        ])
        let text = value.candidText(names: Self.resultNames)
        #expect(text.contains("\"text\" = \"hi\";"))
        #expect(text.contains("\"first name\" = 1 : nat64;"))
        #expect(text.contains("Ok = variant { Err }"))
        #expect(CandidValue.tuple([.nat64(1), .text("a")]).candidText() == "record { 1 : nat64; \"a\"; }")
        #expect(CandidValue.record([]).candidText() == "record {}")
        #expect(CandidValue.vec([]).candidText() == "vec {}")
    }

    @Test(
        "printed values parse back to the same value",
        arguments: [
            "(variant { Ok = record { messages = vec { record { 1 = blob \"\\00\\ff\"; 2 = \"k_0\" } }; cert = blob \"\"; is_end_of_queue = true } })",
            "(opt opt null, null, vec { 1; 2; 3 }, -5, principal \"aaaaa-aa\", \"quote \\\" and \\\\\")",
            "(record { 0 = 1 : nat8; 1 = -1 : int64 }, variant { Err = \"Client with key x_1 doesn't have an open connection\" })",
        ])
    func roundTrip(text: String) throws {
        let values = try CandidTextParser.parseArguments(text)
        for multiline in [false, true] {
            let printed = CandidValue.candidText(arguments: values, names: Self.resultNames, multiline: multiline)
            let reparsed = try CandidTextParser.parseArguments(printed)
            #expect(reparsed == values, "\(printed)")
        }
    }

    @Test("multiline output indents nested blocks")
    func multiline() throws {
        let value = try CandidTextParser.parseValue("record { Ok = vec { 1; 2 } }")
        #expect(
            value.candidText(names: Self.resultNames, multiline: true) == """
                record {
                  Ok = vec {
                    1;
                    2;
                  };
                }
                """)
    }

    @Test("inferred types encode what the text says and decode at the receiver's types")
    func inference() throws {
        let values = try CandidTextParser.parseArguments("(10 : nat64, 300_000 : nat64)")
        let bytes = try CandidEncoder.encode(values, types: values.map(CandidType.inferred(from:)))
        let decoded = try Candid.decode(UInt64.self, UInt64.self, from: bytes)
        #expect(decoded.0 == 10 && decoded.1 == 300_000)

        let record = try CandidTextParser.parseValue(
            "record { nonce = 5 : nat64; tags = vec { \"a\" }; none = null; blob = blob \"\\01\" }")
        let type = CandidType.inferred(from: record)
        let wire = try CandidEncoder.encode([record], types: [type])
        let back = try Candid.decodeValues(from: wire)
        #expect(back.first?.candidText(names: CandidFieldNames(["nonce", "tags", "none", "blob"])).contains("nonce = 5 : nat64") == true)
        #expect(CandidType.inferred(from: .vec([])).kind == .vec)
        #expect(CandidType.inferred(from: .opt(nil)).kind == .opt)
        #expect(CandidType.inferred(from: .variant("Ok")).kind == .variant)
    }
}
