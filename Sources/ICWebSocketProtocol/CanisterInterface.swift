import ICCore

// The Candid types of the canister interface (protocol §3.1, `ws_types.did`), field names exact.

/// The message both directions carry (§3.1). In `ws_message` it travels as Candid; the canister
/// sends it to clients as CBOR (`cborEncoded()`, §2.7).
public struct WebsocketMessage: Hashable, Sendable, CandidCodable {
    public var clientKey: ClientKey
    public var sequenceNum: UInt64
    /// IC time in nanoseconds when the message was created.
    public var timestamp: UInt64
    public var isServiceMessage: Bool
    /// Candid bytes: an application value, or a `WebsocketServiceMessageContent`.
    public var content: [UInt8]

    public init(clientKey: ClientKey, sequenceNum: UInt64, timestamp: UInt64, isServiceMessage: Bool, content: [UInt8]) {
        self.clientKey = clientKey
        self.sequenceNum = sequenceNum
        self.timestamp = timestamp
        self.isServiceMessage = isServiceMessage
        self.content = content
    }

    public static var candidType: CandidType {
        .record([
            .field("client_key", ClientKey.self), .field("sequence_num", UInt64.self),
            .field("timestamp", UInt64.self), .field("is_service_message", Bool.self),
            .field("content", CandidBlob.self),
        ])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [
            .field("client_key", clientKey), .field("sequence_num", sequenceNum), .field("timestamp", timestamp),
            .field("is_service_message", isServiceMessage), .field("content", CandidBlob(content)),
        ])
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientKey = try record.field("client_key")
        sequenceNum = try record.field("sequence_num")
        timestamp = try record.field("timestamp")
        isServiceMessage = try record.field("is_service_message")
        content = try record.field("content", as: CandidBlob.self).bytes
    }
}

/// One queued message as `ws_get_messages` returns it (§3.1).
public struct CanisterOutputMessage: Hashable, Sendable, CandidCodable {
    public var clientKey: ClientKey
    /// The certification key, `MessageKey.format(gateway:nonce:)`.
    public var key: String
    /// The CBOR bytes of the `WebsocketMessage` (§2.7), exactly as certified.
    public var content: [UInt8]

    public init(clientKey: ClientKey, key: String, content: [UInt8]) {
        self.clientKey = clientKey
        self.key = key
        self.content = content
    }

    public static var candidType: CandidType {
        .record([.field("client_key", ClientKey.self), .field("key", String.self), .field("content", CandidBlob.self)])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [.field("client_key", clientKey), .field("key", key), .field("content", CandidBlob(content))])
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientKey = try record.field("client_key")
        key = try record.field("key")
        content = try record.field("content", as: CandidBlob.self).bytes
    }
}

/// A batch of messages with the data certificate and the witness tree (§3.1, §4.5).
public struct CanisterOutputCertifiedMessages: Hashable, Sendable, CandidCodable {
    public var messages: [CanisterOutputMessage]
    public var cert: [UInt8]
    public var tree: [UInt8]
    /// `false` exactly when more messages remained beyond this batch. Older libraries (before
    /// 0.3.1) omit the field; the decoder reads an absent value as `true`, as the reference
    /// gateway does.
    public var isEndOfQueue: Bool

    public init(messages: [CanisterOutputMessage], cert: [UInt8], tree: [UInt8], isEndOfQueue: Bool) {
        self.messages = messages
        self.cert = cert
        self.tree = tree
        self.isEndOfQueue = isEndOfQueue
    }

    /// The empty answer given to unknown gateways and when nothing is selected (§3.3).
    public static let empty = CanisterOutputCertifiedMessages(messages: [], cert: [], tree: [], isEndOfQueue: true)

    public static var candidType: CandidType {
        .record([
            .field("messages", [CanisterOutputMessage].self), .field("cert", CandidBlob.self),
            .field("tree", CandidBlob.self), .field("is_end_of_queue", Bool.self),
        ])
    }

    /// The type the reference gateway decodes with (`is_end_of_queue : opt bool`).
    public static var lenientCandidType: CandidType {
        .record([
            .field("messages", [CanisterOutputMessage].self), .field("cert", CandidBlob.self),
            .field("tree", CandidBlob.self), .field("is_end_of_queue", Bool?.self),
        ])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [
            .field("messages", messages), .field("cert", CandidBlob(cert)), .field("tree", CandidBlob(tree)),
            .field("is_end_of_queue", isEndOfQueue),
        ])
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        messages = try record.field("messages")
        cert = try record.field("cert", as: CandidBlob.self).bytes
        tree = try record.field("tree", as: CandidBlob.self).bytes
        // Accepts both `bool` and `opt bool` (absent ⇒ true).
        switch record.value("is_end_of_queue") {
        case .bool(let flag)?: isEndOfQueue = flag
        case .opt(.bool(let flag)?)?: isEndOfQueue = flag
        case nil, .opt(nil)?, .null?: isEndOfQueue = true
        case let other?: throw CandidError(.typeMismatch(expected: .bool, found: other.kind))
        }
    }
}

/// `ws_open`'s argument (§3.1), with icws's optional extension `resumable : opt bool`
/// (docs/SESSION-RESUMPTION.md).
///
/// `candidType` and `candidValue()` are the reference record, so a reference client's bytes
/// are unchanged; ``encodedArgument()`` adds the extension only when ``resumable`` is set (a
/// reference canister ignores it by subtyping), and a canister that understands it decodes with
/// ``extendedCandidType``.
public struct CanisterWsOpenArguments: Hashable, Sendable, CandidCodable {
    public var clientNonce: UInt64
    public var gatewayPrincipal: Principal
    /// Asks the canister to keep the session for a `ws_resume` after the connection drops.
    /// `nil` (absent) is the reference behaviour.
    public var resumable: Bool?

    public init(clientNonce: UInt64, gatewayPrincipal: Principal, resumable: Bool? = nil) {
        self.clientNonce = clientNonce
        self.gatewayPrincipal = gatewayPrincipal
        self.resumable = resumable
    }

    public static var candidType: CandidType {
        .record([.field("client_nonce", UInt64.self), .field("gateway_principal", Principal.self)])
    }

    /// The record with the `resumable` extension: what an icws canister decodes `ws_open` with.
    public static var extendedCandidType: CandidType {
        .record([
            .field("client_nonce", UInt64.self), .field("gateway_principal", Principal.self),
            .field("resumable", Bool?.self),
        ])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [.field("client_nonce", clientNonce), .field("gateway_principal", gatewayPrincipal)])
    }

    /// The Candid argument of a `ws_open` call: the reference bytes, or the extended record when
    /// ``resumable`` is set.
    public func encodedArgument() throws(CandidError) -> [UInt8] { ProtocolCandid.encode(self) }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientNonce = try record.field("client_nonce")
        gatewayPrincipal = try record.field("gateway_principal")
        // Absent, null, or of another type (which Candid's opt rule reads as null): not resumable.
        if case .opt(.bool(let flag)?)? = record.value("resumable") { resumable = flag } else { resumable = nil }
    }
}

/// `ws_resume`'s argument (icws extension, docs/SESSION-RESUMPTION.md): continue the session of
/// client key `{caller, client_nonce}` through `gateway_principal`.
public struct CanisterWsResumeArguments: Hashable, Sendable, CandidCodable {
    /// The WebSocket close code an icws gateway sends when the canister refused a client's
    /// `ws_resume` (the Close reason carries the canister's text): the client then opens a new
    /// session instead of trying other gateways.
    public static let refusedCloseCode: UInt16 = 4002

    /// How an icws canister's `ws_message` reply starts when it refuses a copy of a message it
    /// already executed (the client sent it again after a resume): the message was delivered.
    public static let duplicateRefusalPrefix: UTF8Text = "Duplicate sequence number"

    public var clientNonce: UInt64
    /// The gateway the client now talks through.
    public var gatewayPrincipal: Principal
    /// The last canister → client sequence number the client verified (0: none).
    public var lastReceivedSequenceNum: UInt64
    /// Strictly increasing per client key: a replayed older `ws_resume` is refused.
    public var resumeCounter: UInt64

    public init(clientNonce: UInt64, gatewayPrincipal: Principal, lastReceivedSequenceNum: UInt64, resumeCounter: UInt64) {
        self.clientNonce = clientNonce
        self.gatewayPrincipal = gatewayPrincipal
        self.lastReceivedSequenceNum = lastReceivedSequenceNum
        self.resumeCounter = resumeCounter
    }

    public static var candidType: CandidType {
        .record([
            .field("client_nonce", UInt64.self), .field("gateway_principal", Principal.self),
            .field("last_received_sequence_num", UInt64.self), .field("resume_counter", UInt64.self),
        ])
    }

    public func candidValue() -> CandidValue {
        .record(sorting: [
            .field("client_nonce", clientNonce), .field("gateway_principal", gatewayPrincipal),
            .field("last_received_sequence_num", lastReceivedSequenceNum), .field("resume_counter", resumeCounter),
        ])
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientNonce = try record.field("client_nonce")
        gatewayPrincipal = try record.field("gateway_principal")
        lastReceivedSequenceNum = try record.field("last_received_sequence_num")
        resumeCounter = try record.field("resume_counter")
    }
}

/// `ws_close`'s argument (§3.1).
public struct CanisterWsCloseArguments: Hashable, Sendable, CandidCodable {
    public var clientKey: ClientKey

    public init(clientKey: ClientKey) { self.clientKey = clientKey }

    public static var candidType: CandidType { .record([.field("client_key", ClientKey.self)]) }
    public func candidValue() -> CandidValue { .record([.field("client_key", clientKey)]) }
    public init(candid value: CandidValue) throws(CandidError) {
        clientKey = try value.record().field("client_key")
    }
}

/// `ws_message`'s first argument (§3.1).
public struct CanisterWsMessageArguments: Hashable, Sendable, CandidCodable {
    public var msg: WebsocketMessage

    public init(msg: WebsocketMessage) { self.msg = msg }

    public static var candidType: CandidType { .record([.field("msg", WebsocketMessage.self)]) }
    public func candidValue() -> CandidValue { .record([.field("msg", msg)]) }
    public init(candid value: CandidValue) throws(CandidError) {
        msg = try value.record().field("msg")
    }
}

/// `ws_get_messages`'s argument (§3.1): return messages whose key nonce is ≥ `nonce`.
public struct CanisterWsGetMessagesArguments: Hashable, Sendable, CandidCodable {
    public var nonce: UInt64

    public init(nonce: UInt64) { self.nonce = nonce }

    public static var candidType: CandidType { .record([.field("nonce", UInt64.self)]) }
    public func candidValue() -> CandidValue { .record([.field("nonce", nonce)]) }
    public init(candid value: CandidValue) throws(CandidError) {
        nonce = try value.record().field("nonce")
    }
}

/// `variant { Ok : null; Err : text }`: the result of `ws_open`, `ws_close`, `ws_message`, and
/// of the library's `send` and `close`.
public enum CanisterWsResult: Hashable, Sendable, CandidCodable {
    case ok
    case err(String)

    public static var candidType: CandidType {
        .variant([.field("Ok", CandidNull.self), .field("Err", String.self)])
    }

    public func candidValue() -> CandidValue {
        switch self {
        case .ok: return .variant("Ok", CandidNull())
        case .err(let text): return .variant("Err", text)
        }
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let variant = try value.variant()
        if variant.is("Ok") {
            self = .ok
        } else if variant.is("Err") {
            self = .err(try variant.payload())
        } else {
            throw variant.unknownTag()
        }
    }
}

public typealias CanisterWsOpenResult = CanisterWsResult
public typealias CanisterWsCloseResult = CanisterWsResult
public typealias CanisterWsMessageResult = CanisterWsResult
public typealias CanisterWsResumeResult = CanisterWsResult

/// `variant { Ok : CanisterOutputCertifiedMessages; Err : text }` (§3.1).
public enum CanisterWsGetMessagesResult: Hashable, Sendable, CandidCodable {
    case ok(CanisterOutputCertifiedMessages)
    case err(String)

    public static var candidType: CandidType {
        .variant([.field("Ok", CanisterOutputCertifiedMessages.self), .field("Err", String.self)])
    }

    /// The type the reference gateway decodes with (`is_end_of_queue : opt bool`).
    public static var lenientCandidType: CandidType {
        .variant([
            .field("Ok", CanisterOutputCertifiedMessages.lenientCandidType), .field("Err", String.candidType),
        ])
    }

    public func candidValue() -> CandidValue {
        switch self {
        case .ok(let messages): return .variant("Ok", messages)
        case .err(let text): return .variant("Err", text)
        }
    }

    public init(candid value: CandidValue) throws(CandidError) {
        let variant = try value.variant()
        if variant.is("Ok") {
            self = .ok(try variant.payload())
        } else if variant.is("Err") {
            self = .err(try variant.payload())
        } else {
            throw variant.unknownTag()
        }
    }
}
