#if !ICWS_SINGLE_MODULE
import ICCore
#endif

/// ECDSA over secp256k1 with SHA-256, as the IC uses it for dfx's default identities:
/// signatures are 64 bytes `r ‖ s` over `SHA-256(message)`, public keys are uncompressed
/// SEC1 points inside a DER SubjectPublicKeyInfo.
public enum Secp256k1 {
    /// DER SubjectPublicKeyInfo prefix for an uncompressed secp256k1 key (essentials §4.5).
    public static let derPrefix: [UInt8] = [
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
        0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
    ]

    static let halfOrder = UInt256(hex: "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")

    /// Which signatures `PublicKey.isValidSignature` accepts.
    public enum SignaturePolicy: Sendable {
        /// Only low-S signatures (s ≤ n/2), as the IC's verifier (k256) requires.
        case lowSOnly
        /// Both s and n − s (plain ECDSA, e.g. Wycheproof's P1363 "valid").
        case acceptHighS
    }

    /// A secp256k1 secret key.
    public struct PrivateKey: Sendable {
        let scalar: UInt256

        /// Creates a key from 32 big-endian bytes encoding a scalar in [1, n−1].
        public init(rawRepresentation bytes: [UInt8]) throws(Secp256k1Error) {
            guard let value = UInt256(bigEndian: bytes), !value.isZero,
                value.isLess(than: Secp256k1OrderModulus.modulus)
            else { throw .invalidSecretKey }
            scalar = value
        }

        /// Derives a key from 32 or more bytes of entropy: hashed and reduced mod n, never zero.
        public init(entropy: [UInt8]) {
            var counter: UInt8 = 0
            while true {
                var hasher = SHA256()
                hasher.update(entropy)
                hasher.update(byte: counter)
                let candidate = UInt256(bigEndian: hasher.finalize())!
                if !candidate.isZero, candidate.isLess(than: Secp256k1OrderModulus.modulus) {
                    scalar = candidate
                    return
                }
                counter &+= 1
            }
        }

        /// The 32-byte big-endian secret.
        public var rawRepresentation: [UInt8] { scalar.bigEndianBytes }

        /// The matching public key.
        public var publicKey: PublicKey {
            PublicKey(point: Secp256k1Point.generator.multiplied(byConstantTime: scalar))
        }

        /// Signs `SHA-256(message)` with an RFC 6979 deterministic nonce; the result is
        /// low-S normalised. The nonce and the secret never steer a branch: the point
        /// multiplication is a ladder and scalar arithmetic is branch-free Montgomery code.
        public func signature(for message: [UInt8]) -> [UInt8] {
            signature(forDigest: SHA256.hash(message))
        }

        /// Signs a 32-byte digest (see `signature(for:)`).
        public func signature(forDigest digest: [UInt8]) -> [UInt8] {
            precondition(digest.count == 32, "digest must be 32 bytes")
            let z = Scalar(reducing: UInt256(bigEndian: digest)!)
            let d = Scalar(scalar)
            var nonces = RFC6979Nonces(secret: scalar, digest: z.value)
            while true {
                let k = nonces.next()
                let point = Secp256k1Point.generator.multiplied(byConstantTime: k)
                guard let affine = point.affine else { continue }
                let r = Scalar(reducing: affine.x.value)
                if r.isZero { continue }
                var s = Scalar(k).inverse() * (z + r * d)
                if s.isZero { continue }
                // Low-S normalisation: s and n − s are both valid; the IC accepts only the low one.
                let negated = -s
                let high: UInt64 = Secp256k1.halfOrder.isLess(than: s.value) ? ~0 : 0
                s = Scalar(montgomery: UInt256.select(s.montgomery, negated.montgomery, mask: high))
                return r.value.bigEndianBytes + s.value.bigEndianBytes
            }
        }
    }

    /// A secp256k1 public key (a point on the curve, not the identity).
    public struct PublicKey: Sendable, Equatable {
        let point: Secp256k1Point
        let affineX: UInt256
        let affineY: UInt256

        init(point: Secp256k1Point) {
            self.point = point
            let affine = point.affine!
            affineX = affine.x.value
            affineY = affine.y.value
        }

        /// Parses a SEC1 point: uncompressed (65 bytes, `04 ‖ x ‖ y`) or compressed (33 bytes).
        public init(sec1 bytes: [UInt8]) throws(Secp256k1Error) {
            let p = Secp256k1FieldModulus.modulus
            switch (bytes.count, bytes.first) {
            case (65, 0x04):
                let x = UInt256(bigEndian: Array(bytes[1..<33]))!
                let y = UInt256(bigEndian: Array(bytes[33..<65]))!
                guard x.isLess(than: p), y.isLess(than: p) else { throw .coordinateOutOfRange }
                guard let point = Secp256k1Point(affineX: FieldElement(x), affineY: FieldElement(y)) else {
                    throw .publicKeyNotOnCurve
                }
                self.init(point: point)
            case (33, 0x02), (33, 0x03):
                let x = UInt256(bigEndian: Array(bytes[1..<33]))!
                guard x.isLess(than: p) else { throw .coordinateOutOfRange }
                let fx = FieldElement(x)
                let ySquared = fx.squared() * fx + Secp256k1Point.b
                // p ≡ 3 (mod 4): a square root is y^((p+1)/4).
                let exponent = UInt256(hex: "3fffffffffffffffffffffffffffffffffffffffffffffffffffffffbfffff0c")
                var y = ySquared.power(exponent)
                guard y.squared() == ySquared else { throw .publicKeyNotOnCurve }
                if (y.value.l0 & 1) != UInt64(bytes[0] & 1) { y = -y }
                self.init(point: Secp256k1Point(x: fx, y: y, z: .one))
            default:
                throw .invalidPublicKeyEncoding(length: bytes.count, prefix: bytes.first)
            }
        }

        /// Parses a DER SubjectPublicKeyInfo (the IC's `sender_pubkey` form).
        public init(der bytes: [UInt8]) throws(Secp256k1Error) {
            guard bytes.count == Secp256k1.derPrefix.count + 65,
                Array(bytes.prefix(Secp256k1.derPrefix.count)) == Secp256k1.derPrefix
            else { throw .invalidDERPrefix }
            try self.init(sec1: Array(bytes.dropFirst(Secp256k1.derPrefix.count)))
        }

        /// Uncompressed SEC1 encoding, `04 ‖ x ‖ y`.
        public var uncompressedRepresentation: [UInt8] {
            [0x04] + affineX.bigEndianBytes + affineY.bigEndianBytes
        }

        /// Compressed SEC1 encoding, `02/03 ‖ x`.
        public var compressedRepresentation: [UInt8] {
            [affineY.l0 & 1 == 0 ? 0x02 : 0x03] + affineX.bigEndianBytes
        }

        /// DER SubjectPublicKeyInfo with the uncompressed point.
        public var derRepresentation: [UInt8] { Secp256k1.derPrefix + uncompressedRepresentation }

        /// Verifies a 64-byte `r ‖ s` signature over `SHA-256(message)`.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8], policy: SignaturePolicy = .lowSOnly) -> Bool {
            isValidSignature(signature, forDigest: SHA256.hash(message), policy: policy)
        }

        /// Verifies a 64-byte `r ‖ s` signature over a 32-byte digest.
        public func isValidSignature(_ signature: [UInt8], forDigest digest: [UInt8], policy: SignaturePolicy = .lowSOnly) -> Bool {
            guard signature.count == 64, digest.count == 32 else { return false }
            let n = Secp256k1OrderModulus.modulus
            let rValue = UInt256(bigEndian: Array(signature[0..<32]))!
            let sValue = UInt256(bigEndian: Array(signature[32..<64]))!
            guard !rValue.isZero, !sValue.isZero, rValue.isLess(than: n), sValue.isLess(than: n) else { return false }
            if policy == .lowSOnly, Secp256k1.halfOrder.isLess(than: sValue) { return false }
            let z = Scalar(reducing: UInt256(bigEndian: digest)!)
            let w = Scalar(sValue).inverse()
            let u1 = (z * w).value
            let u2 = (Scalar(rValue) * w).value
            let point = Secp256k1Point.doubleScalarMultiplication(u1, u2, self.point)
            guard let affine = point.affine else { return false }
            return Scalar(reducing: affine.x.value).value == rValue
        }

        public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
            lhs.affineX == rhs.affineX && lhs.affineY == rhs.affineY
        }
    }
}

/// RFC 6979 §3.2 nonce generation with HMAC-SHA256 (qlen = hlen = 256 bits).
struct RFC6979Nonces {
    private var k: [UInt8]
    private var v: [UInt8]
    private var first = true

    init(secret: UInt256, digest: UInt256) {
        let x = secret.bigEndianBytes
        let h = digest.bigEndianBytes  // bits2octets(h1): digest already reduced mod n
        v = [UInt8](repeating: 0x01, count: 32)
        k = [UInt8](repeating: 0x00, count: 32)
        k = HMACSHA256.authenticationCode(for: v + [0x00] + x + h, key: k)
        v = HMACSHA256.authenticationCode(for: v, key: k)
        k = HMACSHA256.authenticationCode(for: v + [0x01] + x + h, key: k)
        v = HMACSHA256.authenticationCode(for: v, key: k)
    }

    /// The next candidate nonce in [1, n−1].
    mutating func next() -> UInt256 {
        while true {
            if !first {
                k = HMACSHA256.authenticationCode(for: v + [0x00], key: k)
                v = HMACSHA256.authenticationCode(for: v, key: k)
            }
            first = false
            v = HMACSHA256.authenticationCode(for: v, key: k)
            let candidate = UInt256(bigEndian: v)!
            if !candidate.isZero, candidate.isLess(than: Secp256k1OrderModulus.modulus) {
                return candidate
            }
        }
    }
}
