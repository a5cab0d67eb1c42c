// hash_to_curve for G1, RFC 9380 suite BLS12381G1_XMD:SHA-256_SSWU_RO_:
// expand_message_xmd (SHA-256) → two field elements → simplified SWU on the 11-isogenous
// curve E' → 11-isogeny to E → sum → clear the cofactor with h_eff = 0xd201000000010001.

#if !ICWS_SINGLE_MODULE
import ICCore
#endif

/// RFC 9380 section 5.3.1, expand_message_xmd with SHA-256.
///
/// DSTs longer than 255 bytes are replaced by SHA-256("H2C-OVERSIZE-DST-" ‖ DST) (section 5.3.3).
/// - Throws: `BLSError.invalidExpandLength` if `length` exceeds 255·32 bytes or 65535.
func expandMessageXMD(_ message: [UInt8], dst: [UInt8], length: Int) throws(BLSError) -> [UInt8] {
    let bInBytes = 32
    let ell = (length + bInBytes - 1) / bInBytes
    if ell > 255 || length > 65535 || length < 0 { throw .invalidExpandLength }
    var dstPrime: [UInt8]
    if dst.count > 255 {
        var h = SHA256()
        h.update(Array("H2C-OVERSIZE-DST-".utf8))
        h.update(dst)
        dstPrime = h.finalize()
    } else {
        dstPrime = dst
    }
    dstPrime.append(UInt8(dstPrime.count))

    var h0 = SHA256()
    h0.update([UInt8](repeating: 0, count: 64))  // Z_pad, the SHA-256 block size
    h0.update(message)
    h0.update([UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length), 0])
    h0.update(dstPrime)
    let b0 = h0.finalize()

    var output = [UInt8]()
    output.reserveCapacity(ell * bInBytes)
    var previous = [UInt8](repeating: 0, count: bInBytes)
    if ell == 0 { return [] }
    for i in 1...ell {
        var h = SHA256()
        var block = [UInt8](repeating: 0, count: bInBytes)
        for k in 0..<bInBytes { block[k] = b0[k] ^ previous[k] }  // b_1 uses b_0 ⊕ 0 = b_0
        h.update(block)
        h.update(byte: UInt8(i))
        h.update(dstPrime)
        previous = h.finalize()
        output.append(contentsOf: previous)
    }
    return Array(output.prefix(length))
}

/// RFC 9380 hash_to_field for Fp with count = 2, L = 64.
func hashToFieldFp(_ message: [UInt8], dst: [UInt8]) -> (Fp, Fp) {
    // 128 bytes can always be produced.
    let bytes = (try? expandMessageXMD(message, dst: dst, length: 128)) ?? []
    return bytes.withUnsafeBytes { raw in
        (
            reduce64(UnsafeRawBufferPointer(rebasing: raw[0..<64])),
            reduce64(UnsafeRawBufferPointer(rebasing: raw[64..<128]))
        )
    }
}

/// A 64-byte big-endian integer modulo p: hi·2^256 + lo with hi, lo < 2^256 < p.
private func reduce64(_ b: UnsafeRawBufferPointer) -> Fp {
    func word(_ offset: Int) -> UInt64 {
        var w: UInt64 = 0
        for k in 0..<8 { w = (w << 8) | UInt64(b[offset + k]) }
        return w
    }
    let hi = Fp.fromCanonical(word(24), word(16), word(8), word(0), 0, 0)
    let lo = Fp.fromCanonical(word(56), word(48), word(40), word(32), 0, 0)
    return hi * Fp.twoTo256 + lo
}

/// The 11-isogenous curve E': y² = x³ + A'x + B' and the isogeny to E.
enum Isogeny11 {
    @inline(__always) static var a: Fp {
        Fp(
            0x2f65aa0e9af5aa51, 0x86464c2d1e8416c3, 0xb85ce591b7bd31e2,
            0x27e11c91b5f24e7c, 0x28376eda6bfc1835, 0x155455c3e5071d85)
    }
    @inline(__always) static var b: Fp {
        Fp(
            0xfb996971fe22a1e0, 0x9aa93eb35b742d6f, 0x8c476013de99c5c4,
            0x873e27c3a221e571, 0xca72b5e45a52d888, 0x06824061418a386b)
    }
    /// Z = 11, the SSWU non-square.
    @inline(__always) static var z: Fp {
        Fp(
            0x886c00000023ffdc, 0x0f70008d3090001d, 0x77672417ed5828c3,
            0x9dac23e943dc1740, 0x50553f1b9c131521, 0x078c712fbe0ab6e8)
    }
    /// sqrt(-Z), used by sqrt_ratio.
    @inline(__always) static var sqrtMinusZ: Fp {
        Fp(
            0xf37b0ced8fb71e24, 0xf02dc8a4535a8779, 0x732ed835f7eb14ea,
            0x524ca41ecb2bce0d, 0x095e3801e90b5fc1, 0x0252ad055472a90e)
    }

    /// RFC 9380 appendix F.2.1.2, sqrt_ratio for q ≡ 3 (mod 4): (u/v is square, sqrt(u/v) or sqrt(Z·u/v)).
    static func sqrtRatio(_ u: Fp, _ v: Fp) -> (isSquare: Bool, root: Fp) {
        var tv1 = v.squared
        let tv2 = u * v
        tv1 = tv1 * tv2
        var y1 = tv1.powPMinus3Over4
        y1 = y1 * tv2
        let y2 = y1 * sqrtMinusZ
        let tv3 = y1.squared * v
        let isQR = tv3 == u
        return (isQR, Fp.select(y1, y2, isQR ? 1 : 0))
    }

    /// Simplified SWU (RFC 9380 appendix F.2, straight-line), returning x as a fraction
    /// xn/xd and y affine, on E'.
    static func sswu(_ u: Fp) -> (xn: Fp, xd: Fp, y: Fp) {
        var tv1 = u.squared
        tv1 = z * tv1
        var tv2 = tv1.squared
        tv2 = tv2 + tv1
        var tv3 = tv2 + .one
        tv3 = b * tv3
        var tv4 = Fp.select(z, -tv2, tv2.isZero ? 1 : 0)
        tv4 = a * tv4
        tv2 = tv3.squared
        var tv6 = tv4.squared
        var tv5 = a * tv6
        tv2 = tv2 + tv5
        tv2 = tv2 * tv3
        tv6 = tv6 * tv4
        tv5 = b * tv6
        tv2 = tv2 + tv5
        var x = tv1 * tv3
        let (isGx1Square, y1) = sqrtRatio(tv2, tv6)
        var y = tv1 * u
        y = y * y1
        x = Fp.select(tv3, x, isGx1Square ? 1 : 0)
        y = Fp.select(y1, y, isGx1Square ? 1 : 0)
        let e1 = u.sgn0 == y.sgn0
        y = Fp.select(y, -y, e1 ? 1 : 0)
        return (x, tv4, y)
    }

    /// The 11-isogeny E' → E applied to the projective point (X : Y : Z) of E', evaluated
    /// homogeneously (no inversion): x' = XN/(XD·Z), y' = Y·YN/(Z·YD) with XN, XD, YN, YD the
    /// map's polynomials homogenised in (X, Z).
    static func map(x: Fp, y: Fp, z: Fp) -> G1Projective {
        if z.isZero { return .identity }
        return withUnsafeTemporaryAllocation(of: Fp.self, capacity: 16) { zPow -> G1Projective in
            // zPow[k] = Z^k, k = 0…15.
            zPow[0] = .one
            for k in 1..<16 { zPow[k] = zPow[k - 1] * z }
            // Σ c_i X^i Z^(deg-i), with c_deg the last coefficient (or an implicit 1).
            func evaluate(_ c: [Fp], degree: Int, monic: Bool) -> Fp {
                c.withUnsafeBufferPointer { c in
                    var acc = monic ? Fp.one : c[degree]
                    var i = degree - 1
                    while i >= 0 {
                        acc = acc * x + c[i] * zPow[degree - i]
                        i -= 1
                    }
                    return acc
                }
            }
            let xNum = evaluate(xNum, degree: 11, monic: false)
            let xDen = evaluate(xDen, degree: 10, monic: true)
            let yNum = evaluate(yNum, degree: 15, monic: false)
            let yDen = evaluate(yDen, degree: 15, monic: true)
            return G1Projective(x: xNum * yDen, y: y * yNum * xDen, z: xDen * z * yDen)
        }
    }

    /// Sum of two points of E' in homogeneous projective coordinates (variable time: the
    /// inputs come from hashing public messages). Handles doubling and P + (−P).
    static func add(_ p: (x: Fp, y: Fp, z: Fp), _ q: (x: Fp, y: Fp, z: Fp)) -> (x: Fp, y: Fp, z: Fp) {
        let y1z2 = p.y * q.z, x1z2 = p.x * q.z, z1z2 = p.z * q.z
        let u = q.y * p.z - y1z2
        let v = q.x * p.z - x1z2
        if v.isZero {
            if !u.isZero { return (.zero, .one, .zero) }  // P + (−P)
            // Doubling (dbl-2007-bl, general a).
            let xx = p.x.squared
            let w = a * p.z.squared + xx.times3()
            let sv = (p.y * p.z).doubled
            let ss = sv.squared
            let sss = sv * ss
            let r = p.y * sv
            let rr = r.squared
            let b = (p.x + r).squared - xx - rr
            let h = w.squared - b.doubled
            return (h * sv, w * (b - h) - rr.doubled, sss)
        }
        // add-1998-cmo-2.
        let uu = u.squared, vv = v.squared
        let vvv = v * vv
        let r = vv * x1z2
        let aa = uu * z1z2 - vvv - r.doubled
        return (v * aa, u * (r - aa) - vvv * y1z2, vvv * z1z2)
    }

    /// map_to_curve for G1: SSWU then the isogeny (not yet in G1: the cofactor is not cleared).
    static func mapToCurve(_ u: Fp) -> G1Projective {
        let (xn, xd, y) = sswu(u)
        return map(x: xn, y: y * xd, z: xd)
    }
}

/// hash_to_curve(msg) for G1 with the given domain separation tag (RFC 9380, random oracle).
///
/// The isogeny is a group homomorphism, so the two SSWU points are added on E' and mapped
/// once: iso(Q0') + iso(Q1') = iso(Q0' + Q1').
func hashToG1Projective(_ message: [UInt8], dst: [UInt8]) -> G1Projective {
    let (u0, u1) = hashToFieldFp(message, dst: dst)
    let (xn0, xd0, y0) = Isogeny11.sswu(u0)
    let (xn1, xd1, y1) = Isogeny11.sswu(u1)
    let sum = Isogeny11.add((xn0, y0 * xd0, xd0), (xn1, y1 * xd1, xd1))
    return Isogeny11.map(x: sum.x, y: sum.y, z: sum.z).clearedCofactor
}
