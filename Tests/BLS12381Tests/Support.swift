import ICTestSupport

@testable import BLS12381

/// SplitMix64: a small deterministic PRNG for property tests.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func fp() -> Fp {
        Fp.fromCanonical(next(), next(), next(), next(), next(), next() & 0x0fff_ffff_ffff_ffff)
    }
    mutating func fp2() -> Fp2 { Fp2(fp(), fp()) }
    mutating func fp6() -> Fp6 { Fp6(fp2(), fp2(), fp2()) }
    mutating func fp12() -> Fp12 { Fp12(fp6(), fp6()) }
    mutating func scalar() -> Scalar { Scalar(reducing: bytes(48)) }
}

/// An Fp element from a 0x-prefixed or bare big-endian hex string (< p).
func fp(hex: String) -> Fp {
    var h = hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex
    h = String(repeating: "0", count: 96 - h.count) + h
    let b = bytes(hex: h)
    return b.withUnsafeBytes { Fp.fromBytes($0)! }
}

/// self^e for an exponent given as big-endian bytes (test helper, slow).
func powBytes<T>(_ base: T, _ e: [UInt8], one: T, mul: (T, T) -> T) -> T {
    var acc = one
    for byte in e {
        for i in stride(from: 7, through: 0, by: -1) {
            acc = mul(acc, acc)
            if (byte >> UInt8(i)) & 1 == 1 { acc = mul(acc, base) }
        }
    }
    return acc
}

let pBytes = bytes(hex: "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab")
let rBytes = bytes(hex: "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
