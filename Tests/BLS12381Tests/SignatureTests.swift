import ICTestSupport
import Testing

@testable import BLS12381

@Suite("BLS signatures (self-standing)")
struct SignatureTests {
    @Test("sign → verify round trips; wrong key, tampered message and signature fail")
    func roundTrip() throws {
        var rng = TestRNG(seed: 31)
        let sk1 = try BLS.SecretKey(randomBytes: rng.bytes(32))
        let sk2 = try BLS.SecretKey(seed: rng.bytes(32))
        let pk1 = BLS.publicKey(for: sk1), pk2 = BLS.publicKey(for: sk2)
        let message = BLS.stateRootMessage(rootHash: rng.bytes(32))
        let sig = BLS.sign(message: message, secretKey: sk1)
        #expect(BLS.verify(signature: sig.compressed, message: message, publicKey: pk1.compressed))
        #expect(!BLS.verify(signature: sig.compressed, message: message, publicKey: pk2.compressed))
        var tampered = message; tampered[20] ^= 1
        #expect(throws: BLSError.signatureMismatch) {
            try BLS.check(signature: sig.compressed, message: tampered, publicKey: pk1.compressed)
        }
        #expect(!BLS.verify(signature: sig.compressed, message: message + [0], publicKey: pk1.compressed))
        let sig2 = BLS.sign(message: message, secretKey: sk2)
        #expect(BLS.verify(signature: sig2, message: message, publicKey: pk2))
        #expect(!BLS.verify(signature: sig2, message: message, publicKey: pk1))
        // Prepared keys give the same answers.
        let prepared = BLS.PreparedPublicKey(pk1)
        #expect(BLS.verify(signature: sig, message: message, preparedKey: prepared))
        #expect(!BLS.verify(signature: sig2, message: message, preparedKey: prepared))
        // Deterministic signatures.
        #expect(BLS.sign(message: message, secretKey: sk1) == sig)
    }

    @Test("identity signature and key are rejected explicitly")
    func identities() throws {
        let inf1 = [0xc0] + [UInt8](repeating: 0, count: 47)
        let inf2 = [0xc0] + [UInt8](repeating: 0, count: 95)
        #expect(throws: BLSError.identitySignature) { try BLS.Signature(compressed: inf1) }
        #expect(throws: BLSError.identityPublicKey) { try BLS.PublicKey(compressed: inf2) }
        // The trivial forgery (identity key and signature) does not verify.
        #expect(!BLS.verify(signature: inf1, message: [1, 2, 3], publicKey: inf2))
    }

    @Test("secret keys: encoding, range checks, derivations")
    func secretKeys() throws {
        #expect(throws: BLSError.invalidSecretKey) { try BLS.SecretKey(bytes: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: BLSError.invalidSecretKey) { try BLS.SecretKey(bytes: rBytes) }
        #expect(throws: BLSError.invalidSecretKey) { try BLS.SecretKey(bytes: [1]) }
        #expect(throws: BLSError.invalidSecretKey) { try BLS.SecretKey(seed: [1, 2, 3]) }
        let one = try BLS.SecretKey(bytes: [UInt8](repeating: 0, count: 31) + [1])
        #expect(BLS.publicKey(for: one).g2Point == .generator)
        // randomBytes reduces mod r: r + 1 ≡ 1.
        var rPlus1 = rBytes; rPlus1[31] += 1
        #expect(try BLS.SecretKey(randomBytes: rPlus1).bytes == one.bytes)
        // KeyGen of draft-irtf-cfrg-bls-signature-05; expected values computed with a direct
        // transcription of the draft using Python's hashlib/hmac.
        #expect(
            try hexString(BLS.SecretKey(seed: (0..<32).map { UInt8($0) }).bytes)
                == "23360db7e337b0a32b264e06bc11c1b474d16f55665373de1ce93cf15ddb3456")
        #expect(
            try hexString(BLS.SecretKey(seed: [UInt8](repeating: 7, count: 32), keyInfo: Array("icws".utf8)).bytes)
                == "58ad6868becf9aed21414b675fc6f90052f22ca67914a1f9cbe91ff13026d241")
    }

    @Test("DER wrapping of public keys and IC constants")
    func der() throws {
        let mainnetDER = bytes(
            hex:
                "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100814c0e6ec71fab583b08bd81373c255c3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
        )
        let key = try BLS.PublicKey(der: mainnetDER)
        #expect(key.der == mainnetDER)
        #expect(try BLS.derEncode(publicKey: key.compressed) == mainnetDER)
        #expect(BLS.publicKeyDERPrefix.count == 37)
        var bad = mainnetDER; bad[5] ^= 1
        #expect(throws: BLSError.invalidDER) { try BLS.PublicKey(der: bad) }
        #expect(throws: BLSError.invalidDER) { try BLS.rawPublicKey(fromDER: Array(mainnetDER.dropLast())) }
        #expect(BLS.stateRootDomainSeparator == [0x0d] + Array("ic-state-root".utf8))
        #expect(String(decoding: BLS.signatureDST, as: UTF8.self) == "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")
    }
}
