import ICCore
import ICTestSupport
import Testing

@testable import ICWebSocketProtocol

/// ``ProtocolCandid`` against the generic Candid layer: the same bytes out, the same values
/// (or a `CandidError` where the generic decoder throws too) in.
@Suite("ICWebSocketProtocol: direct Candid codec")
struct ProtocolCandidTests {
    static let client = try! Principal(text: "kj67s-b5v2y-ahlkr-kmume-xbow6-zwbtj-j4j3m-ae46e-qqrcu-uxiby-yae")
    static let gateway = try! Principal(text: "sqdfl-mr4km-2hfjy-gajqo-xqvh7-hf4mf-nra4i-3it6l-neaw4-soolw-tae")
    static let key = ClientKey(clientPrincipal: client, clientNonce: 385_892_949_151_814_926)

    static let services: [WebsocketServiceMessageContent] = [
        .openMessage(clientKey: key),
        .openMessage(clientKey: ClientKey(clientPrincipal: try! Principal(text: "aaaaa-aa"), clientNonce: 0)),
        .ackMessage(lastIncomingSequenceNum: 0), .ackMessage(lastIncomingSequenceNum: .max),
        .keepAliveMessage(lastIncomingSequenceNum: 17),
        .closeMessage(reason: .wrongSequenceNumber), .closeMessage(reason: .invalidServiceMessage),
        .closeMessage(reason: .keepAliveTimeout), .closeMessage(reason: .closedByApplication),
        .resumeMessage(clientKey: key, nextIncomingSequenceNum: 42),
    ]

    /// The Candid bytes of values written in Candid text, at the types given in Candid text.
    static func bytes(_ value: String, _ type: String) throws -> [UInt8] { try CandidTestInputs.bytes(value, type) }

    /// Every truncation of `valid` is refused by `direct`, and every single-byte change gets
    /// the same outcome (value or error) from `direct` as from `generic`.
    static func expectSameOutcomes<T: Equatable>(
        _ valid: [UInt8], direct: ([UInt8]) throws -> T, generic: ([UInt8]) throws -> T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for truncated in CandidTestInputs.truncations(of: valid) {
            #expect(throws: CandidError.self, "\(truncated.count) of \(valid.count) bytes", sourceLocation: sourceLocation) {
                try direct(truncated)
            }
        }
        for change in CandidTestInputs.singleByteChanges(of: valid) {
            #expect((try? direct(change.bytes)) == (try? generic(change.bytes)), "\(change.name)", sourceLocation: sourceLocation)
        }
    }

    /// What the generic layer decodes a service message to (at the extended type).
    static func generic(_ bytes: [UInt8]) throws -> WebsocketServiceMessageContent {
        let values = try CandidDecoder().decode(bytes, as: [WebsocketServiceMessageContent.extendedCandidType])
        return try WebsocketServiceMessageContent(candid: values[0])
    }

    @Test("field ids are the hashes of their names")
    func fieldIDs() {
        let ids: [(UInt32, String)] = [
            (ProtocolCandid.clientKeyID, "client_key"), (ProtocolCandid.clientPrincipalID, "client_principal"),
            (ProtocolCandid.clientNonceID, "client_nonce"), (ProtocolCandid.lastIncomingID, "last_incoming_sequence_num"),
            (ProtocolCandid.nextIncomingID, "next_incoming_sequence_num"), (ProtocolCandid.reasonID, "reason"),
            (ProtocolCandid.openMessageID, "OpenMessage"), (ProtocolCandid.ackMessageID, "AckMessage"),
            (ProtocolCandid.keepAliveMessageID, "KeepAliveMessage"), (ProtocolCandid.closeMessageID, "CloseMessage"),
            (ProtocolCandid.resumeMessageID, "ResumeMessage"),
            (ProtocolCandid.wrongSequenceNumberID, "WrongSequenceNumber"),
            (ProtocolCandid.invalidServiceMessageID, "InvalidServiceMessage"),
            (ProtocolCandid.keepAliveTimeoutID, "KeepAliveTimeout"),
            (ProtocolCandid.closedByApplicationID, "ClosedByApplication"),
            (ProtocolCandid.nonceID, "nonce"), (ProtocolCandid.msgID, "msg"), (ProtocolCandid.sequenceNumID, "sequence_num"),
            (ProtocolCandid.timestampID, "timestamp"), (ProtocolCandid.isServiceMessageID, "is_service_message"),
            (ProtocolCandid.contentID, "content"), (ProtocolCandid.lastReceivedID, "last_received_sequence_num"),
            (ProtocolCandid.resumeCounterID, "resume_counter"),
        ]
        for (id, name) in ids { #expect(id == CandidFieldID.hash(name), "\(name)") }
    }

    @Test("service messages: CandidEncoder's bytes, and both decoders read them back")
    func serviceMessages() throws {
        for service in Self.services {
            let generic: [UInt8]
            if case .resumeMessage = service {
                generic = try CandidEncoder.encode(
                    [service.candidValue()], types: [WebsocketServiceMessageContent.extendedCandidType])
            } else {
                generic = try Candid.encode(service)
            }
            #expect(ProtocolCandid.encode(service) == generic, "\(service)")
            #expect(try ProtocolCandid.decodeServiceMessage(generic) == service)
            #expect(try Self.generic(generic) == service)
        }
    }

    @Test("ws_open and ws_message arguments: CandidEncoder's bytes")
    func arguments() throws {
        for resumable in [nil, true, false] as [Bool?] {
            let open = CanisterWsOpenArguments(clientNonce: 7, gatewayPrincipal: Self.gateway, resumable: resumable)
            let generic: [UInt8]
            if let resumable {
                generic = try CandidEncoder.encode(
                    [
                        .record(sorting: [
                            .field("client_nonce", UInt64(7)), .field("gateway_principal", Self.gateway),
                            .field("resumable", Optional.some(resumable)),
                        ])
                    ], types: [CanisterWsOpenArguments.extendedCandidType])
            } else {
                generic = try Candid.encode(open)
            }
            #expect(ProtocolCandid.encode(open) == generic)
            #expect(try Candid.decode(CanisterWsOpenArguments.self, from: ProtocolCandid.encode(open)).clientNonce == 7)
        }
        for content in [[], [0x44, 0x49, 0x44, 0x4c, 0, 1, 0x71, 0], [UInt8](repeating: 0xab, count: 300)] as [[UInt8]] {
            for isService in [false, true] {
                let message = WebsocketMessage(
                    clientKey: Self.key, sequenceNum: 3, timestamp: 1_702_143_818_946_826_129, isServiceMessage: isService,
                    content: content)
                let generic = try Candid.encode(CanisterWsMessageArguments(msg: message), CandidNull?.none)
                #expect(ProtocolCandid.encodeWsMessage(message) == generic)
            }
        }
    }

    @Test(
        "the reference CDK's service messages (sdk-js-frames.json) decode as with the generic decoder",
        .enabled(if: TestVectors.isAvailable))
    func referenceFrames() throws {
        struct Frame: Decodable { var name: String; var content: String }
        struct Fixture: Decodable { var canister_to_client_frames: [Frame] }
        let fixture = try TestVectors.decode(Fixture.self, from: "ic-websocket/sdk-js-frames.json")
        var count = 0
        for frame in fixture.canister_to_client_frames {
            let message = try WebsocketMessage(cbor: Hex.decode(frame.content))
            guard message.isServiceMessage else { continue }
            count += 1
            let direct = try ProtocolCandid.decodeServiceMessage(message.content)
            #expect(direct == (try Self.generic(message.content)), "\(frame.name)")
            // The Rust layout differs from ours (outer type first); the value is what counts.
            #expect(try ProtocolCandid.decodeServiceMessage(ProtocolCandid.encode(direct)) == direct)
        }
        #expect(count == 3)
    }

    @Test("other wire types of the same values: subtypes read, mismatches named")
    func subtypes() throws {
        // A variant with only the case sent, a record with an extra field, extra arguments.
        let ack = try Self.bytes(
            "(variant { AckMessage = record { last_incoming_sequence_num = 5 : nat64; note = \"x\" } }, 1 : nat)",
            "(variant { AckMessage : record { last_incoming_sequence_num : nat64; note : text } }, nat)")
        #expect(try ProtocolCandid.decodeServiceMessage(ack) == .ackMessage(lastIncomingSequenceNum: 5))
        #expect(try Self.generic(ack) == .ackMessage(lastIncomingSequenceNum: 5))
        let close = try Self.bytes(
            "(variant { CloseMessage = record { reason = variant { KeepAliveTimeout } } })",
            "(variant { CloseMessage : record { reason : variant { KeepAliveTimeout; ClosedByApplication } } })")
        #expect(try ProtocolCandid.decodeServiceMessage(close) == .closeMessage(reason: .keepAliveTimeout))

        func expectError(_ bytes: [UInt8], _ matches: (CandidError.Kind) -> Bool, _ comment: Comment) {
            #expect(throws: CandidError.self, comment) { try Self.generic(bytes) }
            do {
                let value = try ProtocolCandid.decodeServiceMessage(bytes)
                Issue.record("decoded \(value): \(comment)")
            } catch {
                #expect(matches(error.kind), "\(error): \(comment)")
                #expect(!error.description.isEmpty)
            }
        }
        expectError(
            try Self.bytes(
                "(variant { AckMessage = record { last_incoming_sequence_num = 5 : nat32 } })",
                "(variant { AckMessage : record { last_incoming_sequence_num : nat32 } })"),
            { $0 == .typeMismatch(expected: .nat64, found: .nat32) }, "nat32 for nat64")
        expectError(
            try Self.bytes("(variant { Hello = record {} })", "(variant { Hello : record {}; AckMessage : null })"),
            { $0 == .unknownVariantTag(id: CandidFieldID.hash("Hello")) }, "an unknown tag")
        expectError(
            try Self.bytes("(variant { AckMessage = record {} })", "(variant { AckMessage : record {} })"),
            { $0 == .missingField(id: ProtocolCandid.lastIncomingID) }, "a missing field")
        expectError(
            try Self.bytes("(record { AckMessage = 1 : nat64 })", "(record { AckMessage : nat64 })"),
            { $0 == .typeMismatch(expected: .variant, found: .record) }, "a record for the variant")
        expectError(Candid.encode(), { $0 == .missingArgument(index: 0) }, "no argument")
        expectError([0x44, 0x49, 0x44], { $0 == .badMagic }, "no magic")
        expectError(
            ProtocolCandid.encode(.ackMessage(lastIncomingSequenceNum: 1)) + [0],
            { if case .trailingBytes = $0 { return true } else { return false } }, "a trailing byte")
    }

    @Test("malformed input: truncations and single-byte changes throw where the generic decoder does, never trap")
    func malformed() throws {
        for service in Self.services {
            Self.expectSameOutcomes(
                ProtocolCandid.encode(service), direct: ProtocolCandid.decodeServiceMessage, generic: Self.generic)
        }
    }

    /// What the generic layer decodes a `ws_open` argument to (at the extended type).
    static func genericOpen(_ bytes: [UInt8]) throws -> CanisterWsOpenArguments {
        let values = try CandidDecoder().decode(bytes, as: [CanisterWsOpenArguments.extendedCandidType])
        return try CanisterWsOpenArguments(candid: values[0])
    }

    @Test("ws_open arguments: the direct decoder reads what the generic one reads, at every wire type")
    func openArguments() throws {
        let gateway = "principal \"\(Self.gateway)\""
        var cases: [[UInt8]] = [nil, true, false].map {
            ProtocolCandid.encode(CanisterWsOpenArguments(clientNonce: 9, gatewayPrincipal: Self.gateway, resumable: $0))
        }
        cases += [
            // opt bool null, a bare bool (Candid's opt rule: that value), an opt of another type
            // and a value of another type (null), reserved, extra fields and arguments.
            try Self.bytes(
                "(record { client_nonce = 1 : nat64; gateway_principal = \(gateway); resumable = null })",
                "(record { client_nonce : nat64; gateway_principal : principal; resumable : opt bool })"),
            try Self.bytes(
                "(record { client_nonce = 2 : nat64; gateway_principal = \(gateway); resumable = true })",
                "(record { client_nonce : nat64; gateway_principal : principal; resumable : bool })"),
            try Self.bytes(
                "(record { client_nonce = 3 : nat64; gateway_principal = \(gateway); resumable = opt \"yes\" })",
                "(record { client_nonce : nat64; gateway_principal : principal; resumable : opt text })"),
            try Self.bytes(
                "(record { client_nonce = 4 : nat64; gateway_principal = \(gateway); resumable = 1 : nat8 })",
                "(record { client_nonce : nat64; gateway_principal : principal; resumable : nat8 })"),
            try Self.bytes(
                "(record { client_nonce = 5 : nat64; gateway_principal = \(gateway); resumable = null })",
                "(record { client_nonce : nat64; gateway_principal : principal; resumable : reserved })"),
            try Self.bytes(
                "(record { client_nonce = 6 : nat64; gateway_principal = \(gateway); extra = \"x\" }, 7 : nat)",
                "(record { client_nonce : nat64; gateway_principal : principal; extra : text }, nat)"),
        ]
        let expected: [Bool?] = [nil, true, false, nil, true, nil, nil, nil, nil]
        for (index, encoded) in cases.enumerated() {
            let direct = try ProtocolCandid.decodeWsOpenArguments(encoded)
            #expect(direct == (try Self.genericOpen(encoded)), "case \(index)")
            #expect(direct.resumable == expected[index], "case \(index)")
            #expect(direct.gatewayPrincipal == Self.gateway)
        }

        // Refused by both: a missing field, a nat32 nonce, a record missing altogether.
        for refused in [
            try Self.bytes("(record { client_nonce = 1 : nat64 })", "(record { client_nonce : nat64 })"),
            try Self.bytes(
                "(record { client_nonce = 1 : nat32; gateway_principal = \(gateway) })",
                "(record { client_nonce : nat32; gateway_principal : principal })"),
            try Self.bytes("(1 : nat64)", "(nat64)"), Candid.encode(),
        ] {
            #expect(throws: CandidError.self) { try Self.genericOpen(refused) }
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsOpenArguments(refused) }
        }
        // Every truncation and single-byte change: the same outcome as the generic decoder.
        Self.expectSameOutcomes(cases[1], direct: ProtocolCandid.decodeWsOpenArguments, generic: Self.genericOpen)
        #expect(ProtocolCandid.gatewayPrincipalID == CandidFieldID.hash("gateway_principal"))
        #expect(ProtocolCandid.resumableID == CandidFieldID.hash("resumable"))
    }

    /// The generic decoding of `bytes` at `T`'s Candid type (its first argument; the rest skipped).
    static func generic<T: CandidDecodable>(_ type: T.Type) -> ([UInt8]) throws -> T {
        { bytes in try T(candid: try CandidDecoder().decode(bytes, as: [T.candidType])[0]) }
    }

    @Test("ws_close, ws_get_messages, ws_resume and ws_message arguments: the direct decoders read what the generic one reads")
    func methodArguments() throws {
        let key = "record { client_principal = principal \"\(Self.client)\"; client_nonce = 7 : nat64 }"
        let keyType = "record { client_principal : principal; client_nonce : nat64 }"
        let gateway = "principal \"\(Self.gateway)\""
        let message =
            "record { client_key = \(key); sequence_num = 3 : nat64; timestamp = 1700000000000000000 : nat64; "
            + "is_service_message = false; content = blob \"\\44\\49\\44\\4c\\00\\00\" }"
        let messageType =
            "record { client_key : \(keyType); sequence_num : nat64; timestamp : nat64; is_service_message : bool; content : blob }"

        // ws_close: the SDK's form, an extra field and an extra argument; refused: no key, a nat32 nonce.
        let closes = [
            try Candid.encode(CanisterWsCloseArguments(clientKey: Self.key)),
            try Self.bytes(
                "(record { client_key = \(key); note = \"x\" }, 1 : nat)", "(record { client_key : \(keyType); note : text }, nat)"),
        ]
        for bytes in closes {
            #expect(try ProtocolCandid.decodeWsCloseArguments(bytes) == (try Self.generic(CanisterWsCloseArguments.self)(bytes)))
        }
        #expect(try ProtocolCandid.decodeWsCloseArguments(closes[0]).clientKey == Self.key)
        for refused in [
            try Self.bytes("(record { other = 1 : nat64 })", "(record { other : nat64 })"),
            try Self.bytes(
                "(record { client_key = record { client_principal = \(gateway); client_nonce = 7 : nat32 } })",
                "(record { client_key : record { client_principal : principal; client_nonce : nat32 } })"),
            Candid.encode(),
        ] {
            #expect(throws: CandidError.self) { try Self.generic(CanisterWsCloseArguments.self)(refused) }
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsCloseArguments(refused) }
        }
        Self.expectSameOutcomes(
            closes[0], direct: ProtocolCandid.decodeWsCloseArguments, generic: Self.generic(CanisterWsCloseArguments.self))

        // ws_get_messages.
        let polls = [
            try Candid.encode(CanisterWsGetMessagesArguments(nonce: 0)),
            try Candid.encode(CanisterWsGetMessagesArguments(nonce: .max)),
            try Self.bytes("(record { nonce = 5 : nat64; limit = opt (3 : nat) })", "(record { nonce : nat64; limit : opt nat })"),
        ]
        for bytes in polls {
            #expect(
                try ProtocolCandid.decodeWsGetMessagesArguments(bytes)
                    == (try Self.generic(CanisterWsGetMessagesArguments.self)(bytes)))
        }
        #expect(try ProtocolCandid.decodeWsGetMessagesArguments(polls[1]).nonce == .max)
        for refused in [
            try Self.bytes("(record { nonce = 5 : nat })", "(record { nonce : nat })"),
            try Self.bytes("(5 : nat64)", "(nat64)"),
        ] {
            #expect(throws: CandidError.self) { try Self.generic(CanisterWsGetMessagesArguments.self)(refused) }
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsGetMessagesArguments(refused) }
        }
        Self.expectSameOutcomes(
            polls[1], direct: ProtocolCandid.decodeWsGetMessagesArguments, generic: Self.generic(CanisterWsGetMessagesArguments.self))

        // ws_resume.
        let resume = CanisterWsResumeArguments(
            clientNonce: 9, gatewayPrincipal: Self.gateway, lastReceivedSequenceNum: 41, resumeCounter: 2)
        let resumes = [
            try Candid.encode(resume),
            try Self.bytes(
                "(record { client_nonce = 9 : nat64; gateway_principal = \(gateway); last_received_sequence_num = 41 : nat64; "
                    + "resume_counter = 2 : nat64; extra = vec { 1 : nat8 } })",
                "(record { client_nonce : nat64; gateway_principal : principal; last_received_sequence_num : nat64; "
                    + "resume_counter : nat64; extra : vec nat8 })"),
        ]
        for bytes in resumes {
            #expect(try ProtocolCandid.decodeWsResumeArguments(bytes) == resume)
            #expect(try Self.generic(CanisterWsResumeArguments.self)(bytes) == resume)
        }
        let noCounter = try Self.bytes(
            "(record { client_nonce = 9 : nat64; gateway_principal = \(gateway); last_received_sequence_num = 41 : nat64 })",
            "(record { client_nonce : nat64; gateway_principal : principal; last_received_sequence_num : nat64 })")
        #expect(throws: CandidError.self) { try Self.generic(CanisterWsResumeArguments.self)(noCounter) }
        #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsResumeArguments(noCounter) }
        Self.expectSameOutcomes(
            resumes[0], direct: ProtocolCandid.decodeWsResumeArguments, generic: Self.generic(CanisterWsResumeArguments.self))

        // ws_message: the SDK's form, the reference gateway's `opt AppMessage` second argument,
        // an extra field in the message; refused: a text content, a missing timestamp.
        let websocketMessage = WebsocketMessage(
            clientKey: Self.key, sequenceNum: 3, timestamp: 1_700_000_000_000_000_000, isServiceMessage: true,
            content: ProtocolCandid.encode(.keepAliveMessage(lastIncomingSequenceNum: 2)))
        let messages = [
            ProtocolCandid.encodeWsMessage(websocketMessage),
            try Self.bytes(
                "(record { msg = \(message) }, opt record { text = \"hi\" })",
                "(record { msg : \(messageType) }, opt record { text : text })"),
            try Self.bytes(
                "(record { msg = record { client_key = \(key); sequence_num = 3 : nat64; timestamp = 1 : nat64; "
                    + "is_service_message = false; content = blob \"\"; priority = 1 : nat8 } })",
                "(record { msg : record { client_key : \(keyType); sequence_num : nat64; timestamp : nat64; "
                    + "is_service_message : bool; content : blob; priority : nat8 } })"),
        ]
        for bytes in messages {
            #expect(
                try ProtocolCandid.decodeWsMessageArguments(bytes) == (try Self.generic(CanisterWsMessageArguments.self)(bytes)))
        }
        #expect(try ProtocolCandid.decodeWsMessageArguments(messages[0]).msg == websocketMessage)
        for refused in [
            try Self.bytes(
                "(record { msg = record { client_key = \(key); sequence_num = 3 : nat64; timestamp = 1 : nat64; "
                    + "is_service_message = false; content = \"text\" } })",
                "(record { msg : record { client_key : \(keyType); sequence_num : nat64; timestamp : nat64; "
                    + "is_service_message : bool; content : text } })"),
            try Self.bytes(
                "(record { msg = record { client_key = \(key); sequence_num = 3 : nat64; is_service_message = false; content = blob \"\" } })",
                "(record { msg : record { client_key : \(keyType); sequence_num : nat64; is_service_message : bool; content : blob } })"),
        ] {
            #expect(throws: CandidError.self) { try Self.generic(CanisterWsMessageArguments.self)(refused) }
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsMessageArguments(refused) }
        }
        Self.expectSameOutcomes(
            messages[0], direct: ProtocolCandid.decodeWsMessageArguments, generic: Self.generic(CanisterWsMessageArguments.self))
    }

    @Test("the ws_* reply variant { Ok; Err : text } is CandidEncoder's bytes")
    func resultReply() throws {
        for result in [
            CanisterWsResult.ok, .err(""), .err("Client with principal x doesn't have an open connection"),
            .err("héllo ✓ " + String(repeating: "x", count: 200)),
        ] {
            #expect(ProtocolCandid.encode(result) == (try Candid.encode(result)))
        }
    }
}
