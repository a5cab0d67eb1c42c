/// A 256-bit unsigned integer as four little-endian 64-bit limbs, stored inline (no heap).
public struct UInt256: Hashable, Sendable {
    public var l0, l1, l2, l3: UInt64

    @inlinable
    public init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        (self.l0, self.l1, self.l2, self.l3) = (l0, l1, l2, l3)
    }

    public static let zero = UInt256(0, 0, 0, 0)
    public static let one = UInt256(1, 0, 0, 0)

    /// Parses 32 big-endian bytes; `nil` for any other length.
    public init?(bigEndian bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        func word(_ start: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in start..<start + 8 { value = value << 8 | UInt64(bytes[index]) }
            return value
        }
        self.init(word(24), word(16), word(8), word(0))
    }

    /// Parses a big-endian hex string of up to 64 digits (for constants).
    init(hex: StaticString) {
        var value = UInt256.zero
        hex.withUTF8Buffer { buffer in
            for digit in buffer {
                let nibble: UInt64
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt64(digit - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt64(digit - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = UInt64(digit - UInt8(ascii: "A") + 10)
                default: continue
                }
                value = UInt256(
                    value.l0 << 4 | nibble, value.l1 << 4 | value.l0 >> 60,
                    value.l2 << 4 | value.l1 >> 60, value.l3 << 4 | value.l2 >> 60)
            }
        }
        self = value
    }

    /// 32 big-endian bytes.
    public var bigEndianBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for limb in [l3, l2, l1, l0] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift)))
            }
        }
        return out
    }

    @inlinable
    public var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }

    /// Bit `index` (0 = least significant).
    @inlinable
    public func bit(_ index: Int) -> UInt64 {
        let limb: UInt64
        switch index >> 6 {
        case 0: limb = l0
        case 1: limb = l1
        case 2: limb = l2
        default: limb = l3
        }
        return limb >> UInt64(index & 63) & 1
    }

    /// `self - other` and whether it borrowed (i.e. `self < other`).
    @inlinable
    public func subtractingReportingBorrow(_ other: UInt256) -> (UInt256, Bool) {
        var borrow: UInt64 = 0
        let r0 = sbb(l0, other.l0, &borrow)
        let r1 = sbb(l1, other.l1, &borrow)
        let r2 = sbb(l2, other.l2, &borrow)
        let r3 = sbb(l3, other.l3, &borrow)
        return (UInt256(r0, r1, r2, r3), borrow != 0)
    }

    /// `self + other` and whether it carried out of 256 bits.
    @inlinable
    public func addingReportingCarry(_ other: UInt256) -> (UInt256, Bool) {
        var carry: UInt64 = 0
        let r0 = adc(l0, other.l0, &carry)
        let r1 = adc(l1, other.l1, &carry)
        let r2 = adc(l2, other.l2, &carry)
        let r3 = adc(l3, other.l3, &carry)
        return (UInt256(r0, r1, r2, r3), carry != 0)
    }

    /// Whether `self < other`.
    @inlinable
    public func isLess(than other: UInt256) -> Bool {
        subtractingReportingBorrow(other).1
    }

    /// Selects `a` when `mask` is all zeros and `b` when it is all ones, without branching.
    @inlinable
    public static func select(_ a: UInt256, _ b: UInt256, mask: UInt64) -> UInt256 {
        UInt256(
            a.l0 ^ (mask & (a.l0 ^ b.l0)), a.l1 ^ (mask & (a.l1 ^ b.l1)),
            a.l2 ^ (mask & (a.l2 ^ b.l2)), a.l3 ^ (mask & (a.l3 ^ b.l3)))
    }
}

/// Add with carry in/out (carry is 0 or 1).
@inlinable @inline(__always)
func adc(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (s1, o1) = a.addingReportingOverflow(b)
    let (s2, o2) = s1.addingReportingOverflow(carry)
    carry = (o1 ? 1 : 0) | (o2 ? 1 : 0)
    return s2
}

/// Subtract with borrow in/out (borrow is 0 or 1).
@inlinable @inline(__always)
func sbb(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 {
    let (d1, o1) = a.subtractingReportingOverflow(b)
    let (d2, o2) = d1.subtractingReportingOverflow(borrow)
    borrow = (o1 ? 1 : 0) | (o2 ? 1 : 0)
    return d2
}

/// `acc + a * b + carry`, returning the low word and leaving the high word in `carry`.
@inlinable @inline(__always)
func mac(_ acc: UInt64, _ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (high, low) = a.multipliedFullWidth(by: b)
    let (s1, o1) = low.addingReportingOverflow(acc)
    let (s2, o2) = s1.addingReportingOverflow(carry)
    carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
    return s2
}
