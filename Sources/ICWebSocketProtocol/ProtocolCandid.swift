import ICCore

/// Direct Candid encoding and decoding of the protocol's values: the service messages (§3.2),
/// the arguments of the `ws_*` methods and their `variant { Ok; Err : text }` reply.
///
/// The generic Candid layer (`CandidValue` trees, type tables built per call, subtype checks,
/// coercion) is ~60 KB of code in the browser's Wasm module, for these few types. Here the
/// bytes are written at fixed type tables, byte for byte what `CandidEncoder` writes for the
/// same types (tests compare both), and values are read with ``CandidWireReader`` at
/// whatever wire types the sender used, with the generic decoder's rules for them: record
/// fields found by id (extras skipped and validated), variant subtyping, the same limits and
/// `CandidError`s. The Swift SDK, the browser module and the canister library use it (a canister
/// module then links no generic Candid code for the protocol).
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
    static let nonceID: UInt32 = 0x9fc6_4cef  // nonce
    static let msgID: UInt32 = 0x0053_1a41  // msg
    static let sequenceNumID: UInt32 = 0x14fe_f608  // sequence_num
    static let timestampID: UInt32 = 0xa5ce_d4d6  // timestamp
    static let isServiceMessageID: UInt32 = 0xa7d0_fae8  // is_service_message
    static let contentID: UInt32 = 0x1977_8d39  // content
    static let lastReceivedID: UInt32 = 0xa182_773d  // last_received_sequence_num
    static let resumeCounterID: UInt32 = 0x14cb_672a  // resume_counter

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
        case openMessageID: content = .openMessage(clientKey: try reader.required(key, field: clientKeyID))
        case ackMessageID: content = .ackMessage(lastIncomingSequenceNum: try reader.required(number, field: numberID))
        case keepAliveMessageID: content = .keepAliveMessage(lastIncomingSequenceNum: try reader.required(number, field: numberID))
        case closeMessageID: content = .closeMessage(reason: try reader.required(reason, field: reasonID))
        default:  // resumeMessageID
            content = .resumeMessage(
                clientKey: try reader.required(key, field: clientKeyID),
                nextIncomingSequenceNum: try reader.required(number, field: numberID))
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
            clientNonce: try reader.required(nonce, field: clientNonceID),
            gatewayPrincipal: try reader.required(gateway, field: gatewayPrincipalID),
            resumable: resumable)
        try reader.finish()
        return arguments
    }

    /// `ws_close`'s argument, `record { client_key : ClientKey }`, read at its wire types.
    public static func decodeWsCloseArguments(_ bytes: [UInt8]) throws(CandidError) -> CanisterWsCloseArguments {
        var reader = try CandidWireReader(bytes)
        var key: ClientKey?
        for field in try reader.beginRecord(try reader.nextArgument()) {
            if field.id == clientKeyID { key = try clientKey(&reader, field.type) } else { try reader.skip(field.type) }
        }
        reader.endRecord()
        let arguments = CanisterWsCloseArguments(clientKey: try reader.required(key, field: clientKeyID))
        try reader.finish()
        return arguments
    }

    /// `ws_get_messages`'s argument, `record { nonce : nat64 }`, read at its wire types.
    public static func decodeWsGetMessagesArguments(_ bytes: [UInt8]) throws(CandidError) -> CanisterWsGetMessagesArguments {
        var reader = try CandidWireReader(bytes)
        var nonce: UInt64?
        for field in try reader.beginRecord(try reader.nextArgument()) {
            if field.id == nonceID { nonce = try reader.nat64(field.type) } else { try reader.skip(field.type) }
        }
        reader.endRecord()
        let arguments = CanisterWsGetMessagesArguments(nonce: try reader.required(nonce, field: nonceID))
        try reader.finish()
        return arguments
    }

    /// `ws_resume`'s argument (``CanisterWsResumeArguments``), read at its wire types.
    public static func decodeWsResumeArguments(_ bytes: [UInt8]) throws(CandidError) -> CanisterWsResumeArguments {
        var reader = try CandidWireReader(bytes)
        var nonce: UInt64?
        var gateway: Principal?
        var lastReceived: UInt64?
        var counter: UInt64?
        for field in try reader.beginRecord(try reader.nextArgument()) {
            switch field.id {
            case clientNonceID: nonce = try reader.nat64(field.type)
            case gatewayPrincipalID: gateway = try reader.principal(field.type)
            case lastReceivedID: lastReceived = try reader.nat64(field.type)
            case resumeCounterID: counter = try reader.nat64(field.type)
            default: try reader.skip(field.type)
            }
        }
        reader.endRecord()
        let arguments = CanisterWsResumeArguments(
            clientNonce: try reader.required(nonce, field: clientNonceID),
            gatewayPrincipal: try reader.required(gateway, field: gatewayPrincipalID),
            lastReceivedSequenceNum: try reader.required(lastReceived, field: lastReceivedID),
            resumeCounter: try reader.required(counter, field: resumeCounterID))
        try reader.finish()
        return arguments
    }

    /// `ws_message`'s first argument, `record { msg : WebsocketMessage }`, read at its wire
    /// types; the second (`opt AppMessage`, which only documents the application's type) is
    /// skipped and validated like any extra argument.
    public static func decodeWsMessageArguments(_ bytes: [UInt8]) throws(CandidError) -> CanisterWsMessageArguments {
        var reader = try CandidWireReader(bytes)
        var message: WebsocketMessage?
        for field in try reader.beginRecord(try reader.nextArgument()) {
            if field.id == msgID { message = try websocketMessage(&reader, field.type) } else { try reader.skip(field.type) }
        }
        reader.endRecord()
        let arguments = CanisterWsMessageArguments(msg: try reader.required(message, field: msgID))
        try reader.finish()
        return arguments
    }

    /// `WebsocketMessage`: `record { client_key; sequence_num : nat64; timestamp : nat64;
    /// is_service_message : bool; content : blob }`.
    static func websocketMessage(_ reader: inout CandidWireReader, _ type: Int) throws(CandidError) -> WebsocketMessage {
        var key: ClientKey?
        var sequenceNum: UInt64?
        var timestamp: UInt64?
        var isServiceMessage: Bool?
        var content: [UInt8]?
        for field in try reader.beginRecord(type) {
            switch field.id {
            case clientKeyID: key = try clientKey(&reader, field.type)
            case sequenceNumID: sequenceNum = try reader.nat64(field.type)
            case timestampID: timestamp = try reader.nat64(field.type)
            case isServiceMessageID: isServiceMessage = try reader.bool(field.type)
            case contentID: content = try reader.blob(field.type)
            default: try reader.skip(field.type)
            }
        }
        reader.endRecord()
        return WebsocketMessage(
            clientKey: try reader.required(key, field: clientKeyID), sequenceNum: try reader.required(sequenceNum, field: sequenceNumID),
            timestamp: try reader.required(timestamp, field: timestampID),
            isServiceMessage: try reader.required(isServiceMessage, field: isServiceMessageID),
            content: try reader.required(content, field: contentID))
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
            clientPrincipal: try reader.required(principal, field: clientPrincipalID),
            clientNonce: try reader.required(nonce, field: clientNonceID))
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

    // MARK: Encoding

    /// `WebsocketMessage.content` of a service message.
    public static func encode(_ content: WebsocketServiceMessageContent) -> [UInt8] {
        // Variant cases and record fields go in id order: OpenMessage, KeepAliveMessage,
        // CloseMessage, AckMessage, ResumeMessage.
        if case .resumeMessage(let key, let next) = content {
            var out = CandidWireWriter(header: extendedServiceTable, capacity: 48)
            out.byte(4)
            write(key, to: &out)
            out.nat64(next)
            return out.bytes
        }
        var out = CandidWireWriter(header: serviceTable, capacity: 40)
        switch content {
        case .openMessage(let key):
            out.byte(0)
            write(key, to: &out)
        case .keepAliveMessage(let n):
            out.byte(1)
            out.nat64(n)
        case .closeMessage(let reason):
            out.byte(2)
            // ClosedByApplication, InvalidServiceMessage, WrongSequenceNumber, KeepAliveTimeout.
            switch reason {
            case .closedByApplication: out.byte(0)
            case .invalidServiceMessage: out.byte(1)
            case .wrongSequenceNumber: out.byte(2)
            case .keepAliveTimeout: out.byte(3)
            }
        case .ackMessage(let n):
            out.byte(3)
            out.nat64(n)
        case .resumeMessage: break  // above
        }
        return out.bytes
    }

    /// `ws_open`'s argument: `record { client_nonce; gateway_principal }`, or with
    /// `resumable = opt b` when set (``CanisterWsOpenArguments/encodedArgument()``).
    public static func encode(_ arguments: CanisterWsOpenArguments) -> [UInt8] {
        // Fields in id order: gateway_principal, client_nonce, resumable.
        var out = CandidWireWriter(header: arguments.resumable == nil ? openTable : extendedOpenTable, capacity: 42)
        out.principal(arguments.gatewayPrincipal)
        out.nat64(arguments.clientNonce)
        if let resumable = arguments.resumable {
            out.byte(1)
            out.bool(resumable)
        }
        return out.bytes
    }

    /// `ws_message`'s arguments as the clients send them: `(record { msg }, opt null)` (no
    /// application message in the second argument).
    public static func encodeWsMessage(_ message: WebsocketMessage) -> [UInt8] {
        // Fields in id order: sequence_num, content, client_key, timestamp, is_service_message.
        var out = CandidWireWriter(header: messageTable, capacity: 64 + message.content.count)
        out.nat64(message.sequenceNum)
        out.blob(message.content)
        write(message.clientKey, to: &out)
        out.nat64(message.timestamp)
        out.bool(message.isServiceMessage)
        out.byte(0)  // opt null
        return out.bytes
    }

    /// `variant { Ok : null; Err : text }`, the reply of `ws_open`, `ws_message`, `ws_close`
    /// and `ws_resume`.
    public static func encode(_ result: CanisterWsResult) -> [UInt8] {
        switch result {
        case .ok: return encodeResult(errorUTF8: nil)
        case .err(let text): return encodeResult(errorUTF8: Array(text.utf8))
        }
    }

    /// `variant { Ok : null; Err : text }` with the error text as UTF-8 bytes (`nil`: `Ok`).
    public static func encodeResult(errorUTF8: [UInt8]?) -> [UInt8] {
        // Ok (id 17724) before Err (3456837).
        guard let errorUTF8 else { return okReply }
        var out = CandidWireWriter(header: resultTable, capacity: 2 + errorUTF8.count)
        out.byte(1)
        out.text(utf8: errorUTF8)
        return out.bytes
    }

    /// `Ok`, written once: most replies are this one.
    private static let okReply: [UInt8] = resultTable + [0]

    private static func write(_ key: ClientKey, to out: inout CandidWireWriter) {
        out.principal(key.clientPrincipal)
        out.nat64(key.clientNonce)
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
    static let resultTable: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x01, 0x6b, 0x02, 0xbc, 0x8a, 0x01, 0x7f, 0xc5, 0xfe, 0xd2, 0x01, 0x71,
        0x01, 0x00,
    ]
}
