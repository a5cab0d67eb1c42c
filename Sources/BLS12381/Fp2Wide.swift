// Unreduced Fp2 products for lazy reduction in sparse Fp6 products (the Miller loop's line
// multiplications): sums of products are reduced once instead of once per product.
//
// Invariant: each component is a non-negative 768-bit integer below a small multiple of p²
// (stated per operation); the Montgomery reduction accepts values below p·2^384 ≈ 9.84·p².

extension FpWide {
    /// p²
    @inline(__always) static var pSquared: FpWide {
        FpWide(
            0x26aa00001c718e39, 0x7ced6b1d76382eab, 0x162c338362113cfd, 0x66bf91ed3e71b743,
            0x292e85a87091a049, 0x1d68619c86185c7b, 0xf53149330978ef01, 0x50a62cfd16ddca6e,
            0x66e59e49349e8bd0, 0xe2dc90e50e7046b4, 0x4bd278eaa22f25e9, 0x02a437a4b8c35fc7)
    }
    /// 2p²
    @inline(__always) static var twoPSquared: FpWide {
        FpWide(
            0x4d54000038e31c72, 0xf9dad63aec705d56, 0x2c586706c42279fa, 0xcd7f23da7ce36e86,
            0x525d0b50e1234092, 0x3ad0c3390c30b8f6, 0xea62926612f1de02, 0xa14c59fa2dbb94dd,
            0xcdcb3c92693d17a0, 0xc5b921ca1ce08d68, 0x97a4f1d5445e4bd3, 0x05486f497186bf8e)
    }
    /// 4p²
    @inline(__always) static var fourPSquared: FpWide {
        FpWide(
            0x9aa8000071c638e4, 0xf3b5ac75d8e0baac, 0x58b0ce0d8844f3f5, 0x9afe47b4f9c6dd0c,
            0xa4ba16a1c2468125, 0x75a18672186171ec, 0xd4c524cc25e3bc04, 0x4298b3f45b7729bb,
            0x9b967924d27a2f41, 0x8b72439439c11ad1, 0x2f49e3aa88bc97a7, 0x0a90de92e30d7f1d)
    }
}

/// An unreduced element of Fp2.
struct Fp2Wide {
    var c0: FpWide
    var c1: FpWide

    /// a·b for reduced a, b (< p): components in [0, 2p²).
    @inline(__always)
    static func product(_ a: Fp2, _ b: Fp2) -> Fp2Wide {
        let v0 = Fp.mulWide(a.c0, b.c0)
        let v1 = Fp.mulWide(a.c1, b.c1)
        let s = Fp.mulWide(Fp.addNoReduce(a.c0, a.c1), Fp.addNoReduce(b.c0, b.c1))
        return Fp2Wide(c0: (v0 + FpWide.pSquared) - v1, c1: s - v0 - v1)
    }

    /// Sum (bounds add).
    @inline(__always)
    static func + (a: Fp2Wide, b: Fp2Wide) -> Fp2Wide {
        Fp2Wide(c0: a.c0 + b.c0, c1: a.c1 + b.c1)
    }

    /// ξ·a for components in [0, 2p²): result components in [0, 4p²).
    @inline(__always)
    var mulByXi: Fp2Wide {
        Fp2Wide(c0: (c0 + FpWide.twoPSquared) - c1, c1: c0 + c1)
    }

    /// Montgomery reduction of both components (each must be below p·2^384).
    @inline(__always)
    var reduced: Fp2 { Fp2(Fp.reduce(c0), Fp.reduce(c1)) }
}

extension Fp6 {
    /// Product with the sparse element b0 + b1·v (all inputs reduced), with one reduction
    /// per output coefficient:
    ///   t0 = ξ·(c2·b1) + c0·b0                      < 4p² + 2p²
    ///   t1 = (c0 + c1)(b0 + b1) + 4p² − c0·b0 − c1·b1 < 6p²
    ///   t2 = c2·b0 + c1·b1                          < 4p²
    @inline(__always)
    func mulBy01Lazy(_ b0: Fp2, _ b1: Fp2) -> Fp6 {
        let aa = Fp2Wide.product(c0, b0)
        let bb = Fp2Wide.product(c1, b1)
        let t0 = Fp2Wide.product(c2, b1).mulByXi + aa
        let x = Fp2Wide.product(c0 + c1, b0 + b1)
        let t1 = Fp2Wide(
            c0: (x.c0 + FpWide.fourPSquared) - aa.c0 - bb.c0,
            c1: (x.c1 + FpWide.fourPSquared) - aa.c1 - bb.c1)
        let t2 = Fp2Wide.product(c2, b0) + bb
        return Fp6(t0.reduced, t1.reduced, t2.reduced)
    }
}
