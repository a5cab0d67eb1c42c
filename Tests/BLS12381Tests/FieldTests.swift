import Testing

@testable import BLS12381

@Suite("BLS12-381 fields")
struct FieldTests {
    @Test("Fp ring laws, inverse, halving")
    func fpLaws() {
        var rng = TestRNG(seed: 1)
        for _ in 0..<50 {
            let a = rng.fp(), b = rng.fp(), c = rng.fp()
            #expect((a + b) - b == a)
            #expect(a * (b + c) == a * b + a * c)
            #expect(a * b == b * a)
            #expect(-a + a == .zero)
            #expect(a.halved.doubled == a)
            #expect(a.times3() == a + a + a)
            #expect(a.squared == a * a)
        }
        for _ in 0..<5 {
            let a = rng.fp()
            #expect(a * a.inverse == .one)
        }
        #expect(Fp.zero.inverse == .zero)
        #expect(-Fp.zero == .zero)
        #expect(Fp.from(2) * Fp.from(3) == Fp.from(6))
    }

    @Test("Fp byte encoding and canonical checks")
    func fpBytes() {
        var rng = TestRNG(seed: 2)
        let a = rng.fp()
        #expect(a.bytes.withUnsafeBytes { Fp.fromBytes($0) } == a)
        #expect(pBytes.withUnsafeBytes { Fp.fromBytes($0) } == nil)
        var pMinus1 = pBytes; pMinus1[47] -= 1
        #expect(pMinus1.withUnsafeBytes { Fp.fromBytes($0) } == -Fp.one)
        #expect((-Fp.one).isLexicographicallyLargest)
        #expect(!Fp.one.isLexicographicallyLargest)
    }

    @Test("Fp and Fp2 square roots")
    func squareRoots() {
        var rng = TestRNG(seed: 3)
        var nonSquares = 0
        for _ in 0..<6 {
            let a = rng.fp()
            let s = a.squared.squareRoot
            #expect(s != nil && s!.squared == a.squared)
            if a.squareRoot == nil { nonSquares += 1; #expect((-a).squareRoot != nil) }  // -1 is a non-square
        }
        #expect(nonSquares > 0)
        for _ in 0..<6 {
            let a = rng.fp2()
            let s = a.squared.squareRoot
            #expect(s != nil && s!.squared == a.squared)
        }
        // Pure real and pure imaginary inputs.
        let r = Fp2(rng.fp(), .zero)
        #expect(r.squared.squareRoot?.squared == r.squared)
        let i = Fp2(.zero, rng.fp())
        #expect(i.squared.squareRoot?.squared == i.squared)
        // ξ = 1 + u is not a square in Fp2.
        #expect(Fp2(.one, .one).squareRoot == nil)
    }

    @Test("Fp2, Fp6, Fp12 multiplication, squaring, inversion")
    func towerLaws() {
        var rng = TestRNG(seed: 4)
        let a2 = rng.fp2(), b2 = rng.fp2()
        #expect(a2.squared == a2 * a2)
        #expect(a2 * a2.inverse == .one)
        #expect(a2.mulByXi == a2 * Fp2(.one, .one))
        let a6 = rng.fp6(), b6 = rng.fp6(), c6 = rng.fp6()
        #expect(a6.squared == a6 * a6)
        #expect(a6 * (b6 + c6) == a6 * b6 + a6 * c6)
        #expect(a6 * a6.inverse == .one)
        #expect(a6.mulByV == a6 * Fp6(.zero, .one, .zero))
        #expect(a6.mulBy01(a2, b2) == a6 * Fp6(a2, b2, .zero))
        #expect(a6.mulBy01Lazy(a2, b2) == a6 * Fp6(a2, b2, .zero))
        // Extreme inputs for the lazy bounds: every coefficient p - 1.
        let m1 = Fp2(-Fp.one, -Fp.one)
        let big = Fp6(m1, m1, m1)
        #expect(big.mulBy01Lazy(m1, m1) == big * Fp6(m1, m1, .zero))
        let mixed = Fp6(Fp2(-Fp.one, .zero), Fp2(.zero, -Fp.one), m1)
        #expect(mixed.mulBy01Lazy(Fp2(.zero, -Fp.one), Fp2(-Fp.one, .zero)) == mixed * Fp6(Fp2(.zero, -Fp.one), Fp2(-Fp.one, .zero), .zero))
        #expect(Fp2Wide.product(m1, m1).reduced == m1 * m1)
        #expect(a6.mulBy1(b2) == a6 * Fp6(.zero, b2, .zero))
        let a12 = rng.fp12(), b12 = rng.fp12()
        #expect(a12.squared == a12 * a12)
        #expect(a12 * b12 == b12 * a12)
        #expect(a12 * a12.inverse == .one)
        let o0 = rng.fp2(), o1 = rng.fp2(), o4 = rng.fp2()
        #expect(a12.mulBy014(o0, o1, o4) == a12 * Fp12(Fp6(o0, o1, .zero), Fp6(.zero, o4, .zero)))
    }

    @Test("Frobenius maps equal exponentiation by p")
    func frobenius() {
        var rng = TestRNG(seed: 5)
        let a2 = rng.fp2()
        #expect(a2.conjugate == powBytes(a2, pBytes, one: .one, mul: *))
        let a6 = rng.fp6()
        #expect(a6.frobenius == powBytes(a6, pBytes, one: .one, mul: *))
        let a12 = rng.fp12()
        #expect(a12.frobenius == powBytes(a12, pBytes, one: .one, mul: *))
    }

    @Test("cyclotomic squaring agrees with squaring in the cyclotomic subgroup")
    func cyclotomic() {
        var rng = TestRNG(seed: 6)
        let f = rng.fp12()
        var t = f.conjugate * f.inverse
        t = t.frobenius.frobenius * t
        #expect(t.cyclotomicSquared() == t.squared)
        #expect(t * t.conjugate == .one)
        // Karabina: compressed squaring and decompression agree with full squaring.
        let c = CompressedCyclotomic(t)
        let (n, d) = c.g1Fraction
        #expect(c.decompressed(g1: n * d.inverse) == t)
        let s = c.squared()
        let (n2, d2) = s.g1Fraction
        #expect(s.decompressed(g1: n2 * d2.inverse) == t.squared)
        #expect(t.cyclotomicPowXAbs() == t.cyclotomicPowXAbsUncompressed())
    }

    @Test("scalar field arithmetic and encoding")
    func scalars() {
        var rng = TestRNG(seed: 7)
        let a = rng.scalar(), b = rng.scalar()
        #expect(a * a.inverse == .one)
        #expect((a + b) - b == a)
        #expect(Scalar(canonicalBytes: a.bytes) == a)
        #expect(Scalar(canonicalBytes: rBytes) == nil)
        #expect(Scalar(reducing: rBytes) == .zero)
        #expect(Scalar(reducing: [UInt8](repeating: 0, count: 31) + [5]) == Scalar(5))
        #expect(Scalar(6) == Scalar(2) * Scalar(3))
        // 2^256 mod r through the wide reduction.
        let twoTo256 = Scalar(reducing: [1] + [UInt8](repeating: 0, count: 32))
        var product = Scalar.one
        for _ in 0..<256 { product = product + product }
        #expect(twoTo256 == product)
    }
}

#if (arch(x86_64) || arch(arm64)) && !canImport(Darwin)
/// Optimized builds do their word arithmetic with UInt128, debug builds with the portable
/// primitives; this checks, in whichever build runs the tests, that both give the same words.
@Suite("BLS12-381 word primitives")
struct WordPrimitiveTests {
    @Test("UInt128 and portable mac/adc/sbb agree on edge and random words")
    func agree() {
        var state: UInt64 = 0xdead_beef_cafe_f00d
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        let edges: [UInt64] = [0, 1, 2, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ~0, ~0 - 1]
        var inputs = [(UInt64, UInt64, UInt64, UInt64)]()
        for a in edges { for b in edges { for c in edges { inputs.append((a, b, c, next())) } } }
        for _ in 0..<20_000 { inputs.append((next(), next(), next(), next())) }
        var mismatches = [String]()
        for (a, b, c, d) in inputs {
            var wideCarry = d, portableCarry = d
            if macWide(a, b, c, &wideCarry) != macPortable(a, b, c, &portableCarry) || wideCarry != portableCarry {
                mismatches.append("mac(\(a), \(b), \(c), \(d))")
            }
            for bit: UInt64 in [0, 1] {
                var w = bit, p = bit
                if adcWide(a, b, &w) != adcPortable(a, b, &p) || w != p { mismatches.append("adc(\(a), \(b), \(bit))") }
                w = bit; p = bit
                if sbbWide(a, b, &w) != sbbPortable(a, b, &p) || w != p { mismatches.append("sbb(\(a), \(b), \(bit))") }
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
        #expect(inputs.count > 20_000)
    }
}
#endif
