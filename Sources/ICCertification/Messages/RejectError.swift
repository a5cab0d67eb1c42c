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
