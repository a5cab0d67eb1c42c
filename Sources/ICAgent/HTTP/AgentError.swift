import ICCore

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
