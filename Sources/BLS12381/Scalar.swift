// The scalar field Fr of BLS12-381 (the prime order r of G1, G2 and GT).

let R0: UInt64 = 0xffffffff00000001
let R1: UInt64 = 0x53bda402fffe5bfe
let R2: UInt64 = 0x3339d80809a1d805
let R3: UInt64 = 0x73eda753299d7d48
/// -r⁻¹ mod 2^64.
let rInv: UInt64 = 0xfffffffeffffffff

/// An integer modulo the group order
/// r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001.
///
/// Secret keys are scalars; points are multiplied by scalars. Stored in Montgomery form.
public struct Scalar: Equatable, Sendable {
    var l0, l1, l2, l3: UInt64

    @inline(__always)
    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        self.l0 = l0; self.l1 = l1; self.l2 = l2; self.l3 = l3
    }

    /// The scalar 0.
    public static let zero = Scalar(0, 0, 0, 0)
    /// The scalar 1.
    public static let one = Scalar(0x00000001fffffffe, 0x5884b7fa00034802, 0x998c4fefecbc4ff5, 0x1824b159acc5056f)
    @inline(__always) static var r2: Scalar { Scalar(0xc999e990f3f29c6d, 0x2b6cedcb87925c23, 0x05d314967254398f, 0x0748d9d99f59ff11) }

    /// Whether this is the zero scalar.
    public var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }

    @inline(__always)
    static func reduceOnce(_ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64) -> Scalar {
        var b: UInt64 = 0
        let d0 = sbb(a0, R0, &b)
        let d1 = sbb(a1, R1, &b)
        let d2 = sbb(a2, R2, &b)
        let d3 = sbb(a3, R3, &b)
        let m = 0 &- b
        return Scalar(d0 ^ ((a0 ^ d0) & m), d1 ^ ((a1 ^ d1) & m), d2 ^ ((a2 ^ d2) & m), d3 ^ ((a3 ^ d3) & m))
    }

    /// Sum modulo r.
    public static func + (a: Scalar, b: Scalar) -> Scalar {
        var c: UInt64 = 0
        let s0 = adc(a.l0, b.l0, &c)
        let s1 = adc(a.l1, b.l1, &c)
        let s2 = adc(a.l2, b.l2, &c)
        let s3 = adc(a.l3, b.l3, &c)
        return reduceOnce(s0, s1, s2, s3)
    }

    /// Difference modulo r.
    public static func - (a: Scalar, b: Scalar) -> Scalar {
        var br: UInt64 = 0
        let d0 = sbb(a.l0, b.l0, &br)
        let d1 = sbb(a.l1, b.l1, &br)
        let d2 = sbb(a.l2, b.l2, &br)
        let d3 = sbb(a.l3, b.l3, &br)
        let m = 0 &- br
        var c: UInt64 = 0
        let r0 = adc(d0, R0 & m, &c)
        let r1 = adc(d1, R1 & m, &c)
        let r2 = adc(d2, R2 & m, &c)
        let r3 = adc(d3, R3 & m, &c)
        return Scalar(r0, r1, r2, r3)
    }

    /// Negation modulo r.
    public static prefix func - (a: Scalar) -> Scalar { Scalar.zero - a }

    /// Product modulo r.
    public static func * (a: Scalar, b: Scalar) -> Scalar {
        let rInv = rInv
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        // round 0
        do {
            let bi = b.l0
            var A: UInt64 = 0
            t0 = mac(0, a.l0, bi, &A)
            let m = t0 &* rInv
            var C: UInt64 = 0
            _ = mac(t0, m, R0, &C)
            t1 = mac(0, a.l1, bi, &A)
            t0 = mac(t1, m, R1, &C)
            t2 = mac(0, a.l2, bi, &A)
            t1 = mac(t2, m, R2, &C)
            t3 = mac(0, a.l3, bi, &A)
            t2 = mac(t3, m, R3, &C)
            t3 = C &+ A
        }
        // round 1
        do {
            let bi = b.l1
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* rInv
            var C: UInt64 = 0
            _ = mac(t0, m, R0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, R1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, R2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, R3, &C)
            t3 = C &+ A
        }
        // round 2
        do {
            let bi = b.l2
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* rInv
            var C: UInt64 = 0
            _ = mac(t0, m, R0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, R1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, R2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, R3, &C)
            t3 = C &+ A
        }
        // round 3
        do {
            let bi = b.l3
            var A: UInt64 = 0
            t0 = mac(t0, a.l0, bi, &A)
            let m = t0 &* rInv
            var C: UInt64 = 0
            _ = mac(t0, m, R0, &C)
            t1 = mac(t1, a.l1, bi, &A)
            t0 = mac(t1, m, R1, &C)
            t2 = mac(t2, a.l2, bi, &A)
            t1 = mac(t2, m, R2, &C)
            t3 = mac(t3, a.l3, bi, &A)
            t2 = mac(t3, m, R3, &C)
            t3 = C &+ A
        }
        return reduceOnce(t0, t1, t2, t3)
    }

    /// Multiplicative inverse (Fermat, constant time); the inverse of 0 is 0.
    public var inverse: Scalar {
        // r - 2, most significant limb first.
        let e: [UInt64] = [R3, R2, R1, R0 - 2]
        var result = Scalar.one
        for limb in e {
            for i in stride(from: 63, through: 0, by: -1) {
                result = result * result
                let m = (limb >> UInt64(i)) & 1
                result = Scalar.select(result * self, result, m)
            }
        }
        return result
    }

    @inline(__always)
    static func select(_ a: Scalar, _ b: Scalar, _ choice: UInt64) -> Scalar {
        let m = 0 &- choice
        return Scalar(
            b.l0 ^ ((a.l0 ^ b.l0) & m), b.l1 ^ ((a.l1 ^ b.l1) & m),
            b.l2 ^ ((a.l2 ^ b.l2) & m), b.l3 ^ ((a.l3 ^ b.l3) & m))
    }

    /// Reduces a 256-bit little-endian integer modulo r and enters Montgomery form.
    static func reducing(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) -> Scalar {
        // 2^256 < 3r, so two conditional subtractions reduce any 256-bit value.
        var b: UInt64 = 0
        var x0 = w0, x1 = w1, x2 = w2, x3 = w3
        for _ in 0..<2 {
            b = 0
            let d0 = sbb(x0, R0, &b)
            let d1 = sbb(x1, R1, &b)
            let d2 = sbb(x2, R2, &b)
            let d3 = sbb(x3, R3, &b)
            let m = 0 &- b  // all ones when x < r: keep x
            x0 = d0 ^ ((x0 ^ d0) & m); x1 = d1 ^ ((x1 ^ d1) & m)
            x2 = d2 ^ ((x2 ^ d2) & m); x3 = d3 ^ ((x3 ^ d3) & m)
        }
        return Scalar(x0, x1, x2, x3) * r2
    }

    static func words(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UInt64) {
        // 32 big-endian bytes → little-endian limbs.
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for k in 0..<8 { w = (w << 8) | UInt64(bytes[32 - 8 * (i + 1) + k]) }
            return w
        }
        return (word(0), word(1), word(2), word(3))
    }

    /// Reduces a big-endian integer of any length modulo r.
    ///
    /// Use it to derive a scalar from uniformly random bytes: 48 or more bytes make the modular
    /// bias negligible; 32 bytes (as the IC reference does for its keys) leave a small bias.
    public init(reducing bytes: [UInt8]) {
        // Horner over 32-byte chunks: acc = acc·2^256 + chunk.
        // The stored limbs of r2 (R² mod r) are the Montgomery form of R = 2^256.
        let twoTo256 = Scalar.r2
        var acc = Scalar.zero
        var padded = [UInt8](repeating: 0, count: (32 - bytes.count % 32) % 32)
        padded.append(contentsOf: bytes)
        var offset = 0
        while offset < padded.count {
            let chunk = padded[offset..<offset + 32]
            let w = chunk.withUnsafeBytes { Scalar.words($0) }
            acc = acc * twoTo256 + Scalar.reducing(w.0, w.1, w.2, w.3)
            offset += 32
        }
        self = acc
    }

    /// Parses a canonical 32-byte big-endian scalar; nil if it is not less than r.
    public init?(canonicalBytes bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        let w = bytes.withUnsafeBytes { Scalar.words($0) }
        var b: UInt64 = 0
        _ = sbb(w.0, R0, &b); _ = sbb(w.1, R1, &b); _ = sbb(w.2, R2, &b); _ = sbb(w.3, R3, &b)
        guard b == 1 else { return nil }
        self = Scalar(w.0, w.1, w.2, w.3) * Scalar.r2
    }

    /// The canonical value as little-endian limbs.
    var canonicalLimbs: (UInt64, UInt64, UInt64, UInt64) {
        let c = self * Scalar(1, 0, 0, 0)
        return (c.l0, c.l1, c.l2, c.l3)
    }

    /// 32-byte big-endian encoding of the canonical value.
    public var bytes: [UInt8] {
        let c = canonicalLimbs
        var out = [UInt8](repeating: 0, count: 32)
        let ws = [c.3, c.2, c.1, c.0]
        for i in 0..<4 {
            for k in 0..<8 { out[8 * i + k] = UInt8(truncatingIfNeeded: ws[i] >> UInt64(56 - 8 * k)) }
        }
        return out
    }

    /// A small non-negative integer as a scalar.
    public init(_ value: UInt64) {
        self = Scalar(value, 0, 0, 0) * Scalar.r2
    }
}
