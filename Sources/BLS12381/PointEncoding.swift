// ZCash compressed point encoding (the format of the IC, blst, zkcrypto…):
// big-endian x with three flag bits in the top of the first byte:
// 0x80 compressed (must be set), 0x40 point at infinity, 0x20 y is the larger root.
// For G2, x = x.c1 ‖ x.c0 (imaginary part first).

private let compressionFlag: UInt8 = 0x80
private let infinityFlag: UInt8 = 0x40
private let signFlag: UInt8 = 0x20

/// Validates the flag bits and, for the point at infinity, the zero payload.
/// Returns nil for infinity, or the sign bit otherwise.
private func checkFlags(_ bytes: [UInt8], _ group: BLSGroup) throws(BLSError) -> Bool? {
    let size = group.compressedSize
    if bytes.count != size {
        if bytes.count == 2 * size { throw .uncompressedEncoding(group) }
        throw .wrongLength(group, actual: bytes.count)
    }
    let first = bytes[0]
    if first & compressionFlag == 0 { throw .compressionFlagNotSet(group) }
    if first & infinityFlag != 0 {
        var rest = first & ~(compressionFlag | infinityFlag)
        for i in 1..<size { rest |= bytes[i] }
        if rest != 0 { throw .invalidInfinityEncoding(group) }
        return nil
    }
    return first & signFlag != 0
}

/// Reads a 48-byte big-endian coordinate, with the flag bits cleared if `clearFlags`.
private func readCoordinate(
    _ bytes: [UInt8], at offset: Int, clearFlags: Bool,
    _ group: BLSGroup
) throws(BLSError) -> Fp {
    var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    let value: Fp? = withUnsafeMutableBytes(of: &buffer) { raw in
        for i in 0..<48 { raw[i] = bytes[offset + i] }
        if clearFlags { raw[0] &= 0x1f }
        return Fp.fromBytes(UnsafeRawBufferPointer(raw))
    }
    guard let value else { throw .coordinateNotReduced(group) }
    return value
}

extension G1Affine {
    /// Decodes a 48-byte compressed point: flags, x < p, on the curve. Does not check the subgroup.
    static func decodeUnchecked(_ bytes: [UInt8]) throws(BLSError) -> G1Affine {
        guard let larger = try checkFlags(bytes, .g1) else { return .infinity }
        let x = try readCoordinate(bytes, at: 0, clearFlags: true, .g1)
        guard var y = (x.squared * x + G1Projective.b).squareRoot else { throw .notOnCurve(.g1) }
        if y.isLexicographicallyLargest != larger { y = -y }
        return G1Affine(x: x, y: y, isInfinity: false)
    }

    /// Decodes and checks membership in G1.
    static func decode(_ bytes: [UInt8]) throws(BLSError) -> G1Affine {
        let p = try decodeUnchecked(bytes)
        if !p.isInfinity && !G1Projective(p).isInSubgroup { throw .notInSubgroup(.g1) }
        return p
    }

    /// The 48-byte compressed encoding.
    var compressed: [UInt8] {
        var out = [UInt8](repeating: 0, count: 48)
        if isInfinity {
            out[0] = compressionFlag | infinityFlag
            return out
        }
        x.write(to: &out, at: 0)
        out[0] |= compressionFlag
        if y.isLexicographicallyLargest { out[0] |= signFlag }
        return out
    }
}

extension G2Affine {
    /// Decodes a 96-byte compressed point: flags, both halves of x < p, on the twist.
    /// Does not check the subgroup.
    static func decodeUnchecked(_ bytes: [UInt8]) throws(BLSError) -> G2Affine {
        guard let larger = try checkFlags(bytes, .g2) else { return .infinity }
        let x1 = try readCoordinate(bytes, at: 0, clearFlags: true, .g2)
        let x0 = try readCoordinate(bytes, at: 48, clearFlags: false, .g2)
        let x = Fp2(x0, x1)
        guard var y = (x.squared * x + G2Projective.b).squareRoot else { throw .notOnCurve(.g2) }
        if y.isLexicographicallyLargest != larger { y = -y }
        return G2Affine(x: x, y: y, isInfinity: false)
    }

    /// Decodes and checks membership in G2.
    static func decode(_ bytes: [UInt8]) throws(BLSError) -> G2Affine {
        let p = try decodeUnchecked(bytes)
        if !p.isInfinity && !G2Projective(p).isInSubgroup { throw .notInSubgroup(.g2) }
        return p
    }

    /// The 96-byte compressed encoding.
    var compressed: [UInt8] {
        var out = [UInt8](repeating: 0, count: 96)
        if isInfinity {
            out[0] = compressionFlag | infinityFlag
            return out
        }
        x.c1.write(to: &out, at: 0)
        x.c0.write(to: &out, at: 48)
        out[0] |= compressionFlag
        if y.isLexicographicallyLargest { out[0] |= signFlag }
        return out
    }
}
