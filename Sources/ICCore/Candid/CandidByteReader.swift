/// Bounds-checked reading of the primitive pieces of a binary Candid message.
/// Every failure is a `CandidError` carrying the offset where the piece started.
struct CandidByteReader {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    @inline(__always)
    mutating func byte() throws(CandidError) -> UInt8 {
        guard offset < bytes.count else { throw CandidError(.truncated, offset: offset) }
        let b = bytes[offset]
        offset += 1
        return b
    }

    @inline(__always)
    mutating func skip(_ count: Int) throws(CandidError) {
        guard count >= 0, count <= remaining else { throw CandidError(.truncated, offset: offset) }
        offset += count
    }

    /// Unsigned LEB128 of at most 64 bits. Overlong encodings (trailing `80` groups) are fine.
    mutating func leb() throws(CandidError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw CandidError(.truncated, offset: start) }
            let b = bytes[offset]
            offset += 1
            let payload = UInt64(b & 0x7f)
            if shift < 64 {
                if shift == 63 && payload > 1 { throw CandidError(.numberTooLarge, offset: start) }
                result |= payload << shift
            } else if payload != 0 {
                throw CandidError(.numberTooLarge, offset: start)
            }
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A LEB128 count or length that must not exceed the bytes left after it (each counted
    /// item takes at least one byte): rejects huge counts before any work.
    mutating func count() throws(CandidError) -> Int {
        let start = offset
        let n = try leb()
        guard n <= UInt64(remaining) else { throw CandidError(.truncated, offset: start) }
        return Int(n)
    }

    /// Signed LEB128 of at most 64 bits.
    mutating func sleb() throws(CandidError) -> Int64 {
        let start = offset
        var result: Int64 = 0
        var shift: UInt64 = 0
        var b: UInt8 = 0
        while true {
            guard offset < bytes.count else { throw CandidError(.truncated, offset: start) }
            b = bytes[offset]
            offset += 1
            let payload = Int64(b & 0x7f)
            if shift < 63 {
                result |= payload << shift
            } else if shift == 63 {
                guard payload == 0 || payload == 0x7f else { throw CandidError(.numberTooLarge, offset: start) }
                if payload == 0x7f { result |= Int64.min }
            } else {
                let sign: Int64 = result < 0 ? 0x7f : 0
                guard payload == sign else { throw CandidError(.numberTooLarge, offset: start) }
            }
            shift += 7
            if b & 0x80 == 0 { break }
        }
        if shift < 64 && b & 0x40 != 0 { result |= -1 << shift }
        return result
    }

    /// The length of the LEB128 number at the current offset (without consuming it).
    func lebLength() throws(CandidError) -> Int {
        var i = offset
        while true {
            guard i < bytes.count else { throw CandidError(.truncated, offset: offset) }
            if bytes[i] & 0x80 == 0 { return i - offset + 1 }
            i += 1
        }
    }

    /// A `nat` of any size.
    mutating func nat() throws(CandidError) -> BigNat {
        let length = try lebLength()
        if length <= 9 {  // 63 bits: fits UInt64
            var result: UInt64 = 0
            for i in 0..<length { result |= UInt64(bytes[offset + i] & 0x7f) << UInt64(7 * i) }
            offset += length
            return BigNat(result)
        }
        return try big { (raw, offset) throws(LEB128.DecodingError) in
            try LEB128.decodeBigNat(raw, offset: &offset, maxBytes: Int.max)
        }
    }

    /// An `int` of any size.
    mutating func int() throws(CandidError) -> BigInt {
        let length = try lebLength()
        if length <= 9 {
            var result: Int64 = 0
            for i in 0..<length { result |= Int64(bytes[offset + i] & 0x7f) << Int64(7 * i) }
            if bytes[offset + length - 1] & 0x40 != 0 { result |= -1 << Int64(7 * length) }
            offset += length
            return BigInt(result)
        }
        return try big { (raw, offset) throws(LEB128.DecodingError) in
            try LEB128.decodeBigInt(raw, offset: &offset, maxBytes: Int.max)
        }
    }

    /// Skips a LEB128 number of any size.
    mutating func skipLEB() throws(CandidError) {
        offset += try lebLength()
    }

    private mutating func big<T>(
        _ body: (UnsafeRawBufferPointer, inout Int) throws(LEB128.DecodingError) -> T
    ) throws(CandidError) -> T {
        // Array.withUnsafeBytes is untyped-rethrows: carry the result out in a Result.
        let start = offset
        var position = offset
        var result: Result<T, LEB128.DecodingError> = .failure(.truncated(offset: start))
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(LEB128.DecodingError) in try body(raw, &position) }
        }
        switch result {
        case .success(let value):
            offset = position
            return value
        case .failure:
            throw CandidError(.truncated, offset: start)
        }
    }

    @inline(__always)
    mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws(CandidError) -> T {
        let size = T.bitWidth / 8
        guard size <= remaining else { throw CandidError(.truncated, offset: offset) }
        var result: T = 0
        for i in 0..<size { result |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
        offset += size
        return result
    }

    /// `leb128(len) · utf8`, validated.
    mutating func text() throws(CandidError) -> String {
        String(decoding: try textUTF8(), as: UTF8.self)
    }

    /// Text as its validated UTF-8 bytes.
    mutating func textUTF8() throws(CandidError) -> [UInt8] {
        let start = offset
        let length = try count()
        guard CandidUTF8.isValid(bytes, offset..<offset + length) else { throw CandidError(.invalidUTF8, offset: start) }
        let utf8 = Array(bytes[offset..<offset + length])
        offset += length
        return utf8
    }

    /// Validates and skips text.
    mutating func skipText() throws(CandidError) {
        let start = offset
        let length = try count()
        guard CandidUTF8.isValid(bytes, offset..<offset + length) else { throw CandidError(.invalidUTF8, offset: start) }
        offset += length
    }

    /// `01 · leb128(len) · bytes` (a principal or service reference).
    mutating func principal() throws(CandidError) -> Principal {
        let length = try principalLength()
        let principal = Principal(uncheckedBytes: Array(bytes[offset..<offset + length]))
        offset += length
        return principal
    }

    mutating func skipPrincipal() throws(CandidError) {
        offset += try principalLength()
    }

    /// Reads a reference's tag and length, leaving `offset` at its bytes (`count()` has checked
    /// that they are all there).
    private mutating func principalLength() throws(CandidError) -> Int {
        let start = offset
        let tag = try byte()
        guard tag == 1 else { throw CandidError(.invalidReferenceTag(tag), offset: start) }
        let lengthOffset = offset
        let length = try count()
        guard length <= Principal.maxByteCount else {
            throw CandidError(.principalTooLong(length), offset: lengthOffset)
        }
        return length
    }
}

/// Strict UTF-8 validation of a byte range (the same rules as CBOR text: ``UTF8Validation``).
enum CandidUTF8 {
    static func isValid(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        bytes.withUnsafeBytes { UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
