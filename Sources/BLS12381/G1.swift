// Points of the curve E: y² = x³ + 4 over Fp, home of G1 (signatures in the min-sig scheme).

/// An affine point of GROUPG1, or the point at infinity.
struct G1Affine: Equatable, Sendable {
    var x: Fp
    var y: Fp
    var isInfinity: Bool

    @inline(__always) static var infinity: G1Affine { G1Affine(x: .zero, y: .one, isInfinity: true) }

    /// Whether y² = x³ + b (the point at infinity counts as on the curve).
    var isOnCurve: Bool {
        isInfinity || y.squared == x.squared * x + G1Projective.b
    }
}

/// A point of GROUPG1 in homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z.
///
/// Addition and doubling use the complete formulas of Renes–Costello–Batina (2016,
/// algorithms 7 and 9 for a = 0), valid for every input including the identity (0 : 1 : 0),
/// so the same code path runs whatever the operands (needed by the constant-time ladder).
struct G1Projective: Sendable {
    var x: Fp
    var y: Fp
    var z: Fp

    @inline(__always) init(x: Fp, y: Fp, z: Fp) { self.x = x; self.y = y; self.z = z }

    init(_ p: G1Affine) {
        self.init(x: p.x, y: p.y, z: Fp.select(Fp.zero, Fp.one, p.isInfinity ? 1 : 0))
    }

    @inline(__always) static var identity: G1Projective { G1Projective(x: .zero, y: .one, z: .zero) }

    @inline(__always) var isIdentity: Bool { z.isZero }

    /// 3·b, b the curve constant.
    @inline(__always) static func mulByB3(_ t: Fp) -> Fp { t.times4().times3() }

    @inline(__always)
    static func select(_ a: G1Projective, _ b: G1Projective, _ choice: UInt64) -> G1Projective {
        G1Projective(x: Fp.select(a.x, b.x, choice), y: Fp.select(a.y, b.y, choice), z: Fp.select(a.z, b.z, choice))
    }

    static prefix func - (a: G1Projective) -> G1Projective { G1Projective(x: a.x, y: -a.y, z: a.z) }

    static func + (a: G1Projective, b: G1Projective) -> G1Projective { add(a, b) }
    static func - (a: G1Projective, b: G1Projective) -> G1Projective { add(a, -b) }

    @inline(never)
    static func add(_ p: G1Projective, _ q: G1Projective) -> G1Projective {
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
        return G1Projective(x: x3, y: y3, z: z3)
    }

    var doubled: G1Projective { G1Projective.double(self) }

    @inline(never)
    static func double(_ p: G1Projective) -> G1Projective {
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
        return G1Projective(x: x3, y: y3, z: z3)
    }

    /// Projective equality: X1·Z2 = X2·Z1 and Y1·Z2 = Y2·Z1.
    static func == (a: G1Projective, b: G1Projective) -> Bool {
        a.x * b.z == b.x * a.z && a.y * b.z == b.y * a.z
    }

    /// Whether Y²Z = X³ + b·Z³.
    var isOnCurve: Bool {
        if isIdentity { return x.isZero && !y.isZero }
        let z2 = z.squared
        return y.squared * z == x.squared * x + G1Projective.b * z2 * z
    }

    /// The affine form, for public points (variable-time inversion).
    var affineVartime: G1Affine {
        if isIdentity { return .infinity }
        let zi = z.inverseVartime
        return G1Affine(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// The affine form (one constant-time inversion).
    var affine: G1Affine {
        if isIdentity { return .infinity }
        let zi = z.inverse
        return G1Affine(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// Multiplication by a public 64-bit scalar (variable time).
    func multipliedVartime(_ k: UInt64) -> G1Projective {
        var acc = G1Projective.identity
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
    var timesXAbs: G1Projective { G1Jacobian(self).multipliedVartime(0xd201000000010000).projective }

    /// Multiplication by a secret scalar in constant time: fixed 4-bit windows over all 256
    /// bits, each window = 4 doublings + 1 addition of a table entry read with a full scan of
    /// the 16-entry table (masked selects). The complete formulas make the sequence of field
    /// operations independent of the scalar (no branches on scalar bits or on intermediate points).
    func multiplied(by scalar: Scalar) -> G1Projective {
        let k = scalar.canonicalLimbs
        // table[i] = [i]P, i = 0…15.
        var table = [G1Projective](repeating: .identity, count: 16)
        table[1] = self
        for i in 2..<16 {
            table[i] = i % 2 == 0 ? table[i / 2].doubled : table[i - 1] + self
        }
        var acc = G1Projective.identity
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
                var entry = G1Projective.identity
                for i in 0..<16 {
                    // choice = 1 iff i == nibble, computed without branches.
                    let diff = UInt64(i) ^ nibble
                    let choice = ((diff | (0 &- diff)) >> 63) ^ 1
                    entry = G1Projective.select(table[i], entry, choice)
                }
                acc = acc + entry
            }
        }
        return acc
    }
}

extension G1Projective {
    /// b = 4.
    @inline(__always) static var b: Fp { Fp(0xaa270000000cfff3, 0x53cc0032fc34000a, 0x478fe97a6b0a807f,
                      0xb1d37ebee6ba24d7, 0x8ec9733bbf78ab2f, 0x09d645513d83de7e) }

    /// The standard generator of G1.
    @inline(__always) static var generator: G1Projective { G1Projective(
        x: Fp(0x5cb38790fd530c16, 0x7817fc679976fff5, 0x154f95c7143ba1c1,
              0xf0ae6acdf3d0e747, 0xedce6ecc21dbf440, 0x120177419e0bfb75),
        y: Fp(0xbaac93d50ce72271, 0x8c22631a7918fd8e, 0xdd595f13570725ce,
              0x51ac582950405194, 0x0e1c8c3fad0059c0, 0x0bbc3efc5008a26a),
        z: .one) }

    /// β, a primitive cube root of unity in Fp such that φ(x, y) = (βx, y) acts on G1 as
    /// multiplication by -x² (mod r).
    @inline(__always) static var beta: Fp { Fp(0x30f1361b798a64e8, 0xf3b8ddab7ece5a2a, 0x16a8ca3ac61577f7,
                         0xc26a2ff874fd029b, 0x3636b76660701c6e, 0x051ba4ab241b6160) }

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
