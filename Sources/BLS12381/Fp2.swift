// Fp2 = Fp[u] / (u² + 1).

/// An element c0 + c1·u of the quadratic extension Fp2.
struct Fp2: Equatable, Sendable {
    var c0: Fp
    var c1: Fp

    @inline(__always) init(_ c0: Fp, _ c1: Fp) { self.c0 = c0; self.c1 = c1 }

    @inline(__always) static var zero: Fp2 { Fp2(.zero, .zero) }
    @inline(__always) static var one: Fp2 { Fp2(.one, .zero) }

    @inline(__always) var isZero: Bool { c0.isZero && c1.isZero }

    @inline(__always)
    static func select(_ a: Fp2, _ b: Fp2, _ choice: UInt64) -> Fp2 {
        Fp2(Fp.select(a.c0, b.c0, choice), Fp.select(a.c1, b.c1, choice))
    }

    @inline(__always) static func + (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 + b.c0, a.c1 + b.c1) }
    @inline(__always) static func - (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 - b.c0, a.c1 - b.c1) }
    @inline(__always) static prefix func - (a: Fp2) -> Fp2 { Fp2(-a.c0, -a.c1) }
    @inline(__always) var doubled: Fp2 { Fp2(c0.doubled, c1.doubled) }
    @inline(__always) var halved: Fp2 { Fp2(c0.halved, c1.halved) }
    @inline(__always) func times3() -> Fp2 { Fp2(c0.times3(), c1.times3()) }
    @inline(__always) func times4() -> Fp2 { Fp2(c0.times4(), c1.times4()) }
    @inline(__always) func times8() -> Fp2 { Fp2(c0.times8(), c1.times8()) }

    /// Karatsuba: 3 base-field multiplications.
    @inline(__always)
    static func * (a: Fp2, b: Fp2) -> Fp2 {
        mul(a, b)
    }

    /// Karatsuba with lazy reduction: three 768-bit products, two Montgomery reductions.
    @inline(never)
    static func mul(_ a: Fp2, _ b: Fp2) -> Fp2 {
        let v0 = Fp.mulWide(a.c0, b.c0)
        let v1 = Fp.mulWide(a.c1, b.c1)
        // (a0 + a1)(b0 + b1) < 4p² fits; minus v0 and v1 it is a0b1 + a1b0 < 2p² < p·2^384.
        let s = Fp.mulWide(Fp.addNoReduce(a.c0, a.c1), Fp.addNoReduce(b.c0, b.c1))
        let c0 = Fp.reduce(FpWide.subModPR(v0, v1))
        let c1 = Fp.reduce(s - v0 - v1)
        return Fp2(c0, c1)
    }

    /// (c0 + c1u)² = (c0 + c1)(c0 - c1) + 2c0c1·u: two multiplications.
    @inline(never)
    static func square(_ a: Fp2) -> Fp2 {
        let t = a.c0 * a.c1
        return Fp2((a.c0 + a.c1) * (a.c0 - a.c1), t.doubled)
    }

    @inline(__always) var squared: Fp2 { Fp2.square(self) }

    @inline(__always) static func * (a: Fp2, b: Fp) -> Fp2 { Fp2(a.c0 * b, a.c1 * b) }

    /// Multiplication by the non-residue ξ = 1 + u used to build Fp6.
    @inline(__always) var mulByXi: Fp2 { Fp2(c0 - c1, c0 + c1) }

    /// Complex conjugate; this is also the Frobenius map x ↦ x^p on Fp2.
    @inline(__always) var conjugate: Fp2 { Fp2(c0, -c1) }

    /// The norm c0² + c1² in Fp.
    @inline(__always) var norm: Fp { c0.squared + c1.squared }

    /// Multiplicative inverse; 0 maps to 0.
    var inverse: Fp2 {
        let t = norm.inverse
        return Fp2(c0 * t, -(c1 * t))
    }

    /// RFC 9380 sgn0 for m = 2.
    var sgn0: UInt64 {
        let s0 = c0.sgn0
        let z0: UInt64 = c0.isZero ? 1 : 0
        let s1 = c1.sgn0
        return s0 | (z0 & s1)
    }

    /// The ZCash ordering: compare c1 first, c0 if c1 is zero.
    var isLexicographicallyLargest: Bool {
        if c1.isZero { return c0.isLexicographicallyLargest }
        return c1.isLexicographicallyLargest
    }

    /// A square root if one exists (p ≡ 3 mod 4, through the norm; two exponentiations).
    ///
    /// x = x0 + x1·u with x² = a needs x0² = δ± = (c0 ± √N)/2 (N the norm), x1 = c1/(2x0).
    /// With t = δ^((p-3)/4) for δ = δ+: if δ is a square, x0 = δ·t and 1/x0 = t; otherwise
    /// -δ is a square (−1 is not, and p ≡ 3 mod 8 makes (−1)^((p-3)/4) = 1), and the root
    /// is x1 = -δ·t (x1² = x0² - c0 = -δ+ for the other choice of sign), x0 = c1·t/2.
    var squareRoot: Fp2? {
        if c1.isZero {
            if let r = c0.squareRoot { return Fp2(r, .zero) }
            if let r = (-c0).squareRoot { return Fp2(.zero, r) }
            return nil
        }
        guard let n = norm.squareRoot else { return nil }
        let delta = (c0 + n).halved
        let t = delta.powPMinus3Over4
        let half = (c1 * t).halved
        let x0 = delta * t
        let root = x0.squared == delta ? Fp2(x0, half) : Fp2(half, -x0)
        return root.squared == self ? root : nil
    }

    /// Frobenius x ↦ x^(p^k).
    @inline(__always) func frobenius(_ k: Int) -> Fp2 { k & 1 == 1 ? conjugate : self }
}
