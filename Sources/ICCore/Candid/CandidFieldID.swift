/// Candid field ids: record fields and variant tags are identified by 32-bit numbers;
/// a textual name stands for its hash (Candid spec, "Shorthand: Symbolic Field Ids").
public enum CandidFieldID {
    /// `idHash(name) = Σ utf8(name)[i] · 223^(k−i) mod 2^32`, folded as `h = h·223 + b`.
    @inlinable
    public static func hash(_ name: String) -> UInt32 {
        var h: UInt32 = 0
        for byte in name.utf8 { h = h &* 223 &+ UInt32(byte) }
        return h
    }

    /// The hash of a name given as UTF-8 bytes.
    @inlinable
    public static func hash<Bytes: Sequence>(utf8 bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var h: UInt32 = 0
        for byte in bytes { h = h &* 223 &+ UInt32(byte) }
        return h
    }
}

/// Shorthand for `CandidFieldID.hash(name)`.
@inlinable
public func idHash(_ name: String) -> UInt32 { CandidFieldID.hash(name) }
