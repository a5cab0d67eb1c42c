import ICCore
import ICTestSupport
import Testing

@testable import BLS12381

struct ExpandFile: Decodable {
    struct Case: Decodable {
        let len_in_bytes: String
        let msg: String
        let uniform_bytes: String
    }
    let DST: String
    let tests: [Case]
}

struct ExpandCase: Sendable, CustomTestStringConvertible {
    let file: String
    let dst: String
    let msg: String
    let length: Int
    let expected: String
    var testDescription: String { "\(file.prefix(40))… msg \(msg.prefix(12)) len \(length)" }
}

struct H2CFile: Decodable {
    struct Point: Decodable { let x: String; let y: String }
    struct Vector: Decodable {
        let msg: String
        let u: [String]
        let Q0: Point
        let Q1: Point
        let P: Point
        let P_compressed_hex: String
    }
    let dst: String
    let vectors: [Vector]
}

struct H2CCase: Sendable, CustomTestStringConvertible {
    let dst: String
    let msg: String
    let u: [String]
    let q0: [String]
    let q1: [String]
    let p: [String]
    let compressed: String
    var testDescription: String { "msg \"\(msg.prefix(16))\"" }
}

struct ICDSTFile: Decodable {
    struct Vector: Decodable {
        let id: String
        let dst: String
        let msg_hex: String
        let P_compressed_hex: String
        let P_x_hex: String
        let P_y_hex: String
    }
    let hash_to_g1_with_ic_dst: [Vector]
}

struct ICDSTCase: Sendable, CustomTestStringConvertible {
    let id: String, dst: String, msg: String, compressed: String, x: String, y: String
    var testDescription: String { id }
}

let expandCases: [ExpandCase] = TestVectors.cases {
    var result = [ExpandCase]()
    for file in ["bls/rfc9380_expand_message_xmd_SHA256_38.json", "bls/rfc9380_expand_message_xmd_SHA256_256.json"] {
        let f = try TestVectors.decode(ExpandFile.self, from: file)
        for t in f.tests {
            result.append(
                ExpandCase(
                    file: f.DST, dst: f.DST, msg: t.msg,
                    length: Int(t.len_in_bytes.dropFirst(2), radix: 16)!, expected: t.uniform_bytes))
        }
    }
    return result
}

let h2cCases: [H2CCase] = TestVectors.cases {
    let f = try TestVectors.decode(H2CFile.self, from: "bls/rfc9380_hash_to_g1_sswu_ro.json")
    return f.vectors.map {
        H2CCase(
            dst: f.dst, msg: $0.msg, u: $0.u, q0: [$0.Q0.x, $0.Q0.y], q1: [$0.Q1.x, $0.Q1.y],
            p: [$0.P.x, $0.P.y], compressed: $0.P_compressed_hex)
    }
}

let icDSTCases: [ICDSTCase] = TestVectors.cases {
    let f = try TestVectors.decode(ICDSTFile.self, from: "bls/bls_signatures.json")
    return f.hash_to_g1_with_ic_dst.map {
        ICDSTCase(id: $0.id, dst: $0.dst, msg: $0.msg_hex, compressed: $0.P_compressed_hex, x: $0.P_x_hex, y: $0.P_y_hex)
    }
}

@Suite("RFC 9380 hash to G1", .enabled(if: TestVectors.isAvailable))
struct HashToCurveVectorTests {
    @Test("expand_message_xmd (SHA-256) vectors", arguments: expandCases)
    func expand(_ c: ExpandCase) throws {
        let out = try expandMessageXMD(Array(c.msg.utf8), dst: Array(c.dst.utf8), length: c.length)
        #expect(hexString(out) == c.expected)
    }

    @Test("hash_to_curve BLS12381G1_XMD:SHA-256_SSWU_RO_ vectors", arguments: h2cCases)
    func hashToG1(_ c: H2CCase) {
        let msg = Array(c.msg.utf8), dst = Array(c.dst.utf8)
        let (u0, u1) = hashToFieldFp(msg, dst: dst)
        #expect(u0 == fp(hex: c.u[0]))
        #expect(u1 == fp(hex: c.u[1]))
        let q0 = Isogeny11.mapToCurve(u0).affine
        #expect(q0.x == fp(hex: c.q0[0]) && q0.y == fp(hex: c.q0[1]))
        let q1 = Isogeny11.mapToCurve(u1).affine
        #expect(q1.x == fp(hex: c.q1[0]) && q1.y == fp(hex: c.q1[1]))
        let p = hashToG1Projective(msg, dst: dst)
        let a = p.affine
        #expect(a.x == fp(hex: c.p[0]) && a.y == fp(hex: c.p[1]))
        #expect(hexString(BLS.hashToG1(message: msg, dst: dst).compressed) == c.compressed)
        #expect(p.isInSubgroup)
    }

    @Test("hash to G1 with the IC DST", arguments: icDSTCases)
    func icDST(_ c: ICDSTCase) {
        #expect(Array(c.dst.utf8) == BLS.signatureDST)
        let p = BLS.hashToG1(message: bytes(hex: c.msg))
        #expect(hexString(p.compressed) == c.compressed)
        let a = p.p.affine
        #expect(hexString(a.x.bytes) == c.x && hexString(a.y.bytes) == c.y)
    }
}

@Suite("hash to G1 (self-standing)")
struct HashToCurveTests {
    @Test("expand_message_xmd edge cases")
    func expandEdges() throws {
        let dst = Array("DST".utf8)
        #expect(try expandMessageXMD([], dst: dst, length: 255 * 32).count == 255 * 32)
        #expect(throws: BLSError.invalidExpandLength) { try expandMessageXMD([], dst: dst, length: 255 * 32 + 1) }
        // Oversize DST equals the explicitly hashed DST.
        let long = [UInt8](repeating: 0x41, count: 300)
        let hashed = SHA256Helper.oversize(long)
        #expect(try expandMessageXMD([1, 2, 3], dst: long, length: 64) == expandMessageXMD([1, 2, 3], dst: hashed, length: 64))
    }

    @Test("SSWU output lies on E' and the isogeny lands on E")
    func sswu() {
        var rng = TestRNG(seed: 11)
        for _ in 0..<4 {
            let u = rng.fp()
            let (xn, xd, y) = Isogeny11.sswu(u)
            let x = xn * xd.inverse
            #expect(y.squared == x.squared * x + Isogeny11.a * x + Isogeny11.b)
            #expect(Isogeny11.mapToCurve(u).isOnCurve)
        }
        // Addition on E' (before the isogeny) agrees with addition on E, including doubling
        // and P + (−P).
        let (xn, xd, y) = Isogeny11.sswu(rng.fp())
        let (xn2, xd2, y2) = Isogeny11.sswu(rng.fp())
        let p = (x: xn, y: y * xd, z: xd), q = (x: xn2, y: y2 * xd2, z: xd2)
        let mp = Isogeny11.map(x: p.x, y: p.y, z: p.z), mq = Isogeny11.map(x: q.x, y: q.y, z: q.z)
        let sum = Isogeny11.add(p, q)
        #expect(Isogeny11.map(x: sum.x, y: sum.y, z: sum.z) == mp + mq)
        let twice = Isogeny11.add(p, (x: p.x * Fp.from(3), y: p.y * Fp.from(3), z: p.z * Fp.from(3)))
        #expect(Isogeny11.map(x: twice.x, y: twice.y, z: twice.z) == mp.doubled)
        let zero = Isogeny11.add(p, (x: p.x, y: -p.y, z: p.z))
        #expect(zero.z.isZero && Isogeny11.map(x: zero.x, y: zero.y, z: zero.z).isIdentity)
        // u = 0 is the exceptional case of the map (tv2 = 0).
        #expect(Isogeny11.mapToCurve(.zero).isOnCurve)
    }

    @Test("hash output is in G1 and depends on message and DST")
    func hashProperties() {
        let a = BLS.hashToG1(message: Array("a".utf8))
        let b = BLS.hashToG1(message: Array("b".utf8))
        let a2 = BLS.hashToG1(message: Array("a".utf8), dst: Array("OTHER".utf8))
        #expect(a != b && a != a2)
        #expect(a.p.isInSubgroup && !a.isIdentity)
    }
}

enum SHA256Helper {
    static func oversize(_ dst: [UInt8]) -> [UInt8] {
        SHA256.hash(Array("H2C-OVERSIZE-DST-".utf8) + dst)
    }
}
