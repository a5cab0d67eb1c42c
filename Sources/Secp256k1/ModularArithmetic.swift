/// A 256-bit odd modulus for Montgomery arithmetic.
public protocol MontgomeryModulus: Sendable {
    /// The modulus m (odd, below 2^256).
    static var modulus: UInt256 { get }
    /// R² mod m, with R = 2^256.
    static var rSquared: UInt256 { get }
    /// −m⁻¹ mod 2^64.
    static var inverseNegated: UInt64 { get }
}

extension MontgomeryModulus {
    /// Computes −m⁻¹ mod 2^64 by Newton iteration (for defining `inverseNegated`).
    static func computeInverseNegated() -> UInt64 {
        let m0 = modulus.l0
        var inverse: UInt64 = 1
        for _ in 0..<6 { inverse = inverse &* (2 &- m0 &* inverse) }
        return 0 &- inverse
    }

    /// Computes R² mod m by doubling 1 five hundred and twelve times (for defining `rSquared`).
    static func computeRSquared() -> UInt256 {
        var value = UInt256.one
        for _ in 0..<512 {
            let (doubled, carry) = value.addingReportingCarry(value)
            let (reduced, borrow) = doubled.subtractingReportingBorrow(modulus)
            value = carry || !borrow ? reduced : doubled
        }
        return value
    }
}

/// An element of ℤ/mℤ kept in Montgomery form. All operations run in time independent of
/// the values (no data-dependent branches), so they are safe on secret scalars.
public struct ModularElement<M: MontgomeryModulus>: Hashable, Sendable {
    /// The Montgomery representation `a·R mod m`.
    @usableFromInline var montgomery: UInt256

    @inlinable
    init(montgomery: UInt256) { self.montgomery = montgomery }

    public static var zero: Self { Self(montgomery: .zero) }
    public static var one: Self { Self(UInt256.one) }

    /// Converts a canonical value (must be below m; reduce first otherwise).
    @inlinable
    public init(_ value: UInt256) {
        montgomery = Self.multiply(value, M.rSquared)
    }

    /// Reduces any 256-bit value mod m (valid when m > 2^255, i.e. one subtraction suffices).
    @inlinable
    public init(reducing value: UInt256) {
        let (reduced, borrow) = value.subtractingReportingBorrow(M.modulus)
        self.init(UInt256.select(reduced, value, mask: 0 &- (borrow ? 1 : 0)))
    }

    /// The canonical value in `[0, m)`.
    @inlinable
    public var value: UInt256 { Self.multiply(montgomery, .one) }

    @inlinable
    public var isZero: Bool { montgomery.isZero }

    @inlinable
    public static func + (a: Self, b: Self) -> Self {
        let (sum, carry) = a.montgomery.addingReportingCarry(b.montgomery)
        let (reduced, borrow) = sum.subtractingReportingBorrow(M.modulus)
        // Keep `sum` only when it did not overflow and was already below m.
        let keepSum: UInt64 = (!carry && borrow) ? ~0 : 0
        return Self(montgomery: UInt256.select(reduced, sum, mask: keepSum))
    }

    @inlinable
    public static func - (a: Self, b: Self) -> Self {
        let (difference, borrow) = a.montgomery.subtractingReportingBorrow(b.montgomery)
        let correction = UInt256.select(.zero, M.modulus, mask: 0 &- (borrow ? 1 : 0))
        return Self(montgomery: difference.addingReportingCarry(correction).0)
    }

    @inlinable
    public static prefix func - (a: Self) -> Self { zero - a }

    @inlinable
    public static func * (a: Self, b: Self) -> Self {
        Self(montgomery: multiply(a.montgomery, b.montgomery))
    }

    @inlinable
    public func squared() -> Self { self * self }

    /// `self^exponent` by square-and-multiply over all 256 bits (the exponent is public).
    @inlinable
    public func power(_ exponent: UInt256) -> Self {
        var result = Self.one
        var index = 255
        while index >= 0 {
            result = result.squared()
            let product = result * self
            result = Self(montgomery: UInt256.select(result.montgomery, product.montgomery, mask: 0 &- exponent.bit(index)))
            index -= 1
        }
        return result
    }

    /// The multiplicative inverse (Fermat: a^(m−2)); zero maps to zero.
    @inlinable
    public func inverse() -> Self {
        power(M.modulus.subtractingReportingBorrow(UInt256(2, 0, 0, 0)).0)
    }

    /// Montgomery product a·b·R⁻¹ mod m (CIOS).
    @inlinable
    static func multiply(_ a: UInt256, _ b: UInt256) -> UInt256 {
        let m = M.modulus
        let n0 = M.inverseNegated
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0, t4: UInt64 = 0
        for i in 0..<4 {
            let bi: UInt64
            switch i {
            case 0: bi = b.l0
            case 1: bi = b.l1
            case 2: bi = b.l2
            default: bi = b.l3
            }
            var carry: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &carry)
            t1 = mac(t1, a.l1, bi, &carry)
            t2 = mac(t2, a.l2, bi, &carry)
            t3 = mac(t3, a.l3, bi, &carry)
            let (s4, o4) = t4.addingReportingOverflow(carry)
            let t5: UInt64 = o4 ? 1 : 0
            let q = t0 &* n0
            carry = 0
            _ = mac(t0, q, m.l0, &carry)
            t0 = mac(t1, q, m.l1, &carry)
            t1 = mac(t2, q, m.l2, &carry)
            t2 = mac(t3, q, m.l3, &carry)
            let (s3, o3) = s4.addingReportingOverflow(carry)
            t3 = s3
            t4 = t5 &+ (o3 ? 1 : 0)
        }
        let result = UInt256(t0, t1, t2, t3)
        let (reduced, borrow) = result.subtractingReportingBorrow(m)
        let keep: UInt64 = (t4 == 0 && borrow) ? ~0 : 0
        return UInt256.select(reduced, result, mask: keep)
    }
}

/// The secp256k1 base field modulus p = 2^256 − 2^32 − 977.
public enum Secp256k1FieldModulus: MontgomeryModulus {
    public static let modulus = UInt256(hex: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
    public static let rSquared = computeRSquared()
    public static let inverseNegated = computeInverseNegated()
}

/// The secp256k1 group order n.
public enum Secp256k1OrderModulus: MontgomeryModulus {
    public static let modulus = UInt256(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    public static let rSquared = computeRSquared()
    public static let inverseNegated = computeInverseNegated()
}

/// An element of the secp256k1 base field.
public typealias FieldElement = ModularElement<Secp256k1FieldModulus>
/// A scalar modulo the secp256k1 group order.
public typealias Scalar = ModularElement<Secp256k1OrderModulus>
