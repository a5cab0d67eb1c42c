import BLS12381
import ICCore

/// Suite `bls`: the operations of IC certificate verification and signing.
enum BLSBenchmarks {
    // Mainnet root key signing a delegation certificate state root (bls_signatures.json, vb_valid_root_key).
    static let publicKey = hex(
        "814c0e6ec71fab583b08bd81373c255c3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
    )
    static let signature = hex("ace9fcdd9bc977e05d6328f889dc4e7c99114c737a494653cb27a1f55c06f4555e0f160980af5ead098acc195010b2f7")
    static let message = hex("0d69632d73746174652d726f6f74e6c01e909b4923345ce5970962bcfe3004bfd8474a21dae28f50692502f46d90")

    static func hex(_ s: String) -> [UInt8] {
        do { return try Hex.decode(s) } catch { fatalError("bad hex in benchmark constant") }
    }

    static func run(_ harness: BenchmarkHarness) {
        guard BLS.verify(signature: signature, message: message, publicKey: publicKey) else {
            fatalError("benchmark vector does not verify")
        }
        harness.measure("bls.verify_ic") {
            BLS.verify(signature: signature, message: message, publicKey: publicKey)
        }
        let p = (try? G1Point(compressed: signature)) ?? .generator
        let q = (try? G2Point(compressed: publicKey)) ?? .generator
        harness.measure("bls.pairing") { BLS.pairing(p, q) }
        harness.measure("bls.hash_to_g1") { BLS.hashToG1(message: message) }
        harness.measure("bls.g1_decompress") { try? G1Point(compressed: signature) }
        harness.measure("bls.g2_decompress") { try? G2Point(compressed: publicKey) }
        let k = Scalar(reducing: Array(message.prefix(48)))
        harness.measure("bls.g1_scalar_mul") { p * k }
        let sk = (try? BLS.SecretKey(randomBytes: Array(message.suffix(32))))!
        harness.measure("bls.sign") { BLS.sign(message: message, secretKey: sk) }
    }
}
