import ICCore
import ICTestSupport
import Secp256k1
import Testing

struct WycheproofECDSAFile: Decodable {
    struct Group: Decodable {
        struct Key: Decodable { let uncompressed: String }
        let publicKey: Key
        let tests: [Case]
    }
    struct Case: Decodable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let msg: String
        let sig: String
        let result: String
    }
    let testGroups: [Group]
}

struct WycheproofCase: Sendable, CustomTestStringConvertible {
    let publicKey: [UInt8]
    let id: Int
    let comment: String
    let message: [UInt8]
    let signature: [UInt8]
    let valid: Bool
    var testDescription: String { "tc\(id) \(comment)" }

    static let secp256k1P1363: [WycheproofCase] = TestVectors.cases {
        let file = try TestVectors.decode(WycheproofECDSAFile.self, from: "wycheproof/ecdsa_secp256k1_sha256_p1363_test.json")
        return file.testGroups.flatMap { group in
            group.tests.map {
                WycheproofCase(
                    publicKey: bytes(hex: group.publicKey.uncompressed), id: $0.tcId, comment: $0.comment,
                    message: bytes(hex: $0.msg), signature: bytes(hex: $0.sig), valid: $0.result == "valid")
            }
        }
    }
}

@Suite("secp256k1 Wycheproof (P1363)", .enabled(if: TestVectors.isAvailable))
struct Secp256k1WycheproofTests {
    private static let halfOrder = bytes(hex: "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")

    @Test("every case", arguments: WycheproofCase.secp256k1P1363)
    func wycheproof(vector: WycheproofCase) throws {
        let key = try Secp256k1.PublicKey(sec1: vector.publicKey)
        // Plain ECDSA: exactly Wycheproof's verdict.
        #expect(key.isValidSignature(vector.signature, for: vector.message, policy: .acceptHighS) == vector.valid)
        // The IC's policy additionally refuses high-S signatures.
        let highS =
            vector.signature.count == 64 && Array(vector.signature[32...]).lexicographicallyPrecedes(Self.halfOrder) == false
            && Array(vector.signature[32...]) != Self.halfOrder
        #expect(key.isValidSignature(vector.signature, for: vector.message) == (vector.valid && !highS))
    }

    @Test("the file has all its cases")
    func count() {
        #expect(WycheproofCase.secp256k1P1363.count == 252)
    }
}

@Suite("secp256k1")
struct Secp256k1Tests {
    @Test("RFC 6979 deterministic signature: key 1, \"Satoshi Nakamoto\"")
    func rfc6979KnownAnswer() throws {
        var secret = [UInt8](repeating: 0, count: 32)
        secret[31] = 1
        let key = try Secp256k1.PrivateKey(rawRepresentation: secret)
        let signature = key.signature(for: Array("Satoshi Nakamoto".utf8))
        #expect(
            Hex.encode(signature) == "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
                + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")
        #expect(key.publicKey.isValidSignature(signature, for: Array("Satoshi Nakamoto".utf8)))
    }

    @Test("the constant-time window multiplication agrees with the variable-time one")
    func scalarMultiplications() {
        var state: UInt64 = 0x1234_5678_9abc_def1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        let edge = [
            UInt256.zero, UInt256.one, UInt256(15, 0, 0, 0), UInt256(16, 0, 0, 0),
            UInt256(0, 0, 0, 1 << 63), UInt256(~0, ~0, ~0, ~0),
        ]
        for scalar in edge + (0..<6).map({ _ in UInt256(next(), next(), next(), next()) }) {
            let fast = Secp256k1Point.generator.multiplied(byConstantTime: scalar)
            let reference = Secp256k1Point.doubleScalarMultiplication(scalar, .zero, .identity)
            #expect(fast == reference)
        }
    }

    @Test("public key of secret 1 is G")
    func generator() throws {
        var secret = [UInt8](repeating: 0, count: 32)
        secret[31] = 1
        let key = try Secp256k1.PrivateKey(rawRepresentation: secret)
        #expect(Hex.encode(key.publicKey.compressedRepresentation) == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    }

    @Test("sign/verify round trips; other keys, other messages and flipped bits fail", arguments: 0..<8)
    func roundTrip(seed: Int) throws {
        let key = Secp256k1.PrivateKey(entropy: Array("key \(seed)".utf8))
        let other = Secp256k1.PrivateKey(entropy: Array("other \(seed)".utf8))
        let message = Array("message number \(seed)".utf8)
        let signature = key.signature(for: message)
        #expect(signature.count == 64)
        #expect(key.signature(for: message) == signature, "deterministic")
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
        var flipped = signature
        flipped[seed * 7 % 64] ^= 0x01
        #expect(!key.publicKey.isValidSignature(flipped, for: message))
        // Key encodings round-trip.
        let restored = try Secp256k1.PrivateKey(rawRepresentation: key.rawRepresentation)
        #expect(restored.publicKey == key.publicKey)
        #expect(try Secp256k1.PublicKey(sec1: key.publicKey.compressedRepresentation) == key.publicKey)
        #expect(try Secp256k1.PublicKey(der: key.publicKey.derRepresentation) == key.publicKey)
        #expect(key.publicKey.derRepresentation.count == 88)
    }

    @Test("signatures are low-S and the high-S twin is refused by the IC policy")
    func lowS() throws {
        let n = bytes(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        for seed in 0..<6 {
            let key = Secp256k1.PrivateKey(entropy: [UInt8(seed), 1, 2, 3])
            let message = [UInt8(seed)]
            let signature = key.signature(for: message)
            // s' = n - s (big-endian subtraction).
            var twin = Array(signature[..<32])
            var high = [UInt8](repeating: 0, count: 32)
            var borrow = 0
            for index in stride(from: 31, through: 0, by: -1) {
                var difference = Int(n[index]) - Int(signature[32 + index]) - borrow
                borrow = difference < 0 ? 1 : 0
                if difference < 0 { difference += 256 }
                high[index] = UInt8(difference)
            }
            twin += high
            #expect(key.publicKey.isValidSignature(twin, for: message, policy: .acceptHighS))
            #expect(!key.publicKey.isValidSignature(twin, for: message))
        }
    }

    @Test("malformed keys and signatures are refused")
    func malformed() throws {
        #expect(throws: Secp256k1Error.invalidSecretKey) { try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: Secp256k1Error.invalidSecretKey) {
            try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0xff, count: 32))
        }
        #expect(throws: Secp256k1Error.invalidSecretKey) { try Secp256k1.PrivateKey(rawRepresentation: [1, 2, 3]) }
        // Off-curve point: G with y + 1.
        var offCurve = bytes(
            hex:
                "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
        )
        offCurve[64] ^= 1
        #expect(throws: Secp256k1Error.publicKeyNotOnCurve) { try Secp256k1.PublicKey(sec1: offCurve) }
        #expect(throws: Secp256k1Error.coordinateOutOfRange) { try Secp256k1.PublicKey(sec1: [0x02] + [UInt8](repeating: 0xff, count: 32)) }
        #expect(throws: Secp256k1Error.self) { try Secp256k1.PublicKey(sec1: [0x05] + [UInt8](repeating: 1, count: 32)) }
        #expect(throws: Secp256k1Error.invalidDERPrefix) { try Secp256k1.PublicKey(der: offCurve) }
        let key = Secp256k1.PrivateKey(entropy: [9])
        #expect(!key.publicKey.isValidSignature([UInt8](repeating: 0, count: 64), for: [1]))
        #expect(!key.publicKey.isValidSignature([UInt8](repeating: 0, count: 63), for: [1]))
        let valid = key.signature(for: [1])
        #expect(!key.publicKey.isValidSignature(Array(valid[..<32]) + [UInt8](repeating: 0, count: 32), for: [1]), "s = 0")
        #expect(!key.publicKey.isValidSignature([UInt8](repeating: 0, count: 32) + Array(valid[32...]), for: [1]), "r = 0")
    }
}
