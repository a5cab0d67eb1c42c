/// An arbitrary-precision natural number (Candid `nat`, IC request `nat` fields).
///
/// Candid's `nat` is unbounded, so decoders must keep values above 64 bits without loss.
/// This is a deliberately small type: it stores, compares, converts to and from text and
/// LEB128, and does the little arithmetic those need. Limbs are little-endian 64-bit words
/// with no trailing zero limbs (zero is the empty array), so `==` is structural.
public struct BigNat: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Little-endian 64-bit limbs, normalised (no most-significant zero limbs).
    public private(set) var limbs: [UInt64]

    /// Zero.
    public static let zero = BigNat(limbs: [])

    /// Creates a value from little-endian limbs; trailing zero limbs are removed.
    public init(limbs: [UInt64]) {
        self.limbs = limbs
        normalize()
    }

    /// Creates a value from a machine integer.
    public init(_ value: UInt64) {
        limbs = value == 0 ? [] : [value]
    }

    /// Creates a value from a non-negative machine integer; `nil` if it is negative.
    public init?(exactly value: Int) {
        guard value >= 0 else { return nil }
        self.init(UInt64(value))
    }

    /// Parses decimal digits (no sign, no separators other than `_`, which Candid text allows).
    public init?(decimal text: String) {
        var result = BigNat.zero
        var sawDigit = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "_") { continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            result.multiplyAdd(multiplier: 10, addend: UInt64(byte - UInt8(ascii: "0")))
            sawDigit = true
        }
        guard sawDigit else { return nil }
        self = result
    }

    /// Whether the value is zero.
    public var isZero: Bool { limbs.isEmpty }

    /// The value as `UInt64`, or `nil` if it does not fit.
    public var uint64Value: UInt64? {
        switch limbs.count {
        case 0: return 0
        case 1: return limbs[0]
        default: return nil
        }
    }

    /// Number of significant bits (0 for zero).
    public var bitWidth: Int {
        guard let top = limbs.last else { return 0 }
        return (limbs.count - 1) * 64 + (64 - top.leadingZeroBitCount)
    }

    /// The bit at `index` (0 = least significant).
    public func bit(_ index: Int) -> Bool {
        let limb = index / 64
        guard limb < limbs.count else { return false }
        return limbs[limb] >> UInt64(index % 64) & 1 == 1
    }

    /// Decimal text.
    public var description: String {
        if limbs.isEmpty { return "0" }
        var digits = [UInt8]()
        var value = self
        // Peel off 19 decimal digits at a time (10^19 < 2^64).
        let chunk: UInt64 = 10_000_000_000_000_000_000
        while !value.isZero {
            var remainder = value.divideInPlace(by: chunk)
            let isLast = value.isZero
            var produced = 0
            while remainder > 0 || (!isLast && produced < 19) {
                digits.append(UInt8(ascii: "0") + UInt8(remainder % 10))
                remainder /= 10
                produced += 1
            }
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    public static func < (lhs: BigNat, rhs: BigNat) -> Bool {
        if lhs.limbs.count != rhs.limbs.count { return lhs.limbs.count < rhs.limbs.count }
        var index = lhs.limbs.count - 1
        while index >= 0 {
            if lhs.limbs[index] != rhs.limbs[index] { return lhs.limbs[index] < rhs.limbs[index] }
            index -= 1
        }
        return false
    }

    public static func + (lhs: BigNat, rhs: BigNat) -> BigNat {
        var result = [UInt64]()
        result.reserveCapacity(max(lhs.limbs.count, rhs.limbs.count) + 1)
        var carry: UInt64 = 0
        for index in 0..<max(lhs.limbs.count, rhs.limbs.count) {
            let a = index < lhs.limbs.count ? lhs.limbs[index] : 0
            let b = index < rhs.limbs.count ? rhs.limbs[index] : 0
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            result.append(s2)
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        if carry > 0 { result.append(carry) }
        return BigNat(limbs: result)
    }

    /// `lhs - rhs`, or `nil` when `rhs > lhs`.
    public static func subtracting(_ lhs: BigNat, _ rhs: BigNat) -> BigNat? {
        guard !(lhs < rhs) else { return nil }
        var result = lhs.limbs
        var borrow: UInt64 = 0
        for index in 0..<result.count {
            let b = index < rhs.limbs.count ? rhs.limbs[index] : 0
            let (d1, o1) = result[index].subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            result[index] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return BigNat(limbs: result)
    }

    /// `self = self * multiplier + addend`.
    public mutating func multiplyAdd(multiplier: UInt64, addend: UInt64) {
        var carry = addend
        for index in 0..<limbs.count {
            let (high, low) = limbs[index].multipliedFullWidth(by: multiplier)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limbs[index] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        if carry > 0 { limbs.append(carry) }
        normalize()
    }

    /// Divides in place by a non-zero machine word and returns the remainder.
    public mutating func divideInPlace(by divisor: UInt64) -> UInt64 {
        precondition(divisor != 0, "division by zero")
        var remainder: UInt64 = 0
        var index = limbs.count - 1
        while index >= 0 {
            let (quotient, r) = divisor.dividingFullWidth((remainder, limbs[index]))
            limbs[index] = quotient
            remainder = r
            index -= 1
        }
        normalize()
        return remainder
    }

    /// Sets bits `[offset, offset + width)` from the low `width` bits of `value`
    /// (the target bits must be zero). Used by LEB128 decoding.
    @usableFromInline
    mutating func orBits(_ value: UInt64, width: Int, at offset: Int) {
        let limb = offset / 64
        let shift = offset % 64
        while limbs.count <= limb + 1 { limbs.append(0) }
        limbs[limb] |= value << UInt64(shift)
        if shift + width > 64 {
            limbs[limb + 1] |= value >> UInt64(64 - shift)
        }
    }

    @usableFromInline
    mutating func normalize() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }
}

/// An arbitrary-precision integer (Candid `int`): a sign and a `BigNat` magnitude.
/// Zero is never negative, so `==` is structural.
public struct BigInt: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Whether the value is below zero.
    public let isNegative: Bool
    /// The absolute value.
    public let magnitude: BigNat

    /// Creates a value from a sign and a magnitude (`-0` becomes `0`).
    public init(isNegative: Bool, magnitude: BigNat) {
        self.isNegative = isNegative && !magnitude.isZero
        self.magnitude = magnitude
    }

    /// Creates a value from a machine integer.
    public init(_ value: Int64) {
        self.init(isNegative: value < 0, magnitude: BigNat(value.magnitude))
    }

    /// Creates a non-negative value from a natural number.
    public init(_ value: BigNat) {
        self.init(isNegative: false, magnitude: value)
    }

    /// Parses optional `+`/`-` followed by decimal digits.
    public init?(decimal text: String) {
        var body = Substring(text)
        var negative = false
        if let first = body.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        guard let magnitude = BigNat(decimal: String(body)) else { return nil }
        self.init(isNegative: negative, magnitude: magnitude)
    }

    /// The value as `Int64`, or `nil` if it does not fit.
    public var int64Value: Int64? {
        guard let m = magnitude.uint64Value else { return nil }
        if isNegative {
            if m <= UInt64(Int64.max) { return -Int64(m) }
            return m == UInt64(Int64.max) + 1 ? Int64.min : nil
        }
        return m <= UInt64(Int64.max) ? Int64(m) : nil
    }

    public var description: String { (isNegative ? "-" : "") + magnitude.description }

    public static func < (lhs: BigInt, rhs: BigInt) -> Bool {
        switch (lhs.isNegative, rhs.isNegative) {
        case (true, false): return true
        case (false, true): return false
        case (false, false): return lhs.magnitude < rhs.magnitude
        case (true, true): return rhs.magnitude < lhs.magnitude
        }
    }
}
