import ICTestSupport
import Testing

@testable import BLS12381

struct SignatureFile: Decodable {
    struct Vector: Decodable {
        let id: String
        let public_key_hex: String
        let signature_hex: String
        let message_hex: String
        let dst: String
        let expected_valid: Bool
        let secret_key_hex: String?
    }
    let vectors: [Vector]
}

struct SignatureCase: Sendable, CustomTestStringConvertible {
    let id: String, publicKey: [UInt8], signature: [UInt8], message: [UInt8], dst: String
    let valid: Bool, secretKey: [UInt8]?
    var testDescription: String { id }
}

let signatureCases: [SignatureCase] = TestVectors.cases {
    try TestVectors.decode(SignatureFile.self, from: "bls/bls_signatures.json").vectors.map {
        SignatureCase(
            id: $0.id, publicKey: bytes(hex: $0.public_key_hex), signature: bytes(hex: $0.signature_hex),
            message: bytes(hex: $0.message_hex), dst: $0.dst, valid: $0.expected_valid,
            secretKey: $0.secret_key_hex.map { bytes(hex: $0) })
    }
}

/// The specific error each hard negative must produce (others just need to fail).
let expectedErrors: [String: BLSError] = [
    // The description says "no square root", but this x is on the curve (checked
    // independently): it is rejected by the subgroup check.
    "vb_sig_not_a_point": .notInSubgroup(.g1),
    "neg_signature_identity": .identitySignature,
    "neg_signature_compression_flag_cleared": .compressionFlagNotSet(.g1),
    "neg_signature_not_in_subgroup_x4": .notInSubgroup(.g1),
    "neg_pubkey_not_in_subgroup_1": .notInSubgroup(.g2),
    "neg_signature_truncated_47": .wrongLength(.g1, actual: 47),
    "neg_signature_infinity_flag_nonzero": .invalidInfinityEncoding(.g1),
    "neg_signature_negated": .signatureMismatch,
    "neg_message_extra_byte": .signatureMismatch,
    "agentjs_hallo": .signatureMismatch,
    "vb_swapped_1": .signatureMismatch,
]

@Suite("IC BLS signature vectors", .enabled(if: TestVectors.isAvailable))
struct SignatureVectorTests {
    @Test("verify agrees with expected_valid", arguments: signatureCases)
    func verify(_ c: SignatureCase) {
        #expect(Array(c.dst.utf8) == BLS.signatureDST)
        let ok = BLS.verify(signature: c.signature, message: c.message, publicKey: c.publicKey)
        #expect(ok == c.valid)
        do {
            try BLS.check(signature: c.signature, message: c.message, publicKey: c.publicKey)
            #expect(c.valid)
        } catch {
            #expect(!c.valid, "\(error)")
            if let expected = expectedErrors[c.id] { #expect(error == expected) }
        }
    }

    @Test("signing with the vector's secret key reproduces the signature", arguments: signatureCases.filter { $0.secretKey != nil })
    func sign(_ c: SignatureCase) throws {
        let sk = try BLS.SecretKey(bytes: c.secretKey!)
        #expect(sk.bytes == c.secretKey!)
        #expect(BLS.publicKey(for: sk).compressed == c.publicKey)
        #expect(BLS.sign(message: c.message, secretKey: sk).compressed == c.signature)
    }
}
