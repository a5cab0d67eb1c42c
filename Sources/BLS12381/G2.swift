// Points of the sextic twist E': y² = x³ + 4(1 + u) over Fp2, home of G2 (public keys in the min-sig scheme).

/// An affine point of GROUPG2, or the point at infinity.
struct G2Affine: Equatable, Sendable {
    var x: Fp2
    var y: Fp2
    var isInfinity: Bool

    @inline(__always) static var infinity: G2Affine { G2Affine(x: .zero, y: .one, isInfinity: true) }

    /// Whether y² = x³ + b (the point at infinity counts as on the curve).
    var isOnCurve: Bool {
        isInfinity || y.squared == x.squared * x + G2Projective.b
    }
}

/// A point of GROUPG2 in homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z.
///
/// Addition and doubling use the complete formulas of Renes–Costello–Batina (2016,
/// algorithms 7 and 9 for a = 0), valid for every input including the identity (0 : 1 : 0),
/// so the same code path runs whatever the operands (needed by the constant-time ladder).
struct G2Projective: Sendable {
    var x: Fp2
    var y: Fp2
    var z: Fp2

    @inline(__always) init(x: Fp2, y: Fp2, z: Fp2) { self.x = x; self.y = y; self.z = z }

    init(_ p: G2Affine) {
        self.init(x: p.x, y: p.y, z: Fp2.select(Fp2.zero, Fp2.one, p.isInfinity ? 1 : 0))
    }

    @inline(__always) static var identity: G2Projective { G2Projective(x: .zero, y: .one, z: .zero) }

    @inline(__always) var isIdentity: Bool { z.isZero }

    /// 3·b, b the curve constant.
    @inline(__always) static func mulByB3(_ t: Fp2) -> Fp2 { t.times4().times3().mulByXi }

    @inline(__always)
    static func select(_ a: G2Projective, _ b: G2Projective, _ choice: UInt64) -> G2Projective {
        G2Projective(x: Fp2.select(a.x, b.x, choice), y: Fp2.select(a.y, b.y, choice), z: Fp2.select(a.z, b.z, choice))
    }

    static prefix func - (a: G2Projective) -> G2Projective { G2Projective(x: a.x, y: -a.y, z: a.z) }

    static func + (a: G2Projective, b: G2Projective) -> G2Projective { add(a, b) }
    static func - (a: G2Projective, b: G2Projective) -> G2Projective { add(a, -b) }

    @inline(never)
    static func add(_ p: G2Projective, _ q: G2Projective) -> G2Projective {
        var t0 = p.x * q.x
        var t1 = p.y * q.y
        var t2 = p.z * q.z
        var t3 = (p.x + p.y) * (q.x + q.y)
        var t4 = t0 + t1
        t3 = t3 - t4
        t4 = (p.y + p.z) * (q.y + q.z)
        var x3 = t1 + t2
        t4 = t4 - x3
        x3 = (p.x + p.z) * (q.x + q.z)
        var y3 = t0 + t2
        y3 = x3 - y3
        x3 = t0.doubled
        t0 = x3 + t0
        t2 = mulByB3(t2)
        var z3 = t1 + t2
        t1 = t1 - t2
        y3 = mulByB3(y3)
        x3 = t4 * y3
        t2 = t3 * t1
        x3 = t2 - x3
        y3 = y3 * t0
        t1 = t1 * z3
        y3 = t1 + y3
        t0 = t0 * t3
        z3 = z3 * t4
        z3 = z3 + t0
        return G2Projective(x: x3, y: y3, z: z3)
    }

    var doubled: G2Projective { G2Projective.double(self) }

    @inline(never)
    static func double(_ p: G2Projective) -> G2Projective {
        var t0 = p.y.squared
        var z3 = t0.times8()
        var t1 = p.y * p.z
        var t2 = p.z.squared
        t2 = mulByB3(t2)
        var x3 = t2 * z3
        var y3 = t0 + t2
        z3 = t1 * z3
        t1 = t2.doubled
        t2 = t1 + t2
        t0 = t0 - t2
        y3 = t0 * y3
        y3 = x3 + y3
        t1 = p.x * p.y
        x3 = t0 * t1
        x3 = x3.doubled
        return G2Projective(x: x3, y: y3, z: z3)
    }

    /// Projective equality: X1·Z2 = X2·Z1 and Y1·Z2 = Y2·Z1.
    static func == (a: G2Projective, b: G2Projective) -> Bool {
        a.x * b.z == b.x * a.z && a.y * b.z == b.y * a.z
    }

    /// Whether Y²Z = X³ + b·Z³.
    var isOnCurve: Bool {
        if isIdentity { return x.isZero && !y.isZero }
        let z2 = z.squared
        return y.squared * z == x.squared * x + G2Projective.b * z2 * z
    }

    /// The affine form, for public points (variable-time inversion).
    var affineVartime: G2Affine {
        if isIdentity { return .infinity }
        let zi = z.inverseVartime
        return G2Affine(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// The affine form (one constant-time inversion).
    var affine: G2Affine {
        if isIdentity { return .infinity }
        let zi = z.inverse
        return G2Affine(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// Multiplication by a public 64-bit scalar (variable time).
    func multipliedVartime(_ k: UInt64) -> G2Projective {
        var acc = G2Projective.identity
        var started = false
        for i in stride(from: 63, through: 0, by: -1) {
            if started { acc = acc.doubled }
            if (k >> UInt64(i)) & 1 == 1 {
                acc = started ? acc + self : self
                started = true
            }
        }
        return acc
    }

    /// [|x|]P for the curve parameter |x| = 0xd201000000010000 (variable time, Jacobian doublings).
    var timesXAbs: G2Projective { G2Jacobian(self).multipliedVartime(0xd201000000010000).projective }

    /// Multiplication by a secret scalar in constant time: fixed 4-bit windows over all 256
    /// bits, each window = 4 doublings + 1 addition of a table entry read with a full scan of
    /// the 16-entry table (masked selects). The complete formulas make the sequence of field
    /// operations independent of the scalar (no branches on scalar bits or on intermediate points).
    func multiplied(by scalar: Scalar) -> G2Projective {
        let k = scalar.canonicalLimbs
        // table[i] = [i]P, i = 0…15.
        var table = [G2Projective](repeating: .identity, count: 16)
        table[1] = self
        for i in 2..<16 {
            table[i] = i % 2 == 0 ? table[i / 2].doubled : table[i - 1] + self
        }
        var acc = G2Projective.identity
        for limbIndex in stride(from: 3, through: 0, by: -1) {
            let limb: UInt64
            switch limbIndex {
            case 3: limb = k.3
            case 2: limb = k.2
            case 1: limb = k.1
            default: limb = k.0
            }
            for shift in stride(from: 60, through: 0, by: -4) {
                acc = acc.doubled.doubled.doubled.doubled
                let nibble = (limb >> UInt64(shift)) & 0xf
                var entry = G2Projective.identity
                for i in 0..<16 {
                    // choice = 1 iff i == nibble, computed without branches.
                    let diff = UInt64(i) ^ nibble
                    let choice = ((diff | (0 &- diff)) >> 63) ^ 1
                    entry = G2Projective.select(table[i], entry, choice)
                }
                acc = acc + entry
            }
        }
        return acc
    }
}

extension G2Projective {
    /// b' = 4(1 + u).
    @inline(__always) static var b: Fp2 { Fp2(Fp(0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
                          0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e),
                       Fp(0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
                          0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e)) }

    /// The standard generator of G2.
    @inline(__always) static var generator: G2Projective { G2Projective(
        x: Fp2(Fp(0xf5f28fa202940a10, 0xb3f5fb2687b4961a, 0xa1a893b53e2ae580,
                  0x9894999d1a3caee9, 0x6f67b7631863366b, 0x058191924350bcd7),
               Fp(0xa5a9c0759e23f606, 0xaaa0c59dbccd60c3, 0x3bb17e18e2867806,
                  0x1b1ab6cc8541b367, 0xc2b6ed0ef2158547, 0x11922a097360edf3)),
        y: Fp2(Fp(0x4c730af860494c4a, 0x597cfa1f5e369c5a, 0xe7e6856caa0a635a,
                  0xbbefb5e96e0d495f, 0x07d3a975f0ef25a2, 0x0083fd8e7e80dae5),
               Fp(0xadc0fc92df64b05d, 0x18aa270a2b1461dc, 0x86adac6a3be4eba0,
                  0x79495c4ec93da33a, 0xe7175850a43ccaed, 0x0b2bc2a163de1bf2)),
        z: .one) }

    /// ψ = untwist ∘ Frobenius ∘ twist: ψ(x, y) = (x̄·ξ^(-(p-1)/3), ȳ·ξ^(-(p-1)/2)).
    @inline(__always) static var psiX: Fp2 { Fp2(.zero, Fp(0x890dc9e4867545c3, 0x2af322533285a5d5, 0x50880866309b7e2c,
                                    0xa20d1b8c7e881024, 0x14e4f04fe2db9068, 0x14e56d3f1564853a)) }
    @inline(__always) static var psiY: Fp2 { Fp2(Fp(0x3e2f585da55c9ad1, 0x4294213d86c18183, 0x382844c88b623732,
                             0x92ad2afd19103e18, 0x1d794e4fac7cf0b9, 0x0bd592fc7d825ec8),
                          Fp(0x7bcfa7a25aa30fda, 0xdc17dec12a927e7c, 0x2f088dd86b4ebef1,
                             0xd1ca2087da74d4a7, 0x2da2596696cebc1d, 0x0e2b7eedbbfd87d2)) }

    var psi: G2Projective {
        G2Projective(x: x.conjugate * G2Projective.psiX, y: y.conjugate * G2Projective.psiY, z: z.conjugate)
    }

    /// Membership in the prime-order subgroup, for a point known to be on the twist:
    /// ψ(P) = [x]P = -[|x|]P (Scott 2021).
    var isInSubgroup: Bool {
        psi == -timesXAbs
    }
}
