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

/// The Miller-loop lines of a fixed Q ∈ G2, independent of P: each entry (o0, a1, a4)
/// stands for the line value o0 + (a1·xP)·v + (a4·yP)·v·w. Preparing costs one pass of
/// doublings and additions; a prepared key or generator can be reused for many pairings.
struct G2Prepared: Sendable {
    /// One entry per doubling and per addition step, in loop order; empty for the identity.
    let lines: [(Fp2, Fp2, Fp2)]

    init(_ q: G2Affine) {
        guard !q.isInfinity else { lines = []; return }
        var lines = [(Fp2, Fp2, Fp2)]()
        lines.reserveCapacity(70)
        var t = G2Projective(q)
        for i in stride(from: 62, through: 0, by: -1) {
            lines.append(G2Prepared.doublingStep(&t))
            if (blsXAbs >> UInt64(i)) & 1 == 1 {
                lines.append(G2Prepared.additionStep(&t, q))
            }
        }
        self.lines = lines
    }

    /// T ← 2T; the tangent line at the old T, without the P factors. Not inlined: inlined into
    /// `BLS.negatedG2Prepared`'s initializer with the addition step, the loop was 24 KB of the
    /// browser's Wasm module; a call per step costs nothing next to its Fp2 products.
    @inline(never)
    static func doublingStep(_ t: inout G2Projective) -> (Fp2, Fp2, Fp2) {
        let x = t.x, y = t.y, z = t.z
        let xx = x.squared
        let b = y.squared  // Y²
        let c = z.squared  // Z²
        let e = G2Projective.mulByB3(c)  // 3b'Z²
        let f = e.times3()  // 9b'Z²
        let a = (x * y).halved  // XY/2
        let g = (b + f).halved  // (Y² + 9b'Z²)/2
        let h = (y + z).squared - (b + c)  // 2YZ
        t = G2Projective(x: a * (b - f), y: g.squared - e.squared.times3(), z: b * h)
        return (b - e, -xx.times3(), h)
    }

    /// T ← T + Q; the line through the old T and Q, without the P factors.
    @inline(never)
    static func additionStep(_ t: inout G2Projective, _ q: G2Affine) -> (Fp2, Fp2, Fp2) {
        let theta = t.y - q.y * t.z
        let lambda = t.x - q.x * t.z
        let c = theta.squared
        let d = lambda.squared
        let e = lambda * d
        let f = t.z * c
        let g = t.x * d
        let h = e + f - g.doubled
        let y3 = theta * (g - h) - e * t.y
        t = G2Projective(x: lambda * h, y: y3, z: t.z * e)
        return (theta * q.x - lambda * q.y, -theta, lambda)
    }
}

/// The product of the Miller loop values f_{|x|,Q}(P) over all pairs, conjugated for x < 0.
/// Pairs containing the identity contribute 1 and are skipped.
func multiMillerLoop(_ pairs: [(G1Affine, G2Affine)]) -> Fp12 {
    multiMillerLoop(prepared: pairs.map { ($0.0, G2Prepared($0.1)) })
}

/// Multi-Miller loop over prepared second arguments: one shared squaring per step.
func multiMillerLoop(prepared pairs: [(G1Affine, G2Prepared)]) -> Fp12 {
    let active = pairs.filter { !$0.0.isInfinity && !$0.1.lines.isEmpty }
    var f = Fp12.one
    if active.isEmpty { return f }
    var index = 0
    var first = true
    for i in stride(from: 62, through: 0, by: -1) {
        if !first { f = f.squared }
        for (k, (p, q)) in active.enumerated() {
            let (o0, a1, a4) = q.lines[index]
            if first && k == 0 {
                f = Fp12(Fp6(o0, a1 * p.x, .zero), Fp6(.zero, a4 * p.y, .zero))
            } else {
                f = f.mulBy014(o0, a1 * p.x, a4 * p.y)
            }
        }
        index += 1
        first = false
        if (blsXAbs >> UInt64(i)) & 1 == 1 {
            for (p, q) in active {
                let (o0, a1, a4) = q.lines[index]
                f = f.mulBy014(o0, a1 * p.x, a4 * p.y)
            }
            index += 1
        }
    }
    return f.conjugate
}

extension Fp12 {
    /// self^|x| in the cyclotomic subgroup (Granger–Scott squarings, square-and-multiply).
    func cyclotomicPowXAbsUncompressed() -> Fp12 {
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
        var t = conjugate * inverseVartime  // f^(p⁶-1) (the pairing inputs are public)
        t = t.frobenius.frobenius * t  // ^(p²+1)
        // Hard part.
        var a = t.cyclotomicPowX() * t.conjugate  // t^(x-1)
        a = a.cyclotomicPowX() * a.conjugate  // t^((x-1)²)
        let b = a.cyclotomicPowX() * a.frobenius  // a^(x+p)
        let c = b.cyclotomicPowX().cyclotomicPowX() * b.frobenius.frobenius * b.conjugate  // b^(x²+p²-1)
        return c * t.cyclotomicSquared() * t
    }
}

/// e(P, Q) (cubed reduced ate pairing; see `finalExponentiation`).
func pairing(_ p: G1Affine, _ q: G2Affine) -> Fp12 {
    multiMillerLoop([(p, q)]).finalExponentiation()
}
