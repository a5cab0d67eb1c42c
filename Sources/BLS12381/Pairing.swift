// The optimal ate pairing on BLS12-381: e(P, Q) for P ∈ G1, Q ∈ G2, with values in the
// order-r subgroup of Fp12* (GT).
//
// Miller loop over |x| = 0xd201000000010000 with T ∈ E'(Fp2) in homogeneous projective
// coordinates. Lines are evaluated at P and multiplied in as sparse elements
// o0 + o1·v + o4·v·w (the untwisted line times w³ — an Fp4 factor, killed by the final
// exponentiation — and scaled by Fp2 factors for the same reason):
//   tangent at T:   o0 = Y² − 3b'Z²,      o1 = −3X²·xP,  o4 = 2YZ·yP
//   line T, Q:      o0 = θ·xQ − λ·yQ,     o1 = −θ·xP,    o4 = λ·yP
//   with θ = Y − yQ·Z, λ = X − xQ·Z.
// Several pairs share one accumulator (multi-Miller loop); x < 0 is handled by one
// conjugation at the end.

/// |x| for the BLS parameter x = -0xd201000000010000.
let blsXAbs: UInt64 = 0xd201000000010000

/// State of one pair in a multi-Miller loop.
struct MillerPair {
    let px: Fp
    let py: Fp
    let qx: Fp2
    let qy: Fp2
    var t: G2Projective

    init(p: G1Affine, q: G2Affine) {
        px = p.x; py = p.y; qx = q.x; qy = q.y
        t = G2Projective(q)
    }

    /// T ← 2T; returns the tangent line at the old T evaluated at P.
    @inline(__always)
    mutating func doublingStep() -> (Fp2, Fp2, Fp2) {
        let x = t.x, y = t.y, z = t.z
        let xx = x.squared
        let b = y.squared                    // Y²
        let c = z.squared                    // Z²
        let e = G2Projective.mulByB3(c)      // 3b'Z²
        let f = e.times3()                   // 9b'Z²
        let a = (x * y).halved               // XY/2
        let g = (b + f).halved               // (Y² + 9b'Z²)/2
        let h = (y + z).squared - (b + c)    // 2YZ
        t = G2Projective(x: a * (b - f), y: g.squared - e.squared.times3(), z: b * h)
        return (b - e, -(xx.times3() * px), h * py)
    }

    /// T ← T + Q; returns the line through the old T and Q evaluated at P.
    @inline(__always)
    mutating func additionStep() -> (Fp2, Fp2, Fp2) {
        let theta = t.y - qy * t.z
        let lambda = t.x - qx * t.z
        let c = theta.squared
        let d = lambda.squared
        let e = lambda * d
        let f = t.z * c
        let g = t.x * d
        let h = e + f - g.doubled
        let y3 = theta * (g - h) - e * t.y
        t = G2Projective(x: lambda * h, y: y3, z: t.z * e)
        return (theta * qx - lambda * qy, -(theta * px), lambda * py)
    }
}

/// The product of the Miller loop values f_{|x|,Q}(P) over all pairs, conjugated for x < 0.
/// Pairs containing the identity contribute 1 and are skipped.
func multiMillerLoop(_ pairs: [(G1Affine, G2Affine)]) -> Fp12 {
    var states = [MillerPair]()
    states.reserveCapacity(pairs.count)
    for (p, q) in pairs where !p.isInfinity && !q.isInfinity {
        states.append(MillerPair(p: p, q: q))
    }
    var f = Fp12.one
    if states.isEmpty { return f }
    var first = true
    for i in stride(from: 62, through: 0, by: -1) {
        if !first { f = f.squared }
        for k in states.indices {
            let (o0, o1, o4) = states[k].doublingStep()
            if first && k == 0 {
                f = Fp12(Fp6(o0, o1, .zero), Fp6(.zero, o4, .zero))
            } else {
                f = f.mulBy014(o0, o1, o4)
            }
        }
        first = false
        if (blsXAbs >> UInt64(i)) & 1 == 1 {
            for k in states.indices {
                let (o0, o1, o4) = states[k].additionStep()
                f = f.mulBy014(o0, o1, o4)
            }
        }
    }
    return f.conjugate
}

extension Fp12 {
    /// self^|x| in the cyclotomic subgroup (square-and-multiply over the 64-bit |x|).
    func cyclotomicPowXAbs() -> Fp12 {
        var acc = self
        for i in stride(from: 62, through: 0, by: -1) {
            acc = acc.cyclotomicSquared()
            if (blsXAbs >> UInt64(i)) & 1 == 1 { acc = acc * self }
        }
        return acc
    }

    /// self^x for the negative BLS parameter x (conjugation is inversion in the cyclotomic subgroup).
    @inline(__always) func cyclotomicPowX() -> Fp12 { cyclotomicPowXAbs().conjugate }

    /// The final exponentiation f^(3(p¹²-1)/r).
    ///
    /// Easy part f^((p⁶-1)(p²+1)), then the hard part through the decomposition
    /// 3(p⁴-p²+1)/r = (x-1)²(x+p)(x²+p²-1) + 3, which yields the cube of the reduced
    /// pairing: still a non-degenerate bilinear map, and 1 exactly when the reduced pairing is
    /// 1 (gcd(3, r) = 1), which is what verification tests.
    func finalExponentiation() -> Fp12 {
        // Easy part.
        var t = conjugate * inverse            // f^(p⁶-1)
        t = t.frobenius.frobenius * t          // ^(p²+1)
        // Hard part.
        var a = t.cyclotomicPowX() * t.conjugate       // t^(x-1)
        a = a.cyclotomicPowX() * a.conjugate           // t^((x-1)²)
        let b = a.cyclotomicPowX() * a.frobenius       // a^(x+p)
        let c = b.cyclotomicPowX().cyclotomicPowX() * b.frobenius.frobenius * b.conjugate  // b^(x²+p²-1)
        return c * t.cyclotomicSquared() * t
    }
}

/// e(P, Q) (cubed reduced ate pairing; see `finalExponentiation`).
func pairing(_ p: G1Affine, _ q: G2Affine) -> Fp12 {
    multiMillerLoop([(p, q)]).finalExponentiation()
}
