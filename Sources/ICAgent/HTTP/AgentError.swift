import ICCore

/// A reject from the IC or a canister: reject code, message and optional error code.
public struct RejectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reject codes (essentials §5.7).
    public enum Code: Equatable, Sendable, CustomStringConvertible {
        case sysFatal, sysTransient, destinationInvalid, canisterReject, canisterError, sysUnknown
        case other(UInt64)

        public init(_ value: UInt64) {
            switch value {
            case 1: self = .sysFatal
            case 2: self = .sysTransient
            case 3: self = .destinationInvalid
            case 4: self = .canisterReject
            case 5: self = .canisterError
            case 6: self = .sysUnknown
            default: self = .other(value)
            }
        }

        public var rawValue: UInt64 {
            switch self {
            case .sysFatal: return 1
            case .sysTransient: return 2
            case .destinationInvalid: return 3
            case .canisterReject: return 4
            case .canisterError: return 5
            case .sysUnknown: return 6
            case .other(let value): return value
            }
        }

        public var description: String {
            switch self {
            case .sysFatal: return "SYS_FATAL (1)"
            case .sysTransient: return "SYS_TRANSIENT (2)"
            case .destinationInvalid: return "DESTINATION_INVALID (3)"
            case .canisterReject: return "CANISTER_REJECT (4)"
            case .canisterError: return "CANISTER_ERROR (5)"
            case .sysUnknown: return "SYS_UNKNOWN (6)"
            case .other(let value): return "reject code \(value)"
            }
        }
    }

    public let code: Code
    public let message: String
    /// Implementation-specific error code such as `IC0503`; treat it as opaque.
    public let errorCode: String?

    public init(code: Code, message: String, errorCode: String? = nil) {
        self.code = code
        self.message = message
        self.errorCode = errorCode
    }

    public var description: String {
        "rejected with \(code)\(errorCode.map { " [\($0)]" } ?? ""): \(message)"
    }
}

/// Everything that can go wrong talking to the IC over HTTP. Each case says what to do next:
/// transport and 5xx errors are worth retrying, rejects are answers, certificate errors mean
/// the response must not be trusted.
public enum AgentError: Error, Sendable, CustomStringConvertible {
    /// The request could not be sent or the connection failed (replica down, DNS, TLS…).
    case transport(String)
    /// The replica answered with an HTTP error status (body text included).
    case http(status: Int, message: String)
    /// The IC or the canister rejected the request.
    case rejected(RejectError)
    /// A certificate in the response did not verify.
    case certificate(CertificateError)
    /// The response body is not what the interface specifies.
    case malformedResponse(String)
    /// The response body exceeded the configured limit.
    case responseTooLarge(limit: Int)
    /// No outcome before the request expired; the call may or may not have executed.
    case timedOut(requestID: RequestID?)
    /// The IC reports the request as `done`: its reply was already forgotten.
    case replyForgotten(requestID: RequestID)
    /// The identity could not sign.
    case identity(IdentityError)
    /// A query response's node signature did not verify.
    case querySignature(String)
    /// A typed reply could not be decoded from its Candid bytes.
    case replyDecoding(String)

    public var description: String {
        switch self {
        case .transport(let why): return "cannot reach the IC: \(why)"
        case .http(let status, let message): return "HTTP \(status) from the IC: \(message)"
        case .rejected(let reject): return reject.description
        case .certificate(let error): return "untrusted response: \(error)"
        case .malformedResponse(let why): return "malformed response from the IC: \(why)"
        case .responseTooLarge(let limit): return "response from the IC exceeds \(limit) bytes"
        case .timedOut(let id):
            return "no outcome before the request expired\(id.map { " (request \($0))" } ?? ""); it may still have executed"
        case .replyForgotten(let id): return "the IC forgot the reply of request \(id) (status done)"
        case .identity(let error): return error.description
        case .querySignature(let why): return "query response signature check failed: \(why)"
        case .replyDecoding(let why): return "cannot decode the reply: \(why)"
        }
    }

    /// Whether retrying the same request later may succeed.
    public var isTransient: Bool {
        switch self {
        case .transport, .timedOut: return true
        case .http(let status, _): return status == 429 || status >= 500
        case .rejected(let reject): return reject.code == .sysTransient
        default: return false
        }
    }
}
