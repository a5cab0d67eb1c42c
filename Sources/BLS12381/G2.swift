// Points of the sextic twist E': y² = x³ + 4(1 + u) over Fp2, home of G2 (public keys in the min-sig scheme).
// The arithmetic is shared with G1 (CurvePoint.swift); this file holds what is specific to E'.

/// The twist E': y² = x³ + 4(1 + u) over Fp2.
enum G2Curve: CurveParameters {
    /// b' = 4(1 + u).
    @inline(__always) static var b: Fp2 {
        Fp2(
            Fp(
                0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
                0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e),
            Fp(
                0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
                0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e))
    }

    /// 3·b' = 12ξ: additions and the product by ξ = 1 + u instead of a multiplication.
    @inline(__always) static func mulByB3(_ t: Fp2) -> Fp2 { t.times4().times3().mulByXi }
}

/// An affine point of GROUPG2, or the point at infinity.
typealias G2Affine = AffinePoint<G2Curve>
/// A point of GROUPG2 in homogeneous projective coordinates.
typealias G2Projective = ProjectivePoint<G2Curve>
/// A point of GROUPG2 in Jacobian coordinates (variable-time multiplications by public scalars).
typealias G2Jacobian = JacobianPoint<G2Curve>

extension ProjectivePoint where Curve == G2Curve {
    /// The standard generator of G2.
    @inline(__always) static var generator: G2Projective {
        G2Projective(
            x: Fp2(
                Fp(
                    0xf5f28fa202940a10, 0xb3f5fb2687b4961a, 0xa1a893b53e2ae580,
                    0x9894999d1a3caee9, 0x6f67b7631863366b, 0x058191924350bcd7),
                Fp(
                    0xa5a9c0759e23f606, 0xaaa0c59dbccd60c3, 0x3bb17e18e2867806,
                    0x1b1ab6cc8541b367, 0xc2b6ed0ef2158547, 0x11922a097360edf3)),
            y: Fp2(
                Fp(
                    0x4c730af860494c4a, 0x597cfa1f5e369c5a, 0xe7e6856caa0a635a,
                    0xbbefb5e96e0d495f, 0x07d3a975f0ef25a2, 0x0083fd8e7e80dae5),
                Fp(
                    0xadc0fc92df64b05d, 0x18aa270a2b1461dc, 0x86adac6a3be4eba0,
                    0x79495c4ec93da33a, 0xe7175850a43ccaed, 0x0b2bc2a163de1bf2)),
            z: .one)
    }

    /// ψ = untwist ∘ Frobenius ∘ twist: ψ(x, y) = (x̄·ξ^(-(p-1)/3), ȳ·ξ^(-(p-1)/2)).
    @inline(__always) static var psiX: Fp2 {
        Fp2(
            .zero,
            Fp(
                0x890dc9e4867545c3, 0x2af322533285a5d5, 0x50880866309b7e2c,
                0xa20d1b8c7e881024, 0x14e4f04fe2db9068, 0x14e56d3f1564853a))
    }
    @inline(__always) static var psiY: Fp2 {
        Fp2(
            Fp(
                0x3e2f585da55c9ad1, 0x4294213d86c18183, 0x382844c88b623732,
                0x92ad2afd19103e18, 0x1d794e4fac7cf0b9, 0x0bd592fc7d825ec8),
            Fp(
                0x7bcfa7a25aa30fda, 0xdc17dec12a927e7c, 0x2f088dd86b4ebef1,
                0xd1ca2087da74d4a7, 0x2da2596696cebc1d, 0x0e2b7eedbbfd87d2))
    }

    var psi: G2Projective {
        G2Projective(x: x.conjugate * G2Projective.psiX, y: y.conjugate * G2Projective.psiY, z: z.conjugate)
    }

    /// Membership in the prime-order subgroup, for a point known to be on the twist:
    /// ψ(P) = [x]P = -[|x|]P (Scott 2021).
    var isInSubgroup: Bool {
        psi == -timesXAbs
    }
}
