// Fp6 = Fp2[v] / (v³ - ξ), ξ = 1 + u.

/// An element c0 + c1·v + c2·v² of Fp6.
struct Fp6: Equatable, Sendable {
    var c0: Fp2
    var c1: Fp2
    var c2: Fp2

    @inline(__always) init(_ c0: Fp2, _ c1: Fp2, _ c2: Fp2) { self.c0 = c0; self.c1 = c1; self.c2 = c2 }

    @inline(__always) static var zero: Fp6 { Fp6(.zero, .zero, .zero) }
    @inline(__always) static var one: Fp6 { Fp6(.one, .zero, .zero) }

    @inline(__always) var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    @inline(__always) static func + (a: Fp6, b: Fp6) -> Fp6 { Fp6(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2) }
    @inline(__always) static func - (a: Fp6, b: Fp6) -> Fp6 { Fp6(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2) }
    @inline(__always) static prefix func - (a: Fp6) -> Fp6 { Fp6(-a.c0, -a.c1, -a.c2) }
    @inline(__always) var doubled: Fp6 { Fp6(c0.doubled, c1.doubled, c2.doubled) }

    /// Karatsuba-style product: 6 Fp2 multiplications.
    @inline(__always) static func * (a: Fp6, b: Fp6) -> Fp6 { mul(a, b) }

    @inline(never)
    static func mul(_ a: Fp6, _ b: Fp6) -> Fp6 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let cc = a.c2 * b.c2
        let t0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - bb - cc).mulByXi + aa
        let t1 = (a.c0 + a.c1) * (b.c0 + b.c1) - aa - bb + cc.mulByXi
        let t2 = (a.c0 + a.c2) * (b.c0 + b.c2) - aa - cc + bb
        return Fp6(t0, t1, t2)
    }

    /// Chung–Hasan SQR2.
    @inline(never)
    static func square(_ a: Fp6) -> Fp6 {
        let s0 = a.c0.squared
        let s1 = (a.c0 * a.c1).doubled
        let s2 = (a.c0 - a.c1 + a.c2).squared
        let s3 = (a.c1 * a.c2).doubled
        let s4 = a.c2.squared
        return Fp6(s3.mulByXi + s0, s4.mulByXi + s1, s1 + s2 + s3 - s0 - s4)
    }

    @inline(__always) var squared: Fp6 { Fp6.square(self) }

    /// Multiplication by v: (c0, c1, c2) ↦ (ξ·c2, c0, c1).
    @inline(__always) var mulByV: Fp6 { Fp6(c2.mulByXi, c0, c1) }

    /// Product with the sparse element b0 + b1·v.
    @inline(__always)
    func mulBy01(_ b0: Fp2, _ b1: Fp2) -> Fp6 {
        let aa = c0 * b0
        let bb = c1 * b1
        let t0 = (c2 * b1).mulByXi + aa
        let t1 = (c0 + c1) * (b0 + b1) - aa - bb
        let t2 = c2 * b0 + bb
        return Fp6(t0, t1, t2)
    }

    /// Product with the sparse element b1·v.
    @inline(__always)
    func mulBy1(_ b1: Fp2) -> Fp6 {
        Fp6((c2 * b1).mulByXi, c0 * b1, c1 * b1)
    }

    @inline(__always) static func * (a: Fp6, b: Fp2) -> Fp6 { Fp6(a.c0 * b, a.c1 * b, a.c2 * b) }

    var inverse: Fp6 {
        let t0 = c0.squared - (c1 * c2).mulByXi
        let t1 = c2.squared.mulByXi - c0 * c1
        let t2 = c1.squared - c0 * c2
        let d = (c0 * t0 + (c2 * t1).mulByXi + (c1 * t2).mulByXi).inverse
        return Fp6(t0 * d, t1 * d, t2 * d)
    }

    /// ξ^((p-1)/3)
    @inline(__always) static var frobC1: Fp2 {
        Fp2(
            .zero,
            Fp(
                0xcd03c9e48671f071, 0x5dab22461fcda5d2, 0x587042afd3851b95,
                0x8eb60ebe01bacb9e, 0x03f97d6e83d050d2, 0x18f0206554638741))
    }
    /// ξ^(2(p-1)/3)
    @inline(__always) static var frobC2: Fp2 {
        Fp2(
            Fp(
                0x890dc9e4867545c3, 0x2af322533285a5d5, 0x50880866309b7e2c,
                0xa20d1b8c7e881024, 0x14e4f04fe2db9068, 0x14e56d3f1564853a), .zero)
    }

    /// x ↦ x^p.
    var frobenius: Fp6 {
        Fp6(c0.conjugate, c1.conjugate * Fp6.frobC1, c2.conjugate * Fp6.frobC2)
    }
}
