// Public point and target-group types.

/// A point of G1, the order-r subgroup of E(Fp): y² = x³ + 4 (signatures in the min-sig scheme).
///
/// Values are always in the subgroup: decoding checks it, and the group operations preserve it.
public struct G1Point: Equatable, Sendable {
    var p: G1Projective

    init(_ p: G1Projective) { self.p = p }

    /// The standard generator.
    public static let generator = G1Point(G1Projective.generator)
    /// The identity (point at infinity).
    public static let identity = G1Point(G1Projective.identity)

    /// Decodes a 48-byte compressed point (ZCash format), checking the flags, x < p, that the
    /// point is on the curve and that it lies in G1. The identity (0xc0 ‖ 0…) is accepted here;
    /// `BLS.Signature` rejects it.
    public init(compressed bytes: [UInt8]) throws(BLSError) {
        let affine = try G1Affine.decode(bytes)
        p = G1Projective(affine)
    }

    /// The 48-byte compressed encoding.
    public var compressed: [UInt8] { p.affine.compressed }

    /// Whether this is the identity.
    public var isIdentity: Bool { p.isIdentity }

    public static func == (a: G1Point, b: G1Point) -> Bool { a.p == b.p }
    /// Group addition.
    public static func + (a: G1Point, b: G1Point) -> G1Point { G1Point(a.p + b.p) }
    /// Group subtraction.
    public static func - (a: G1Point, b: G1Point) -> G1Point { G1Point(a.p - b.p) }
    /// Negation.
    public static prefix func - (a: G1Point) -> G1Point { G1Point(-a.p) }
    /// Scalar multiplication (constant-time Montgomery ladder).
    public static func * (a: G1Point, k: Scalar) -> G1Point { G1Point(a.p.multiplied(by: k)) }
}

/// A point of G2, the order-r subgroup of E'(Fp2): y² = x³ + 4(1 + u) (public keys in the min-sig scheme).
public struct G2Point: Equatable, Sendable {
    var p: G2Projective

    init(_ p: G2Projective) { self.p = p }

    /// The standard generator.
    public static let generator = G2Point(G2Projective.generator)
    /// The identity (point at infinity).
    public static let identity = G2Point(G2Projective.identity)

    /// Decodes a 96-byte compressed point (ZCash format, x = c1 ‖ c0), checking the flags,
    /// both coordinates < p, that the point is on the twist and that it lies in G2. The identity
    /// is accepted here; `BLS.PublicKey` rejects it.
    public init(compressed bytes: [UInt8]) throws(BLSError) {
        let affine = try G2Affine.decode(bytes)
        p = G2Projective(affine)
    }

    /// The 96-byte compressed encoding.
    public var compressed: [UInt8] { p.affine.compressed }

    /// Whether this is the identity.
    public var isIdentity: Bool { p.isIdentity }

    public static func == (a: G2Point, b: G2Point) -> Bool { a.p == b.p }
    /// Group addition.
    public static func + (a: G2Point, b: G2Point) -> G2Point { G2Point(a.p + b.p) }
    /// Group subtraction.
    public static func - (a: G2Point, b: G2Point) -> G2Point { G2Point(a.p - b.p) }
    /// Negation.
    public static prefix func - (a: G2Point) -> G2Point { G2Point(-a.p) }
    /// Scalar multiplication (constant-time Montgomery ladder).
    public static func * (a: G2Point, k: Scalar) -> G2Point { G2Point(a.p.multiplied(by: k)) }
}

/// An element of GT ⊂ Fp12*, the target group of the pairing.
///
/// `BLS.pairing` returns the cube of the reduced optimal ate pairing (a faster final
/// exponentiation); it is bilinear and non-degenerate, so equalities between pairings — the
/// only thing signature verification needs — are unaffected, but raw values differ from
/// libraries that return the reduced pairing itself.
public struct GTElement: Equatable, Sendable {
    var value: Fp12

    /// The identity of GT.
    public static let one = GTElement(value: .one)

    /// Whether this is the identity.
    public var isOne: Bool { value == .one }

    /// Group operation (multiplication in Fp12).
    public static func * (a: GTElement, b: GTElement) -> GTElement { GTElement(value: a.value * b.value) }

    /// Exponentiation by a scalar (variable time; not for secret exponents).
    public func pow(_ k: Scalar) -> GTElement {
        let e = k.canonicalLimbs
        var acc = Fp12.one
        for limb in [e.3, e.2, e.1, e.0] {
            for i in stride(from: 63, through: 0, by: -1) {
                acc = acc.cyclotomicSquared()
                if (limb >> UInt64(i)) & 1 == 1 { acc = acc * value }
            }
        }
        return GTElement(value: acc)
    }
}
