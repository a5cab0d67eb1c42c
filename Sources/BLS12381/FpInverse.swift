// Variable-time inversion in Fp (binary extended Euclid), for public values only:
// verification paths (affine conversion of a hashed point, the final exponentiation).
// Secret-dependent code uses the constant-time Fermat inversion `Fp.inverse`.

extension Fp {
    /// R³ mod p: turns the integer inverse of a Montgomery-form value back into Montgomery form.
    @inline(__always) static var r3: Fp {
        Fp(
            0xed48ac6bd94ca1e0, 0x315f831e03a7adf8, 0x9a53352a615e29dd,
            0x34c04e5e921e1761, 0x2512d43565724728, 0x0aa6346091755d4d)
    }

    @inline(__always) private var isEven: Bool { l0 & 1 == 0 }
    @inline(__always) private var isOneInteger: Bool {
        l0 == 1 && (l1 | l2 | l3 | l4 | l5) == 0
    }

    /// Integer halving (for even values).
    @inline(__always) private var shiftedRight: Fp {
        Fp(
            (l0 >> 1) | (l1 << 63), (l1 >> 1) | (l2 << 63), (l2 >> 1) | (l3 << 63),
            (l3 >> 1) | (l4 << 63), (l4 >> 1) | (l5 << 63), l5 >> 1)
    }

    /// Integer comparison a ≥ b.
    @inline(__always) private static func greaterOrEqual(_ a: Fp, _ b: Fp) -> Bool {
        var br: UInt64 = 0
        _ = sbb(a.l0, b.l0, &br); _ = sbb(a.l1, b.l1, &br); _ = sbb(a.l2, b.l2, &br)
        _ = sbb(a.l3, b.l3, &br); _ = sbb(a.l4, b.l4, &br); _ = sbb(a.l5, b.l5, &br)
        return br == 0
    }

    /// Integer subtraction a - b for a ≥ b.
    @inline(__always) private static func integerMinus(_ a: Fp, _ b: Fp) -> Fp {
        var br: UInt64 = 0
        return Fp(
            sbb(a.l0, b.l0, &br), sbb(a.l1, b.l1, &br), sbb(a.l2, b.l2, &br),
            sbb(a.l3, b.l3, &br), sbb(a.l4, b.l4, &br), sbb(a.l5, b.l5, &br))
    }

    /// Multiplicative inverse, variable time (not for secrets); 0 maps to 0.
    var inverseVartime: Fp {
        if isZero { return .zero }
        // Invariants: x1·a ≡ u, x2·a ≡ v (mod p), on the raw integers.
        var u = self
        var v = Fp(P0, P1, P2, P3, P4, P5)
        var x1 = Fp(1, 0, 0, 0, 0, 0)
        var x2 = Fp.zero
        while !u.isOneInteger && !v.isOneInteger {
            while u.isEven {
                u = u.shiftedRight
                x1 = x1.halved
            }
            while v.isEven {
                v = v.shiftedRight
                x2 = x2.halved
            }
            if Fp.greaterOrEqual(u, v) {
                u = Fp.integerMinus(u, v)
                x1 = x1 - x2
            } else {
                v = Fp.integerMinus(v, u)
                x2 = x2 - x1
            }
        }
        let raw = u.isOneInteger ? x1 : x2
        // raw = (aR)⁻¹ as an integer; Montgomery-multiplying by R³ gives a⁻¹·R.
        return raw * Fp.r3
    }
}

extension Fp2 {
    /// Variable-time inverse (public values only).
    var inverseVartime: Fp2 {
        let t = norm.inverseVartime
        return Fp2(c0 * t, -(c1 * t))
    }
}

extension Fp6 {
    /// Variable-time inverse (public values only).
    var inverseVartime: Fp6 {
        let t0 = c0.squared - (c1 * c2).mulByXi
        let t1 = c2.squared.mulByXi - c0 * c1
        let t2 = c1.squared - c0 * c2
        let d = (c0 * t0 + (c2 * t1).mulByXi + (c1 * t2).mulByXi).inverseVartime
        return Fp6(t0 * d, t1 * d, t2 * d)
    }
}

extension Fp12 {
    /// Variable-time inverse (public values only).
    var inverseVartime: Fp12 {
        let t = (c0.squared - c1.squared.mulByV).inverseVartime
        return Fp12(c0 * t, -(c1 * t))
    }
}
