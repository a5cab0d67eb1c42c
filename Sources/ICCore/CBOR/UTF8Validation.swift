/// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
/// U+10FFFF, no truncated sequences. Works on raw bytes so it needs no Unicode tables.
enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let b0 = bytes[index]
            if b0 < 0x80 {
                index += 1
                continue
            }
            // Sequence length and the allowed range of the second byte (Table 3-7 of Unicode).
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xbf
            switch b0 {
            case 0xc2...0xdf: length = 2
            case 0xe0: length = 3; low = 0xa0
            case 0xe1...0xec, 0xee...0xef: length = 3
            case 0xed: length = 3; high = 0x9f
            case 0xf0: length = 4; low = 0x90
            case 0xf1...0xf3: length = 4
            case 0xf4: length = 4; high = 0x8f
            default: return false
            }
            guard count - index >= length else { return false }
            let b1 = bytes[index + 1]
            guard b1 >= low, b1 <= high else { return false }
            var next = index + 2
            while next < index + length {
                guard bytes[next] & 0xc0 == 0x80 else { return false }
                next += 1
            }
            index += length
        }
        return true
    }
}
