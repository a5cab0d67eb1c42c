import ICCore
import ICTestSupport
import Testing

/// Checks that `body` throws a `CandidError` of the given kind (wherever it was found).
private func expectError(
    _ kind: CandidError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(kind), nothing thrown", sourceLocation: sourceLocation)
    } catch let error as CandidError {
        #expect(error.kind == kind, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

private func parse(_ types: String, _ definitions: String = "") throws -> [CandidType] {
    try CandidTextParser.parseArgumentTypes(types, environment: CandidTypeEnvironment(parsing: definitions))
}

private func textValues(_ text: String, _ definitions: String = "") throws -> [CandidValue] {
    try CandidTextParser.parseArguments(text, environment: CandidTypeEnvironment(parsing: definitions))
}

/// Encodes text values at text types, decodes the bytes back at the same types, and checks
/// the result equals the values coerced to the types.
private func roundTrip(_ valueText: String, _ typeText: String, _ definitions: String = "") throws -> [UInt8] {
    let types = try parse(typeText, definitions)
    let coerced = try CandidValue.coerce(textValues(valueText, definitions), to: types)
    let bytes = try CandidEncoder.encode(coerced, types: types)
    let decoded = try CandidDecoder().decode(bytes, as: types)
    #expect(decoded == coerced, "\(valueText) : \(typeText)")
    // Also at the wire types, and as `reserved`.
    #expect(try CandidDecoder().decode(bytes) == coerced, "\(valueText) at wire types")
    _ = try CandidDecoder().decode(bytes, as: types.map { _ in .reserved })
    return bytes
}

@Suite("Candid round trips")
struct CandidRoundTripTests {
    static let cases: [(String, String)] = [
        ("(null, true, false)", "(null, bool, bool)"),
        ("(0, 340282366920938463463374607431768211456, -170141183460469231731687303715884105728)", "(nat, nat, int)"),
        ("(255, 65535, 4294967295, 18446744073709551615)", "(nat8, nat16, nat32, nat64)"),
        ("(-128, -32768, -2147483648, -9223372036854775808)", "(int8, int16, int32, int64)"),
        ("(1.5, -0.25, 1e10, 0x1p-2)", "(float32, float64, float64, float64)"),
        ("(\"\", \"☃ \\u{1F402} \\n\\t\\\"\")", "(text, text)"),
        ("(null, principal \"aaaaa-aa\", principal \"ryjl3-tyaaa-aaaaa-aaaba-cai\")", "(reserved, principal, principal)"),
        ("(opt 1, null, opt opt null, opt null)", "(opt nat, opt nat, opt opt nat, opt opt nat)"),
        ("(vec {}, vec { 1; 2; 3 }, blob \"\\00\\ff\", vec { vec { \"a\" }; vec {} })", "(vec int, vec int8, blob, vec vec text)"),
        (
            "(record {}, record { 1; \"x\" }, record { foo = 42; bar = true })",
            "(record {}, record { nat; text }, record { foo: int; bar: bool })"
        ),
        (
            "(variant { ok = 1 }, variant { b }, variant { 4294967295 = \"max\" })",
            "(variant { ok: nat; err: text }, variant { a; b; c }, variant { 4294967295: text })"
        ),
        (
            "(service \"w7x7r-cok77-xa\", func \"w7x7r-cok77-xa\".foo, func \"aaaaa-aa\".\"🐂\")",
            "(service { foo: (text) -> (nat) query }, func (text) -> (nat) query, func () -> () oneway)"
        ),
        ("(record { \"☃\" = opt vec { record { 5; null } } })", "(record { \"☃\": opt vec record { nat; opt int } })"),
    ]

    @Test("every type", arguments: 0..<cases.count)
    func everyType(index: Int) throws {
        _ = try roundTrip(Self.cases[index].0, Self.cases[index].1)
    }

    @Test("recursive types: lists, trees, mutual recursion")
    func recursive() throws {
        let definitions = """
            type List = opt record { head: int; tail: List };
            type Tree = variant { leaf: int; node: record { left: Tree; right: Tree } };
            type A = opt record { b: B }; type B = record { a: A; n: nat8 };
            """
        let bytes = try roundTrip(
            "(opt record { head = 1; tail = opt record { head = -2; tail = null } })", "(List)", definitions)
        // One table entry per recursive component: opt and record.
        #expect(try CandidDecoder().header(of: bytes).table.nodes.count == 2)
        _ = try roundTrip(
            """
            (variant { node = record { left = variant { leaf = 1 };
                                       right = variant { node = record { left = variant { leaf = 2 }; right = variant { leaf = 3 } } } } })
            """, "(Tree)", definitions)
        _ = try roundTrip("(opt record { b = record { a = opt record { b = record { a = null; n = 2 } }; n = 1 } })", "(A)", definitions)
    }

    @Test("identical types share one table entry; binary output is stable")
    func sharing() throws {
        let bytes = try roundTrip("(opt 1, null, vec { opt 2 })", "(opt nat, opt nat, vec opt nat)")
        #expect(hexString(bytes) == "4449444c026e7d6d0003000001010100010102")
    }

    @Test("a long list at the depth limit decodes; one level deeper fails")
    func depth() throws {
        let list = CandidType.recursive("L", .opt(.record([.field(0, .nat8), .field(1, .reference("L"))])))
        func build(_ n: Int) -> CandidValue {
            var value = CandidValue.opt(nil)
            for i in 0..<n { value = .opt(.tuple([.nat8(UInt8(i % 256)), value])) }
            return value
        }
        // Each element nests two levels (opt, record); the outermost value is level 1.
        let limits = CandidDecoder.Limits(maxDepth: 201)
        let ok = try CandidEncoder.encode([build(100)], types: [list])
        #expect(try CandidDecoder(limits: limits).decode(ok, as: [list]) == [build(100)])
        let tooDeep = try CandidEncoder.encode([build(101)], types: [list])
        expectError(.depthLimitExceeded(limit: 201)) { _ = try CandidDecoder(limits: limits).decode(tooDeep, as: [list]) }
        // The default limit works on the test thread's stack (debug build, deepest path).
        let deep = try CandidEncoder.encode([build(127)], types: [list])
        #expect(try CandidDecoder().decode(deep, as: [list]).count == 1)
        #expect(try CandidDecoder().decode(deep, as: [.opt(.reserved)]).count == 1)
    }
}

@Suite("Candid coercion and subtyping")
struct CandidSubtypingTests {
    static let subtypes: [(String, String, Bool)] = [
        ("nat", "int", true), ("int", "nat", false), ("nat8", "nat", false),
        ("empty", "record { a: nat }", true), ("text", "reserved", true), ("reserved", "text", false),
        ("nat", "opt bool", true), ("opt text", "opt nat", true), ("null", "opt nat", true),
        ("record { a: nat; b: text }", "record { a: int }", true),
        ("record {}", "record { a: opt nat; b: null; c: reserved }", true),
        ("record {}", "record { a: nat }", false),
        ("variant { a }", "variant { a; b: nat }", true),
        ("variant { a; c }", "variant { a; b }", false),
        ("vec nat", "vec int", true), ("vec int", "vec nat", false),
        ("func (int) -> (nat)", "func (nat) -> (int)", true),
        ("func (nat) -> (nat)", "func (int) -> (nat)", false),
        ("func () -> ()", "func (text) -> (opt nat)", true),
        ("func (text) -> ()", "func () -> ()", false),
        ("func () -> () query", "func () -> ()", false),
        ("service { a: () -> (); b: () -> () }", "service { a: () -> () }", true),
        ("service { a: () -> () }", "service { b: () -> () }", false),
        ("service {}", "principal", true), ("principal", "service {}", false),
    ]

    @Test("subtype relation", arguments: 0..<subtypes.count)
    func relation(index: Int) throws {
        let (a, b, expected) = Self.subtypes[index]
        let t = try CandidTextParser.parseType(a)
        let u = try CandidTextParser.parseType(b)
        #expect(try t.isSubtype(of: u) == expected, "\(a) <: \(b)")
    }

    @Test("recursive subtyping (co-inductive)")
    func recursive() throws {
        let env = try CandidTypeEnvironment(
            parsing: """
                type Stream = opt record { head: nat; tail: Stream };
                type IntStream = opt record { head: int; tail: IntStream };
                type Tree = record { children: vec Tree; value: nat };
                type IntTree = record { children: vec IntTree; value: int };
                type BadTree = record { children: vec BadTree; value: nat8 };
                """)
        func type(_ s: String) throws -> CandidType { try CandidTextParser.parseType(s, environment: env) }
        #expect(try type("Stream").isSubtype(of: type("IntStream")))
        #expect(try type("Tree").isSubtype(of: type("IntTree")))
        #expect(try !type("IntTree").isSubtype(of: type("Tree")))
        #expect(try !type("Tree").isSubtype(of: type("BadTree")))
        // Rollback: a failed check does not leave pairs proven under a false assumption.
        let a = try type("func (IntTree) -> ()"), b = try type("func (Tree) -> ()")
        #expect(try a.isSubtype(of: b))
        #expect(try !b.isSubtype(of: a))
    }

    @Test("func references in a vector: the subtype check is memoised and shared")
    func references() throws {
        let wireType = try CandidTextParser.parseType("vec func (int) -> (nat, text) query")
        let expectedType = try CandidTextParser.parseType("vec func (nat) -> (int) query")
        var refs = [CandidValue]()
        for i in 0..<100 { refs.append(.function(service: .managementCanister, method: "m\(i)")) }
        let bytes = try CandidEncoder.encode([.vec(refs)], types: [wireType])
        #expect(try CandidDecoder().decode(bytes, as: [expectedType]) == [.vec(refs)])
        let wrong = try CandidTextParser.parseType("vec func (nat) -> (int)")
        #expect(throws: CandidError.self) { try CandidDecoder().decode(bytes, as: [wrong]) }
        let optional = try CandidTextParser.parseType("opt vec func (nat) -> (int)")
        #expect(try CandidDecoder().decode(bytes, as: [optional]) == [.opt(nil)])
    }

    @Test("opt fallback rewinds and still validates the skipped value")
    func optFallback() throws {
        let wire = try CandidTextParser.parseType("vec record { a: nat; b: text }")
        let bytes = try CandidEncoder.encode(
            [.vec([.record(sorting: [.field("a", .nat(BigNat(1))), .field("b", .text("x"))])])], types: [wire])
        // `b: text` does not read as `nat`: the whole option becomes null, the rest decodes.
        let expected = try parse("(opt vec record { a: nat; b: nat })")
        #expect(try CandidDecoder().decode(bytes, as: expected) == [.opt(nil)])
        // Corrupt the text's UTF-8: no longer a coercion failure but invalid input.
        var corrupt = bytes
        corrupt[corrupt.count - 1] = 0xff
        #expect(throws: CandidError(.invalidUTF8, offset: corrupt.count - 2)) {
            try CandidDecoder().decode(corrupt, as: expected)
        }
    }

    @Test("coercion of text values: ranges, defaults, errors")
    func textCoercion() throws {
        #expect(throws: CandidError(.numberOutOfRange(expected: .nat8))) {
            try CandidValue.nat(BigNat(256)).coerced(to: .nat8)
        }
        #expect(throws: CandidError(.missingField(id: idHash("b")))) {
            try CandidTextParser.parseValue("record { a = 1 }").coerced(to: CandidTextParser.parseType("record { a: nat; b: nat }"))
        }
        #expect(
            try CandidTextParser.parseValue("record { a = 1 }")
                .coerced(to: CandidTextParser.parseType("record { a: nat; b: opt nat }"))
                == .record([.field("a", .nat(BigNat(1))), .field("b", .opt(nil))].sorted { $0.id < $1.id }))
        #expect(try CandidTextParser.parseValue("(-3 : int8)") == .int8(-3))
        #expect(try CandidTextParser.parseValue("opt \"x\"").coerced(to: .opt(.nat)) == .opt(nil))
        #expect(try CandidTextParser.parseValue("vec { 1; 2 }").coerced(to: .blob) == .blob([1, 2]))
    }
}

@Suite("Candid resource limits and malformed input")
struct CandidLimitTests {
    static let bombs: [(String, String)] = [
        ("vec null, count 10^9", "4449444c016d7f01008094ebdc03"),
        ("vec reserved, count 10^9", "4449444c016d7001008094ebdc03"),
        ("vec record {}, count 10^7", "4449444c026d016c00010080ade204"),
        ("vec vec null", "4449444c026d016d7f010005ffff3fffff3fffff3fffff3fffff3f"),
    ]

    @Test("zero-sized vector bombs are rejected quickly", arguments: 0..<bombs.count)
    func zeroSizedBombs(index: Int) throws {
        let input = bytes(hex: Self.bombs[index].1)
        let clock = ContinuousClock()
        for types in [[], [CandidType.reserved], [.opt(.nat)], [.vec(.reserved)]] {
            let elapsed = clock.measure {
                #expect(throws: CandidError.self) { try CandidDecoder().decode(input, as: types) }
            }
            #expect(elapsed < .seconds(5))
        }
        // A tighter budget fails sooner.
        let limits = CandidDecoder.Limits(maxZeroSizedValues: 1000)
        expectError(.zeroSizedValueLimitExceeded(limit: 1000)) { _ = try CandidDecoder(limits: limits).decode(input, as: []) }
    }

    @Test("vec null within the budget is fine")
    func smallVecNull() throws {
        let input = bytes(hex: "4449444c016d7f0100e807")  // 1000 nulls
        #expect(try CandidDecoder().decode(input, as: [.vec(.null)]) == [.vec(Array(repeating: .null, count: 1000))])
        #expect(throws: CandidError.self) {
            try CandidDecoder(limits: .init(maxZeroSizedValues: 999)).decode(input, as: [.vec(.null)])
        }
    }

    @Test("huge counts and lengths fail on the count, before any allocation")
    func overshoot() throws {
        for hex in [
            "4449444c8094ebdc0300", "4449444c0001718094ebdc034d6f", "4449444c016d7e01008094ebdc03000000",
            "4449444c016c8094ebdc03", "4449444c016a8094ebdc03",
        ] {
            #expect(throws: CandidError.self) { try CandidDecoder().decode(bytes(hex: hex)) }
        }
        let limits = CandidDecoder.Limits(maxTypeTableEntries: 1)
        #expect(throws: CandidError(.typeTableLimitExceeded(limit: 1), offset: 4)) {
            try CandidDecoder(limits: limits).decode(bytes(hex: "4449444c026e7d6e7d0000"))
        }
    }

    @Test("every truncation of a valid message is rejected without crashing")
    func truncations() throws {
        let types = try parse("(record { a: vec opt text; b: variant { x: int; y: principal }; c: float64 }, func () -> (), nat)")
        let value = try textValues(
            """
            (record { a = vec { opt "hello"; null; opt "☃" }; b = variant { y = principal "ryjl3-tyaaa-aaaaa-aaaba-cai" }; c = 2.5 },
             func "aaaaa-aa".m, 300)
            """)
        let full = try CandidEncoder.encode(value, types: types)
        _ = try CandidDecoder().decode(full, as: types)
        for length in 0..<full.count {
            #expect(throws: CandidError.self) { try CandidDecoder().decode(Array(full[..<length]), as: types) }
            #expect(throws: CandidError.self) { try CandidDecoder().decode(Array(full[..<length])) }
        }
        #expect(throws: CandidError(.trailingBytes(count: 1), offset: full.count)) {
            try CandidDecoder().decode(full + [0], as: types)
        }
    }

    @Test("errors say what was expected and found, and where")
    func messages() throws {
        let input = bytes(hex: "4449444c0001710568656c6c6f")  // ("hello")
        do {
            _ = try CandidDecoder().decode(input, as: [.nat8])
            Issue.record("decoded text as nat8")
        } catch {
            #expect(error == CandidError(.typeMismatch(expected: .nat8, found: .text), offset: 7))
            #expect(error.description == "expected nat8 at offset 7, found text")
        }
    }
}

@Suite("Candid text parser")
struct CandidTextParserTests {
    @Test("types with comments, named arguments, definitions and shorthands")
    func types() throws {
        let env = try CandidTypeEnvironment(
            parsing: """
                // comment
                type Id = nat64; /* block /* nested */ comment */
                type F = func (x: Id, text) -> (opt Id) composite_query;
                type S = service { "with space": F; plain: (nat) -> () };
                """)
        let types = try CandidTextParser.parseArgumentTypes("(S, record { Id; id: Id }, variant { a; \"b\"; 3 }, blob)", environment: env)
        #expect(types.count == 4)
        #expect(throws: CandidError(.unknownTypeName(Array("Nope".utf8)))) {
            try CandidTextParser.parseType("Nope")
        }
        #expect(throws: CandidError(.nonWellFoundedType)) {
            try CandidEncoder.encode(
                [.null], types: [CandidTextParser.parseType("T", environment: CandidTypeEnvironment(parsing: "type T = T;"))])
        }
    }

    @Test("values: numbers, escapes, shorthands")
    func values() throws {
        #expect(try CandidTextParser.parseValue("0xff_ff") == .nat(BigNat(65535)))
        #expect(try CandidTextParser.parseValue("-1_000") == .int(BigInt(-1000)))
        #expect(try CandidTextParser.parseValue("+5") == .int(BigInt(5)))
        #expect(try CandidTextParser.parseValue("1.25e2") == .float64(125))
        #expect(try CandidTextParser.parseValue("-0.5") == .float64(-0.5))
        #expect(try CandidTextParser.parseValue("\"\\u{26_03}\\41\\n\"") == .text("☃A\n"))
        #expect(try CandidTextParser.parseValue("blob \"\\00asm\"") == .blob([0, 0x61, 0x73, 0x6d]))
        #expect(try CandidTextParser.parseValue("variant { ok }") == .variant("ok"))
        #expect(
            try CandidTextParser.parseValue("record { 5 = true; false }")
                == .record([.field(5, .bool(true)), .field(6, .bool(false))]))
        #expect(throws: CandidError.self) { try CandidTextParser.parseValue("\"\\ff\"") }  // not UTF-8
        #expect(throws: CandidError.self) { try CandidTextParser.parseValue("principal \"not-a-principal\"") }
        #expect(throws: CandidError.self) { try CandidTextParser.parseValue("record { a = 1; a = 2 }") }
        #expect(throws: CandidError.self) { try CandidTextParser.parseArguments("(1, 2") }
    }

    @Test("printing a value gives text that parses back to it")
    func printing() throws {
        let text = "(record { a = vec { opt \"x\\n\"; null }; b = variant { y = principal \"aaaaa-aa\" }; c = blob \"\\01\" })"
        let types = try parse("(record { a: vec opt text; b: variant { x; y: principal }; c: blob })")
        let value = try CandidValue.coerce(textValues(text), to: types)[0]
        let reparsed = try CandidTextParser.parseValue(value.description).coerced(to: types[0])
        #expect(reparsed == value)
    }
}
