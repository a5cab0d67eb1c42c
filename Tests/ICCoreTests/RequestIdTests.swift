import ICCore
import ICTestSupport
import Testing

/// A tagged JSON value of `request_id/request_ids.json`.
indirect enum TaggedValue: Decodable, Sendable {
    case blob([UInt8])
    case text(String)
    case nat(String)
    case int(String)
    case array([TaggedValue])
    case map([String: TaggedValue])

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected one tag"))
        }
        switch key.stringValue {
        case "blob": self = .blob(bytes(hex: try container.decode(String.self, forKey: key)))
        case "text": self = .text(try container.decode(String.self, forKey: key))
        case "nat": self = .nat(try container.decode(String.self, forKey: key))
        case "int": self = .int(try container.decode(String.self, forKey: key))
        case "array": self = .array(try container.decode([TaggedValue].self, forKey: key))
        case "map": self = .map(try container.decode([String: TaggedValue].self, forKey: key))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown tag \(key.stringValue)"))
        }
    }

    /// The CBOR form: blob → byte string, text → text, nat → unsigned/bignum, int → integer/bignum.
    var cbor: CBORValue {
        switch self {
        case .blob(let b): return .byteString(b)
        case .text(let s): return .textString(s)
        case .nat(let n): return CBORValue(bigNat: BigNat(decimal: n)!)
        case .int(let i):
            // A non-negative int becomes an unsigned integer, which hashes as a nat; vectors
            // with such ints are checked through the hasher API only (`hasNonNegativeInt`).
            return CBORValue(bigInt: BigInt(decimal: i)!)
        case .array(let items): return .array(items.map(\.cbor))
        case .map(let fields):
            return .map(fields.sorted { $0.key < $1.key }.map { (key: .textString($0.key), value: $0.value.cbor) })
        }
    }

    /// The hash of the value computed with the field-by-field hasher API (no CBORValue);
    /// this path hashes `int` as SLEB128 regardless of sign.
    var hashWithoutCBOR: [UInt8] {
        switch self {
        case .blob(let b): return SHA256.hash(b)
        case .text(let s): return SHA256.hash(utf8: s)
        case .nat(let n): return RepresentationIndependentHasher.hashNat(BigNat(decimal: n)!)
        case .int(let i): return RepresentationIndependentHasher.hashInt(BigInt(decimal: i)!)
        case .array(let items): return RepresentationIndependentHasher.hashArray(of: items.map(\.hashWithoutCBOR))
        case .map(let fields):
            var hasher = RepresentationIndependentHasher()
            for (key, value) in fields { hasher.add(key: key, valueHash: value.hashWithoutCBOR) }
            return hasher.finalize()
        }
    }

    /// Whether the value contains a non-negative `int` (which CBOR cannot tell from a `nat`).
    var hasNonNegativeInt: Bool {
        switch self {
        case .int(let i): return !(BigInt(decimal: i)!.isNegative)
        case .array(let items): return items.contains { $0.hasNonNegativeInt }
        case .map(let fields): return fields.values.contains { $0.hasNonNegativeInt }
        default: return false
        }
    }
}

struct RequestIdVectors: Decodable {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let input: TaggedValue
        let expected_hash_hex: String
        let intermediate: [String: String]?
        let envelope_cbor_hex: String?
        var testDescription: String { id }
    }
    struct LEBExample: Decodable, Sendable {
        let nat: String?
        let int: String?
        let leb128_hex: String?
        let sleb128_hex: String?
    }
    let vectors: [Vector]
    let leb128_examples: [LEBExample]

    static let loaded: RequestIdVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(RequestIdVectors.self, from: "request_id/request_ids.json") : nil
}

/// Parses the argument of an intermediate-hash label: `H("text")` (with `\xNN` escapes),
/// `H(0xHEX)` or `H(leb128(N))`.
func intermediatePreimage(_ label: String) -> [UInt8]? {
    guard label.hasPrefix("H("), label.hasSuffix(")") else { return nil }
    let inner = String(label.dropFirst(2).dropLast())
    if inner.hasPrefix("\""), inner.hasSuffix("\"") {
        let body = Array(inner.dropFirst().dropLast().utf8)
        var out = [UInt8]()
        var index = 0
        while index < body.count {
            if body[index] == UInt8(ascii: "\\"), index + 3 < body.count, body[index + 1] == UInt8(ascii: "x") {
                out.append(UInt8(String(decoding: body[index + 2...index + 3], as: UTF8.self), radix: 16)!)
                index += 4
            } else {
                out.append(body[index])
                index += 1
            }
        }
        return out
    }
    if inner.hasPrefix("0x") { return bytes(hex: String(inner.dropFirst(2)).lowercased()) }
    if inner.hasPrefix("leb128("), inner.hasSuffix(")") {
        var out = [UInt8]()
        LEB128.encode(BigNat(decimal: String(inner.dropFirst(7).dropLast()))!, into: &out)
        return out
    }
    return nil
}

@Suite("Request id vectors", .enabled(if: TestVectors.isAvailable))
struct RequestIdVectorTests {
    @Test("all 19 vectors present")
    func count() throws {
        #expect(try #require(RequestIdVectors.loaded).vectors.count == 19)
    }

    @Test("hash_of_map / hash_value", arguments: RequestIdVectors.loaded?.vectors ?? [])
    func vector(_ vector: RequestIdVectors.Vector) throws {
        // Field-by-field hasher (exact types, including non-negative ints).
        #expect(hexString(vector.input.hashWithoutCBOR) == vector.expected_hash_hex)
        // Through CBORValue (a non-negative int is indistinguishable from a nat in CBOR).
        if !vector.input.hasNonNegativeInt {
            let digest = try RepresentationIndependentHash.hashValue(vector.input.cbor)
            #expect(hexString(digest) == vector.expected_hash_hex)
            if case .map = vector.input {
                #expect(try RequestID(content: vector.input.cbor).description == vector.expected_hash_hex)
                // Map order must not matter.
                if case .map(let entries) = vector.input.cbor {
                    let reversed = CBORValue.map(entries.reversed())
                    #expect(hexString(try RepresentationIndependentHash.hashOfMap(reversed)) == vector.expected_hash_hex)
                }
            }
        }
        for (label, expected) in vector.intermediate ?? [:] {
            let preimage = try #require(intermediatePreimage(label), "unparsed label \(label)")
            #expect(hexString(SHA256.hash(preimage)) == expected, "\(label)")
        }
        if let envelopeHex = vector.envelope_cbor_hex {
            let envelope = try CBORDecoder.decode(bytes(hex: envelopeHex))
            let content = try #require(envelope["content"])
            #expect(try RequestID(content: content).description == vector.expected_hash_hex)
        }
    }

    @Test("signed integer pitfall: int 73 ≠ nat 73")
    func signedPitfall() throws {
        #expect(hexString(RepresentationIndependentHasher.hashInt(73)) != hexString(RepresentationIndependentHasher.hashNat(73)))
        #expect(LEB128.encodeSigned(73) == [0xc9, 0x00])
    }

    @Test("LEB128 examples")
    func leb128() throws {
        for example in try #require(RequestIdVectors.loaded).leb128_examples {
            if let nat = example.nat, let hex = example.leb128_hex {
                var out = [UInt8]()
                LEB128.encode(BigNat(decimal: nat)!, into: &out)
                #expect(hexString(out) == hex)
            }
            if let int = example.int, let hex = example.sleb128_hex {
                var out = [UInt8]()
                LEB128.encodeSigned(BigInt(decimal: int)!, into: &out)
                #expect(hexString(out) == hex)
            }
        }
    }
}

struct RequestIDEnvelopeVectors: Decodable {
    struct Envelope: Decodable, Sendable, CustomTestStringConvertible {
        struct Expected: Decodable, Sendable {
            let request_id_hex: String
            let sender_text: String
        }
        let id: String
        let envelope_cbor_hex: String
        let expected: Expected
        var testDescription: String { id }
    }
    let envelopes: [Envelope]

    static let loaded: RequestIDEnvelopeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(RequestIDEnvelopeVectors.self, from: "envelopes/envelopes.json") : nil
}

@Suite("Request ids of envelopes", .enabled(if: TestVectors.isAvailable))
struct RequestIdEnvelopeTests {
    @Test("all 5 envelopes present")
    func count() throws {
        #expect(try #require(RequestIDEnvelopeVectors.loaded).envelopes.count == 5)
    }

    @Test("content request id", arguments: RequestIDEnvelopeVectors.loaded?.envelopes ?? [])
    func envelope(_ vector: RequestIDEnvelopeVectors.Envelope) throws {
        let raw = bytes(hex: vector.envelope_cbor_hex)
        #expect(Array(raw.prefix(3)) == [0xd9, 0xd9, 0xf7])
        let envelope = try CBORDecoder.decode(raw)
        let content = try #require(envelope["content"])
        let id = try RequestID(content: content)
        #expect(id.description == vector.expected.request_id_hex)
        #expect(try RequestID(hex: "0x" + vector.expected.request_id_hex) == id)
        let sender = try #require(content["sender"]?.bytes)
        #expect(try Principal(bytes: sender).description == vector.expected.sender_text)
        // Re-encoding with sorted keys gives another representation with the same id.
        let reencoded = try CBORDecoder.decode(CBOREncoder.encode(content, sortsMapKeys: true))
        #expect(try RequestID(content: reencoded) == id)
    }
}

@Suite("Request ids")
struct RequestIdTests {
    @Test("spec example through CBOR, literals and streaming hasher")
    func specExample() throws {
        let content: CBORValue = [
            "request_type": "call",
            "sender": .byteString([0x04]),
            "ingress_expiry": .unsigned(1_685_570_400_000_000_000),
            "canister_id": .byteString([0, 0, 0, 0, 0, 0, 0x04, 0xd2]),
            "method_name": "hello",
            "arg": .byteString(Array("DIDL\u{0}".utf8) + [0xfd, 0x2a]),
        ]
        let expected = "1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101"
        #expect(try RequestID(content: content).description == expected)
        #expect(try RequestID(content: .tagged(55799, content)).description == expected)

        var hasher = RepresentationIndependentHasher()
        hasher.add(key: "arg", blob: Array("DIDL\u{0}".utf8) + [0xfd, 0x2a])
        hasher.add(key: "method_name", text: "hello")
        hasher.add(key: "canister_id", blob: [0, 0, 0, 0, 0, 0, 0x04, 0xd2])
        hasher.add(key: "ingress_expiry", nat: 1_685_570_400_000_000_000)
        hasher.add(key: "sender", blob: [0x04])
        hasher.add(key: "request_type", text: "call")
        let id = RequestID(digest: hasher.finalize())
        #expect(id.description == expected)
        #expect(Array(id.signaturePayload.prefix(11)) == [0x0a] + Array("ic-request".utf8))
    }

    @Test("bignum tags hash as nat/int; negative integers as SLEB128")
    func numbers() throws {
        let big = BigNat(decimal: "340282366920938463463374607431768211456")!  // 2^128
        var leb = [UInt8]()
        LEB128.encode(big, into: &leb)
        #expect(try RepresentationIndependentHash.hashValue(CBORValue(bigNat: big)) == SHA256.hash(leb))
        #expect(try RepresentationIndependentHash.hashValue(CBORValue(-123456)) == SHA256.hash([0xc0, 0xbb, 0x78]))
        let hugeNegative = BigInt(decimal: "-18446744073709551617")!  // -(2^64) - 1 → tag 3
        var sleb = [UInt8]()
        LEB128.encodeSigned(hugeNegative, into: &sleb)
        #expect(try RepresentationIndependentHash.hashValue(CBORValue(bigInt: hugeNegative)) == SHA256.hash(sleb))
        // -2^64 is major type 1 with n = 2^64 - 1.
        let minus2to64 = BigInt(decimal: "-18446744073709551616")!
        sleb = []
        LEB128.encodeSigned(minus2to64, into: &sleb)
        #expect(try RepresentationIndependentHash.hashValue(.negative(UInt64.max)) == SHA256.hash(sleb))
    }

    @Test("unhashable values are rejected with a path")
    func errors() {
        #expect(throws: RepresentationIndependentHash.Error(.float, path: "/a")) {
            try RepresentationIndependentHash.hashOfMap(["a": 1.5])
        }
        #expect(throws: RepresentationIndependentHash.Error(.simpleValue, path: "/paths/1")) {
            try RepresentationIndependentHash.hashOfMap(["paths": [.byteString([]), .null]])
        }
        #expect(throws: RepresentationIndependentHash.Error(.nonTextMapKey, path: "/")) {
            try RepresentationIndependentHash.hashOfMap([1: 2])
        }
        #expect(throws: RepresentationIndependentHash.Error(.duplicateMapKey, path: "/")) {
            try RepresentationIndependentHash.hashOfMap(.map([(key: "a", value: 1), (key: "a", value: 2)]))
        }
        #expect(throws: RepresentationIndependentHash.Error(.unsupportedTag(42), path: "/x")) {
            try RepresentationIndependentHash.hashOfMap(["x": .tagged(42, 1)])
        }
        #expect(throws: RepresentationIndependentHash.Error(.notAMap, path: "/")) {
            try RequestID(content: [1, 2])
        }
        #expect(throws: RequestID.Error.wrongLength(3)) { try RequestID(bytes: [1, 2, 3]) }
    }
}
