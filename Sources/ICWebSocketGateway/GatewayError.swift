/// Why the gateway could not start or keep serving.
public enum GatewayError: Error, Sendable, CustomStringConvertible {
    /// A setting is invalid.
    case configuration(String)
    /// The identity key file could not be read or written.
    case identity(String)
    /// TLS could not be set up from the given files.
    case tls(String)
    /// The listener stopped before it was bound.
    case notListening(String)

    public var description: String {
        switch self {
        case .configuration(let why): return "invalid gateway configuration: \(why)"
        case .identity(let why): return "gateway identity: \(why)"
        case .tls(let why): return "TLS setup failed: \(why)"
        case .notListening(let why): return "the gateway is not listening: \(why)"
        }
    }
}
