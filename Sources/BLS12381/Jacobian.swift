// Jacobian coordinates for variable-time multiplication by public 64-bit scalars.

/// A point of the curve in Jacobian coordinates (x = X/Z², y = Y/Z³), used for the
/// variable-time multiplications by the public curve parameter (subgroup checks, cofactor
/// clearing), where doubling is cheaper than with the complete projective formulas.
struct JacobianPoint<Curve: CurveParameters> {
    typealias Field = Curve.Field

    var x: Field
    var y: Field
    var z: Field

    init(x: Field, y: Field, z: Field) { self.x = x; self.y = y; self.z = z }

    /// From homogeneous projective (X : Y : Z): (X·Z, Y·Z², Z).
    init(_ p: ProjectivePoint<Curve>) {
        x = p.x * p.z
        y = p.y * p.z.squared
        z = p.z
    }

    /// To homogeneous projective: (X·Z, Y, Z³).
    var projective: ProjectivePoint<Curve> {
        if z.isZero { return .identity }
        return ProjectivePoint(x: x * z, y: y, z: z.squared * z)
    }

    /// dbl-2009-l (a = 0): 2M + 5S.
    var doubled: JacobianPoint {
        let a = x.squared
        let b = y.squared
        let c = b.squared
        let d = ((x + b).squared - a - c).doubled
        let e = a.times3()
        let f = e.squared
        let x3 = f - d.doubled
        let y3 = e * (d - x3) - c.times8()
        let z3 = (y * z).doubled
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl, with the exceptional cases handled by branches (variable time).
    static func + (p: JacobianPoint, q: JacobianPoint) -> JacobianPoint {
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
            return r.isZero ? p.doubled : JacobianPoint(x: .one, y: .one, z: .zero)
        }
        let i = h.doubled.squared
        let j = h * i
        let v = u1 * i
        let x3 = r.squared - j - v.doubled
        let y3 = r * (v - x3) - (s1 * j).doubled
        let z3 = ((p.z + q.z).squared - z1z1 - z2z2) * h
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// [k]P for a public 64-bit k (variable time).
    func multipliedVartime(_ k: UInt64) -> JacobianPoint {
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
