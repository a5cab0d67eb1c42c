import ICCore
import ICTestSupport
import Testing

@Suite("LEB128 and big numbers")
struct LEB128Tests {
    private func decodeNat(_ bytes: [UInt8]) throws -> BigNat {
        var offset = 0
        let value = try bytes.withUnsafeBytes { try LEB128.decodeBigNat($0, offset: &offset) }
        #expect(offset == bytes.count)
        return value
    }

    private func decodeInt(_ bytes: [UInt8]) throws -> BigInt {
        var offset = 0
        let value = try bytes.withUnsafeBytes { try LEB128.decodeBigInt($0, offset: &offset) }
        #expect(offset == bytes.count)
        return value
    }

    @Test("spec examples")
    func specExamples() throws {
        #expect(LEB128.encode(0) == [0x00])
        #expect(LEB128.encode(624_485) == [0xe5, 0x8e, 0x26])
        #expect(LEB128.encodeSigned(-123_456) == [0xc0, 0xbb, 0x78])
        #expect(LEB128.encode(1_685_570_400_000_000_000) == bytes(hex: "8080a7bf92ab96b217"))
        #expect(LEB128.encodeSigned(73) == [0xc9, 0x00])
        #expect(LEB128.encodeSigned(-1) == [0x7f])
        #expect(LEB128.encodeSigned(63) == [0x3f])
        #expect(LEB128.encodeSigned(64) == [0xc0, 0x00])
        #expect(LEB128.encodeSigned(-64) == [0x40])
        #expect(LEB128.encodeSigned(-65) == [0xbf, 0x7f])
    }

    @Test("vector file LEB128 examples", .enabled(if: TestVectors.isAvailable))
    func vectorExamples() throws {
        let root = try #require(try TestVectors.json("request_id/request_ids.json") as? [String: Any])
        let examples = try #require(root["leb128_examples"] as? [[String: String]])
        #expect(examples.count >= 4)
        for example in examples {
            if let nat = example["nat"], let hex = example["leb128_hex"] {
                var out = [UInt8]()
                LEB128.encode(try #require(BigNat(decimal: nat)), into: &out)
                #expect(hexString(out) == hex)
                #expect(try decodeNat(bytes(hex: hex)).description == nat)
            }
            if let int = example["int"], let hex = example["sleb128_hex"] {
                var out = [UInt8]()
                LEB128.encodeSigned(try #require(BigInt(decimal: int)), into: &out)
                #expect(hexString(out) == hex)
                #expect(try decodeInt(bytes(hex: hex)).description == int)
            }
        }
    }

    @Test("64-bit round trips and boundaries")
    func roundTrips64() throws {
        let unsigned: [UInt64] = [0, 1, 127, 128, 255, 16383, 16384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max]
        for value in unsigned {
            let encoded = LEB128.encode(value)
            var offset = 0
            #expect(try LEB128.decodeUInt64(encoded, offset: &offset) == value)
            #expect(offset == encoded.count)
            #expect(try decodeNat(encoded) == BigNat(value))
        }
        let signed: [Int64] = [0, 1, -1, 63, 64, -64, -65, 127, -128, Int64(Int32.min), Int64.max, Int64.min]
        for value in signed {
            let encoded = LEB128.encodeSigned(value)
            var offset = 0
            let decoded = try encoded.withUnsafeBytes { try LEB128.decodeInt64($0, offset: &offset) }
            #expect(decoded == value, "\(value)")
            #expect(try decodeInt(encoded) == BigInt(value))
            var big = [UInt8]()
            LEB128.encodeSigned(BigInt(value), into: &big)
            #expect(big == encoded)
        }
    }

    @Test("overlong encodings are accepted; overflow and truncation are errors")
    func malformed() throws {
        var offset = 0
        #expect(try LEB128.decodeUInt64([0x80, 0x00], offset: &offset) == 0)
        offset = 0
        #expect(try LEB128.decodeUInt64([0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], offset: &offset) == 127)
        offset = 0
        // 2^64 does not fit.
        #expect(throws: LEB128.DecodingError.overflow(offset: 0, bits: 64)) {
            try LEB128.decodeUInt64([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], offset: &offset)
        }
        offset = 0
        #expect(throws: LEB128.DecodingError.truncated(offset: 0)) {
            try LEB128.decodeUInt64([0x80, 0x80], offset: &offset)
        }
        offset = 0
        #expect(throws: LEB128.DecodingError.self) {
            try [UInt8](repeating: 0x80, count: 100).withUnsafeBytes { try LEB128.decodeBigNat($0, offset: &offset, maxBytes: 10) }
        }
    }

    @Test("values above 64 bits survive LEB128 and decimal round trips")
    func bigValues() throws {
        let texts = [
            "18446744073709551616", "340282366920938463463374607431768211455",
            "1000000000000000000000000000000000000000000000000000000000001",
        ]
        for text in texts {
            let value = try #require(BigNat(decimal: text))
            #expect(value.description == text)
            var encoded = [UInt8]()
            LEB128.encode(value, into: &encoded)
            #expect(try decodeNat(encoded) == value)
            let negative = try #require(BigInt(decimal: "-" + text))
            var signed = [UInt8]()
            LEB128.encodeSigned(negative, into: &signed)
            #expect(try decodeInt(signed) == negative)
            #expect(negative.description == "-" + text)
        }
        // 2^64 = 80 80 80 80 80 80 80 80 80 02
        var out = [UInt8]()
        LEB128.encode(try #require(BigNat(decimal: "18446744073709551616")), into: &out)
        #expect(out == [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02])
        #expect(BigNat(decimal: "") == nil)
        #expect(BigNat(decimal: "12a") == nil)
        #expect(BigNat(decimal: "1_000")?.description == "1000")
    }

    @Test("BigNat arithmetic and ordering")
    func arithmetic() throws {
        let a = try #require(BigNat(decimal: "99999999999999999999999"))
        let b = BigNat(1)
        #expect((a + b).description == "100000000000000000000000")
        #expect(BigNat.subtracting(a + b, b) == a)
        #expect(BigNat.subtracting(b, a) == nil)
        #expect(b < a)
        #expect(BigInt(-5) < BigInt(3))
        #expect(BigInt(-5) < BigInt(-3))
        #expect(BigInt(isNegative: true, magnitude: .zero) == BigInt(0))
        #expect(BigInt(Int64.min).int64Value == Int64.min)
        #expect(a.bitWidth == 77)
    }
}
