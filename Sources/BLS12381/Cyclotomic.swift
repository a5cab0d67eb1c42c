// Karabina's compressed squaring in the cyclotomic subgroup (Karabina, "Squaring in
// cyclotomic subgroups", Math. Comp. 2013), used for the exponentiations by |x| in the
// hard part of the final exponentiation.
//
// With f = (g0 + g4·v + g3·v²) + (g2 + g1·v + g5·v²)·w in the cyclotomic subgroup, the four
// coefficients (g2, g3, g4, g5) determine f and can be squared on their own with four Fp2
// multiplications (against nine Fp2 squarings for a full Granger–Scott squaring):
//   B23 = g2·g3, B45 = g4·g5, A23 = (g2 + g3)(g2 + ξ·g3), A45 = (g4 + g5)(g4 + ξ·g5)
//   g2' = 2(g2 + 3ξ·B45)            g3' = 3(A45 − (ξ + 1)·B45) − 2g3
//   g4' = 3(A23 − (ξ + 1)·B23) − 2g4  g5' = 2(g5 + 3·B23)
// Decompression recovers g1 and g0:
//   g2 ≠ 0: g1 = (ξ·g5² + 3g4² − 2g3) / (4g2),  g0 = ξ(2g1² + g2g5 − 3g3g4) + 1
//   g2 = 0: g1 = 2g4g5 / g3,                    g0 = ξ(2g1² − 3g3g4) + 1
// The divisions of one exponentiation share a single (variable-time) inversion.

/// The compressed form (g2, g3, g4, g5) of an element of the cyclotomic subgroup.
struct CompressedCyclotomic {
    var g2: Fp2
    var g3: Fp2
    var g4: Fp2
    var g5: Fp2

    init(_ f: Fp12) {
        g2 = f.c1.c0; g3 = f.c0.c2; g4 = f.c0.c1; g5 = f.c1.c2
    }

    @inline(never)
    func squared() -> CompressedCyclotomic {
        let b23 = g2 * g3
        let b45 = g4 * g5
        let a23 = (g2 + g3) * (g2 + g3.mulByXi)
        let a45 = (g4 + g5) * (g4 + g5.mulByXi)
        var r = self
        r.g2 = (g2 + b45.mulByXi.times3()).doubled
        r.g3 = (a45 - (b45.mulByXi + b45)).times3() - g3.doubled
        r.g4 = (a23 - (b23.mulByXi + b23)).times3() - g4.doubled
        r.g5 = (g5 + b23.times3()).doubled
        return r
    }

    /// g1 as numerator / denominator.
    var g1Fraction: (numerator: Fp2, denominator: Fp2) {
        if g2.isZero {
            return ((g4 * g5).doubled, g3)
        }
        return (g5.squared.mulByXi + g4.squared.times3() - g3.doubled, g2.times4())
    }

    /// The full element, given g1.
    func decompressed(g1: Fp2) -> Fp12 {
        let g0 = ((g1.squared.doubled + g2 * g5) - (g3 * g4).times3()).mulByXi + .one
        return Fp12(Fp6(g0, g4, g3), Fp6(g2, g1, g5))
    }
}

extension Fp12 {
    /// self^|x| in the cyclotomic subgroup with compressed squarings; the six set bits of
    /// |x| = 0xd201000000010000 (positions 16, 48, 57, 60, 62, 63) are decompressed together.
    func cyclotomicPowXAbs() -> Fp12 {
        var c = CompressedCyclotomic(self)
        var saved = [CompressedCyclotomic]()
        saved.reserveCapacity(6)
        for i in 0..<64 {
            if (blsXAbs >> UInt64(i)) & 1 == 1 { saved.append(c) }
            if i < 63 { c = c.squared() }
        }
        // Batch inversion of the denominators (Montgomery's trick).
        let fractions = saved.map { $0.g1Fraction }
        var prefix = [Fp2]()
        prefix.reserveCapacity(fractions.count)
        var acc = Fp2.one
        for f in fractions {
            prefix.append(acc)
            acc = acc * f.denominator
        }
        if acc.isZero { return cyclotomicPowXAbsUncompressed() }  // degenerate input
        var inv = acc.inverseVartime
        var result: Fp12? = nil
        var k = fractions.count - 1
        while k >= 0 {
            let denominatorInverse = inv * prefix[k]
            inv = inv * fractions[k].denominator
            let g1 = fractions[k].numerator * denominatorInverse
            let term = saved[k].decompressed(g1: g1)
            result = result.map { $0 * term } ?? term
            k -= 1
        }
        return result ?? .one
    }
}
