import ICCertification

/// Errors of the replica's library API. Each says what was wrong and, where it helps, what to do.
public enum ReplicaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A module failed validation (essentials §10).
    case invalidModule(String)
    /// A request was refused before execution (HTTP 4xx).
    case badRequest(String)
    /// A limit of the replica was reached.
    case limitReached(String)
    /// The state directory could not be read or written.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidModule(let why): return "invalid canister module: \(why)"
        case .badRequest(let why): return why
        case .limitReached(let why): return "replica limit reached: \(why)"
        case .storage(let why): return "state directory: \(why)"
        }
    }
}

/// A reject as the replica reports it: code, message and the DFINITY-style error code.
struct Reject: Error, Equatable, Sendable {
    var code: UInt64
    var message: String
    var errorCode: String

    static func destinationInvalid(_ message: String, _ errorCode: String = "IC0301") -> Reject {
        Reject(code: 3, message: message, errorCode: errorCode)
    }
    static func canisterError(_ message: String, _ errorCode: String = "IC0502") -> Reject {
        Reject(code: 5, message: message, errorCode: errorCode)
    }
    static func canisterReject(_ message: String) -> Reject {
        Reject(code: 4, message: message, errorCode: "IC0406")
    }

    var rejectError: RejectError { RejectError(code: .init(code), message: message, errorCode: errorCode) }
}
