// Points of the curve E: y² = x³ + 4 over Fp, home of G1 (signatures in the min-sig scheme).
// The arithmetic is shared with G2 (CurvePoint.swift); this file holds what is specific to E.

/// The curve E: y² = x³ + 4 over Fp.
enum G1Curve: CurveParameters {
    /// b = 4.
    @inline(__always) static var b: Fp {
        Fp(
            0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
            0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e)
    }

    /// 3·b = 12: additions instead of a multiplication.
    @inline(__always) static func mulByB3(_ t: Fp) -> Fp { t.times4().times3() }
}

/// An affine point of GROUPG1, or the point at infinity.
typealias G1Affine = AffinePoint<G1Curve>
/// A point of GROUPG1 in homogeneous projective coordinates.
typealias G1Projective = ProjectivePoint<G1Curve>
/// A point of GROUPG1 in Jacobian coordinates (variable-time multiplications by public scalars).
typealias G1Jacobian = JacobianPoint<G1Curve>

extension ProjectivePoint where Curve == G1Curve {
    /// The standard generator of G1.
    @inline(__always) static var generator: G1Projective {
        G1Projective(
            x: Fp(
                0x5cb38790fd530c16, 0x7817fc679976fff5, 0x154f95c7143ba1c1,
                0xf0ae6acdf3d0e747, 0xedce6ecc21dbf440, 0x120177419e0bfb75),
            y: Fp(
                0xbaac93d50ce72271, 0x8c22631a7918fd8e, 0xdd595f13570725ce,
                0x51ac582950405194, 0x0e1c8c3fad0059c0, 0x0bbc3efc5008a26a),
            z: .one)
    }

    /// β, a primitive cube root of unity in Fp such that φ(x, y) = (βx, y) acts on G1 as
    /// multiplication by -x² (mod r).
    @inline(__always) static var beta: Fp {
        Fp(
            0x30f1361b798a64e8, 0xf3b8ddab7ece5a2a, 0x16a8ca3ac61577f7,
            0xc26a2ff874fd029b, 0x3636b76660701c6e, 0x051ba4ab241b6160)
    }

    /// The endomorphism φ(x, y) = (βx, y).
    var phi: G1Projective { G1Projective(x: x * G1Projective.beta, y: y, z: z) }

    /// Membership in the prime-order subgroup, for a point known to be on the curve:
    /// φ(P) = [-x²]P (Scott, "A note on group membership tests for G1, G2 and GT on BLS
    /// pairing-friendly curves", 2021). Costs two 64-bit multiplications instead of one by r.
    var isInSubgroup: Bool {
        let j = G1Jacobian(self)
        let xxP = j.multipliedVartime(0xd201000000010000).multipliedVartime(0xd201000000010000).projective
        return phi == -xxP
    }

    /// Multiplication by the effective cofactor h_eff = 1 - x = 0xd201000000010001 (RFC 9380).
    var clearedCofactor: G1Projective { timesXAbs + self }
}
