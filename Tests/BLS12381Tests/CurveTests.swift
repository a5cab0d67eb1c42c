import ICTestSupport
import Testing

@testable import BLS12381

let g1GeneratorHex = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
let g2GeneratorHex =
    "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"

/// A point of E(Fp) that is (almost surely) not in G1: lift the first x ≥ start that is on the curve.
func g1PointOutsideSubgroup(start: UInt64) -> G1Projective {
    var x = start
    while true {
        let fx = Fp.from(x)
        if let y = (fx.squared * fx + G1Projective.b).squareRoot {
            return G1Projective(x: fx, y: y, z: .one)
        }
        x += 1
    }
}

func g2PointOutsideSubgroup(start: UInt64) -> G2Projective {
    var x = start
    while true {
        let fx = Fp2(Fp.from(x), .one)
        if let y = (fx.squared * fx + G2Projective.b).squareRoot {
            return G2Projective(x: fx, y: y, z: .one)
        }
        x += 1
    }
}

@Suite("BLS12-381 groups")
struct CurveTests {
    @Test("generators: encoding, on curve, in subgroup, order r")
    func generators() throws {
        #expect(hexString(G1Point.generator.compressed) == g1GeneratorHex)
        #expect(hexString(G2Point.generator.compressed) == g2GeneratorHex)
        #expect(try G1Point(compressed: bytes(hex: g1GeneratorHex)) == .generator)
        #expect(try G2Point(compressed: bytes(hex: g2GeneratorHex)) == .generator)
        #expect(G1Projective.generator.isOnCurve && G1Projective.generator.isInSubgroup)
        #expect(G2Projective.generator.isOnCurve && G2Projective.generator.isInSubgroup)
        // (r - 1)·G = -G.
        let rMinus1 = -Scalar.one
        #expect(G1Point.generator * rMinus1 == -G1Point.generator)
        #expect(G2Point.generator * rMinus1 == -G2Point.generator)
    }

    @Test("group law: complete formulas, identity, doubling, scalar multiplication")
    func groupLaw() {
        var rng = TestRNG(seed: 21)
        let a = rng.scalar(), b = rng.scalar()
        let g = G1Point.generator
        #expect(g * a + g * b == g * (a + b))
        #expect((g * a) * b == g * (a * b))
        #expect(g + .identity == g && G1Point.identity + .identity == .identity)
        #expect(g - g == .identity)
        #expect(g + g == g * Scalar(2))
        #expect(g * .zero == .identity)
        let h = G2Point.generator
        #expect(h * a + h * b == h * (a + b))
        #expect(h + h == h * Scalar(2) && h - h == .identity)
        #expect((g * a).p.isOnCurve && (h * a).p.isOnCurve)
        // Variable-time 64-bit multiplication agrees with the ladder.
        #expect(G1Point(G1Projective.generator.multipliedVartime(12345)) == g * Scalar(12345))
    }

    @Test("endomorphism subgroup checks reject points outside G1 and G2")
    func subgroupChecks() {
        for start in [UInt64(3), 100, 1000] {
            let p = g1PointOutsideSubgroup(start: start)
            #expect(p.isOnCurve && !p.isInSubgroup)
            // Clearing the cofactor lands in G1.
            #expect(p.clearedCofactor.isInSubgroup)
            let q = g2PointOutsideSubgroup(start: start)
            #expect(q.isOnCurve && !q.isInSubgroup)
        }
        // φ and ψ act on the subgroups as the expected eigenvalues.
        let g = G1Projective.generator
        #expect(g.phi == -(g.timesXAbs.timesXAbs))
        let h = G2Projective.generator
        #expect(h.psi == -h.timesXAbs)
    }

    @Test("encode/decode round trips, including the identity")
    func roundTrips() throws {
        var rng = TestRNG(seed: 22)
        for _ in 0..<3 {
            let k = rng.scalar()
            let p = G1Point.generator * k
            #expect(try G1Point(compressed: p.compressed) == p)
            #expect(try G1Point(compressed: (-p).compressed) == -p)
            let q = G2Point.generator * k
            #expect(try G2Point(compressed: q.compressed) == q)
            #expect(try G2Point(compressed: (-q).compressed) == -q)
        }
        let inf1 = [0xc0] + [UInt8](repeating: 0, count: 47)
        #expect(G1Point.identity.compressed == inf1)
        #expect(try G1Point(compressed: inf1).isIdentity)
        let inf2 = [0xc0] + [UInt8](repeating: 0, count: 95)
        #expect(G2Point.identity.compressed == inf2)
        #expect(try G2Point(compressed: inf2).isIdentity)
    }

    @Test("invalid G1 encodings are rejected with a specific error")
    func invalidG1() {
        let g = bytes(hex: g1GeneratorHex)
        func expectError(_ bytes: [UInt8], _ error: BLSError, _ comment: Comment? = nil) {
            #expect(throws: error, comment) { try G1Point(compressed: bytes) }
        }
        expectError([], .wrongLength(.g1, actual: 0))
        expectError(Array(g.dropLast()), .wrongLength(.g1, actual: 47))
        expectError(g + [0], .wrongLength(.g1, actual: 49))
        expectError(g + g, .uncompressedEncoding(.g1))
        var noFlag = g; noFlag[0] &= 0x7f
        expectError(noFlag, .compressionFlagNotSet(.g1))
        var infWithData = g; infWithData[0] |= 0x40
        expectError(infWithData, .invalidInfinityEncoding(.g1))
        var infWithSign = [0xe0] + [UInt8](repeating: 0, count: 47)
        expectError(infWithSign, .invalidInfinityEncoding(.g1))
        infWithSign = [0xc0] + [UInt8](repeating: 0, count: 46) + [1]
        expectError(infWithSign, .invalidInfinityEncoding(.g1))
        // x = p (flags set): not reduced.
        var xp = pBytes; xp[0] |= 0x80
        expectError(xp, .coordinateNotReduced(.g1))
        var xMax = [UInt8](repeating: 0xff, count: 48); xMax[0] = 0x9f
        expectError(xMax, .coordinateNotReduced(.g1))
        // x with x³ + 4 a non-square: x = 0 gives 4 = 2², try small x until one fails.
        var x: UInt64 = 1
        while (Fp.from(x).squared * Fp.from(x) + G1Projective.b).squareRoot != nil { x += 1 }
        var notOnCurve = Fp.from(x).bytes; notOnCurve[0] |= 0x80
        expectError(notOnCurve, .notOnCurve(.g1))
        // On the curve, not in G1.
        expectError(g1PointOutsideSubgroup(start: 3).affine.compressed, .notInSubgroup(.g1))
    }

    @Test("invalid G2 encodings are rejected with a specific error")
    func invalidG2() {
        let g = bytes(hex: g2GeneratorHex)
        func expectError(_ bytes: [UInt8], _ error: BLSError) {
            #expect(throws: error) { try G2Point(compressed: bytes) }
        }
        expectError(Array(g.prefix(48)), .wrongLength(.g2, actual: 48))
        expectError(g + g, .uncompressedEncoding(.g2))
        var noFlag = g; noFlag[0] &= 0x7f
        expectError(noFlag, .compressionFlagNotSet(.g2))
        var inf = [0xc0] + [UInt8](repeating: 0, count: 95); inf[60] = 1
        expectError(inf, .invalidInfinityEncoding(.g2))
        var c1 = g; for i in 0..<48 { c1[i] = pBytes[i] }; c1[0] |= 0x80
        expectError(c1, .coordinateNotReduced(.g2))
        var c0 = g; for i in 0..<48 { c0[48 + i] = pBytes[i] }
        expectError(c0, .coordinateNotReduced(.g2))
        var x: UInt64 = 1
        while (Fp2(Fp.from(x), .one).squared * Fp2(Fp.from(x), .one) + G2Projective.b).squareRoot != nil { x += 1 }
        var bad = Fp2(Fp.from(x), .one)
        var enc = bad.c1.bytes + bad.c0.bytes; enc[0] |= 0x80
        expectError(enc, .notOnCurve(.g2))
        bad = .zero
        expectError(g2PointOutsideSubgroup(start: 5).affine.compressed, .notInSubgroup(.g2))
    }

    @Test("bilinearity: e(aP, bQ) = e(P, Q)^(ab), non-degeneracy")
    func bilinearity() {
        var rng = TestRNG(seed: 23)
        let a = rng.scalar(), b = rng.scalar()
        let p = G1Point.generator, q = G2Point.generator
        let base = BLS.pairing(p, q)
        #expect(!base.isOne)
        #expect(base.pow(-Scalar.one) * base == .one)  // order r
        let lhs = BLS.pairing(p * a, q * b)
        #expect(lhs == base.pow(a * b))
        #expect(BLS.pairing(p * (a * b), q) == lhs)
        #expect(BLS.pairingProductIsOne([(p * a, q * b), (-(p * (a * b)), q)]))
        #expect(!BLS.pairingProductIsOne([(p * a, q * b), (-(p * a), q)]))
        #expect(BLS.pairing(.identity, q).isOne && BLS.pairing(p, .identity).isOne)
    }
}
