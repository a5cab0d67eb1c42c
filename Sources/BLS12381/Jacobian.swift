// Jacobian coordinates for variable-time multiplication by public 64-bit scalars.

/// A point of G1's curve in Jacobian coordinates (x = X/Z², y = Y/Z³), used for the
/// variable-time multiplications by the public curve parameter (subgroup checks, cofactor
/// clearing), where doubling is cheaper than with the complete projective formulas.
struct G1Jacobian {
    var x: Fp
    var y: Fp
    var z: Fp

    init(x: Fp, y: Fp, z: Fp) { self.x = x; self.y = y; self.z = z }

    /// From homogeneous projective (X : Y : Z): (X·Z, Y·Z², Z).
    init(_ p: G1Projective) {
        x = p.x * p.z
        y = p.y * p.z.squared
        z = p.z
    }

    /// To homogeneous projective: (X·Z, Y, Z³).
    var projective: G1Projective {
        if z.isZero { return .identity }
        return G1Projective(x: x * z, y: y, z: z.squared * z)
    }

    /// dbl-2009-l (a = 0): 2M + 5S.
    var doubled: G1Jacobian {
        let a = x.squared
        let b = y.squared
        let c = b.squared
        let d = ((x + b).squared - a - c).doubled
        let e = a.times3()
        let f = e.squared
        let x3 = f - d.doubled
        let y3 = e * (d - x3) - c.times8()
        let z3 = (y * z).doubled
        return G1Jacobian(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl, with the exceptional cases handled by branches (variable time).
    static func + (p: G1Jacobian, q: G1Jacobian) -> G1Jacobian {
        if p.z.isZero { return q }
        if q.z.isZero { return p }
        let z1z1 = p.z.squared
        let z2z2 = q.z.squared
        let u1 = p.x * z2z2
        let u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2
        let s2 = q.y * p.z * z1z1
        let h = u2 - u1
        let r = (s2 - s1).doubled
        if h.isZero {
            return r.isZero ? p.doubled : G1Jacobian(x: .one, y: .one, z: .zero)
        }
        let i = h.doubled.squared
        let j = h * i
        let v = u1 * i
        let x3 = r.squared - j - v.doubled
        let y3 = r * (v - x3) - (s1 * j).doubled
        let z3 = ((p.z + q.z).squared - z1z1 - z2z2) * h
        return G1Jacobian(x: x3, y: y3, z: z3)
    }

    /// [k]P for a public 64-bit k (variable time).
    func multipliedVartime(_ k: UInt64) -> G1Jacobian {
        var acc = self
        let top = 63 - k.leadingZeroBitCount
        var i = top - 1
        while i >= 0 {
            acc = acc.doubled
            if (k >> UInt64(i)) & 1 == 1 { acc = acc + self }
            i -= 1
        }
        return acc
    }
}

/// A point of G2's curve in Jacobian coordinates (x = X/Z², y = Y/Z³), used for the
/// variable-time multiplications by the public curve parameter (subgroup checks, cofactor
/// clearing), where doubling is cheaper than with the complete projective formulas.
struct G2Jacobian {
    var x: Fp2
    var y: Fp2
    var z: Fp2

    init(x: Fp2, y: Fp2, z: Fp2) { self.x = x; self.y = y; self.z = z }

    /// From homogeneous projective (X : Y : Z): (X·Z, Y·Z², Z).
    init(_ p: G2Projective) {
        x = p.x * p.z
        y = p.y * p.z.squared
        z = p.z
    }

    /// To homogeneous projective: (X·Z, Y, Z³).
    var projective: G2Projective {
        if z.isZero { return .identity }
        return G2Projective(x: x * z, y: y, z: z.squared * z)
    }

    /// dbl-2009-l (a = 0): 2M + 5S.
    var doubled: G2Jacobian {
        let a = x.squared
        let b = y.squared
        let c = b.squared
        let d = ((x + b).squared - a - c).doubled
        let e = a.times3()
        let f = e.squared
        let x3 = f - d.doubled
        let y3 = e * (d - x3) - c.times8()
        let z3 = (y * z).doubled
        return G2Jacobian(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl, with the exceptional cases handled by branches (variable time).
    static func + (p: G2Jacobian, q: G2Jacobian) -> G2Jacobian {
        if p.z.isZero { return q }
        if q.z.isZero { return p }
        let z1z1 = p.z.squared
        let z2z2 = q.z.squared
        let u1 = p.x * z2z2
        let u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2
        let s2 = q.y * p.z * z1z1
        let h = u2 - u1
        let r = (s2 - s1).doubled
        if h.isZero {
            return r.isZero ? p.doubled : G2Jacobian(x: .one, y: .one, z: .zero)
        }
        let i = h.doubled.squared
        let j = h * i
        let v = u1 * i
        let x3 = r.squared - j - v.doubled
        let y3 = r * (v - x3) - (s1 * j).doubled
        let z3 = ((p.z + q.z).squared - z1z1 - z2z2) * h
        return G2Jacobian(x: x3, y: y3, z: z3)
    }

    /// [k]P for a public 64-bit k (variable time).
    func multipliedVartime(_ k: UInt64) -> G2Jacobian {
        var acc = self
        let top = 63 - k.leadingZeroBitCount
        var i = top - 1
        while i >= 0 {
            acc = acc.doubled
            if (k >> UInt64(i)) & 1 == 1 { acc = acc + self }
            i -= 1
        }
        return acc
    }
}
