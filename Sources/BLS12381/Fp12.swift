// Fp12 = Fp6[w] / (w² - v).

/// An element c0 + c1·w of Fp12, the target field of the pairing.
struct Fp12: Equatable, Sendable {
    var c0: Fp6
    var c1: Fp6

    @inline(__always) init(_ c0: Fp6, _ c1: Fp6) { self.c0 = c0; self.c1 = c1 }

    @inline(__always) static var one: Fp12 { Fp12(.one, .zero) }

    @inline(__always) static func * (a: Fp12, b: Fp12) -> Fp12 { mul(a, b) }

    @inline(never)
    static func mul(_ a: Fp12, _ b: Fp12) -> Fp12 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - aa - bb
        return Fp12(bb.mulByV + aa, c1)
    }

    /// Complex squaring: 2 Fp6 multiplications.
    @inline(never)
    static func square(_ a: Fp12) -> Fp12 {
        let ab = a.c0 * a.c1
        let c0 = (a.c0 + a.c1) * (a.c0 + a.c1.mulByV) - ab - ab.mulByV
        return Fp12(c0, ab.doubled)
    }

    @inline(__always) var squared: Fp12 { Fp12.square(self) }

    /// Conjugation over Fp6, x ↦ x^(p^6); the inverse for elements of the cyclotomic subgroup.
    @inline(__always) var conjugate: Fp12 { Fp12(c0, -c1) }

    var inverse: Fp12 {
        let t = (c0.squared - c1.squared.mulByV).inverse
        return Fp12(c0 * t, -(c1 * t))
    }

    /// Multiplication by a line value o0 + o1·v + o4·v·w (positions 0, 1 and 4 of the tower).
    @inline(never)
    func mulBy014(_ o0: Fp2, _ o1: Fp2, _ o4: Fp2) -> Fp12 {
        let aa = c0.mulBy01Lazy(o0, o1)
        let bb = c1.mulBy1(o4)
        let t = (c0 + c1).mulBy01Lazy(o0, o1 + o4)
        return Fp12(bb.mulByV + aa, t - aa - bb)
    }

    /// ξ^((p-1)/6)
    @inline(__always) static var frobW: Fp2 {
        Fp2(
            Fp(
                0x07089552b319d465, 0xc6695f92b50a8313, 0x97e83cccd117228f,
                0xa35baecab2dc29ee, 0x1ce393ea5daace4d, 0x08f2220fb0fb66eb),
            Fp(
                0xb2f66aad4ce5d646, 0x5842a06bfc497cec, 0xcf4895d42599d394,
                0xc11b9cba40a8e8d0, 0x2e3813cbe5a0de89, 0x110eefda88847faf))
    }

    /// x ↦ x^p.
    var frobenius: Fp12 {
        Fp12(c0.frobenius, c1.frobenius * Fp12.frobW)
    }

    /// Squaring in the cyclotomic subgroup (Granger–Scott), valid only after the easy part
    /// of the final exponentiation. Views the element as A + B·w + C·w² over Fp4 = Fp2[s]/(s² - ξ), s = w³.
    @inline(never)
    func cyclotomicSquared() -> Fp12 {
        var z0 = c0.c0, z4 = c0.c1, z3 = c0.c2
        var z2 = c1.c0, z1 = c1.c1, z5 = c1.c2
        @inline(__always) func fp4Square(_ a: Fp2, _ b: Fp2) -> (Fp2, Fp2) {
            let t0 = a.squared
            let t1 = b.squared
            return (t1.mulByXi + t0, (a + b).squared - t0 - t1)
        }
        var (t0, t1) = fp4Square(z0, z1)
        z0 = t0 - z0; z0 = z0.doubled + t0
        z1 = t1 + z1; z1 = z1.doubled + t1
        (t0, t1) = fp4Square(z2, z3)
        let (t2, t3) = fp4Square(z4, z5)
        z4 = t0 - z4; z4 = z4.doubled + t0
        z5 = t1 + z5; z5 = z5.doubled + t1
        let t = t3.mulByXi
        z2 = t + z2; z2 = z2.doubled + t
        z3 = t2 - z3; z3 = z3.doubled + t2
        return Fp12(Fp6(z0, z4, z3), Fp6(z2, z1, z5))
    }
}
