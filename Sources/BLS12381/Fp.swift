// The base field Fp of BLS12-381, p = 0x1a0111ea…ffffaaab (381 bits).
//
// Elements are kept in Montgomery form (a·R mod p, R = 2^384) in six 64-bit limbs,
// little-endian, always fully reduced (< p) so that limb equality is field equality.
// Multiplication is CIOS Montgomery multiplication using the "no final carry"
// shortcut that applies because the top limb of p is below 2^63 - 1. For lazy reduction
// (Fp2 products) there are also a 768-bit product/square and a separate Montgomery
// reduction. All arithmetic is branch-free on the values (conditional subtraction by masks).
//
// Word arithmetic: optimized builds on 64-bit non-Apple targets use UInt128 for the
// multiply-accumulate and carry chains (it lowers to mul/adc without flag round trips);
// debug builds, Apple platforms (UInt128 needs macOS 15) and wasm32 use the portable
// `multipliedFullWidth` forms, with carries computed by bit operations so that no compiler
// turns them into branches.

let P0: UInt64 = 0xb9feffffffffaaab
let P1: UInt64 = 0x1eabfffeb153ffff
let P2: UInt64 = 0x6730d2a0f6b0f624
let P3: UInt64 = 0x64774b84f38512bf
let P4: UInt64 = 0x4b1ba7b6434bacd7
let P5: UInt64 = 0x1a0111ea397fe69a
/// -p⁻¹ mod 2^64.
let pInv: UInt64 = 0x89f3fffcfffcfffd

// Word primitives. Two implementations of each: 128-bit arithmetic, which lowers to
// mul + add/adc pairs with no flag-to-register round trips (used by optimized builds on
// 64-bit Linux), and a portable one with branch-free bit-trick carries (compilers tend to turn
// `overflow ? 1 : 0` into branches, which is slow and not constant time) for debug builds,
// Apple platforms (UInt128 needs macOS 15) and wasm32. Both are always compiled where
// possible, so debug test runs check that they agree (FieldTests) although only one is used.

#if (arch(x86_64) || arch(arm64)) && !canImport(Darwin)
/// `acc + a·b + carry`: low word returned, high word into `carry` (never overflows two words).
@inline(__always)
func macWide(_ acc: UInt64, _ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let t = UInt128(a) &* UInt128(b) &+ UInt128(acc) &+ UInt128(carry)
    carry = UInt64(truncatingIfNeeded: t >> 64)
    return UInt64(truncatingIfNeeded: t)
}

/// `a + b + carry` (carry 0 or 1): low word returned, new carry into `carry`.
@inline(__always)
func adcWide(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let t = UInt128(a) &+ UInt128(b) &+ UInt128(carry)
    carry = UInt64(truncatingIfNeeded: t >> 64)
    return UInt64(truncatingIfNeeded: t)
}

/// `a - b - borrow` (borrow 0 or 1): low word returned, new borrow into `borrow`.
@inline(__always)
func sbbWide(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 {
    let t = UInt128(a) &- UInt128(b) &- UInt128(borrow)
    borrow = UInt64(truncatingIfNeeded: t >> 64) & 1
    return UInt64(truncatingIfNeeded: t)
}
#endif

/// `acc + a·b + carry`: low word returned, high word into `carry`.
@inline(__always)
func macPortable(_ acc: UInt64, _ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let (hi, lo) = a.multipliedFullWidth(by: b)
    let (s0, o0) = lo.addingReportingOverflow(acc)
    let (s1, o1) = s0.addingReportingOverflow(carry)
    carry = hi &+ (o0 ? 1 : 0) &+ (o1 ? 1 : 0)
    return s1
}

/// `a + b + carry` (carry 0 or 1): low word returned, new carry into `carry`.
@inline(__always)
func adcPortable(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 {
    let s = a &+ b &+ carry
    carry = ((a & b) | ((a | b) & ~s)) >> 63
    return s
}

/// `a - b - borrow` (borrow 0 or 1): low word returned, new borrow into `borrow`.
@inline(__always)
func sbbPortable(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 {
    let d = a &- b &- borrow
    borrow = ((~a & b) | (~(a ^ b) & d)) >> 63
    return d
}

#if !DEBUG && (arch(x86_64) || arch(arm64)) && !canImport(Darwin)
@inline(__always) func mac(_ acc: UInt64, _ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 { macWide(acc, a, b, &carry) }
@inline(__always) func adc(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 { adcWide(a, b, &carry) }
@inline(__always) func sbb(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 { sbbWide(a, b, &borrow) }
#else
@inline(__always) func mac(_ acc: UInt64, _ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 { macPortable(acc, a, b, &carry) }
@inline(__always) func adc(_ a: UInt64, _ b: UInt64, _ carry: inout UInt64) -> UInt64 { adcPortable(a, b, &carry) }
@inline(__always) func sbb(_ a: UInt64, _ b: UInt64, _ borrow: inout UInt64) -> UInt64 { sbbPortable(a, b, &borrow) }
#endif

/// An element of the base field Fp in Montgomery form.
struct Fp: Equatable, Sendable {
    var l0, l1, l2, l3, l4, l5: UInt64

    /// Raw limbs (Montgomery form, little-endian). The value must be < p.
    @inline(__always)
    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ l4: UInt64, _ l5: UInt64) {
        self.l0 = l0; self.l1 = l1; self.l2 = l2; self.l3 = l3; self.l4 = l4; self.l5 = l5
    }

    @inline(__always) static var zero: Fp { Fp(0, 0, 0, 0, 0, 0) }
    /// 1 in Montgomery form (R mod p).
    @inline(__always) static var one: Fp {
        Fp(
            0x760900000002fffd, 0xebf4000bc40c0002, 0x5f48985753c758ba,
            0x77ce585370525745, 0x5c071a97a256ec6d, 0x15f65ec3fa80e493)
    }
    /// R² mod p, used to enter Montgomery form.
    @inline(__always) static var r2: Fp {
        Fp(
            0xf4df1f341c341746, 0x0a76e6a609d104f1, 0x8de5476c4c95b6d5,
            0x67eb88a9939d83c0, 0x9a793e85b519952d, 0x11988fe592cae3aa)
    }
    /// 2^256 mod p (Montgomery form), for reducing 64-byte hash outputs.
    @inline(__always) static var twoTo256: Fp {
        Fp(
            0x075b3cd7c5ce820f, 0x3ec6ba621c3edb0b, 0x168a13d82bff6bce,
            0x87663c4bf8c449d2, 0x15f34c83ddc8d830, 0x0f9628b49caa2e85)
    }

    @inline(__always) var isZero: Bool {
        (l0 | l1 | l2 | l3 | l4 | l5) == 0
    }

    /// Returns `a` if `choice` is 1 and `b` if it is 0, without branching.
    @inline(__always)
    static func select(_ a: Fp, _ b: Fp, _ choice: UInt64) -> Fp {
        let m = 0 &- choice
        return Fp(
            b.l0 ^ ((a.l0 ^ b.l0) & m), b.l1 ^ ((a.l1 ^ b.l1) & m),
            b.l2 ^ ((a.l2 ^ b.l2) & m), b.l3 ^ ((a.l3 ^ b.l3) & m),
            b.l4 ^ ((a.l4 ^ b.l4) & m), b.l5 ^ ((a.l5 ^ b.l5) & m))
    }

    /// Subtracts p from a value in [0, 2p) if it is ≥ p.
    @inline(__always)
    static func reduceOnce(
        _ a0: UInt64, _ a1: UInt64, _ a2: UInt64,
        _ a3: UInt64, _ a4: UInt64, _ a5: UInt64
    ) -> Fp {
        var b: UInt64 = 0
        let d0 = sbb(a0, P0, &b)
        let d1 = sbb(a1, P1, &b)
        let d2 = sbb(a2, P2, &b)
        let d3 = sbb(a3, P3, &b)
        let d4 = sbb(a4, P4, &b)
        let d5 = sbb(a5, P5, &b)
        // b == 1: a < p, keep a.
        let m = 0 &- b
        return Fp(
            d0 ^ ((a0 ^ d0) & m), d1 ^ ((a1 ^ d1) & m), d2 ^ ((a2 ^ d2) & m),
            d3 ^ ((a3 ^ d3) & m), d4 ^ ((a4 ^ d4) & m), d5 ^ ((a5 ^ d5) & m))
    }

    @inline(__always)
    static func + (a: Fp, b: Fp) -> Fp {
        var c: UInt64 = 0
        let s0 = adc(a.l0, b.l0, &c)
        let s1 = adc(a.l1, b.l1, &c)
        let s2 = adc(a.l2, b.l2, &c)
        let s3 = adc(a.l3, b.l3, &c)
        let s4 = adc(a.l4, b.l4, &c)
        let s5 = adc(a.l5, b.l5, &c)
        return reduceOnce(s0, s1, s2, s3, s4, s5)
    }

    @inline(__always)
    static func - (a: Fp, b: Fp) -> Fp {
        var br: UInt64 = 0
        let d0 = sbb(a.l0, b.l0, &br)
        let d1 = sbb(a.l1, b.l1, &br)
        let d2 = sbb(a.l2, b.l2, &br)
        let d3 = sbb(a.l3, b.l3, &br)
        let d4 = sbb(a.l4, b.l4, &br)
        let d5 = sbb(a.l5, b.l5, &br)
        let m = 0 &- br
        var c: UInt64 = 0
        let r0 = adc(d0, P0 & m, &c)
        let r1 = adc(d1, P1 & m, &c)
        let r2 = adc(d2, P2 & m, &c)
        let r3 = adc(d3, P3 & m, &c)
        let r4 = adc(d4, P4 & m, &c)
        let r5 = adc(d5, P5 & m, &c)
        return Fp(r0, r1, r2, r3, r4, r5)
    }

    @inline(__always)
    static prefix func - (a: Fp) -> Fp {
        // p - a, or 0 when a == 0.
        let nz = (a.l0 | a.l1 | a.l2 | a.l3 | a.l4 | a.l5)
        let m = 0 &- ((nz | (0 &- nz)) >> 63)
        var br: UInt64 = 0
        let d0 = sbb(P0, a.l0, &br)
        let d1 = sbb(P1, a.l1, &br)
        let d2 = sbb(P2, a.l2, &br)
        let d3 = sbb(P3, a.l3, &br)
        let d4 = sbb(P4, a.l4, &br)
        let d5 = sbb(P5, a.l5, &br)
        return Fp(d0 & m, d1 & m, d2 & m, d3 & m, d4 & m, d5 & m)
    }

    @inline(__always) var doubled: Fp { self + self }

    /// a/2 mod p.
    @inline(__always) var halved: Fp {
        // If odd, add p (making it even, < 2^382), then shift right by one.
        let m = 0 &- (l0 & 1)
        var c: UInt64 = 0
        let s0 = adc(l0, P0 & m, &c)
        let s1 = adc(l1, P1 & m, &c)
        let s2 = adc(l2, P2 & m, &c)
        let s3 = adc(l3, P3 & m, &c)
        let s4 = adc(l4, P4 & m, &c)
        let s5 = adc(l5, P5 & m, &c)
        return Fp(
            (s0 >> 1) | (s1 << 63), (s1 >> 1) | (s2 << 63), (s2 >> 1) | (s3 << 63),
            (s3 >> 1) | (s4 << 63), (s4 >> 1) | (s5 << 63), s5 >> 1)
    }

    /// Montgomery product a·b·R⁻¹ mod p.
    @inline(__always)
    static func * (a: Fp, b: Fp) -> Fp {
        mul(a, b)
    }

    /// Montgomery multiplication, coarsely integrated operand scanning (CIOS).
    @inline(never)
    static func mul(_ a: Fp, _ b: Fp) -> Fp {
        let inv = pInv
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0, t4: UInt64 = 0, t5: UInt64 = 0
        // round 0
        do {
            let bi = b.l0
            var A: UInt64 = 0
            t0 = mac(0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(0, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(0, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(0, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(0, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(0, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }
        // round 1
        do {
            let bi = b.l1
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(t4, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(t5, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }
        // round 2
        do {
            let bi = b.l2
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(t4, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(t5, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }
        // round 3
        do {
            let bi = b.l3
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(t4, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(t5, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }
        // round 4
        do {
            let bi = b.l4
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(t4, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(t5, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }
        // round 5
        do {
            let bi = b.l5
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* inv
            var C: UInt64 = 0
            _ = mac(t0, m, P0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, P1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, P2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, P3, &C)
            t4 = mac(t4, a.l4, bi, &A)
            t3 = mac(t4, m, P4, &C)
            t5 = mac(t5, a.l5, bi, &A)
            t4 = mac(t5, m, P5, &C)
            t5 = C &+ A
        }

        return reduceOnce(t0, t1, t2, t3, t4, t5)
    }

    /// a + b without the final reduction (the sum of two values < p is < 2^382).
    @inline(__always)
    static func addNoReduce(_ a: Fp, _ b: Fp) -> Fp {
        var c: UInt64 = 0
        let s0 = adc(a.l0, b.l0, &c)
        let s1 = adc(a.l1, b.l1, &c)
        let s2 = adc(a.l2, b.l2, &c)
        let s3 = adc(a.l3, b.l3, &c)
        let s4 = adc(a.l4, b.l4, &c)
        let s5 = adc(a.l5, b.l5, &c)
        return Fp(s0, s1, s2, s3, s4, s5)
    }

    /// The full 768-bit product a·b (any a, b < 2^384).
    @inline(__always)
    static func mulWide(_ a: Fp, _ b: Fp) -> FpWide {
        var c: UInt64 = 0
        let b0 = b.l0
        let b1 = b.l1
        let b2 = b.l2
        let b3 = b.l3
        let b4 = b.l4
        let b5 = b.l5
        c = 0
        let t0 = mac(0, a.l0, b0, &c)
        var t1 = mac(0, a.l1, b0, &c)
        var t2 = mac(0, a.l2, b0, &c)
        var t3 = mac(0, a.l3, b0, &c)
        var t4 = mac(0, a.l4, b0, &c)
        var t5 = mac(0, a.l5, b0, &c)
        var t6 = c
        c = 0
        t1 = mac(t1, a.l0, b1, &c)
        t2 = mac(t2, a.l1, b1, &c)
        t3 = mac(t3, a.l2, b1, &c)
        t4 = mac(t4, a.l3, b1, &c)
        t5 = mac(t5, a.l4, b1, &c)
        t6 = mac(t6, a.l5, b1, &c)
        var t7 = c
        c = 0
        t2 = mac(t2, a.l0, b2, &c)
        t3 = mac(t3, a.l1, b2, &c)
        t4 = mac(t4, a.l2, b2, &c)
        t5 = mac(t5, a.l3, b2, &c)
        t6 = mac(t6, a.l4, b2, &c)
        t7 = mac(t7, a.l5, b2, &c)
        var t8 = c
        c = 0
        t3 = mac(t3, a.l0, b3, &c)
        t4 = mac(t4, a.l1, b3, &c)
        t5 = mac(t5, a.l2, b3, &c)
        t6 = mac(t6, a.l3, b3, &c)
        t7 = mac(t7, a.l4, b3, &c)
        t8 = mac(t8, a.l5, b3, &c)
        var t9 = c
        c = 0
        t4 = mac(t4, a.l0, b4, &c)
        t5 = mac(t5, a.l1, b4, &c)
        t6 = mac(t6, a.l2, b4, &c)
        t7 = mac(t7, a.l3, b4, &c)
        t8 = mac(t8, a.l4, b4, &c)
        t9 = mac(t9, a.l5, b4, &c)
        var t10 = c
        c = 0
        t5 = mac(t5, a.l0, b5, &c)
        t6 = mac(t6, a.l1, b5, &c)
        t7 = mac(t7, a.l2, b5, &c)
        t8 = mac(t8, a.l3, b5, &c)
        t9 = mac(t9, a.l4, b5, &c)
        t10 = mac(t10, a.l5, b5, &c)
        let t11 = c
        return FpWide(t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11)
    }

    /// Montgomery reduction t·R⁻¹ mod p of a wide value t < p·2^384.
    @inline(never)
    static func reduce(_ t: FpWide) -> Fp {
        var t0 = t.w0, t1 = t.w1, t2 = t.w2, t3 = t.w3, t4 = t.w4, t5 = t.w5
        var t6 = t.w6, t7 = t.w7, t8 = t.w8, t9 = t.w9, t10 = t.w10, t11 = t.w11
        var carry2: UInt64 = 0
        var c: UInt64 = 0
        var m: UInt64 = 0
        m = t0 &* pInv
        c = 0
        t0 = mac(t0, m, P0, &c)
        t1 = mac(t1, m, P1, &c)
        t2 = mac(t2, m, P2, &c)
        t3 = mac(t3, m, P3, &c)
        t4 = mac(t4, m, P4, &c)
        t5 = mac(t5, m, P5, &c)
        t6 = adc(t6, c, &carry2)
        m = t1 &* pInv
        c = 0
        t1 = mac(t1, m, P0, &c)
        t2 = mac(t2, m, P1, &c)
        t3 = mac(t3, m, P2, &c)
        t4 = mac(t4, m, P3, &c)
        t5 = mac(t5, m, P4, &c)
        t6 = mac(t6, m, P5, &c)
        t7 = adc(t7, c, &carry2)
        m = t2 &* pInv
        c = 0
        t2 = mac(t2, m, P0, &c)
        t3 = mac(t3, m, P1, &c)
        t4 = mac(t4, m, P2, &c)
        t5 = mac(t5, m, P3, &c)
        t6 = mac(t6, m, P4, &c)
        t7 = mac(t7, m, P5, &c)
        t8 = adc(t8, c, &carry2)
        m = t3 &* pInv
        c = 0
        t3 = mac(t3, m, P0, &c)
        t4 = mac(t4, m, P1, &c)
        t5 = mac(t5, m, P2, &c)
        t6 = mac(t6, m, P3, &c)
        t7 = mac(t7, m, P4, &c)
        t8 = mac(t8, m, P5, &c)
        t9 = adc(t9, c, &carry2)
        m = t4 &* pInv
        c = 0
        t4 = mac(t4, m, P0, &c)
        t5 = mac(t5, m, P1, &c)
        t6 = mac(t6, m, P2, &c)
        t7 = mac(t7, m, P3, &c)
        t8 = mac(t8, m, P4, &c)
        t9 = mac(t9, m, P5, &c)
        t10 = adc(t10, c, &carry2)
        m = t5 &* pInv
        c = 0
        t5 = mac(t5, m, P0, &c)
        t6 = mac(t6, m, P1, &c)
        t7 = mac(t7, m, P2, &c)
        t8 = mac(t8, m, P3, &c)
        t9 = mac(t9, m, P4, &c)
        t10 = mac(t10, m, P5, &c)
        t11 = adc(t11, c, &carry2)
        _ = (t0, t1, t2, t3, t4, t5)
        return reduceOnce(t6, t7, t8, t9, t10, t11)
    }

    /// The full 768-bit square a² (off-diagonal products once, doubled, plus the diagonal).
    @inline(__always)
    static func squareWide(_ a: Fp) -> FpWide {
        var c: UInt64 = 0
        var t1 = mac(0, a.l0, a.l1, &c)
        var t2 = mac(0, a.l0, a.l2, &c)
        var t3 = mac(0, a.l0, a.l3, &c)
        var t4 = mac(0, a.l0, a.l4, &c)
        var t5 = mac(0, a.l0, a.l5, &c)
        var t6 = c
        c = 0
        t3 = mac(t3, a.l1, a.l2, &c)
        t4 = mac(t4, a.l1, a.l3, &c)
        t5 = mac(t5, a.l1, a.l4, &c)
        t6 = mac(t6, a.l1, a.l5, &c)
        var t7 = c
        c = 0
        t5 = mac(t5, a.l2, a.l3, &c)
        t6 = mac(t6, a.l2, a.l4, &c)
        t7 = mac(t7, a.l2, a.l5, &c)
        var t8 = c
        c = 0
        t7 = mac(t7, a.l3, a.l4, &c)
        t8 = mac(t8, a.l3, a.l5, &c)
        var t9 = c
        c = 0
        t9 = mac(t9, a.l4, a.l5, &c)
        var t10 = c
        let t11 = t10 >> 63
        t10 = (t10 << 1) | (t9 >> 63)
        t9 = (t9 << 1) | (t8 >> 63)
        t8 = (t8 << 1) | (t7 >> 63)
        t7 = (t7 << 1) | (t6 >> 63)
        t6 = (t6 << 1) | (t5 >> 63)
        t5 = (t5 << 1) | (t4 >> 63)
        t4 = (t4 << 1) | (t3 >> 63)
        t3 = (t3 << 1) | (t2 >> 63)
        t2 = (t2 << 1) | (t1 >> 63)
        t1 = t1 << 1
        c = 0
        var hi: UInt64 = 0, lo: UInt64 = 0
        (hi, lo) = a.l0.multipliedFullWidth(by: a.l0)
        let r0 = adc(0, lo, &c)
        let r1 = adc(t1, hi, &c)
        (hi, lo) = a.l1.multipliedFullWidth(by: a.l1)
        let r2 = adc(t2, lo, &c)
        let r3 = adc(t3, hi, &c)
        (hi, lo) = a.l2.multipliedFullWidth(by: a.l2)
        let r4 = adc(t4, lo, &c)
        let r5 = adc(t5, hi, &c)
        (hi, lo) = a.l3.multipliedFullWidth(by: a.l3)
        let r6 = adc(t6, lo, &c)
        let r7 = adc(t7, hi, &c)
        (hi, lo) = a.l4.multipliedFullWidth(by: a.l4)
        let r8 = adc(t8, lo, &c)
        let r9 = adc(t9, hi, &c)
        (hi, lo) = a.l5.multipliedFullWidth(by: a.l5)
        let r10 = adc(t10, lo, &c)
        let r11 = adc(t11, hi, &c)
        return FpWide(r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11)
    }

    /// Montgomery squaring: 21 word products instead of 36 before the reduction.
    @inline(never)
    static func square(_ a: Fp) -> Fp { reduce(squareWide(a)) }

    @inline(__always) var squared: Fp { Fp.square(self) }

    /// Multiplies by a small constant via additions.
    @inline(__always) func times3() -> Fp { let d = self + self; return d + self }
    @inline(__always) func times4() -> Fp { let d = self + self; return d + d }
    @inline(__always) func times8() -> Fp { times4().doubled }

    /// self^e for a public exponent given as six little-endian limbs (variable time in e only).
    func pow(_ e: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> Fp {
        // Fixed 4-bit windows over a stack table of self^0 … self^15.
        withUnsafeTemporaryAllocation(of: Fp.self, capacity: 16) { t -> Fp in
            t.initialize(repeating: .one)
            t[1] = self
            for i in 2..<16 { t[i] = t[i - 1] * self }
            var result = Fp.one
            var started = false
            for li in 0..<6 {
                let limb: UInt64
                switch li {
                case 0: limb = e.5
                case 1: limb = e.4
                case 2: limb = e.3
                case 3: limb = e.2
                case 4: limb = e.1
                default: limb = e.0
                }
                var shift = 60
                while shift >= 0 {
                    let nib = Int((limb >> UInt64(shift)) & 0xf)
                    if started {
                        result = result.squared; result = result.squared
                        result = result.squared; result = result.squared
                        if nib != 0 { result = result * t[nib] }
                    } else if nib != 0 {
                        result = t[nib]
                        started = true
                    }
                    shift -= 4
                }
            }
            return result
        }
    }

    /// Multiplicative inverse (Fermat, constant time); 0 maps to 0.
    var inverse: Fp {
        pow(
            (
                0xb9feffffffffaaa9, 0x1eabfffeb153ffff, 0x6730d2a0f6b0f624,
                0x64774b84f38512bf, 0x4b1ba7b6434bacd7, 0x1a0111ea397fe69a
            ))
    }

    /// self^((p-3)/4).
    var powPMinus3Over4: Fp {
        pow(
            (
                0xee7fbfffffffeaaa, 0x07aaffffac54ffff, 0xd9cc34a83dac3d89,
                0xd91dd2e13ce144af, 0x92c6e9ed90d2eb35, 0x0680447a8e5ff9a6
            ))
    }

    /// A square root if one exists (p ≡ 3 mod 4: a^((p+1)/4)).
    var squareRoot: Fp? {
        let s = pow(
            (
                0xee7fbfffffffeaab, 0x07aaffffac54ffff, 0xd9cc34a83dac3d89,
                0xd91dd2e13ce144af, 0x92c6e9ed90d2eb35, 0x0680447a8e5ff9a6
            ))
        return s.squared == self ? s : nil
    }

    /// Enters Montgomery form from a canonical integer given as limbs (< p is required for exactness).
    @inline(__always)
    static func fromCanonical(
        _ l0: UInt64, _ l1: UInt64, _ l2: UInt64,
        _ l3: UInt64, _ l4: UInt64, _ l5: UInt64
    ) -> Fp {
        Fp(l0, l1, l2, l3, l4, l5) * r2
    }

    /// The canonical integer (leaves Montgomery form), as an `Fp` whose limbs are the plain value.
    @inline(__always)
    var canonicalLimbs: Fp {
        self * Fp(1, 0, 0, 0, 0, 0)
    }

    /// Small integer constant.
    static func from(_ v: UInt64) -> Fp { fromCanonical(v, 0, 0, 0, 0, 0) }

    /// The parity of the canonical value (RFC 9380 sgn0 for m = 1).
    var sgn0: UInt64 { canonicalLimbs.l0 & 1 }

    /// Whether the canonical value is greater than (p-1)/2, i.e. self > -self.
    var isLexicographicallyLargest: Bool {
        let c = canonicalLimbs
        // Compare with (p-1)/2 = 0x0d0088f5…7fffffffd555: compute (p-1)/2 - c and look at the borrow.
        var b: UInt64 = 0
        _ = sbb(0xdcff7fffffffd555, c.l0, &b)
        _ = sbb(0x0f55ffff58a9ffff, c.l1, &b)
        _ = sbb(0xb39869507b587b12, c.l2, &b)
        _ = sbb(0xb23ba5c279c2895f, c.l3, &b)
        _ = sbb(0x258dd3db21a5d66b, c.l4, &b)
        _ = sbb(0x0d0088f51cbff34d, c.l5, &b)
        return b == 1
    }

    /// Parses 48 big-endian bytes; returns nil if the integer is not < p.
    static func fromBytes(_ bytes: UnsafeRawBufferPointer) -> Fp? {
        precondition(bytes.count == 48)
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for k in 0..<8 { w = (w << 8) | UInt64(bytes[48 - 8 * (i + 1) + k]) }
            return w
        }
        let w0 = word(0), w1 = word(1), w2 = word(2), w3 = word(3), w4 = word(4), w5 = word(5)
        var b: UInt64 = 0
        _ = sbb(w0, P0, &b); _ = sbb(w1, P1, &b); _ = sbb(w2, P2, &b)
        _ = sbb(w3, P3, &b); _ = sbb(w4, P4, &b); _ = sbb(w5, P5, &b)
        guard b == 1 else { return nil }
        return fromCanonical(w0, w1, w2, w3, w4, w5)
    }

    /// Writes the canonical value as 48 big-endian bytes.
    func write(to out: inout [UInt8], at offset: Int) {
        let c = canonicalLimbs
        let ws = [c.l5, c.l4, c.l3, c.l2, c.l1, c.l0]
        for i in 0..<6 {
            for k in 0..<8 { out[offset + 8 * i + k] = UInt8(truncatingIfNeeded: ws[i] >> UInt64(56 - 8 * k)) }
        }
    }

    /// 48 big-endian bytes of the canonical value.
    var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 48)
        write(to: &out, at: 0)
        return out
    }
}

/// An unreduced 768-bit value (for lazy reduction: sums of products reduced once).
struct FpWide {
    var w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11: UInt64

    @inline(__always)
    init(
        _ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64, _ w4: UInt64, _ w5: UInt64,
        _ w6: UInt64, _ w7: UInt64, _ w8: UInt64, _ w9: UInt64, _ w10: UInt64, _ w11: UInt64
    ) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3; self.w4 = w4; self.w5 = w5
        self.w6 = w6; self.w7 = w7; self.w8 = w8; self.w9 = w9; self.w10 = w10; self.w11 = w11
    }

    /// a + b (the caller guarantees no overflow of 768 bits).
    @inline(__always)
    static func + (a: FpWide, b: FpWide) -> FpWide {
        var c: UInt64 = 0
        return FpWide(
            adc(a.w0, b.w0, &c), adc(a.w1, b.w1, &c), adc(a.w2, b.w2, &c), adc(a.w3, b.w3, &c),
            adc(a.w4, b.w4, &c), adc(a.w5, b.w5, &c), adc(a.w6, b.w6, &c), adc(a.w7, b.w7, &c),
            adc(a.w8, b.w8, &c), adc(a.w9, b.w9, &c), adc(a.w10, b.w10, &c), adc(a.w11, b.w11, &c))
    }

    /// a - b for a ≥ b.
    @inline(__always)
    static func - (a: FpWide, b: FpWide) -> FpWide {
        var c: UInt64 = 0
        return FpWide(
            sbb(a.w0, b.w0, &c), sbb(a.w1, b.w1, &c), sbb(a.w2, b.w2, &c), sbb(a.w3, b.w3, &c),
            sbb(a.w4, b.w4, &c), sbb(a.w5, b.w5, &c), sbb(a.w6, b.w6, &c), sbb(a.w7, b.w7, &c),
            sbb(a.w8, b.w8, &c), sbb(a.w9, b.w9, &c), sbb(a.w10, b.w10, &c), sbb(a.w11, b.w11, &c))
    }

    /// a - b, plus p·2^384 when the difference is negative (for |a - b| < p·2^384).
    @inline(__always)
    static func subModPR(_ a: FpWide, _ b: FpWide) -> FpWide {
        var br: UInt64 = 0
        let d0 = sbb(a.w0, b.w0, &br), d1 = sbb(a.w1, b.w1, &br), d2 = sbb(a.w2, b.w2, &br)
        let d3 = sbb(a.w3, b.w3, &br), d4 = sbb(a.w4, b.w4, &br), d5 = sbb(a.w5, b.w5, &br)
        let d6 = sbb(a.w6, b.w6, &br), d7 = sbb(a.w7, b.w7, &br), d8 = sbb(a.w8, b.w8, &br)
        let d9 = sbb(a.w9, b.w9, &br), d10 = sbb(a.w10, b.w10, &br), d11 = sbb(a.w11, b.w11, &br)
        let m = 0 &- br
        var c: UInt64 = 0
        return FpWide(
            d0, d1, d2, d3, d4, d5,
            adc(d6, P0 & m, &c), adc(d7, P1 & m, &c), adc(d8, P2 & m, &c),
            adc(d9, P3 & m, &c), adc(d10, P4 & m, &c), adc(d11, P5 & m, &c))
    }
}
