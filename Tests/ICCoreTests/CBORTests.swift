import ICCore
import ICTestSupport
import Testing

/// A decoding example: hex and the expected value.
struct CBORExample: Sendable, CustomTestStringConvertible {
    let hex: String
    let value: CBORValue
    /// Whether our encoder reproduces `hex` exactly (shortest, definite, non-float).
    let canonical: Bool
    var testDescription: String { hex }

    init(_ hex: String, _ value: CBORValue, canonical: Bool = true) {
        self.hex = hex
        self.value = value
        self.canonical = canonical
    }
}

enum RFC8949 {
    static let twoTo64 = BigNat(limbs: [0, 1])

    /// RFC 8949 Appendix A (all examples except those needing floats, which are below).
    static let examples: [CBORExample] = [
        .init("00", 0), .init("01", 1), .init("0a", 10), .init("17", 23), .init("1818", 24),
        .init("1819", 25), .init("1864", 100), .init("1903e8", 1000), .init("1a000f4240", 1_000_000),
        .init("1b000000e8d4a51000", .unsigned(1_000_000_000_000)),
        .init("1bffffffffffffffff", .unsigned(UInt64.max)),
        .init("c249010000000000000000", CBORValue(bigNat: twoTo64)),
        .init("3bffffffffffffffff", .negative(UInt64.max)),  // -2^64
        .init("c349010000000000000000", CBORValue(bigInt: BigInt(decimal: "-18446744073709551617")!)),
        .init("20", -1), .init("29", -10), .init("3863", -100), .init("3903e7", -1000),
        .init("f4", false), .init("f5", true), .init("f6", .null), .init("f7", .undefined),
        .init("f0", .simple(16)), .init("f8ff", .simple(255)),
        .init("c074323031332d30332d32315432303a30343a30305a", .tagged(0, "2013-03-21T20:04:00Z")),
        .init("c11a514b67b0", .tagged(1, 1_363_896_240)),
        .init("c1fb41d452d9ec200000", .tagged(1, 1_363_896_240.5)),
        .init("d74401020304", .tagged(23, .byteString([1, 2, 3, 4]))),
        .init("d818456449455446", .tagged(24, .byteString([0x64, 0x49, 0x45, 0x54, 0x46]))),
        .init("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, "http://www.example.com")),
        .init("40", .byteString([])), .init("4401020304", .byteString([1, 2, 3, 4])),
        .init("60", ""), .init("6161", "a"), .init("6449455446", "IETF"), .init("62225c", "\"\\"),
        .init("62c3bc", "\u{00fc}"), .init("63e6b0b4", "\u{6c34}"), .init("64f0908591", "\u{10151}"),
        .init("80", []), .init("83010203", [1, 2, 3]), .init("8301820203820405", [1, [2, 3], [4, 5]]),
        .init("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { CBORValue($0) })),
        .init("a0", [:]), .init("a201020304", [1: 2, 3: 4]),
        .init("a26161016162820203", ["a": 1, "b": [2, 3]]),
        .init("826161a161626163", ["a", ["b": "c"]]),
        .init("a56161614161626142616361436164614461656145", ["a": "A", "b": "B", "c": "C", "d": "D", "e": "E"]),
        // Indefinite lengths.
        .init("5f42010243030405ff", .byteString([1, 2, 3, 4, 5]), canonical: false),
        .init("7f657374726561646d696e67ff", "streaming", canonical: false),
        .init("9fff", [], canonical: false),
        .init("9f018202039f0405ffff", [1, [2, 3], [4, 5]], canonical: false),
        .init("9f01820203820405ff", [1, [2, 3], [4, 5]], canonical: false),
        .init("83018202039f0405ff", [1, [2, 3], [4, 5]], canonical: false),
        .init("83019f0203ff820405", [1, [2, 3], [4, 5]], canonical: false),
        .init("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", .array((1...25).map { CBORValue($0) }), canonical: false),
        .init("bf61610161629f0203ffff", ["a": 1, "b": [2, 3]], canonical: false),
        .init("826161bf61626163ff", ["a", ["b": "c"]], canonical: false),
        .init("bf6346756ef563416d7421ff", ["Fun": true, "Amt": -2], canonical: false),
        // Non-shortest heads are accepted.
        .init("1800", 0, canonical: false), .init("1b0000000000000001", 1, canonical: false),
        .init("5800", .byteString([]), canonical: false), .init("990000", [], canonical: false),
    ]

    /// Appendix A floats: hex and the bit pattern of the double it denotes.
    static let floats: [(hex: String, value: Double)] = [
        ("f90000", 0.0), ("f98000", -0.0), ("f93c00", 1.0), ("fb3ff199999999999a", 1.1),
        ("f93e00", 1.5), ("f97bff", 65504.0), ("fa47c35000", 100000.0),
        ("fa7f7fffff", 3.4028234663852886e+38), ("fb7e37e43c8800759c", 1.0e+300),
        ("f90001", 5.960464477539063e-8), ("f90400", 0.00006103515625), ("f9c400", -4.0),
        ("fbc010666666666666", -4.1), ("f97c00", .infinity), ("f97e00", .nan), ("f9fc00", -.infinity),
        ("fa7f800000", .infinity), ("fa7fc00000", .nan), ("faff800000", -.infinity),
        ("fb7ff0000000000000", .infinity), ("fb7ff8000000000000", .nan), ("fbfff0000000000000", -.infinity),
    ]

    /// RFC 8949 Appendix F: not-well-formed items (each must be rejected).
    static let malformed: [String] = [
        // End of input in a head.
        "18", "19", "1a", "1b", "1901", "1a0102", "1b01020304050607", "38", "58", "78", "98",
        "9a01ff00", "b8", "d8", "f8", "f900", "fa0000", "fb000000",
        // Definite-length strings with short data.
        "41", "61", "5affffffff00", "5bffffffffffffffff010203", "7affffffff00", "7b7fffffffffffffff010203",
        // Definite-length maps and arrays not closed.
        "81", "818181818181818181", "8200", "a1", "a20102", "a100", "a2000000",
        // Tag without content.
        "c0",
        // Indefinite-length strings not closed.
        "5f4100", "7f6100",
        // Indefinite-length arrays and maps not closed.
        "9f", "9f0102", "bf", "bf01020102", "819f", "9f8000", "9f9f9f9f9fffffffff", "9f819f819f9fffffff",
        // Reserved additional information.
        "1c", "1d", "1e", "3c", "3d", "3e", "5c", "5d", "5e", "7c", "7d", "7e",
        "9c", "9d", "9e", "bc", "bd", "be", "dc", "dd", "de", "fc", "fd", "fe",
        // Reserved two-byte simple values.
        "f800", "f801", "f818", "f81f",
        // Indefinite-length string chunks of the wrong type or not definite.
        "5f00ff", "5f21ff", "5f6100ff", "5f80ff", "5fa0ff", "5fc000ff", "5fe0ff", "7f4100ff",
        "5f5f4100ffff", "7f7f6100ffff",
        // Break outside an indefinite-length item, or in a definite one.
        "ff", "81ff", "8200ff", "a1ff", "a1ff00", "a100ff", "a20000ff", "9f81ff", "9f829f819f9fffffffff",
        // Odd number of items in an indefinite map.
        "bf00ff", "bf000000ff",
        // Indefinite length on major types 0, 1, 6.
        "1f", "3f", "df",
        // Not valid UTF-8.
        "62c328", "62c080", "63eda080", "64f4908080", "62e6b0", "61ff", "7f61c3ff",
        // Duplicate keys.
        "a2616101616102", "a201010102", "bf616101616102ff",
        // Trailing bytes.
        "0000", "80ff", "d9d9f7",
    ]
}

@Suite("CBOR: RFC 8949 examples")
struct CBORExampleTests {
    @Test("decode (and encode when canonical)", arguments: RFC8949.examples)
    func example(_ example: CBORExample) throws {
        let raw = bytes(hex: example.hex)
        let value = try CBORDecoder.decode(raw)
        #expect(value == example.value)
        if example.canonical {
            #expect(hexString(CBOREncoder.encode(example.value)) == example.hex)
        }
        #expect(try CBORDecoder.decode(CBOREncoder.encode(value)) == value)
    }

    @Test("floats decode (half, single, double) and re-encode as doubles")
    func floats() throws {
        for (hex, expected) in RFC8949.floats {
            let value = try CBORDecoder.decode(bytes(hex: hex))
            let decoded = try #require(value.double, "\(hex)")
            if expected.isNaN {
                #expect(decoded.isNaN, "\(hex)")
            } else {
                #expect(decoded.bitPattern == expected.bitPattern, "\(hex)")
            }
            let encoded = value.encoded()
            #expect(encoded.count == 9 && encoded[0] == 0xfb)
            #expect(try CBORDecoder.decode(encoded) == value)
        }
    }

    @Test("malformed input is rejected, never crashes", arguments: RFC8949.malformed)
    func malformed(_ hex: String) {
        #expect(throws: CBORError.self) { try CBORDecoder.decode(bytes(hex: hex)) }
    }
}

@Suite("CBOR decoder")
struct CBORDecoderTests {
    func error(_ hex: String, _ decoder: CBORDecoder = CBORDecoder()) -> CBORError? {
        do {
            _ = try decoder.decode(bytes(hex: hex))
            return nil
        } catch {
            return error
        }
    }

    @Test("errors carry kind and offset")
    func errorOffsets() {
        #expect(error("18") == CBORError(.unexpectedEnd(context: .argument(byteCount: 1), remaining: 0), at: 0))
        #expect(error("8201") == CBORError(.unexpectedEnd(context: .array(count: 2), remaining: 1), at: 0))
        #expect(error("a1ff00") == CBORError(.unexpectedBreak, at: 1))
        #expect(error("1c") == CBORError(.reservedAdditionalInfo(28), at: 0))
        #expect(error("83011e02") == CBORError(.reservedAdditionalInfo(30), at: 2))
        #expect(error("826162ff") == CBORError(.unexpectedBreak, at: 3))
        #expect(error("8262c328") == CBORError(.invalidUTF8, at: 1))
        #expect(error("a3616101616202616101") == CBORError(.duplicateMapKey, at: 7))
        #expect(error("bf00ff") == CBORError(.missingMapValue, at: 2))
        #expect(error("5f4101610000ff") == CBORError(.invalidStringChunk(expectedMajorType: 2, foundMajorType: 3), at: 3))
        #expect(error("f810") == CBORError(.invalidSimpleValue(16), at: 0))
        #expect(error("1f") == CBORError(.indefiniteLengthNotAllowed(majorType: 0), at: 0))
        #expect(error("0001") == CBORError(.trailingBytes(count: 1), at: 1))
        #expect(error("d9d9f7") == CBORError(.unexpectedEnd(context: .itemHead, remaining: 0), at: 3))
        #expect(error("") == CBORError(.unexpectedEnd(context: .itemHead, remaining: 0), at: 0))
        #expect(error("9f01") == CBORError(.unexpectedEnd(context: .indefiniteArray, remaining: 0), at: 0))
        #expect(error("c1") == CBORError(.unexpectedEnd(context: .tagContent(tag: 1), remaining: 0), at: 0))
    }

    @Test("error descriptions say what and where")
    func descriptions() throws {
        // 17 bytes of array, then a byte string declaring 300 bytes with only 2 present.
        let input: [UInt8] = [0x82, 0x50] + [UInt8](repeating: 7, count: 16) + bytes(hex: "59012c0102")
        let failure = try #require(error(hexString(input)))
        #expect(failure == CBORError(.unexpectedEnd(context: .byteString(length: 300), remaining: 2), at: 18))
        #expect(
            failure.description
                == "CBOR: unexpected end of input at offset 18 while reading a byte string of length 300 (only 2 bytes remain)")
        #expect(CBORError(.duplicateMapKey, at: 5).description == "CBOR: duplicate map key at offset 5")
    }

    @Test("huge declared lengths fail immediately without allocating")
    func hugeLengths() {
        let unlimited = CBORDecoder(limits: .init(maxStringLength: Int.max))
        #expect(
            error("5b7fffffffffffffff", unlimited)
                == CBORError(.unexpectedEnd(context: .byteString(length: 0x7fff_ffff_ffff_ffff), remaining: 0), at: 0))
        #expect(error("5bffffffffffffffff01", unlimited) == CBORError(.stringTooLong(length: UInt64.max, limit: Int.max), at: 0))
        #expect(error("5b7fffffffffffffff") == CBORError(.stringTooLong(length: 0x7fff_ffff_ffff_ffff, limit: 64 << 20), at: 0))
        #expect(error("7bffffffffffffffff00") == CBORError(.stringTooLong(length: UInt64.max, limit: 64 << 20), at: 0))
        #expect(error("9bffffffffffffffff00") == CBORError(.unexpectedEnd(context: .array(count: UInt64.max), remaining: 1), at: 0))
        #expect(
            error("bb7fffffffffffffff0000") == CBORError(.unexpectedEnd(context: .map(count: 0x7fff_ffff_ffff_ffff), remaining: 2), at: 0))
        #expect(error("a20000") == CBORError(.unexpectedEnd(context: .map(count: 2), remaining: 2), at: 0))
        #expect(error("5f5affffffff00ff") != nil)
    }

    @Test("limits: depth, items, string length, input length")
    func limits() throws {
        for opener: UInt8 in [0x81, 0x9f, 0xa1, 0xc1] {
            var bomb = [UInt8](repeating: opener, count: 10_000)
            if opener == 0xa1 { bomb = (0..<5_000).flatMap { _ in [0xa1, 0x00] as [UInt8] } }
            bomb.append(0)
            #expect(throws: CBORError.self) { try CBORDecoder.decode(bomb) }
            do {
                _ = try CBORDecoder.decode(bomb)
            } catch {
                #expect(error.kind == .depthLimitExceeded(limit: 128))
            }
        }
        let deep = [UInt8](repeating: 0x81, count: 128) + [0x00]
        #expect(throws: Never.self) { try CBORDecoder.decode(deep) }
        #expect(throws: CBORError(.depthLimitExceeded(limit: 128), at: 128)) {
            try CBORDecoder.decode([UInt8](repeating: 0x81, count: 129) + [0x00])
        }
        let small = CBORDecoder(limits: .init(maxDepth: 2, maxItems: 5, maxInputLength: 8, maxStringLength: 3))
        #expect(throws: CBORError(.depthLimitExceeded(limit: 2), at: 2)) { try small.decode(bytes(hex: "81818100")) }
        #expect(throws: Never.self) { try small.decode(bytes(hex: "818100")) }
        #expect(throws: CBORError(.itemLimitExceeded(limit: 5), at: 5)) { try small.decode(bytes(hex: "850102030405")) }
        #expect(throws: CBORError(.stringTooLong(length: 4, limit: 3), at: 0)) { try small.decode(bytes(hex: "4401020304")) }
        #expect(throws: CBORError(.stringTooLong(length: 4, limit: 3), at: 4)) { try small.decode(bytes(hex: "5f420102420304ff")) }
        #expect(throws: CBORError(.inputTooLong(length: 9, limit: 8), at: 0)) { try small.decode([UInt8](repeating: 0, count: 9)) }
        #expect(
            CBORDecoder.Limits.default
                == CBORDecoder.Limits(maxDepth: 128, maxItems: 1_000_000, maxInputLength: 64 << 20, maxStringLength: 64 << 20))
    }

    @Test("self-describe tag: skipped at the top, optional, kept when nested")
    func selfDescribe() throws {
        #expect(try CBORDecoder.decode(bytes(hex: "d9d9f700")) == 0)
        #expect(try CBORDecoder.decode(bytes(hex: "d9d9f7d9d9f7a0")) == [:])
        #expect(try CBORDecoder.decode(bytes(hex: "da0000d9f700")) == 0)  // non-shortest tag head
        #expect(try CBORDecoder.decode(bytes(hex: "81d9d9f700")) == [.tagged(55799, 0)])
        #expect(try CBORDecoder.decode(bytes(hex: "d9d9f6d9d9f700")) == .tagged(55798, .tagged(55799, 0)))
        #expect(CBOREncoder.encode([1], selfDescribe: true) == [0xd9, 0xd9, 0xf7, 0x81, 0x01])
        #expect(CBORValue.tagged(55799, 5).removingSelfDescribeTag == 5)
    }

    @Test("trailing bytes: configurable; prefix decoding reports the length")
    func trailing() throws {
        let lenient = CBORDecoder(allowsTrailingBytes: true)
        #expect(try lenient.decode([0x01, 0x02]) == 1)
        #expect(try CBORDecoder().decodePrefix([0xd9, 0xd9, 0xf7, 0x82, 0x01, 0x02, 0xff]) == (value: [1, 2], byteCount: 6))
        let raw: [UInt8] = [0x83, 0x01, 0x02, 0x03]
        let value = try raw.withUnsafeBytes { buffer in try CBORDecoder().decode(buffer) }
        #expect(value == [1, 2, 3])
    }

    @Test("duplicate keys in big maps are found (set path)")
    func bigMapDuplicates() throws {
        var encoder = CBOREncoder()
        encoder.writeMapHeader(count: 40)
        for index in 0..<40 {
            encoder.writeText("key\(index % 39)")  // key0 repeats at index 39
            encoder.writeUnsigned(UInt64(index))
        }
        #expect(throws: CBORError.self) { try CBORDecoder.decode(encoder.bytes) }
        var unique = CBOREncoder()
        unique.writeMapHeader(count: 40)
        for index in 0..<40 {
            unique.writeText("key\(index)")
            unique.writeUnsigned(UInt64(index))
        }
        let map = try CBORDecoder.decode(unique.bytes)
        #expect(map["key39"] == 39)
        #expect(map.mapEntries?.first?.key == "key0")  // wire order kept
        // 1 and 1 written with different head widths are the same key.
        #expect(throws: CBORError(.duplicateMapKey, at: 3)) { try CBORDecoder.decode(bytes(hex: "a20100180100")) }
        // Canonically equivalent but byte-different text keys are distinct.
        #expect(try CBORDecoder.decode(bytes(hex: "a262c3a9016365cc8102")).mapEntries?.count == 2)
    }

    @Test("valid UTF-8 edge cases decode")
    func utf8Edges() throws {
        for hex in ["637fdf80", "63ef bfbf".replacingOccurrences(of: " ", with: ""), "64f48fbfbf", "63ee8080", "63ed9fbf"] {
            #expect(throws: Never.self) { try CBORDecoder.decode(bytes(hex: hex)) }
        }
    }
}

@Suite("CBOR values and encoder")
struct CBORValueTests {
    @Test("shortest heads at every boundary")
    func heads() {
        let cases: [(UInt64, String)] = [
            (23, "17"), (24, "1818"), (255, "18ff"), (256, "190100"), (65535, "19ffff"),
            (65536, "1a00010000"), (0xffff_ffff, "1affffffff"), (0x1_0000_0000, "1b0000000100000000"),
        ]
        for (n, hex) in cases {
            #expect(hexString(CBORValue.unsigned(n).encoded()) == hex)
            var encoder = CBOREncoder()
            encoder.writeHead(majorType: 1, argument: n)
            #expect(encoder.bytes[0] >> 5 == 1)
        }
        #expect(CBORValue(Int64.min).encoded() == bytes(hex: "3b7fffffffffffffff"))
        #expect(CBORValue(Int64.min).int64 == Int64.min)
        #expect(CBORValue.negative(UInt64.max).int64 == nil)
    }

    @Test("sorted map keys (RFC 8949 §4.2.1 order)")
    func sortedKeys() throws {
        let map: CBORValue = [false: 8, [-1]: 7, [100]: 6, "aa": 5, "z": 4, -1: 3, 100: 2, 10: 1]
        let encoded = CBOREncoder.encode(map, sortsMapKeys: true)
        let decoded = try CBORDecoder.decode(encoded)
        #expect(decoded.mapEntries?.map { $0.value } == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(CBOREncoder.encode(map).count == encoded.count)
    }

    @Test("accessors, subscripts and bignum helpers")
    func accessors() throws {
        let value: CBORValue = ["n": 5, "s": "text", "b": .byteString([1]), "a": [1, -2], "f": 2.5, "t": true, "z": .null]
        #expect(value["n"]?.uint64 == 5)
        #expect(value["s"]?.text == "text")
        #expect(value["b"]?.bytes == [1])
        #expect(value["a"]?[1]?.int64 == -2)
        #expect(value["a"]?[2] == nil)
        #expect(value["f"]?.double == 2.5)
        #expect(value["t"]?.boolValue == true)
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(value[key: "n"] == 5)
        #expect(CBORValue.tagged(2, .byteString([1, 0])).tag == 2)
        #expect(CBORValue.tagged(2, .byteString([1, 0])).bigNat == BigNat(256))
        #expect(CBORValue.tagged(2, .byteString([])).bigNat == BigNat.zero)
        #expect(CBORValue.tagged(3, .byteString([0])).bigInt == BigInt(-1))
        #expect(CBORValue.negative(0).bigInt == BigInt(-1))
        #expect(CBORValue.negative(UInt64.max).bigInt == BigInt(decimal: "-18446744073709551616"))
        #expect(CBORValue.unsigned(7).bigInt == BigInt(7))
        #expect(CBORValue(bigNat: BigNat(5)) == 5)
        #expect(CBORValue(bigInt: BigInt(-5)) == -5)
        let big = BigNat(decimal: "340282366920938463463374607431768211455")!  // 2^128 - 1
        #expect(CBORValue(bigNat: big).bigNat == big)
        #expect(CBORValue(bigNat: big).encoded() == [0xc2, 0x50] + [UInt8](repeating: 0xff, count: 16))
        let negative = BigInt(isNegative: true, magnitude: big)
        #expect(CBORValue(bigInt: negative).bigInt == negative)
        #expect(CBORValue.float(.nan) == CBORValue.float(.nan))
        #expect(CBORValue.textString("é") != CBORValue.textString("e\u{301}"))  // byte-exact
    }

    @Test("random values round-trip", arguments: 0..<20)
    func randomRoundTrip(seed: Int) throws {
        var random = TestRandom(seed: UInt64(seed) + 1000)
        for _ in 0..<20 {
            let value = Self.randomValue(&random, depth: 0)
            let encoded = value.encoded()
            #expect(try CBORDecoder.decode(encoded) == value)
            #expect(try CBORDecoder.decode(value.encoded(selfDescribe: true)) == value)
        }
    }

    static func randomValue(_ random: inout TestRandom, depth: Int) -> CBORValue {
        let choice = random.below(depth > 4 ? 9 : 12)
        switch choice {
        case 0: return .unsigned(random.next() >> UInt64(random.below(64)))
        case 1: return .negative(random.next() >> UInt64(random.below(64)))
        case 2: return .byteString(random.bytes(random.below(40)))
        case 3:
            let scalars = (0..<random.below(10)).compactMap { _ in Unicode.Scalar(UInt32(random.below(0x11_0000))) }
            return .textString(String(String.UnicodeScalarView(scalars)))
        case 4: return .bool(random.below(2) == 0)
        case 5: return [.null, .undefined, .simple(UInt8(random.below(20))), .simple(UInt8(32 + random.below(224)))][random.below(4)]
        case 6: return .float(Double(bitPattern: random.next()))
        case 7: return CBORValue(Int64(bitPattern: random.next()))
        case 8: return CBORValue(bigNat: BigNat(limbs: [random.next(), random.next()]))
        case 9: return .array((0..<random.below(6)).map { _ in randomValue(&random, depth: depth + 1) })
        case 10:
            var entries = [(key: CBORValue, value: CBORValue)]()
            var keys = Set<CBORValue>()
            for _ in 0..<random.below(6) {
                let key = randomValue(&random, depth: depth + 1)
                if keys.insert(key).inserted { entries.append((key: key, value: randomValue(&random, depth: depth + 1))) }
            }
            return .map(entries)
        default: return .tagged(random.next() >> UInt64(random.below(64)), randomValue(&random, depth: depth + 1))
        }
    }
}
