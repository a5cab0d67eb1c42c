import ICCore

// Service messages (protocol §3.2, `service_messages.did`): the content of a `WebsocketMessage`
// whose `is_service_message` is true.

/// Why the canister closed a connection.
public enum CloseMessageReason: Hashable, Sendable, CandidCodable {
    case wrongSequenceNumber
    /// Defined by the protocol, but no reference library sends it.
    case invalidServiceMessage
    case keepAliveTimeout
    case closedByApplication

    public var name: String {
        switch self {
        case .wrongSequenceNumber: return "WrongSequenceNumber"
        case .invalidServiceMessage: return "InvalidServiceMessage"
        case .keepAliveTimeout: return "KeepAliveTimeout"
        case .closedByApplication: return "ClosedByApplication"
        }
    }

    public static var candidType: CandidType {
        .variant([
            .field("WrongSequenceNumber", CandidNull.self), .field("InvalidServiceMessage", CandidNull.self),
            .field("KeepAliveTimeout", CandidNull.self), .field("ClosedByApplication", CandidNull.self),
        ])
    }

    public func candidValue() -> CandidValue { .variant(name, CandidNull()) }

    public init(candid value: CandidValue) throws(CandidError) {
        let variant = try value.variant()
        switch variant.id {
        case CandidFieldID.hash("WrongSequenceNumber"): self = .wrongSequenceNumber
        case CandidFieldID.hash("InvalidServiceMessage"): self = .invalidServiceMessage
        case CandidFieldID.hash("KeepAliveTimeout"): self = .keepAliveTimeout
        case CandidFieldID.hash("ClosedByApplication"): self = .closedByApplication
        default: throw variant.unknownTag()
        }
    }
}

/// `WebsocketServiceMessageContent`: the four service messages of the protocol, and icws's
/// `ResumeMessage` (docs/SESSION-RESUMPTION.md), which only a client that called `ws_resume`
/// is ever sent.
///
/// The four reference messages are encoded at the reference type (`candidType`), byte for
/// byte what the reference canister sends; `ResumeMessage` at ``extendedCandidType``. Decoding
/// uses the extended type, which reads both.
public enum WebsocketServiceMessageContent: Hashable, Sendable, CandidCodable {
    /// Canister → client, once, sequence number 1: `record { client_key }`.
    case openMessage(clientKey: ClientKey)
    /// Canister → client, every ack interval: `record { last_incoming_sequence_num }`.
    case ackMessage(lastIncomingSequenceNum: UInt64)
    /// Client → canister, the answer to each ack: `record { last_incoming_sequence_num }`.
    case keepAliveMessage(lastIncomingSequenceNum: UInt64)
    /// Canister → client, the last message of a connection: `record { reason }`.
    case closeMessage(reason: CloseMessageReason)
    /// Canister → client after a `ws_resume` (icws extension): the session continues; the
    /// canister expects `next_incoming_sequence_num` next, so the client sends again its
    /// messages from that number on. `record { client_key; next_incoming_sequence_num }`.
    case resumeMessage(clientKey: ClientKey, nextIncomingSequenceNum: UInt64)

    private static var sequenceRecord: CandidType {
        .record([.field("last_incoming_sequence_num", UInt64.self)])
    }

    public static var candidType: CandidType {
        .variant([
            .field("OpenMessage", .record([.field("client_key", ClientKey.self)])),
            .field("AckMessage", sequenceRecord),
            .field("KeepAliveMessage", sequenceRecord),
            .field("CloseMessage", .record([.field("reason", CloseMessageReason.self)])),
        ])
    }

    /// The reference variant plus `ResumeMessage`.
    public static var extendedCandidType: CandidType {
        .variant([
            .field("OpenMessage", .record([.field("client_key", ClientKey.self)])),
            .field("AckMessage", sequenceRecord),
            .field("KeepAliveMessage", sequenceRecord),
            .field("CloseMessage", .record([.field("reason", CloseMessageReason.self)])),
            .field(
                "ResumeMessage",
                .record([.field("client_key", ClientKey.self), .field("next_incoming_sequence_num", UInt64.self)])),
        ])
    }

    public func candidValue() -> CandidValue {
        switch self {
        case .openMessage(let key):
            return .variant(CandidFieldValue(name: "OpenMessage", value: .record([.field("client_key", key)])))
        case .ackMessage(let n):
            return .variant(
                CandidFieldValue(
                    name: "AckMessage", value: .record([.field("last_incoming_sequence_num", n)])))
        case .keepAliveMessage(let n):
            return .variant(
                CandidFieldValue(
                    name: "KeepAliveMessage", value: .record([.field("last_incoming_sequence_num", n)])))
        case .closeMessage(let reason):
            return .variant(CandidFieldValue(name: "CloseMessage", value: .record([.field("reason", reason)])))
        case .resumeMessage(let key, let next):
            return .variant(
                CandidFieldValue(
                    name: "ResumeMessage",
                    value: .record(sorting: [.field("client_key", key), .field("next_incoming_sequence_num", next)])))
        }
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let variant = try value.variant()
        let record = try variant.value.record()
        switch variant.id {
        case CandidFieldID.hash("OpenMessage"):
            self = .openMessage(clientKey: try record.field("client_key"))
        case CandidFieldID.hash("AckMessage"):
            self = .ackMessage(lastIncomingSequenceNum: try record.field("last_incoming_sequence_num"))
        case CandidFieldID.hash("KeepAliveMessage"):
            self = .keepAliveMessage(lastIncomingSequenceNum: try record.field("last_incoming_sequence_num"))
        case CandidFieldID.hash("CloseMessage"):
            self = .closeMessage(reason: try record.field("reason"))
        case CandidFieldID.hash("ResumeMessage"):
            self = .resumeMessage(
                clientKey: try record.field("client_key"),
                nextIncomingSequenceNum: try record.field("next_incoming_sequence_num"))
        default:
            throw variant.unknownTag()
        }
    }

    /// The Candid message (`DIDL…`, one value) carried in `WebsocketMessage.content`: the four
    /// reference messages at ``candidType``, `ResumeMessage` at ``extendedCandidType``
    /// (``ProtocolCandid``, byte for byte `CandidEncoder`'s output).
    public func encoded() -> [UInt8] { ProtocolCandid.encode(self) }

    /// Decodes a service message from `WebsocketMessage.content` (any of the five), at
    /// ``extendedCandidType`` (``ProtocolCandid``, without the generic decoder).
    public static func decode(_ bytes: [UInt8]) throws(CandidError) -> WebsocketServiceMessageContent {
        try ProtocolCandid.decodeServiceMessage(bytes)
    }
}
