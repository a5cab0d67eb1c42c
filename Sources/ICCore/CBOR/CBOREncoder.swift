/// Writes CBOR (RFC 8949) deterministically.
///
/// Output rules: every head uses the shortest form; arrays, maps and strings have definite
/// lengths; floats are written as doubles (`fb` + 8 bytes); map entries are written in the
/// order given (or sorted bytewise by encoded key with `sortsMapKeys`, RFC 8949 §4.2.1).
/// The IC expects request bodies to start with the self-describe tag: use
/// `writeSelfDescribeTag()` or `encode(_:selfDescribe:)`.
///
/// ```swift
/// let body = CBOREncoder.encode(envelope, selfDescribe: true)   // d9 d9 f7 …
///
/// var encoder = CBOREncoder()        // streaming, without building a CBORValue
/// encoder.writeSelfDescribeTag()
/// encoder.writeMapHeader(count: 1)
/// encoder.writeText("certificate")
/// encoder.writeBytes(certificate)
/// let bytes = encoder.bytes
/// ```
public struct CBOREncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]
    /// Whether `encode` sorts map entries by their encoded keys (RFC 8949 core deterministic
    /// encoding) instead of keeping their order.
    public var sortsMapKeys: Bool

    /// Creates an encoder with an empty output.
    public init(sortsMapKeys: Bool = false) {
        self.bytes = []
        self.sortsMapKeys = sortsMapKeys
    }

    /// The encoding of `value`, optionally preceded by the self-describe tag `d9 d9 f7`.
    public static func encode(_ value: CBORValue, selfDescribe: Bool = false, sortsMapKeys: Bool = false) -> [UInt8] {
        var encoder = CBOREncoder(sortsMapKeys: sortsMapKeys)
        if selfDescribe { encoder.writeSelfDescribeTag() }
        encoder.encode(value)
        return encoder.bytes
    }

    /// Appends the encoding of `value`.
    public mutating func encode(_ value: CBORValue) {
        switch value {
        case .unsigned(let n): writeHead(majorType: 0, argument: n)
        case .negative(let n): writeHead(majorType: 1, argument: n)
        case .byteString(let b): writeBytes(b)
        case .textString(let s): writeText(s)
        case .array(let items):
            writeHead(majorType: 4, argument: UInt64(items.count))
            for item in items { encode(item) }
        case .map(let entries):
            writeHead(majorType: 5, argument: UInt64(entries.count))
            if sortsMapKeys && entries.count > 1 {
                writeSortedEntries(entries)
            } else {
                for entry in entries {
                    encode(entry.key)
                    encode(entry.value)
                }
            }
        case .tagged(let tag, let content):
            writeHead(majorType: 6, argument: tag)
            encode(content)
        case .bool(let b): bytes.append(b ? 0xf5 : 0xf4)
        case .null: bytes.append(0xf6)
        case .undefined: bytes.append(0xf7)
        case .simple(let n):
            if n < 24 {
                bytes.append(0xe0 | n)
            } else {
                bytes.append(0xf8)
                bytes.append(n)
            }
        case .float(let d): writeDouble(d)
        }
    }

    private mutating func writeSortedEntries(_ entries: [(key: CBORValue, value: CBORValue)]) {
        var encoded = [(key: [UInt8], index: Int)]()
        encoded.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            var keyEncoder = CBOREncoder(sortsMapKeys: true)
            keyEncoder.encode(entry.key)
            encoded.append((key: keyEncoder.bytes, index: index))
        }
        encoded.sort { $0.key.lexicographicallyPrecedes($1.key) }
        for item in encoded {
            bytes.append(contentsOf: item.key)
            encode(entries[item.index].value)
        }
    }

    /// Appends an initial byte with major type `majorType` (0–7) and `argument`, shortest form.
    public mutating func writeHead(majorType: UInt8, argument: UInt64) {
        let major = majorType << 5
        switch argument {
        case 0..<24:
            bytes.append(major | UInt8(argument))
        case 24...0xff:
            bytes.append(major | 24)
            bytes.append(UInt8(argument))
        case 0x100...0xffff:
            bytes.append(major | 25)
            appendBigEndian(argument, byteCount: 2)
        case 0x1_0000...0xffff_ffff:
            bytes.append(major | 26)
            appendBigEndian(argument, byteCount: 4)
        default:
            bytes.append(major | 27)
            appendBigEndian(argument, byteCount: 8)
        }
    }

    private mutating func appendBigEndian(_ value: UInt64, byteCount: Int) {
        var shift = (byteCount - 1) * 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }

    /// Appends the self-describe tag 55799 (`d9 d9 f7`).
    public mutating func writeSelfDescribeTag() {
        bytes.append(contentsOf: [0xd9, 0xd9, 0xf7])
    }

    /// Appends an unsigned integer.
    public mutating func writeUnsigned(_ value: UInt64) {
        writeHead(majorType: 0, argument: value)
    }

    /// Appends a byte string.
    public mutating func writeBytes(_ value: [UInt8]) {
        writeHead(majorType: 2, argument: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a text string.
    public mutating func writeText(_ value: String) {
        writeHead(majorType: 3, argument: UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// Appends the head of an array of `count` items; the items must follow.
    public mutating func writeArrayHeader(count: Int) {
        writeHead(majorType: 4, argument: UInt64(count))
    }

    /// Appends the head of a map of `count` entries; keys and values must follow, alternating.
    public mutating func writeMapHeader(count: Int) {
        writeHead(majorType: 5, argument: UInt64(count))
    }

    /// Appends a tag head; the tagged item must follow.
    public mutating func writeTag(_ tag: UInt64) {
        writeHead(majorType: 6, argument: tag)
    }

    /// Appends a double-precision float (`fb` + 8 bytes).
    public mutating func writeDouble(_ value: Double) {
        bytes.append(0xfb)
        appendBigEndian(value.bitPattern, byteCount: 8)
    }

    /// Appends already-encoded CBOR bytes verbatim.
    public mutating func writeRaw(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }
}

extension CBORValue {
    /// The CBOR encoding of this value (see `CBOREncoder`).
    public func encoded(selfDescribe: Bool = false) -> [UInt8] {
        CBOREncoder.encode(self, selfDescribe: selfDescribe)
    }
}
