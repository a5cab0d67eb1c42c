/// RFC 4648 base32 without padding, lower case (the principal text alphabet `a-z2-7`).
public enum Base32 {
    private static let alphabet: [UInt8] = UTF8Text("abcdefghijklmnopqrstuvwxyz234567").utf8

    /// Encodes bytes as lower-case base32 without padding.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 0x1f)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1f)])
        }
        return out
    }

    /// Decodes base32 characters (either case, no padding). Returns `nil` at the first
    /// character outside the alphabet, with its index in `invalidIndex`.
    public static func decode(_ characters: [UInt8], invalidIndex: inout Int) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(characters.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for (index, character) in characters.enumerated() {
            let value: UInt32
            switch character {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a"))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = UInt32(character - UInt8(ascii: "2")) + 26
            default:
                invalidIndex = index
                return nil
            }
            buffer = (buffer << 5 | value) & 0xffff
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
