/// Lower-case hexadecimal encoding of bytes, as used in IC tooling and test vectors.
public enum Hex {
    /// An error parsing hexadecimal text.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The text has an odd number of digits.
        case oddLength(Int)
        /// A byte at `offset` (in UTF-8) is not a hexadecimal digit.
        case invalidDigit(offset: Int)

        public var description: String {
            switch self {
            case .oddLength(let n): return "hex text has an odd number of digits (\(n))"
            case .invalidDigit(let offset): return "invalid hex digit at offset \(offset)"
            }
        }
    }

    private static let digits: [UInt8] = UTF8Text("0123456789abcdef").utf8

    /// Encodes bytes as lower-case hex without separators.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case; an optional `0x` prefix is accepted).
    public static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        var utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X") {
            utf8.removeFirst(2)
        }
        guard utf8.count % 2 == 0 else { throw .oddLength(utf8.count) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(of: utf8[index]) else { throw .invalidDigit(offset: index) }
            guard let low = value(of: utf8[index + 1]) else { throw .invalidDigit(offset: index + 1) }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    @inline(__always)
    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
