/// An Internet Computer principal: an opaque byte string of 0 to 29 bytes naming a
/// canister, user, subnet or node.
///
/// Its textual form is `group5(base32(crc32_be(bytes) · bytes))`, e.g. `aaaaa-aa` for the
/// management canister and `2vxsx-fae` for the anonymous principal.
///
/// ```swift
/// let ledger = try Principal(text: "ryjl3-tyaaa-aaaaa-aaaba-cai")
/// ledger.bytes         // [0, 0, 0, 0, 0, 0, 0, 2, 1, 1]
/// ledger.description   // "ryjl3-tyaaa-aaaaa-aaaba-cai"
/// ```
public struct Principal: Hashable, Sendable, Comparable, CustomStringConvertible, UTF8TextConvertible {
    /// Maximum length of a principal in bytes.
    public static let maxByteCount = 29

    /// The raw bytes.
    public let bytes: [UInt8]

    /// An error about a principal's bytes or text.
    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// More than 29 bytes.
        case tooLong(byteCount: Int)
        /// The text is empty or too short to hold a checksum.
        case tooShort(characterCount: Int)
        /// A character outside `a-z`, `A-Z`, `2-7` and `-` at the given index.
        case invalidCharacter(index: Int)
        /// The CRC-32 in the text does not match the bytes.
        case checksumMismatch(expected: UInt32, found: UInt32)
        /// Dashes are not exactly one after every five characters.
        case misplacedDash(expected: String)

        public var description: String {
            switch self {
            case .tooLong(let n): return "principal is \(n) bytes long; at most 29 are allowed"
            case .tooShort(let n): return "principal text is too short (\(n) characters without dashes); it must hold a 4-byte checksum"
            case .invalidCharacter(let i): return "principal text has an invalid character at index \(i); only a-z, 2-7 and '-' are allowed"
            case .checksumMismatch(let expected, let found):
                return "principal text checksum mismatch: computed \(hex32(expected)), text says \(hex32(found))"
            case .misplacedDash(let expected): return "principal text has misplaced dashes; canonical form is \(expected)"
            }
        }
    }

    /// Hashes the bytes in one call (the synthesized version feeds `Hasher` byte by byte:
    /// ~4 k Wasm instructions per dictionary lookup on a canister instead of ~1 k).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Creates a principal from raw bytes.
    public init(bytes: [UInt8]) throws(Principal.Error) {
        guard bytes.count <= Principal.maxByteCount else { throw .tooLong(byteCount: bytes.count) }
        self.bytes = bytes
    }

    /// Creates a principal from bytes already known to be at most 29 long.
    @usableFromInline
    init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses the textual form (case-insensitive), checking checksum, length and dashes.
    public init(text: String) throws(Principal.Error) {
        var characters = [UInt8]()
        var lowered = [UInt8]()
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-"):
                lowered.append(byte)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "2")...UInt8(ascii: "7"):
                characters.append(byte); lowered.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                characters.append(byte + 32); lowered.append(byte + 32)
            default:
                throw .invalidCharacter(index: index)
            }
        }
        // 4 checksum bytes need at least 7 base32 characters.
        guard characters.count >= 7 else { throw .tooShort(characterCount: characters.count) }
        var invalid = 0
        guard let decoded = Base32.decode(characters, invalidIndex: &invalid) else {
            throw .invalidCharacter(index: invalid)
        }
        let body = Array(decoded.dropFirst(4))
        guard body.count <= Principal.maxByteCount else { throw .tooLong(byteCount: body.count) }
        let found = UInt32(decoded[0]) << 24 | UInt32(decoded[1]) << 16 | UInt32(decoded[2]) << 8 | UInt32(decoded[3])
        let expected = CRC32.checksum(body)
        guard found == expected else { throw .checksumMismatch(expected: expected, found: found) }
        let principal = Principal(uncheckedBytes: body)
        // Re-encoding catches misplaced dashes and non-canonical trailing bits.
        let canonical = principal.textBytes
        guard canonical == lowered else {
            throw .misplacedDash(expected: String(decoding: canonical, as: UTF8.self))
        }
        self = principal
    }

    /// The management canister `aaaaa-aa` (empty bytes).
    public static let managementCanister = Principal(uncheckedBytes: [])

    /// The anonymous principal `2vxsx-fae` (the single byte `04`).
    public static let anonymous = Principal(uncheckedBytes: [0x04])

    /// Whether this is the anonymous principal.
    public var isAnonymous: Bool { bytes == [0x04] }

    /// The canister id with the given index: `be64(index) · 01 · 01`.
    public static func canister(index: UInt64) -> Principal {
        var bytes = [UInt8]()
        bytes.reserveCapacity(10)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: index >> UInt64(shift)))
        }
        bytes.append(0x01)
        bytes.append(0x01)
        return Principal(uncheckedBytes: bytes)
    }

    /// The self-authenticating principal of a DER-encoded public key: `SHA-224(der) · 02`.
    public static func selfAuthenticating(derPublicKey: [UInt8]) -> Principal {
        var bytes = SHA224.hash(derPublicKey)
        bytes.append(0x02)
        return Principal(uncheckedBytes: bytes)
    }

    /// The canonical text, as UTF-8 bytes.
    public var textBytes: [UInt8] {
        let crc = CRC32.checksum(bytes)
        var input: [UInt8] = [
            UInt8(truncatingIfNeeded: crc >> 24), UInt8(truncatingIfNeeded: crc >> 16),
            UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc),
        ]
        input.append(contentsOf: bytes)
        let encoded = Base32.encode(input)
        var out = [UInt8]()
        out.reserveCapacity(encoded.count + encoded.count / 5)
        for (index, character) in encoded.enumerated() {
            if index > 0 && index % 5 == 0 { out.append(UInt8(ascii: "-")) }
            out.append(character)
        }
        return out
    }

    /// The canonical text, e.g. `ryjl3-tyaaa-aaaaa-aaaba-cai`.
    public var description: String { String(decoding: textBytes, as: UTF8.self) }

    /// The canonical text, for messages built without `String`.
    public var utf8Text: UTF8Text { UTF8Text(utf8: textBytes) }

    /// Byte-wise lexicographic order, as used for canister id ranges.
    public static func < (lhs: Principal, rhs: Principal) -> Bool {
        // A plain loop: canisters sort by this (the generic `lexicographicallyPrecedes` costs
        // several times the instructions).
        lhs.bytes.withUnsafeBufferPointer { left in
            rhs.bytes.withUnsafeBufferPointer { right in
                for index in 0..<min(left.count, right.count) where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return left.count < right.count
            }
        }
    }
}

@usableFromInline
func hex32(_ value: UInt32) -> String {
    Hex.encode([
        UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
        UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
    ])
}
