/// A point of secp256k1 (y² = x³ + 7) in homogeneous projective coordinates (X : Y : Z),
/// with the identity as (0 : 1 : 0).
///
/// Addition and doubling use the complete formulas of Renes, Costello and Batina (2016,
/// algorithms 7 and 9 for a = 0): one code path for every input, including the identity
/// and P + P, which is what makes the constant-time ladder below possible.
public struct Secp256k1Point: Sendable {
    public var x: FieldElement
    public var y: FieldElement
    public var z: FieldElement

    public static let identity = Secp256k1Point(x: .zero, y: .one, z: .zero)

    /// The generator G.
    public static let generator = Secp256k1Point(
        x: FieldElement(UInt256(hex: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")),
        y: FieldElement(UInt256(hex: "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")),
        z: .one)

    /// 3·b = 21.
    static let b3 = FieldElement(UInt256(21, 0, 0, 0))
    static let b = FieldElement(UInt256(7, 0, 0, 0))

    public init(x: FieldElement, y: FieldElement, z: FieldElement) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// Creates a point from affine coordinates, checking that it lies on the curve.
    public init?(affineX: FieldElement, affineY: FieldElement) {
        guard affineY.squared() == affineX.squared() * affineX + Secp256k1Point.b else { return nil }
        self.init(x: affineX, y: affineY, z: .one)
    }

    public var isIdentity: Bool { z.isZero }

    /// Affine coordinates, or `nil` for the identity.
    public var affine: (x: FieldElement, y: FieldElement)? {
        guard !z.isZero else { return nil }
        let inverse = z.inverse()
        return (x * inverse, y * inverse)
    }

    public static func + (p: Secp256k1Point, q: Secp256k1Point) -> Secp256k1Point {
        let (x1, y1, z1) = (p.x, p.y, p.z)
        let (x2, y2, z2) = (q.x, q.y, q.z)
        var t0 = x1 * x2
        var t1 = y1 * y2
        var t2 = z1 * z2
        var t3 = x1 + y1
        var t4 = x2 + y2
        t3 = t3 * t4
        t4 = t0 + t1
        t3 = t3 - t4
        t4 = y1 + z1
        var x3 = y2 + z2
        t4 = t4 * x3
        x3 = t1 + t2
        t4 = t4 - x3
        x3 = x1 + z1
        var y3 = x2 + z2
        x3 = x3 * y3
        y3 = t0 + t2
        y3 = x3 - y3
        x3 = t0 + t0
        t0 = x3 + t0
        t2 = b3 * t2
        var z3 = t1 + t2
        t1 = t1 - t2
        y3 = b3 * y3
        x3 = t4 * y3
        t2 = t3 * t1
        x3 = t2 - x3
        y3 = y3 * t0
        t1 = t1 * z3
        y3 = t1 + y3
        t0 = t0 * t3
        z3 = z3 * t4
        z3 = z3 + t0
        return Secp256k1Point(x: x3, y: y3, z: z3)
    }

    public func doubled() -> Secp256k1Point {
        var t0 = y * y
        var z3 = t0 + t0
        z3 = z3 + z3
        z3 = z3 + z3
        var t1 = y * z
        var t2 = z * z
        t2 = Secp256k1Point.b3 * t2
        var x3 = t2 * z3
        var y3 = t0 + t2
        z3 = t1 * z3
        t1 = t2 + t2
        t2 = t1 + t2
        t0 = t0 - t2
        y3 = t0 * y3
        y3 = x3 + y3
        t1 = x * y
        x3 = t0 * t1
        x3 = x3 + x3
        return Secp256k1Point(x: x3, y: y3, z: z3)
    }

    public static prefix func - (p: Secp256k1Point) -> Secp256k1Point {
        Secp256k1Point(x: p.x, y: -p.y, z: p.z)
    }

    /// Projective equality: X1·Z2 = X2·Z1 and Y1·Z2 = Y2·Z1.
    public static func == (p: Secp256k1Point, q: Secp256k1Point) -> Bool {
        p.x * q.z == q.x * p.z && p.y * q.z == q.y * p.z
    }

    /// `scalar · self` in constant time: a 4-bit fixed window over all 64 digits, each table
    /// entry read by scanning the whole table with masks, and complete addition formulas, so
    /// neither timing nor memory access depends on the scalar's bits.
    public func multiplied(byConstantTime scalar: UInt256) -> Secp256k1Point {
        var table = [Secp256k1Point](repeating: .identity, count: 16)
        table[1] = self
        for index in 2..<16 { table[index] = table[index - 1] + self }
        var result = Secp256k1Point.identity
        var window = 63
        while window >= 0 {
            result = result.doubled().doubled().doubled().doubled()
            let limb: UInt64
            switch window >> 4 {
            case 0: limb = scalar.l0
            case 1: limb = scalar.l1
            case 2: limb = scalar.l2
            default: limb = scalar.l3
            }
            let digit = (limb >> UInt64((window & 15) * 4)) & 0xf
            var selected = Secp256k1Point.identity
            for index in 0..<16 {
                // All-ones exactly when index == digit, computed without a branch.
                let difference = UInt64(index) ^ digit
                let mask = ((difference | (0 &- difference)) >> 63) &- 1
                Secp256k1Point.conditionalAssign(&selected, table[index], mask: mask)
            }
            result = result + selected
            window -= 1
        }
        return result
    }

    /// `a·G + b·Q` for public scalars (signature verification): Shamir's trick, variable time.
    public static func doubleScalarMultiplication(_ a: UInt256, _ b: UInt256, _ q: Secp256k1Point) -> Secp256k1Point {
        let gq = generator + q
        var result = Secp256k1Point.identity
        var index = 255
        while index >= 0 {
            result = result.doubled()
            switch (a.bit(index), b.bit(index)) {
            case (1, 1): result = result + gq
            case (1, 0): result = result + generator
            case (0, 1): result = result + q
            default: break
            }
            index -= 1
        }
        return result
    }

    static func conditionalAssign(_ p: inout Secp256k1Point, _ q: Secp256k1Point, mask: UInt64) {
        p.x.montgomery = UInt256.select(p.x.montgomery, q.x.montgomery, mask: mask)
        p.y.montgomery = UInt256.select(p.y.montgomery, q.y.montgomery, mask: mask)
        p.z.montgomery = UInt256.select(p.z.montgomery, q.z.montgomery, mask: mask)
    }

}
