/// Why a request envelope could not be decoded or is not acceptable.
public enum EnvelopeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes do not have the shape of an envelope.
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed request: \(why)"
        }
    }
}
