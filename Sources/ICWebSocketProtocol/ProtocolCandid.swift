import ICCore

/// Direct Candid encoding and decoding of the few protocol values a client exchanges: the
/// service messages (§3.2), and the `ws_open` / `ws_message` arguments it sends.
///
/// The generic Candid layer (`CandidValue` trees, type tables built per call, subtype checks,
/// coercion) is ~60 KB of code in the browser's Wasm module, for these few types. Here the
/// bytes are written at fixed type tables, byte for byte what `CandidEncoder` writes for the
/// same types (tests compare both), and service messages are read with ``CandidWireReader`` at
/// whatever wire types the sender used, with the generic decoder's rules for them: record
/// fields found by id (extras skipped and validated), variant subtyping, the same limits and
/// `CandidError`s. Both the Swift SDK and the browser module use it; the canister library can
/// too (it decodes keep-alives with ``decodeServiceMessage(_:)``).
public enum ProtocolCandid {
    // Field ids (`CandidFieldID.hash`; ProtocolCandidTests checks them against the names).
    static let clientKeyID: UInt32 = 0x3d27_1a6b  // client_key
    static let clientPrincipalID: UInt32 = 0x5288_807a  // client_principal
    static let clientNonceID: UInt32 = 0xe9ba_a8bb  // client_nonce
    static let lastIncomingID: UInt32 = 0xa72a_c458  // last_incoming_sequence_num
    static let nextIncomingID: UInt32 = 0xe310_dcb5  // next_incoming_sequence_num
    static let reasonID: UInt32 = 0xfc9d_0fc4  // reason
    static let gatewayPrincipalID: UInt32 = 0x2691_b773  // gateway_principal
    static let resumableID: UInt32 = 0xf963_0152  // resumable
    static let openMessageID: UInt32 = 0x1985_5efd  // OpenMessage
    static let ackMessageID: UInt32 = 0xb5bc_1b9e  // AckMessage
    static let keepAliveMessageID: UInt32 = 0x9685_e9bf  // KeepAliveMessage
    static let closeMessageID: UInt32 = 0xadf4_790f  // CloseMessage
    static let resumeMessageID: UInt32 = 0xd734_837a  // ResumeMessage
    static let wrongSequenceNumberID: UInt32 = 0xa388_95d7  // WrongSequenceNumber
    static let invalidServiceMessageID: UInt32 = 0x5403_a349  // InvalidServiceMessage
    static let keepAliveTimeoutID: UInt32 = 0xd56b_ce99  // KeepAliveTimeout
    static let closedByApplicationID: UInt32 = 0x4776_a14d  // ClosedByApplication

    // MARK: Decoding

    /// A `WebsocketServiceMessageContent` (any of the five cases) from `WebsocketMessage.content`.
    public static func decodeServiceMessage(_ bytes: [UInt8]) throws(CandidError) -> WebsocketServiceMessageContent {
        var reader = try CandidWireReader(bytes)
        let type = try reader.nextArgument()
        let tag = try reader.variant(
            type, known: [openMessageID, ackMessageID, keepAliveMessageID, closeMessageID, resumeMessageID])
        // Every case is a record; one loop reads the fields any of them has.
        var key: ClientKey?
        var number: UInt64?
        var reason: CloseMessageReason?
        let numberID = tag.id == resumeMessageID ? nextIncomingID : lastIncomingID
        for field in try reader.beginRecord(tag.type) {
            switch field.id {
            case clientKeyID where tag.id == openMessageID || tag.id == resumeMessageID:
                key = try clientKey(&reader, field.type)
            case numberID where tag.id != openMessageID && tag.id != closeMessageID:
                number = try reader.nat64(field.type)
            case reasonID where tag.id == closeMessageID:
                reason = try closeReason(&reader, field.type)
            default:
                try reader.skip(field.type)
            }
        }
        reader.endRecord()
        let content: WebsocketServiceMessageContent
        switch tag.id {
        case openMessageID: content = .openMessage(clientKey: try required(key, clientKeyID, reader))
        case ackMessageID: content = .ackMessage(lastIncomingSequenceNum: try required(number, numberID, reader))
        case keepAliveMessageID: content = .keepAliveMessage(lastIncomingSequenceNum: try required(number, numberID, reader))
        case closeMessageID: content = .closeMessage(reason: try required(reason, reasonID, reader))
        default:  // resumeMessageID
            content = .resumeMessage(
                clientKey: try required(key, clientKeyID, reader), nextIncomingSequenceNum: try required(number, numberID, reader))
        }
        try reader.finish()
        return content
    }

    /// `ws_open`'s argument at the extended type
    /// `record { client_nonce : nat64; gateway_principal : principal; resumable : opt bool }`,
    /// read at its wire types (the generic decoder cost ~40 k instructions of a ~190 k `ws_open`).
    /// Extra fields are skipped; `resumable` follows Candid's `opt` rule: absent, `null`,
    /// `reserved` or an `opt` of another type is `nil`, a bare `bool` is that value.
    public static func decodeWsOpenArguments(_ bytes: [UInt8]) throws(CandidError) -> CanisterWsOpenArguments {
        var reader = try CandidWireReader(bytes)
        var nonce: UInt64?
        var gateway: Principal?
        var resumable: Bool?
        for field in try reader.beginRecord(try reader.nextArgument()) {
            switch field.id {
            case clientNonceID: nonce = try reader.nat64(field.type)
            case gatewayPrincipalID: gateway = try reader.principal(field.type)
            case resumableID: resumable = try reader.optionalBool(field.type)
            default: try reader.skip(field.type)
            }
        }
        reader.endRecord()
        let arguments = CanisterWsOpenArguments(
            clientNonce: try required(nonce, clientNonceID, reader), gatewayPrincipal: try required(gateway, gatewayPrincipalID, reader),
            resumable: resumable)
        try reader.finish()
        return arguments
    }

    /// `record { client_principal : principal; client_nonce : nat64 }`.
    static func clientKey(_ reader: inout CandidWireReader, _ type: Int) throws(CandidError) -> ClientKey {
        var principal: Principal?
        var nonce: UInt64?
        for field in try reader.beginRecord(type) {
            switch field.id {
            case clientPrincipalID: principal = try reader.principal(field.type)
            case clientNonceID: nonce = try reader.nat64(field.type)
            default: try reader.skip(field.type)
            }
        }
        reader.endRecord()
        return ClientKey(
            clientPrincipal: try required(principal, clientPrincipalID, reader), clientNonce: try required(nonce, clientNonceID, reader))
    }

    /// `variant { WrongSequenceNumber; InvalidServiceMessage; KeepAliveTimeout; ClosedByApplication }`.
    static func closeReason(_ reader: inout CandidWireReader, _ type: Int) throws(CandidError) -> CloseMessageReason {
        let tag = try reader.variant(
            type, known: [wrongSequenceNumberID, invalidServiceMessageID, keepAliveTimeoutID, closedByApplicationID])
        try reader.null(tag.type)
        switch tag.id {
        case wrongSequenceNumberID: return .wrongSequenceNumber
        case invalidServiceMessageID: return .invalidServiceMessage
        case keepAliveTimeoutID: return .keepAliveTimeout
        default: return .closedByApplication
        }
    }

    private static func required<T>(_ value: T?, _ id: UInt32, _ reader: CandidWireReader) throws(CandidError) -> T {
        guard let value else { throw CandidError(.missingField(id: id), offset: reader.offset) }
        return value
    }

    // MARK: Encoding

    /// `WebsocketMessage.content` of a service message.
    public static func encode(_ content: WebsocketServiceMessageContent) -> [UInt8] {
        var out: [UInt8]
        switch content {
        // Variant cases and record fields go in id order: OpenMessage, KeepAliveMessage,
        // CloseMessage, AckMessage, ResumeMessage.
        case .openMessage(let key):
            out = serviceTable
            out.append(0)
            append(key, to: &out)
        case .keepAliveMessage(let n):
            out = serviceTable
            out.append(1)
            appendNat64(n, to: &out)
        case .closeMessage(let reason):
            out = serviceTable
            out.append(2)
            // ClosedByApplication, InvalidServiceMessage, WrongSequenceNumber, KeepAliveTimeout.
            switch reason {
            case .closedByApplication: out.append(0)
            case .invalidServiceMessage: out.append(1)
            case .wrongSequenceNumber: out.append(2)
            case .keepAliveTimeout: out.append(3)
            }
        case .ackMessage(let n):
            out = serviceTable
            out.append(3)
            appendNat64(n, to: &out)
        case .resumeMessage(let key, let next):
            out = extendedServiceTable
            out.append(4)
            append(key, to: &out)
            appendNat64(next, to: &out)
        }
        return out
    }

    /// `ws_open`'s argument: `record { client_nonce; gateway_principal }`, or with
    /// `resumable = opt b` when set (``CanisterWsOpenArguments/encodedArgument()``).
    public static func encode(_ arguments: CanisterWsOpenArguments) -> [UInt8] {
        // Fields in id order: gateway_principal, client_nonce, resumable.
        var out = arguments.resumable == nil ? openTable : extendedOpenTable
        appendPrincipal(arguments.gatewayPrincipal, to: &out)
        appendNat64(arguments.clientNonce, to: &out)
        if let resumable = arguments.resumable {
            out.append(1)
            out.append(resumable ? 1 : 0)
        }
        return out
    }

    /// `ws_message`'s arguments as the clients send them: `(record { msg }, opt null)` (no
    /// application message in the second argument).
    public static func encodeWsMessage(_ message: WebsocketMessage) -> [UInt8] {
        // Fields in id order: sequence_num, content, client_key, timestamp, is_service_message.
        var out = messageTable
        appendNat64(message.sequenceNum, to: &out)
        LEB128.encode(UInt64(message.content.count), into: &out)
        out.append(contentsOf: message.content)
        append(message.clientKey, to: &out)
        appendNat64(message.timestamp, to: &out)
        out.append(message.isServiceMessage ? 1 : 0)
        out.append(0)  // opt null
        return out
    }

    private static func append(_ key: ClientKey, to out: inout [UInt8]) {
        appendPrincipal(key.clientPrincipal, to: &out)
        appendNat64(key.clientNonce, to: &out)
    }

    private static func appendNat64(_ value: UInt64, to out: inout [UInt8]) {
        for index in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    private static func appendPrincipal(_ principal: Principal, to out: inout [UInt8]) {
        out.append(1)
        LEB128.encode(UInt64(principal.bytes.count), into: &out)
        out.append(contentsOf: principal.bytes)
    }

    // The type tables (`DIDL`, table, argument types) `CandidEncoder` writes for these types.
    static let serviceTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x06, 0x6c, 0x02, 0xfa, 0x80, 0xa2, 0x94, 0x05, 0x68, 0xbb, 0xd1, 0xea,
        0xcd, 0x0e, 0x78, 0x6c, 0x01, 0xeb, 0xb4, 0x9c, 0xe9, 0x03, 0x00, 0x6c, 0x01, 0xd8, 0x88, 0xab,
        0xb9, 0x0a, 0x78, 0x6b, 0x04, 0xcd, 0xc2, 0xda, 0xbb, 0x04, 0x7f, 0xc9, 0xc6, 0x8e, 0xa0, 0x05,
        0x7f, 0xd7, 0xab, 0xa2, 0x9c, 0x0a, 0x7f, 0x99, 0x9d, 0xaf, 0xab, 0x0d, 0x7f, 0x6c, 0x01, 0xc4,
        0x9f, 0xf4, 0xe4, 0x0f, 0x03, 0x6b, 0x04, 0xfd, 0xbd, 0x95, 0xcc, 0x01, 0x01, 0xbf, 0xd3, 0x97,
        0xb4, 0x09, 0x02, 0x8f, 0xf2, 0xd1, 0xef, 0x0a, 0x04, 0x9e, 0xb7, 0xf0, 0xad, 0x0b, 0x02, 0x01,
        0x05,
    ]
    static let extendedServiceTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x07, 0x6c, 0x02, 0xfa, 0x80, 0xa2, 0x94, 0x05, 0x68, 0xbb, 0xd1, 0xea,
        0xcd, 0x0e, 0x78, 0x6c, 0x01, 0xeb, 0xb4, 0x9c, 0xe9, 0x03, 0x00, 0x6c, 0x01, 0xd8, 0x88, 0xab,
        0xb9, 0x0a, 0x78, 0x6b, 0x04, 0xcd, 0xc2, 0xda, 0xbb, 0x04, 0x7f, 0xc9, 0xc6, 0x8e, 0xa0, 0x05,
        0x7f, 0xd7, 0xab, 0xa2, 0x9c, 0x0a, 0x7f, 0x99, 0x9d, 0xaf, 0xab, 0x0d, 0x7f, 0x6c, 0x01, 0xc4,
        0x9f, 0xf4, 0xe4, 0x0f, 0x03, 0x6c, 0x02, 0xeb, 0xb4, 0x9c, 0xe9, 0x03, 0x00, 0xb5, 0xb9, 0xc3,
        0x98, 0x0e, 0x78, 0x6b, 0x05, 0xfd, 0xbd, 0x95, 0xcc, 0x01, 0x01, 0xbf, 0xd3, 0x97, 0xb4, 0x09,
        0x02, 0x8f, 0xf2, 0xd1, 0xef, 0x0a, 0x04, 0x9e, 0xb7, 0xf0, 0xad, 0x0b, 0x02, 0xfa, 0x86, 0xd2,
        0xb9, 0x0d, 0x05, 0x01, 0x06,
    ]
    static let openTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x01, 0x6c, 0x02, 0xf3, 0xee, 0xc6, 0xb4, 0x02, 0x68, 0xbb, 0xd1, 0xea,
        0xcd, 0x0e, 0x78, 0x01, 0x00,
    ]
    static let extendedOpenTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x02, 0x6e, 0x7e, 0x6c, 0x03, 0xf3, 0xee, 0xc6, 0xb4, 0x02, 0x68, 0xbb,
        0xd1, 0xea, 0xcd, 0x0e, 0x78, 0xd2, 0x82, 0x8c, 0xcb, 0x0f, 0x00, 0x01, 0x01,
    ]
    static let messageTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x05, 0x6c, 0x02, 0xfa, 0x80, 0xa2, 0x94, 0x05, 0x68, 0xbb, 0xd1, 0xea,
        0xcd, 0x0e, 0x78, 0x6d, 0x7b, 0x6c, 0x05, 0x88, 0xec, 0xfb, 0xa7, 0x01, 0x78, 0xb9, 0x9a, 0xde,
        0xcb, 0x01, 0x01, 0xeb, 0xb4, 0x9c, 0xe9, 0x03, 0x00, 0xd6, 0xa9, 0xbb, 0xae, 0x0a, 0x78, 0xe8,
        0xf5, 0xc3, 0xbe, 0x0a, 0x7e, 0x6c, 0x01, 0xc1, 0xb4, 0xcc, 0x02, 0x02, 0x6e, 0x7f, 0x02, 0x03,
        0x04,
    ]
}
