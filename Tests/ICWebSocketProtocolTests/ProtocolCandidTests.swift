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
    static func bytes(_ value: String, _ type: String) throws -> [UInt8] {
        let types = try CandidTextParser.parseArgumentTypes(type)
        let values = try CandidValue.coerce(CandidTextParser.parseArguments(value), to: types)
        return try CandidEncoder.encode(values, types: types)
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

    @Test("the reference CDK's service messages (sdk-js-frames.json) decode as with the generic decoder")
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
            let valid = ProtocolCandid.encode(service)
            for length in 0..<valid.count {
                #expect(throws: CandidError.self) { try ProtocolCandid.decodeServiceMessage(Array(valid[..<length])) }
            }
            for index in valid.indices {
                for replacement in [0x00, 0x01, 0x7f, 0x80, 0xff, valid[index] ^ 0x01] as [UInt8] {
                    var bytes = valid
                    bytes[index] = replacement
                    let generic = try? Self.generic(bytes)
                    let direct = try? ProtocolCandid.decodeServiceMessage(bytes)
                    #expect(direct == generic, "\(service) byte \(index) = \(replacement)")
                }
            }
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
        let valid = cases[1]
        for length in 0..<valid.count {
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsOpenArguments(Array(valid[..<length])) }
        }
        for index in valid.indices {
            for replacement in [0x00, 0x01, 0x7f, 0x80, 0xff, valid[index] ^ 0x01] as [UInt8] {
                var changed = valid
                changed[index] = replacement
                #expect(
                    (try? ProtocolCandid.decodeWsOpenArguments(changed)) == (try? Self.genericOpen(changed)),
                    "byte \(index) = \(replacement)")
            }
        }
        #expect(ProtocolCandid.gatewayPrincipalID == CandidFieldID.hash("gateway_principal"))
        #expect(ProtocolCandid.resumableID == CandidFieldID.hash("resumable"))
    }
}
