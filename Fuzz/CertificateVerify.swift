// fuzz-modules: ICCore BLS12381 Sources/ICCertification/Certificate Sources/ICCertification/Envelope/DomainSeparator.swift Sources/ICCertification/Envelope/Duration+Nanoseconds.swift Sources/ICCertification/Support
// Decodes arbitrary bytes as an IC certificate and runs the full verification against the
// mainnet root key with every scope. Nothing may crash; malformed input must throw.

let fuzzVerifier = CertificateVerifier(rootKey: .mainnet, freshness: .disabled, cacheCapacity: 64)
let fuzzCanister = Principal.canister(index: 0x20_0000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let certificate = try? Certificate(cborBytes: bytes) else { return 0 }
    _ = certificate.rootHash
    _ = certificate.time
    for scope in [CertificateScope.unscoped, .canister(fuzzCanister), .subnet(fuzzCanister)] {
        _ = try? fuzzVerifier.verify(bytes, for: scope)
    }
    if let delegation = certificate.delegation {
        _ = try? CanisterRanges.revealed(in: delegation.certificate.tree, for: delegation.subnetID)
    }
    return 0
}
