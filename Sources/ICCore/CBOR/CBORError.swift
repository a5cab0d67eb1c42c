/// An error decoding CBOR: what was wrong and the byte offset where it was found.
///
/// `description` reads like "CBOR: unexpected end of input at offset 17 while reading a
/// byte string of length 300 (only 2 bytes remain)".
public struct CBORError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being read when the input ended.
    public enum Context: Equatable, Sendable {
        /// The initial byte of a data item.
        case itemHead
        /// The `byteCount`-byte argument following an initial byte.
        case argument(byteCount: Int)
        /// The content of a byte string.
        case byteString(length: UInt64)
        /// The content of a text string.
        case textString(length: UInt64)
        /// The elements of an array.
        case array(count: UInt64)
        /// The entries of a map.
        case map(count: UInt64)
        /// The elements of an indefinite-length array.
        case indefiniteArray
        /// The entries of an indefinite-length map.
        case indefiniteMap
        /// The chunks of an indefinite-length byte string.
        case indefiniteByteString
        /// The chunks of an indefinite-length text string.
        case indefiniteTextString
        /// The item inside a tag.
        case tagContent(tag: UInt64)

        var phrase: String {
            switch self {
            case .itemHead: return "a data item"
            case .argument(let n): return "the \(n)-byte argument of an item head"
            case .byteString(let n): return "a byte string of length \(n)"
            case .textString(let n): return "a text string of length \(n)"
            case .array(let n): return "an array of \(n) items"
            case .map(let n): return "a map of \(n) entries"
            case .indefiniteArray: return "an indefinite-length array"
            case .indefiniteMap: return "an indefinite-length map"
            case .indefiniteByteString: return "an indefinite-length byte string"
            case .indefiniteTextString: return "an indefinite-length text string"
            case .tagContent(let tag): return "the content of tag \(tag)"
            }
        }
    }

    /// What was wrong.
    public enum Kind: Equatable, Sendable {
        /// The input ended (or is certainly too short: a length or count larger than what
        /// remains) while reading `context`, the item whose head is at the error's offset;
        /// `remaining` is how many bytes were left for the part that did not fit.
        case unexpectedEnd(context: Context, remaining: Int)
        /// Additional information 28, 29 or 30 (reserved) in an initial byte.
        case reservedAdditionalInfo(UInt8)
        /// Indefinite length (additional information 31) on a major type that does not allow it
        /// (0 unsigned, 1 negative, 6 tag).
        case indefiniteLengthNotAllowed(majorType: UInt8)
        /// A "break" (`ff`) outside an indefinite-length item.
        case unexpectedBreak
        /// A chunk of an indefinite-length string that is not a definite string of the same
        /// major type (`foundMajorType` 2 or 3 when it was itself indefinite).
        case invalidStringChunk(expectedMajorType: UInt8, foundMajorType: UInt8)
        /// A map with an odd number of items (break after a key in an indefinite map).
        case missingMapValue
        /// A text string that is not valid UTF-8.
        case invalidUTF8
        /// A map key that occurs twice (RFC 8949 §5.6; the IC forbids duplicates).
        case duplicateMapKey
        /// A two-byte simple value below 32 (`f8 00`…`f8 1f`), which is not well formed.
        case invalidSimpleValue(UInt8)
        /// More nested arrays/maps/tags than `Limits.maxDepth`.
        case depthLimitExceeded(limit: Int)
        /// More data items than `Limits.maxItems`.
        case itemLimitExceeded(limit: Int)
        /// A string longer than `Limits.maxStringLength`.
        case stringTooLong(length: UInt64, limit: Int)
        /// The input is longer than `Limits.maxInputLength`.
        case inputTooLong(length: Int, limit: Int)
        /// Bytes follow the top-level item (and trailing bytes are not allowed).
        case trailingBytes(count: Int)
    }

    /// What was wrong.
    public var kind: Kind
    /// Byte offset (from the start of the input) of the item or byte at fault.
    public var offset: Int

    /// Creates an error.
    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        let at = "at offset \(offset)"
        switch kind {
        case .unexpectedEnd(let context, let remaining):
            return "CBOR: unexpected end of input \(at) while reading \(context.phrase) (only \(remaining) bytes remain)"
        case .reservedAdditionalInfo(let info):
            return "CBOR: reserved additional information \(info) in the initial byte \(at)"
        case .indefiniteLengthNotAllowed(let major):
            return "CBOR: indefinite length is not allowed for major type \(major) \(at)"
        case .unexpectedBreak:
            return "CBOR: unexpected break (0xff) outside an indefinite-length item \(at)"
        case .invalidStringChunk(let expected, let found):
            return
                "CBOR: chunk \(at) of an indefinite-length string of major type \(expected) must be a definite-length string of the same type (found major type \(found))"
        case .missingMapValue:
            return "CBOR: indefinite-length map ends after a key without a value \(at)"
        case .invalidUTF8:
            return "CBOR: text string \(at) is not valid UTF-8"
        case .duplicateMapKey:
            return "CBOR: duplicate map key \(at)"
        case .invalidSimpleValue(let value):
            return "CBOR: two-byte simple value \(value) \(at) is not well formed (must be ≥ 32)"
        case .depthLimitExceeded(let limit):
            return "CBOR: nesting deeper than \(limit) levels \(at)"
        case .itemLimitExceeded(let limit):
            return "CBOR: more than \(limit) data items \(at)"
        case .stringTooLong(let length, let limit):
            return "CBOR: string of length \(length) \(at) exceeds the limit of \(limit) bytes"
        case .inputTooLong(let length, let limit):
            return "CBOR: input of \(length) bytes exceeds the limit of \(limit) bytes"
        case .trailingBytes(let count):
            return "CBOR: \(count) trailing bytes \(at) after the top-level item"
        }
    }
}
