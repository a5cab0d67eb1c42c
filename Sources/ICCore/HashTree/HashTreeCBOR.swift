/// CBOR form of hash trees:
/// `[0]` Empty, `[1, left, right]` Fork, `[2, label, subtree]` Labeled, `[3, value]` Leaf,
/// `[4, digest]` Pruned (32 bytes).
extension HashTree {
    /// An error turning CBOR into a hash tree.
    public struct DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// What was wrong.
        public enum Kind: Equatable, Sendable {
            /// The bytes are not valid CBOR.
            case cbor(CBORError)
            /// A node is not a CBOR array.
            case notAnArray
            /// A node array is empty or does not start with an unsigned integer tag.
            case missingNodeTag
            /// A node tag other than 0–4.
            case unknownNodeTag(UInt64)
            /// A node array with the wrong number of elements for its tag.
            case wrongElementCount(nodeTag: UInt64, expected: Int, found: Int)
            /// A label, value or digest that is not a byte string.
            case expectedByteString(nodeTag: UInt64)
            /// A pruned digest that is not 32 bytes long.
            case wrongDigestLength(Int)
        }

        /// What was wrong.
        public var kind: Kind
        /// Where: array indices from the root node, e.g. `/1/2` is the subtree of the left
        /// child (`/` is the root itself). Empty for `.cbor` errors (they carry an offset).
        public var location: String

        /// Creates an error.
        public init(_ kind: Kind, location: String) {
            self.kind = kind
            self.location = location
        }

        public var description: String {
            let at = "hash tree node \(location)"
            switch kind {
            case .cbor(let error): return "hash tree: \(error)"
            case .notAnArray: return "\(at) is not a CBOR array"
            case .missingNodeTag: return "\(at) does not start with an unsigned node tag (0-4)"
            case .unknownNodeTag(let tag): return "\(at) has unknown node tag \(tag) (expected 0-4)"
            case .wrongElementCount(let tag, let expected, let found):
                return "\(at) with tag \(tag) has \(found) elements; expected \(expected)"
            case .expectedByteString(let tag): return "\(at) with tag \(tag) needs a byte string"
            case .wrongDigestLength(let n): return "\(at) is a pruned digest of \(n) bytes; expected 32"
            }
        }
    }

    /// Decodes CBOR bytes (an optional self-describe tag in front is skipped).
    public init(cborBytes bytes: [UInt8], limits: CBORDecoder.Limits = .default) throws(HashTree.DecodingError) {
        let value: CBORValue
        do {
            value = try CBORDecoder(limits: limits).decode(bytes)
        } catch {
            throw DecodingError(.cbor(error), location: "")
        }
        try self.init(cbor: value)
    }

    /// Converts a decoded CBOR value.
    public init(cbor value: CBORValue) throws(HashTree.DecodingError) {
        var location = [UInt8]()
        self = try HashTree.decodeNode(value.removingSelfDescribeTag, location: &location)
    }

    private static func render(_ location: [UInt8]) -> String {
        if location.isEmpty { return "/" }
        var out = ""
        for index in location { out += "/\(index)" }
        return out
    }

    private static func decodeNode(_ value: CBORValue, location: inout [UInt8]) throws(HashTree.DecodingError) -> HashTree {
        guard case .array(let items) = value else {
            throw DecodingError(.notAnArray, location: render(location))
        }
        guard let first = items.first, case .unsigned(let tag) = first else {
            throw DecodingError(.missingNodeTag, location: render(location))
        }
        let expected: Int
        switch tag {
        case 0: expected = 1
        case 1, 2: expected = 3
        case 3, 4: expected = 2
        default: throw DecodingError(.unknownNodeTag(tag), location: render(location))
        }
        guard items.count == expected else {
            throw DecodingError(.wrongElementCount(nodeTag: tag, expected: expected, found: items.count), location: render(location))
        }
        switch tag {
        case 0:
            return .empty
        case 1:
            location.append(1)
            let left = try decodeNode(items[1], location: &location)
            location[location.count - 1] = 2
            let right = try decodeNode(items[2], location: &location)
            location.removeLast()
            return .fork(left, right)
        case 2:
            guard case .byteString(let label) = items[1] else {
                throw DecodingError(.expectedByteString(nodeTag: tag), location: render(location))
            }
            location.append(2)
            let subtree = try decodeNode(items[2], location: &location)
            location.removeLast()
            return .labeled(label, subtree)
        case 3:
            guard case .byteString(let leafValue) = items[1] else {
                throw DecodingError(.expectedByteString(nodeTag: tag), location: render(location))
            }
            return .leaf(leafValue)
        default:
            guard case .byteString(let digest) = items[1] else {
                throw DecodingError(.expectedByteString(nodeTag: tag), location: render(location))
            }
            guard digest.count == 32 else {
                throw DecodingError(.wrongDigestLength(digest.count), location: render(location))
            }
            return .pruned(digest)
        }
    }

    /// The CBOR value of the tree.
    public var cbor: CBORValue {
        switch self {
        case .empty: return [0]
        case .fork(let left, let right): return [1, left.cbor, right.cbor]
        case .labeled(let label, let subtree): return [2, .byteString(label), subtree.cbor]
        case .leaf(let value): return [3, .byteString(value)]
        case .pruned(let digest): return [4, .byteString(digest)]
        }
    }

    /// Writes the tree's CBOR encoding without building a `CBORValue`.
    public func encode(into encoder: inout CBOREncoder) {
        switch self {
        case .empty:
            encoder.writeArrayHeader(count: 1)
            encoder.writeUnsigned(0)
        case .fork(let left, let right):
            encoder.writeArrayHeader(count: 3)
            encoder.writeUnsigned(1)
            left.encode(into: &encoder)
            right.encode(into: &encoder)
        case .labeled(let label, let subtree):
            encoder.writeArrayHeader(count: 3)
            encoder.writeUnsigned(2)
            encoder.writeBytes(label)
            subtree.encode(into: &encoder)
        case .leaf(let value):
            encoder.writeArrayHeader(count: 2)
            encoder.writeUnsigned(3)
            encoder.writeBytes(value)
        case .pruned(let digest):
            encoder.writeArrayHeader(count: 2)
            encoder.writeUnsigned(4)
            encoder.writeBytes(digest)
        }
    }

    /// The tree's CBOR encoding (no self-describe tag; certificates embed trees untagged).
    public func encoded(selfDescribe: Bool = false) -> [UInt8] {
        var encoder = CBOREncoder()
        if selfDescribe { encoder.writeSelfDescribeTag() }
        encode(into: &encoder)
        return encoder.bytes
    }
}
