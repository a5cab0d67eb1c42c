// The IC's BLS signatures: BLS12-381, minimal-signature-size variant, basic scheme
// (ciphersuite BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_).

#if !ICWS_SINGLE_MODULE
import ICCore
#endif

/// BLS signatures as used by the Internet Computer.
///
/// Signatures are 48-byte compressed G1 points, public keys 96-byte compressed G2 points,
/// messages are hashed to G1 with RFC 9380 (`BLS12381G1_XMD:SHA-256_SSWU_RO_`) under the DST
/// `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`. A signature is valid iff both points decode,
/// lie in their prime-order subgroups, are not the identity, and e(σ, g2) = e(H(m), pk),
/// checked as one two-pair Miller loop and one final exponentiation.
///
/// ```swift
/// let ok = BLS.verify(signature: sig, message: BLS.stateRootMessage(rootHash: root), publicKey: key)
/// ```
public enum BLS {
    /// The hash-to-curve domain separation tag of the IC's signatures.
    public static let signatureDST: [UInt8] = Array("BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_".utf8)

    /// The domain separator of certificate signatures: `0x0d ‖ "ic-state-root"`.
    public static let stateRootDomainSeparator: [UInt8] = [0x0d] + Array("ic-state-root".utf8)

    /// The 37-byte DER prefix of a BLS12-381 G2 public key (SubjectPublicKeyInfo with the
    /// IC's algorithm identifiers); followed by the 96-byte compressed key.
    public static let publicKeyDERPrefix: [UInt8] = [
        0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c,
        0x05, 0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c,
        0x05, 0x03, 0x02, 0x01, 0x03, 0x61, 0x00,
    ]

    /// The message a certificate's signature covers: `0x0d ‖ "ic-state-root" ‖ rootHash`.
    public static func stateRootMessage(rootHash: [UInt8]) -> [UInt8] {
        stateRootDomainSeparator + rootHash
    }

    /// Wraps a 96-byte raw public key into its 133-byte DER form.
    public static func derEncode(publicKey raw: [UInt8]) throws(BLSError) -> [UInt8] {
        guard raw.count == 96 else { throw .wrongLength(.g2, actual: raw.count) }
        return publicKeyDERPrefix + raw
    }

    /// Strips and checks the DER prefix of a 133-byte public key, returning the 96 raw bytes
    /// (not yet decoded as a point).
    public static func rawPublicKey(fromDER der: [UInt8]) throws(BLSError) -> [UInt8] {
        guard der.count == publicKeyDERPrefix.count + 96,
            der.starts(with: publicKeyDERPrefix)
        else { throw .invalidDER }
        return Array(der[publicKeyDERPrefix.count...])
    }

    /// hash_to_curve to G1 (RFC 9380, suite `BLS12381G1_XMD:SHA-256_SSWU_RO_`).
    /// DSTs longer than 255 bytes are hashed first, as the RFC specifies.
    public static func hashToG1(message: [UInt8], dst: [UInt8] = signatureDST) -> G1Point {
        G1Point(hashToG1Projective(message, dst: dst))
    }

    /// The pairing e(P, Q) (cubed reduced optimal ate pairing; see `GTElement`).
    /// Variable time: meant for public inputs.
    public static func pairing(_ p: G1Point, _ q: G2Point) -> GTElement {
        GTElement(value: multiMillerLoop([(p.p.affineVartime, q.p.affineVartime)]).finalExponentiation())
    }

    /// Whether e(P1, Q1)·e(P2, Q2)·… = 1, with one multi-Miller loop and one final exponentiation.
    public static func pairingProductIsOne(_ pairs: [(G1Point, G2Point)]) -> Bool {
        multiMillerLoop(pairs.map { ($0.0.p.affineVartime, $0.1.p.affineVartime) }).finalExponentiation() == .one
    }

    /// The Miller-loop lines of -g2, the fixed second point of verification.
    static let negatedG2Prepared = G2Prepared((-G2Projective.generator).affineVartime)

    /// Verifies a signature; returns false for any invalid input (see `check` for the reason).
    ///
    /// - Parameters:
    ///   - signature: 48-byte compressed G1 point.
    ///   - message: the signed bytes (for certificates: `stateRootMessage(rootHash:)`).
    ///   - publicKey: 96-byte compressed G2 point (raw, without the DER prefix).
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        do {
            try check(signature: signature, message: message, publicKey: publicKey)
            return true
        } catch {
            return false
        }
    }

    /// Verifies a signature and throws the reason when it is not valid.
    public static func check(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) throws(BLSError) {
        let sig = try Signature(compressed: signature)
        let key = try PublicKey(compressed: publicKey)
        guard verify(signature: sig, message: message, publicKey: key) else { throw .signatureMismatch }
    }

    /// Verifies a decoded signature under a decoded key: e(σ, -g2)·e(H(m), pk) = 1.
    public static func verify(signature: Signature, message: [UInt8], publicKey: PublicKey) -> Bool {
        let h = hashToG1Projective(message, dst: signatureDST).affineVartime
        let f = multiMillerLoop(prepared: [(signature.point, negatedG2Prepared), (h, G2Prepared(publicKey.point))])
        return f.finalExponentiation() == .one
    }

    /// Verifies under a prepared key (its Miller-loop lines computed once), for keys used
    /// many times such as the IC root key or a subnet key.
    public static func verify(signature: Signature, message: [UInt8], preparedKey: PreparedPublicKey) -> Bool {
        let h = hashToG1Projective(message, dst: signatureDST).affineVartime
        let f = multiMillerLoop(prepared: [(signature.point, negatedG2Prepared), (h, preparedKey.lines)])
        return f.finalExponentiation() == .one
    }

    /// The public key sk·g2 of a secret key (constant-time scalar multiplication).
    public static func publicKey(for secretKey: SecretKey) -> PublicKey {
        PublicKey(uncheckedPoint: G2Projective.generator.multiplied(by: secretKey.scalar).affine)
    }

    /// Signs: σ = sk·H(m) (deterministic; constant time in the secret key).
    public static func sign(message: [UInt8], secretKey: SecretKey) -> Signature {
        let h = hashToG1Projective(message, dst: signatureDST)
        return Signature(uncheckedPoint: h.multiplied(by: secretKey.scalar).affine)
    }

    /// A BLS signature: a non-identity point of G1.
    public struct Signature: Equatable, Sendable {
        let point: G1Affine

        init(uncheckedPoint: G1Affine) { point = uncheckedPoint }

        /// Decodes a 48-byte compressed signature: valid encoding, on the curve, in G1, not the identity.
        public init(compressed bytes: [UInt8]) throws(BLSError) {
            let p = try G1Affine.decode(bytes)
            if p.isInfinity { throw .identitySignature }
            point = p
        }

        /// The 48-byte compressed encoding.
        public var compressed: [UInt8] { point.compressed }

        /// The signature as a group element.
        public var g1Point: G1Point { G1Point(G1Projective(point)) }
    }

    /// A BLS public key: a non-identity point of G2.
    public struct PublicKey: Equatable, Sendable {
        let point: G2Affine

        init(uncheckedPoint: G2Affine) { point = uncheckedPoint }

        /// Decodes a 96-byte compressed key: valid encoding, on the twist, in G2, not the identity.
        public init(compressed bytes: [UInt8]) throws(BLSError) {
            let p = try G2Affine.decode(bytes)
            if p.isInfinity { throw .identityPublicKey }
            point = p
        }

        /// Decodes a 133-byte DER key (37-byte prefix + 96-byte compressed point).
        public init(der: [UInt8]) throws(BLSError) {
            try self.init(compressed: BLS.rawPublicKey(fromDER: der))
        }

        /// The 96-byte compressed encoding.
        public var compressed: [UInt8] { point.compressed }

        /// The 133-byte DER encoding.
        public var der: [UInt8] { BLS.publicKeyDERPrefix + point.compressed }

        /// The key as a group element.
        public var g2Point: G2Point { G2Point(G2Projective(point)) }
    }

    /// A public key with its Miller-loop line coefficients precomputed (about 20 KB), so that
    /// repeated verifications skip decoding the key and the G2 side of the Miller loop.
    public struct PreparedPublicKey: Sendable {
        /// The key itself.
        public let publicKey: PublicKey
        let lines: G2Prepared

        /// Precomputes the lines of `publicKey`.
        public init(_ publicKey: PublicKey) {
            self.publicKey = publicKey
            lines = G2Prepared(publicKey.point)
        }
    }

    /// A secret key: a non-zero scalar modulo r.
    public struct SecretKey: Sendable {
        let scalar: Scalar

        /// Wraps a non-zero scalar.
        public init(scalar: Scalar) throws(BLSError) {
            if scalar.isZero { throw .invalidSecretKey }
            self.scalar = scalar
        }

        /// Parses the 32-byte big-endian encoding used by the IC reference; the value must be
        /// non-zero and less than r.
        public init(bytes: [UInt8]) throws(BLSError) {
            guard let s = Scalar(canonicalBytes: bytes) else { throw .invalidSecretKey }
            try self.init(scalar: s)
        }

        /// Derives a key from 32 (or more) uniformly random bytes, reduced modulo r.
        public init(randomBytes: [UInt8]) throws(BLSError) {
            guard randomBytes.count >= 32 else { throw .invalidSecretKey }
            try self.init(scalar: Scalar(reducing: randomBytes))
        }

        /// Derives a key from a seed of at least 32 bytes with the KeyGen of
        /// draft-irtf-cfrg-bls-signature-05 (HKDF-SHA-256, salt "BLS-SIG-KEYGEN-SALT-", L = 48),
        /// the same derivation as blst's `keygen`.
        public init(seed: [UInt8], keyInfo: [UInt8] = []) throws(BLSError) {
            guard seed.count >= 32 else { throw .invalidSecretKey }
            var salt = Array("BLS-SIG-KEYGEN-SALT-".utf8)
            while true {
                salt = SHA256.hash(salt)
                let prk = HMACSHA256.authenticationCode(for: seed + [0], key: salt)
                let info = keyInfo + [0, 48]
                let t1 = HMACSHA256.authenticationCode(for: info + [1], key: prk)
                let t2 = HMACSHA256.authenticationCode(for: t1 + info + [2], key: prk)
                let okm = Array((t1 + t2).prefix(48))
                let s = Scalar(reducing: okm)
                if !s.isZero {
                    scalar = s
                    return
                }
            }
        }

        /// The 32-byte big-endian encoding.
        public var bytes: [UInt8] { scalar.bytes }
    }
}
