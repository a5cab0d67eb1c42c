// SHA-256 and SHA-224 (FIPS 180-4) in portable Swift.
//
// The IC hashes everything with SHA-256 (request ids, hash trees, certified data) and
// derives self-authenticating principals with SHA-224. Canisters compiled with Embedded
// Swift have no swift-crypto, so ICCore carries its own implementation; host code that
// hashes large inputs may prefer swift-crypto (a test checks that both agree).

/// An incremental SHA-256 hasher.
///
/// ```swift
/// var hasher = SHA256()
/// hasher.update(Array("abc".utf8))
/// let digest = hasher.finalize()   // 32 bytes
/// ```
public struct SHA256: Sendable {
    /// Size of a digest in bytes.
    public static let digestByteCount = 32

    @usableFromInline var engine: SHA2_32Engine

    /// Creates a hasher with the SHA-256 initial state.
    @inlinable
    public init() {
        engine = SHA2_32Engine(initialState: SHA2_32Engine.sha256InitialState)
    }

    /// Feeds bytes into the hash.
    @inlinable
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { engine.update($0) }
    }

    /// Feeds bytes into the hash.
    @inlinable
    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { engine.update($0) }
    }

    /// Feeds raw bytes into the hash.
    @inlinable
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        engine.update(bytes)
    }

    /// Feeds one byte into the hash.
    @inlinable
    public mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { engine.update($0) }
    }

    /// Feeds the UTF-8 bytes of a string into the hash.
    @inlinable
    public mutating func update(utf8 string: String) {
        var string = string
        string.withUTF8 { engine.update(UnsafeRawBufferPointer($0)) }
    }

    /// Returns the 32-byte digest. The hasher should not be used afterwards.
    @inlinable
    public mutating func finalize() -> [UInt8] {
        engine.finalize(digestByteCount: SHA256.digestByteCount)
    }

    /// The SHA-256 digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The SHA-256 digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The SHA-256 digest of the UTF-8 bytes of `string`.
    @inlinable
    public static func hash(utf8 string: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(utf8: string)
        return hasher.finalize()
    }
}

/// SHA-224 (SHA-256 with another initial state, truncated to 28 bytes): only whole-message
/// hashing is needed (self-authenticating principals).
public enum SHA224 {
    /// Size of a digest in bytes.
    public static let digestByteCount = 28

    /// The SHA-224 digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var engine = SHA2_32Engine(initialState: SHA2_32Engine.sha224InitialState)
        bytes.withUnsafeBytes { engine.update($0) }
        return engine.finalize(digestByteCount: digestByteCount)
    }
}

/// The block engine shared by SHA-224 and SHA-256: 32-bit words, 64-byte blocks.
@usableFromInline
struct SHA2_32Engine: Sendable {
    @usableFromInline static let sha256InitialState: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    @usableFromInline static let sha224InitialState: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0xc105_9ed8, 0x367c_d507, 0x3070_dd17, 0xf70e_5939, 0xffc0_0b31, 0x6858_1511, 0x64f9_8fa7, 0xbefa_4fa4
    )

    @usableFromInline var h0, h1, h2, h3, h4, h5, h6, h7: UInt32
    /// The incomplete block waiting for more input, stored inline (64 bytes) so that hashing
    /// small inputs allocates nothing but the digest.
    @usableFromInline var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    /// How many bytes of `block` are filled.
    @usableFromInline var blockCount: Int
    /// Total message length in bytes so far.
    @usableFromInline var length: UInt64

    @usableFromInline
    init(initialState s: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)) {
        (h0, h1, h2, h3, h4, h5, h6, h7) = s
        block = (0, 0, 0, 0, 0, 0, 0, 0)
        blockCount = 0
        length = 0
    }

    @usableFromInline
    mutating func update(_ input: UnsafeRawBufferPointer) {
        guard input.count > 0 else { return }
        length &+= UInt64(input.count)
        var offset = 0
        if blockCount > 0 {
            let take = min(64 - blockCount, input.count)
            let filled = blockCount
            withUnsafeMutableBytes(of: &block) { buffer in
                buffer.baseAddress!.advanced(by: filled).copyMemory(from: input.baseAddress!, byteCount: take)
            }
            blockCount += take
            offset = take
            guard blockCount == 64 else { return }
            compressPendingBlock()
        }
        while input.count - offset >= 64 {
            compress(input.baseAddress! + offset)
            offset += 64
        }
        if offset < input.count {
            let rest = input.count - offset
            withUnsafeMutableBytes(of: &block) { buffer in
                buffer.baseAddress!.copyMemory(from: input.baseAddress! + offset, byteCount: rest)
            }
            blockCount = rest
        }
    }

    @usableFromInline
    mutating func compressPendingBlock() {
        var copy = block
        withUnsafeBytes(of: &copy) { compress($0.baseAddress!) }
        blockCount = 0
    }

    @usableFromInline
    mutating func finalize(digestByteCount: Int) -> [UInt8] {
        // Word stores and one memset instead of byte loops: on a canister a finalize runs once
        // per certified-tree node, and the byte loops cost as much as a third of a block.
        let bitLength = length &* 8
        let filled = blockCount
        let needsExtraBlock = filled >= 56
        withUnsafeMutableBytes(of: &block) { buffer in
            buffer[filled] = 0x80
            let padding = (needsExtraBlock ? 64 : 56) - filled - 1
            if padding > 0 { (buffer.baseAddress! + filled + 1).initializeMemory(as: UInt8.self, repeating: 0, count: padding) }
        }
        if needsExtraBlock {
            compressPendingBlock()
            block = (0, 0, 0, 0, 0, 0, 0, 0)
        }
        withUnsafeMutableBytes(of: &block) { buffer in
            buffer.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
        }
        compressPendingBlock()
        let words = (h0.bigEndian, h1.bigEndian, h2.bigEndian, h3.bigEndian, h4.bigEndian, h5.bigEndian, h6.bigEndian, h7.bigEndian)
        return [UInt8](unsafeUninitializedCapacity: digestByteCount) { digest, count in
            withUnsafeBytes(of: words) { raw in
                UnsafeMutableRawPointer(digest.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: digestByteCount)
            }
            count = digestByteCount
        }
    }

    /// Processes one 64-byte block. The message schedule is kept as a 16-word ring in
    /// locals so the hot loop never touches the heap.
    @usableFromInline
    mutating func compress(_ block: UnsafeRawPointer) {
        @inline(__always) func load(_ i: Int) -> UInt32 {
            UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
        }
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

        var w0 = load(0), w1 = load(1), w2 = load(2), w3 = load(3)
        var w4 = load(4), w5 = load(5), w6 = load(6), w7 = load(7)
        var w8 = load(8), w9 = load(9), w10 = load(10), w11 = load(11)
        var w12 = load(12), w13 = load(13), w14 = load(14), w15 = load(15)

        var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7

        @inline(__always) func round(_ k: UInt32, _ w: UInt32) {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k &+ w
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        @inline(__always) func sigma0(_ x: UInt32) -> UInt32 { rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3) }
        @inline(__always) func sigma1(_ x: UInt32) -> UInt32 { rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10) }

        var t = 0
        while true {
            round(sha256RoundConstants[t + 0], w0); round(sha256RoundConstants[t + 1], w1)
            round(sha256RoundConstants[t + 2], w2); round(sha256RoundConstants[t + 3], w3)
            round(sha256RoundConstants[t + 4], w4); round(sha256RoundConstants[t + 5], w5)
            round(sha256RoundConstants[t + 6], w6); round(sha256RoundConstants[t + 7], w7)
            round(sha256RoundConstants[t + 8], w8); round(sha256RoundConstants[t + 9], w9)
            round(sha256RoundConstants[t + 10], w10); round(sha256RoundConstants[t + 11], w11)
            round(sha256RoundConstants[t + 12], w12); round(sha256RoundConstants[t + 13], w13)
            round(sha256RoundConstants[t + 14], w14); round(sha256RoundConstants[t + 15], w15)
            t += 16
            if t == 64 { break }
            // Expand the next 16 schedule words in place.
            w0 = w0 &+ sigma0(w1) &+ w9 &+ sigma1(w14)
            w1 = w1 &+ sigma0(w2) &+ w10 &+ sigma1(w15)
            w2 = w2 &+ sigma0(w3) &+ w11 &+ sigma1(w0)
            w3 = w3 &+ sigma0(w4) &+ w12 &+ sigma1(w1)
            w4 = w4 &+ sigma0(w5) &+ w13 &+ sigma1(w2)
            w5 = w5 &+ sigma0(w6) &+ w14 &+ sigma1(w3)
            w6 = w6 &+ sigma0(w7) &+ w15 &+ sigma1(w4)
            w7 = w7 &+ sigma0(w8) &+ w0 &+ sigma1(w5)
            w8 = w8 &+ sigma0(w9) &+ w1 &+ sigma1(w6)
            w9 = w9 &+ sigma0(w10) &+ w2 &+ sigma1(w7)
            w10 = w10 &+ sigma0(w11) &+ w3 &+ sigma1(w8)
            w11 = w11 &+ sigma0(w12) &+ w4 &+ sigma1(w9)
            w12 = w12 &+ sigma0(w13) &+ w5 &+ sigma1(w10)
            w13 = w13 &+ sigma0(w14) &+ w6 &+ sigma1(w11)
            w14 = w14 &+ sigma0(w15) &+ w7 &+ sigma1(w12)
            w15 = w15 &+ sigma0(w0) &+ w8 &+ sigma1(w13)
        }

        h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
        h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
    }
}

@usableFromInline
let sha256RoundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]
