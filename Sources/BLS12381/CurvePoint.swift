// One implementation of the point arithmetic for both groups: G1 lives on E(Fp), G2 on the
// twist E'(Fp2), and both curves have the shape y² = x³ + b (a = 0), so the formulas are the
// same and only the coordinate field and b differ. Curve-specific maps (endomorphisms,
// subgroup checks, cofactor clearing, encoding) live in per-curve extensions in G1.swift and
// G2.swift.
//
// Everything is internal to one module built with whole-module optimization, so the generic
// code is specialized for Fp and Fp2 and the protocol requirements resolve statically to the
// concrete `@inline(__always)` field operations: no dynamic dispatch on the hot paths. No
// existentials are used, which keeps the module compatible with Embedded Swift.

/// What the point formulas need from the field of coordinates (Fp for G1, Fp2 for G2).
protocol CoordinateField: Equatable, Sendable {
    static var zero: Self { get }
    static var one: Self { get }
    var isZero: Bool { get }
    /// Constant-time choice: `a` if `choice` is 1, `b` if it is 0.
    static func select(_ a: Self, _ b: Self, _ choice: UInt64) -> Self
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    var doubled: Self { get }
    var squared: Self { get }
    func times3() -> Self
    func times4() -> Self
    func times8() -> Self
    /// Constant-time inverse (0 maps to 0).
    var inverse: Self { get }
    /// Variable-time inverse, for public values only (0 maps to 0).
    var inverseVartime: Self { get }
}

extension Fp: CoordinateField {}
extension Fp2: CoordinateField {}

/// A curve y² = x³ + b over `Field`, as a type-level tag for the point types.
protocol CurveParameters {
    associatedtype Field: CoordinateField
    /// The constant b.
    static var b: Field { get }
    /// 3·b·t, computed with additions (and, for the twist, the cheap product by ξ).
    static func mulByB3(_ t: Field) -> Field
}

/// An affine point of the curve, or the point at infinity.
struct AffinePoint<Curve: CurveParameters>: Equatable, Sendable {
    var x: Curve.Field
    var y: Curve.Field
    var isInfinity: Bool

    @inline(__always) init(x: Curve.Field, y: Curve.Field, isInfinity: Bool) {
        self.x = x; self.y = y; self.isInfinity = isInfinity
    }

    @inline(__always) static var infinity: AffinePoint { AffinePoint(x: .zero, y: .one, isInfinity: true) }

    /// Whether y² = x³ + b (the point at infinity counts as on the curve).
    var isOnCurve: Bool {
        isInfinity || y.squared == x.squared * x + Curve.b
    }
}

/// A point of the curve in homogeneous projective coordinates (X : Y : Z), x = X/Z, y = Y/Z.
///
/// Addition and doubling use the complete formulas of Renes–Costello–Batina (2016,
/// algorithms 7 and 9 for a = 0), valid for every input including the identity (0 : 1 : 0),
/// so the same code path runs whatever the operands (needed by the constant-time ladder).
struct ProjectivePoint<Curve: CurveParameters>: Sendable {
    typealias Field = Curve.Field

    var x: Field
    var y: Field
    var z: Field

    @inline(__always) init(x: Field, y: Field, z: Field) { self.x = x; self.y = y; self.z = z }

    init(_ p: AffinePoint<Curve>) {
        self.init(x: p.x, y: p.y, z: Field.select(Field.zero, Field.one, p.isInfinity ? 1 : 0))
    }

    @inline(__always) static var identity: ProjectivePoint { ProjectivePoint(x: .zero, y: .one, z: .zero) }

    @inline(__always) var isIdentity: Bool { z.isZero }

    /// b, the curve constant.
    @inline(__always) static var b: Field { Curve.b }

    /// 3·b, b the curve constant.
    @inline(__always) static func mulByB3(_ t: Field) -> Field { Curve.mulByB3(t) }

    @inline(__always)
    static func select(_ a: ProjectivePoint, _ b: ProjectivePoint, _ choice: UInt64) -> ProjectivePoint {
        ProjectivePoint(
            x: Field.select(a.x, b.x, choice), y: Field.select(a.y, b.y, choice),
            z: Field.select(a.z, b.z, choice))
    }

    static prefix func - (a: ProjectivePoint) -> ProjectivePoint { ProjectivePoint(x: a.x, y: -a.y, z: a.z) }

    static func + (a: ProjectivePoint, b: ProjectivePoint) -> ProjectivePoint { add(a, b) }
    static func - (a: ProjectivePoint, b: ProjectivePoint) -> ProjectivePoint { add(a, -b) }

    @inline(never)
    static func add(_ p: ProjectivePoint, _ q: ProjectivePoint) -> ProjectivePoint {
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
        return ProjectivePoint(x: x3, y: y3, z: z3)
    }

    var doubled: ProjectivePoint { ProjectivePoint.double(self) }

    @inline(never)
    static func double(_ p: ProjectivePoint) -> ProjectivePoint {
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
        return ProjectivePoint(x: x3, y: y3, z: z3)
    }

    /// Projective equality: X1·Z2 = X2·Z1 and Y1·Z2 = Y2·Z1.
    static func == (a: ProjectivePoint, b: ProjectivePoint) -> Bool {
        a.x * b.z == b.x * a.z && a.y * b.z == b.y * a.z
    }

    /// Whether Y²Z = X³ + b·Z³.
    var isOnCurve: Bool {
        if isIdentity { return x.isZero && !y.isZero }
        let z2 = z.squared
        return y.squared * z == x.squared * x + Curve.b * z2 * z
    }

    /// The affine form, for public points (variable-time inversion).
    var affineVartime: AffinePoint<Curve> {
        if isIdentity { return .infinity }
        let zi = z.inverseVartime
        return AffinePoint(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// The affine form (one constant-time inversion).
    var affine: AffinePoint<Curve> {
        if isIdentity { return .infinity }
        let zi = z.inverse
        return AffinePoint(x: x * zi, y: y * zi, isInfinity: false)
    }

    /// Multiplication by a public 64-bit scalar (variable time).
    func multipliedVartime(_ k: UInt64) -> ProjectivePoint {
        var acc = ProjectivePoint.identity
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
    var timesXAbs: ProjectivePoint { JacobianPoint(self).multipliedVartime(0xd201000000010000).projective }

    /// Multiplication by a secret scalar in constant time: fixed 4-bit windows over all 256
    /// bits, each window = 4 doublings + 1 addition of a table entry read with a full scan of
    /// the 16-entry table (masked selects). The complete formulas make the sequence of field
    /// operations independent of the scalar (no branches on scalar bits or on intermediate points).
    func multiplied(by scalar: Scalar) -> ProjectivePoint {
        let k = scalar.canonicalLimbs
        // table[i] = [i]P, i = 0…15.
        var table = [ProjectivePoint](repeating: .identity, count: 16)
        table[1] = self
        for i in 2..<16 {
            table[i] = i % 2 == 0 ? table[i / 2].doubled : table[i - 1] + self
        }
        var acc = ProjectivePoint.identity
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
                var entry = ProjectivePoint.identity
                for i in 0..<16 {
                    // choice = 1 iff i == nibble, computed without branches.
                    let diff = UInt64(i) ^ nibble
                    let choice = ((diff | (0 &- diff)) >> 63) ^ 1
                    entry = ProjectivePoint.select(table[i], entry, choice)
                }
                acc = acc + entry
            }
        }
        return acc
    }
}
