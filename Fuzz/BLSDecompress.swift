// fuzz-modules: ICCore BLS12381
// libFuzzer target for the BLS12-381 point decoders (and verification on decodable input).
// Built by `scripts/fuzz.sh run <seconds> BLSDecompress` as one module with the sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // Raw decoders on the whole input (exercises the length checks).
    let g1 = try? G1Point(compressed: bytes)
    let g2 = try? G2Point(compressed: bytes)

    // Fixed-size windows, with the compression flag forced on half of the time so that the
    // field/curve/subgroup paths are reached rather than stopping at the flag check.
    if size >= 48 {
        var window = Array(bytes[0..<48])
        if window[47] & 1 == 1 { window[0] |= 0x80 }
        if let p = try? G1Point(compressed: window) {
            // Round trip: a decoded point re-encodes to the same bytes (canonical input).
            precondition(p.compressed == window || window[0] & 0x40 != 0, "G1 round trip")
        }
    }
    if size >= 96 {
        var window = Array(bytes[0..<96])
        if window[95] & 1 == 1 { window[0] |= 0x80 }
        if let q = try? G2Point(compressed: window) {
            precondition(q.compressed == window || window[0] & 0x40 != 0, "G2 round trip")
        }
    }
    // Full verification when both a signature and a key decode: 48 + 96 bytes + message.
    if size >= 144 {
        let sig = Array(bytes[0..<48]), key = Array(bytes[48..<144]), msg = Array(bytes[144...])
        if (try? BLS.Signature(compressed: sig)) != nil, (try? BLS.PublicKey(compressed: key)) != nil {
            _ = BLS.verify(signature: sig, message: msg, publicKey: key)
        }
    }
    _ = (g1, g2)
    return 0
}
