/// A request id: the 32-byte representation-independent hash of a request's `content` map.
///
/// ```swift
/// let id = try RequestID(content: envelope["content"]!)
/// id.description              // "1d1091364d6bb8a6…b101" (lower-case hex)
/// let same = try RequestID(hex: "0x1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101")
/// let signedPayload = id.signaturePayload   // "\x0Aic-request" · id
/// ```
public struct RequestID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// An error creating a request id from bytes or text.
    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// Not exactly 32 bytes.
        case wrongLength(Int)
        /// The text is not hexadecimal.
        case invalidHex(Hex.DecodingError)

        public var description: String {
            switch self {
            case .wrongLength(let n): return "a request id is 32 bytes, got \(n)"
            case .invalidHex(let error): return "request id text: \(error)"
            }
        }
    }

    /// Wraps a 32-byte digest.
    public init(bytes: [UInt8]) throws(RequestID.Error) {
        guard bytes.count == 32 else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    /// Wraps a digest produced by SHA-256 (must be 32 bytes).
    public init(digest: [UInt8]) {
        precondition(digest.count == 32, "a request id is a 32-byte SHA-256 digest")
        self.bytes = digest
    }

    /// Parses 64 hex digits, optionally prefixed `0x`.
    public init(hex: String) throws(RequestID.Error) {
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(hex)
        } catch {
            throw .invalidHex(error)
        }
        try self.init(bytes: bytes)
    }

    /// `hash_of_map(content)`; `content` must be a map with text keys (a self-describe tag
    /// around it is ignored).
    public init(content: CBORValue) throws(RepresentationIndependentHash.Error) {
        self.bytes = try RepresentationIndependentHash.hashOfMap(content)
    }

    /// Lower-case hex.
    public var description: String { Hex.encode(bytes) }

    /// The bytes a sender signs: the domain separator `\x0Aic-request` followed by the id.
    public var signaturePayload: [UInt8] {
        var out: [UInt8] = [0x0a]
        out.append(contentsOf: "ic-request".utf8)
        out.append(contentsOf: bytes)
        return out
    }

    public static func < (lhs: RequestID, rhs: RequestID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
