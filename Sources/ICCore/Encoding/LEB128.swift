/// LEB128 (unsigned) and SLEB128 (signed) variable-length integers, as used by Candid
/// and by request-id hashing of `nat`/`int` values.
///
/// Encoders always produce the shortest form. Decoders accept overlong encodings
/// (`80 00` is 0), as the Candid spec requires, but bound how many bytes they read.
public enum LEB128 {
    /// An error decoding a LEB128 number.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The input ended inside a number that started at `offset`.
        case truncated(offset: Int)
        /// The number starting at `offset` does not fit the requested width.
        case overflow(offset: Int, bits: Int)
        /// The number starting at `offset` is longer than the decoder's byte limit.
        case tooLong(offset: Int, limit: Int)

        public var description: String {
            switch self {
            case .truncated(let offset): return "LEB128 number at offset \(offset) is truncated"
            case .overflow(let offset, let bits): return "LEB128 number at offset \(offset) does not fit in \(bits) bits"
            case .tooLong(let offset, let limit): return "LEB128 number at offset \(offset) is longer than \(limit) bytes"
            }
        }
    }

    // MARK: Encoding

    /// Appends the unsigned LEB128 encoding of `value`.
    @inlinable
    public static func encode(_ value: UInt64, into out: inout [UInt8]) {
        var value = value
        while true {
            let byte = UInt8(truncatingIfNeeded: value & 0x7f)
            value >>= 7
            if value == 0 {
                out.append(byte)
                return
            }
            out.append(byte | 0x80)
        }
    }

    /// The unsigned LEB128 encoding of `value`.
    @inlinable
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out = [UInt8]()
        encode(value, into: &out)
        return out
    }

    /// Appends the signed LEB128 encoding of `value`.
    @inlinable
    public static func encodeSigned(_ value: Int64, into out: inout [UInt8]) {
        var value = value
        while true {
            let byte = UInt8(truncatingIfNeeded: value & 0x7f)
            value >>= 7  // arithmetic shift
            let signBitClear = byte & 0x40 == 0
            if (value == 0 && signBitClear) || (value == -1 && !signBitClear) {
                out.append(byte)
                return
            }
            out.append(byte | 0x80)
        }
    }

    /// The signed LEB128 encoding of `value`.
    @inlinable
    public static func encodeSigned(_ value: Int64) -> [UInt8] {
        var out = [UInt8]()
        encodeSigned(value, into: &out)
        return out
    }

    /// Appends the unsigned LEB128 encoding of an arbitrary-precision natural.
    public static func encode(_ value: BigNat, into out: inout [UInt8]) {
        if let small = value.uint64Value {
            encode(small, into: &out)
            return
        }
        var value = value
        while true {
            let byte = UInt8(truncatingIfNeeded: value.divideInPlace(by: 128))
            if value.isZero {
                out.append(byte)
                return
            }
            out.append(byte | 0x80)
        }
    }

    /// Appends the signed LEB128 encoding of an arbitrary-precision integer.
    public static func encodeSigned(_ value: BigInt, into out: inout [UInt8]) {
        if let small = value.int64Value {
            encodeSigned(small, into: &out)
            return
        }
        // Work on the magnitude m, tracking n = ±m with floor division by 128:
        // for n = -m, n mod 128 = (128 - m mod 128) mod 128 and floor(n/128) = -ceil(m/128).
        var magnitude = value.magnitude
        var negative = value.isNegative
        while true {
            var byte: UInt8
            if negative {
                let remainder = magnitude.divideInPlace(by: 128)
                if remainder == 0 {
                    byte = 0
                } else {
                    byte = UInt8(128 - remainder)
                    magnitude = magnitude + BigNat(1)
                }
                if magnitude.isZero { negative = false }
            } else {
                byte = UInt8(truncatingIfNeeded: magnitude.divideInPlace(by: 128))
            }
            // Remaining n is 0 (non-negative, zero magnitude) or -1 (negative, magnitude 1).
            let done =
                (!negative && magnitude.isZero && byte & 0x40 == 0)
                || (negative && magnitude == BigNat(1) && byte & 0x40 != 0)
            if done {
                out.append(byte)
                return
            }
            out.append(byte | 0x80)
        }
    }

    // MARK: Decoding

    /// Decodes an unsigned number of at most 64 bits starting at `offset`, advancing it.
    @inlinable
    public static func decodeUInt64(
        _ bytes: UnsafeRawBufferPointer, offset: inout Int
    ) throws(DecodingError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .truncated(offset: start) }
            let byte = bytes[offset]
            offset += 1
            let payload = UInt64(byte & 0x7f)
            if shift >= 64 {
                // Overlong zero padding is allowed; any set bit overflows.
                guard payload == 0 else { throw .overflow(offset: start, bits: 64) }
            } else {
                if shift == 63 && payload > 1 { throw .overflow(offset: start, bits: 64) }
                result |= payload << shift
            }
            if byte & 0x80 == 0 { return result }
            shift += 7
            if offset - start > 64 { throw .tooLong(offset: start, limit: 64) }
        }
    }

    /// Decodes an unsigned number of at most 64 bits from an array.
    @inlinable
    public static func decodeUInt64(_ bytes: [UInt8], offset: inout Int) throws(DecodingError) -> UInt64 {
        // Array.withUnsafeBytes is `rethrows` (untyped), so carry the typed error out in a Result.
        var result: Result<UInt64, DecodingError> = .failure(.truncated(offset: offset))
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(DecodingError) in try decodeUInt64(raw, offset: &offset) }
        }
        return try result.get()
    }

    /// Decodes a signed number of at most 64 bits starting at `offset`, advancing it.
    @inlinable
    public static func decodeInt64(
        _ bytes: UnsafeRawBufferPointer, offset: inout Int
    ) throws(DecodingError) -> Int64 {
        let start = offset
        var result: Int64 = 0
        var shift: Int64 = 0
        var byte: UInt8 = 0
        while true {
            guard offset < bytes.count else { throw .truncated(offset: start) }
            byte = bytes[offset]
            offset += 1
            let payload = Int64(byte & 0x7f)
            if shift < 63 {
                result |= payload << shift
            } else if shift == 63 {
                // Only the sign can remain: payload must be all zeros or all ones in its bits.
                guard payload == 0 || payload == 0x7f else { throw .overflow(offset: start, bits: 64) }
                if payload == 0x7f { result |= Int64.min }
            } else {
                let expected: Int64 = result < 0 ? 0x7f : 0
                guard payload == expected else { throw .overflow(offset: start, bits: 64) }
            }
            shift += 7
            if byte & 0x80 == 0 { break }
            if offset - start > 64 { throw .tooLong(offset: start, limit: 64) }
        }
        if shift < 64 && byte & 0x40 != 0 {
            result |= -1 << shift
        }
        return result
    }

    /// Decodes an unsigned number of any size (at most `maxBytes` long) starting at `offset`.
    public static func decodeBigNat(
        _ bytes: UnsafeRawBufferPointer, offset: inout Int, maxBytes: Int = 1 << 16
    ) throws(DecodingError) -> BigNat {
        let start = offset
        var result = BigNat.zero
        var bitOffset = 0
        while true {
            guard offset < bytes.count else { throw .truncated(offset: start) }
            guard offset - start < maxBytes else { throw .tooLong(offset: start, limit: maxBytes) }
            let byte = bytes[offset]
            offset += 1
            let payload = UInt64(byte & 0x7f)
            if payload != 0 { result.orBits(payload, width: 7, at: bitOffset) }
            bitOffset += 7
            if byte & 0x80 == 0 {
                result.normalize()
                return result
            }
        }
    }

    /// Decodes a signed number of any size (at most `maxBytes` long) starting at `offset`.
    public static func decodeBigInt(
        _ bytes: UnsafeRawBufferPointer, offset: inout Int, maxBytes: Int = 1 << 16
    ) throws(DecodingError) -> BigInt {
        let start = offset
        let raw = try decodeBigNat(bytes, offset: &offset, maxBytes: maxBytes)
        let length = offset - start
        let signBit = bytes[offset - 1] & 0x40 != 0
        guard signBit else { return BigInt(raw) }
        // Two's complement: value = raw - 2^(7·length).
        var power = BigNat.zero
        power.orBits(1, width: 1, at: 7 * length)
        power.normalize()
        let magnitude = BigNat.subtracting(power, raw)!
        return BigInt(isNegative: true, magnitude: magnitude)
    }
}
