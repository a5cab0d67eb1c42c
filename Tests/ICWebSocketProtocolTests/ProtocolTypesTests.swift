import ICCore
import ICTestSupport
import ICWebSocketProtocol
import Testing

private let gateway = try! Principal(text: "sqdfl-mr4km-2hfjy-gajqo-xqvh7-hf4mf-nra4i-3it6l-neaw4-soolw-tae")
private let client = try! Principal(text: "kj67s-b5v2y-ahlkr-kmume-xbow6-zwbtj-j4j3m-ae46e-qqrcu-uxiby-yae")

@Suite("ICWebSocketProtocol: Candid types")
struct CandidTypesTests {
    func roundTrip<T: CandidCodable & Equatable>(_ value: T) throws {
        #expect(try Candid.decode(T.self, from: Candid.encode(value)) == value)
    }

    @Test("every interface type round-trips")
    func roundTrips() throws {
        let key = ClientKey(clientPrincipal: client, clientNonce: 385_892_949_151_814_926)
        let message = WebsocketMessage(
            clientKey: key, sequenceNum: 3, timestamp: 1_702_143_818_946_826_129, isServiceMessage: false,
            content: [0x44, 0x49, 0x44, 0x4c, 0, 1, 0x71, 0])
        try roundTrip(key)
        try roundTrip(message)
        try roundTrip(CanisterWsOpenArguments(clientNonce: 7, gatewayPrincipal: gateway))
        try roundTrip(CanisterWsCloseArguments(clientKey: key))
        try roundTrip(CanisterWsMessageArguments(msg: message))
        try roundTrip(CanisterWsGetMessagesArguments(nonce: .max))
        try roundTrip(CanisterWsResult.ok)
        try roundTrip(CanisterWsResult.err("Anonymous principal is not allowed"))
        let output = CanisterOutputMessage(clientKey: key, key: MessageKey.format(gateway: gateway, nonce: 2), content: [1, 2])
        let batch = CanisterOutputCertifiedMessages(messages: [output, output], cert: [9], tree: [8], isEndOfQueue: false)
        try roundTrip(batch)
        try roundTrip(CanisterWsGetMessagesResult.ok(batch))
        try roundTrip(CanisterWsGetMessagesResult.ok(.empty))
        try roundTrip(CanisterWsGetMessagesResult.err("x"))
        for content in [
            WebsocketServiceMessageContent.openMessage(clientKey: key), .ackMessage(lastIncomingSequenceNum: 5),
            .keepAliveMessage(lastIncomingSequenceNum: 0), .closeMessage(reason: .wrongSequenceNumber),
            .closeMessage(reason: .invalidServiceMessage), .closeMessage(reason: .keepAliveTimeout),
            .closeMessage(reason: .closedByApplication),
        ] {
            try roundTrip(content)
            #expect(try WebsocketServiceMessageContent.decode(content.encoded()) == content)
        }
    }

    @Test("the types match the .did text of §3.1 and §3.2")
    func matchesDid() throws {
        let key = ClientKey(clientPrincipal: client, clientNonce: 1)
        let message = WebsocketMessage(clientKey: key, sequenceNum: 2, timestamp: 3, isServiceMessage: true, content: [4])
        let type = try CandidTextParser.parseType(
            """
            record { msg : record { client_key : record { client_principal : principal; client_nonce : nat64 };
              sequence_num : nat64; timestamp : nat64; is_service_message : bool; content : blob } }
            """)
        let value = try CandidTextParser.parseValue(
            """
            record { msg = record { client_key = record { client_principal = principal "\(client)"; client_nonce = 1 };
              sequence_num = 2; timestamp = 3; is_service_message = true; content = blob "\\04" } }
            """)
        #expect(try Candid.encode(CanisterWsMessageArguments(msg: message)) == CandidEncoder.encode([value], types: [type]))

        let serviceType = try CandidTextParser.parseType(
            """
            variant { OpenMessage : record { client_key : record { client_principal : principal; client_nonce : nat64 } };
              AckMessage : record { last_incoming_sequence_num : nat64 };
              KeepAliveMessage : record { last_incoming_sequence_num : nat64 };
              CloseMessage : record { reason : variant { WrongSequenceNumber; InvalidServiceMessage; KeepAliveTimeout; ClosedByApplication } } }
            """)
        let close = try CandidTextParser.parseValue("variant { CloseMessage = record { reason = variant { KeepAliveTimeout } } }")
        #expect(
            WebsocketServiceMessageContent.closeMessage(reason: .keepAliveTimeout).encoded()
                == (try CandidEncoder.encode([close], types: [serviceType])))

        let resultType = try CandidTextParser.parseType(
            """
            variant { Ok : record { messages : vec record { client_key : record { client_principal : principal; client_nonce : nat64 };
              key : text; content : blob }; cert : blob; tree : blob; is_end_of_queue : bool }; Err : text }
            """)
        let resultValue = try CandidTextParser.parseValue(
            """
            variant { Ok = record { messages = vec {}; cert = blob ""; tree = blob ""; is_end_of_queue = true } }
            """)
        #expect(try Candid.encode(CanisterWsGetMessagesResult.ok(.empty)) == CandidEncoder.encode([resultValue], types: [resultType]))
    }

    @Test("is_end_of_queue: absent (libraries before 0.3.1) reads as true")
    func endOfQueueAbsent() throws {
        let oldType = try CandidTextParser.parseType(
            """
            variant { Ok : record { messages : vec record { client_key : record { client_principal : principal; client_nonce : nat64 };
              key : text; content : blob }; cert : blob; tree : blob }; Err : text }
            """)
        let value = try CandidTextParser.parseValue("variant { Ok = record { messages = vec {}; cert = blob \"c\"; tree = blob \"t\" } }")
        let bytes = try CandidEncoder.encode([value], types: [oldType])
        let decoded = try CandidDecoder().decode(bytes, as: [CanisterWsGetMessagesResult.lenientCandidType])
        let result = try CanisterWsGetMessagesResult(candid: decoded[0])
        #expect(
            result == .ok(CanisterOutputCertifiedMessages(messages: [], cert: Array("c".utf8), tree: Array("t".utf8), isEndOfQueue: true)))
    }

    @Test("ws_message's two arguments: (CanisterWsMessageArguments, opt null) as the JS client sends them")
    func wsMessageArguments() throws {
        let key = ClientKey(clientPrincipal: client, clientNonce: 1)
        let args = CanisterWsMessageArguments(
            msg: WebsocketMessage(
                clientKey: key, sequenceNum: 1, timestamp: 0, isServiceMessage: false, content: []))
        let bytes = try Candid.encode(args, CandidNull?.none)
        // The canister declares `opt AppMessage`; `opt null` none is accepted and ignored.
        let decoded = try Candid.decode(CanisterWsMessageArguments.self, String?.self, from: bytes)
        #expect(decoded.0 == args)
        #expect(decoded.1 == nil)
    }

    @Test("client key text and message keys (scenario 30)")
    func keys() throws {
        #expect(ClientKey(clientPrincipal: client, clientNonce: 42).description == "\(client)_42")
        #expect(
            MessageKey.format(gateway: gateway, nonce: 5)
                == "sqdfl-mr4km-2hfjy-gajqo-xqvh7-hf4mf-nra4i-3it6l-neaw4-soolw-tae_00000000000000000005")
        #expect(MessageKey.format(gateway: .anonymous, nonce: .max) == "2vxsx-fae_18446744073709551615")
        #expect(MessageKey.format(gateway: .anonymous, nonce: 0) == "2vxsx-fae_00000000000000000000")
        for nonce: UInt64 in [0, 1, 9, 10, 99, 12_345_678_901, .max - 1, .max] {
            let key = MessageKey.format(gateway: gateway, nonce: nonce)
            #expect(key.utf8.count == gateway.description.utf8.count + 21)
            #expect(MessageKey.nonce(of: key) == nonce)
        }
        // Byte order equals nonce order.
        let keys: [UInt64] = [0, 9, 10, 11, 100, 1 << 40, .max]
        let encoded = keys.map { Array(MessageKey.format(gateway: gateway, nonce: $0).utf8) }
        #expect(encoded == encoded.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(MessageKey.nonce(of: "abc_not-a-u64") == nil)
        #expect(MessageKey.nonce(of: "abc_") == nil)
        #expect(MessageKey.nonce(of: "abc") == nil)
        #expect(MessageKey.nonce(of: "abc_18446744073709551616") == nil)
        #expect(MessageKey.nonce(of: "a_b_17") == 17)
    }
}

@Suite("ICWebSocketProtocol: CBOR documents and frames")
struct FrameTests {
    @Test("WebsocketMessage CBOR round trip, with and without the tag, unknown keys ignored")
    func contentRoundTrip() throws {
        let message = WebsocketMessage(
            clientKey: ClientKey(clientPrincipal: client, clientNonce: .max), sequenceNum: 1, timestamp: 2,
            isServiceMessage: true, content: WebsocketServiceMessageContent.ackMessage(lastIncomingSequenceNum: 0).encoded())
        #expect(try WebsocketMessage(cbor: message.cborEncoded()) == message)
        #expect(try WebsocketMessage(cbor: message.cborEncoded(selfDescribe: false)) == message)
        // Motoko-style: other field order, an extra field, no tag.
        let reordered: CBORValue = [
            "content": .byteString(message.content), "extra": 5, "is_service_message": true, "timestamp": 2,
            "sequence_num": 1,
            "client_key": ["client_nonce": .unsigned(.max), "client_principal": .byteString(client.bytes)],
        ]
        #expect(try WebsocketMessage(cbor: CBOREncoder.encode(reordered)) == message)
        // Principals must be byte strings.
        let textPrincipal: CBORValue = [
            "client_key": ["client_principal": .textString(client.description), "client_nonce": 1],
            "sequence_num": 1, "timestamp": 2, "is_service_message": true, "content": .byteString([]),
        ]
        #expect(throws: ICWebSocketProtocolError.self) { try WebsocketMessage(cbor: CBOREncoder.encode(textPrincipal)) }
    }

    @Test("G1 handshake bytes (§2.3)")
    func handshake() throws {
        let bytes = GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded()
        #expect(
            Hex.encode(bytes)
                == "d9d9f7a171676174657761795f7072696e636970616c581d3c533472a7060260ebc2a7f9cbc615b10711b44fcb69016e49ce5da602")
        #expect(try GatewayHandshakeFrame(decoding: bytes).gatewayPrincipal == gateway)
        let text = CBOREncoder.encode(["gateway_principal": .textString(gateway.description)], selfDescribe: true)
        #expect(throws: ICWebSocketProtocolError.self) { try GatewayHandshakeFrame(decoding: text) }
        #expect(throws: ICWebSocketProtocolError.self) { try GatewayHandshakeFrame(decoding: CBOREncoder.encode([:])) }
        #expect(throws: ICWebSocketProtocolError.self) { try GatewayHandshakeFrame(decoding: CBOREncoder.encode(.null)) }
    }

    @Test("G2 canister message frame round trip, tag optional")
    func canisterMessage() throws {
        let frame = CanisterMessageFrame(key: "k_00000000000000000000", content: [1], cert: [2, 3], tree: [4])
        let bytes = frame.encoded()
        #expect(bytes.first == 0xa4)
        #expect(try CanisterMessageFrame(decoding: bytes) == frame)
        #expect(try CanisterMessageFrame(decoding: [0xd9, 0xd9, 0xf7] + bytes) == frame)
        let bad = CBOREncoder.encode([
            "key": .byteString([1]), "content": .byteString([]), "cert": .byteString([]), "tree": .byteString([]),
        ])
        #expect(throws: ICWebSocketProtocolError.self) { try CanisterMessageFrame(decoding: bad) }
    }

    @Test("C1 client request keeps the envelope bytes exactly")
    func clientRequest() throws {
        let arg = try Candid.encode(CanisterWsOpenArguments(clientNonce: 9, gatewayPrincipal: gateway))
        let envelope: CBORValue = [
            "content": [
                "request_type": "call", "canister_id": .byteString([0x80, 0, 0, 0, 0, 0x10, 0, 0, 1, 1]),
                "method_name": "ws_open", "arg": .byteString(arg), "sender": .byteString(client.bytes),
                "ingress_expiry": .unsigned(1_700_000_000_000_000_000), "nonce": .byteString([UInt8](repeating: 7, count: 16)),
            ],
            "sender_pubkey": .byteString([1, 2]), "sender_sig": .byteString([3, 4]),
        ]
        // Non-canonical on purpose (an 8-byte integer where 1 byte would do) to check the bytes survive.
        var encoder = CBOREncoder()
        encoder.encode(envelope)
        var envelopeBytes = encoder.bytes
        envelopeBytes.append(contentsOf: [])
        let frame = try ClientRequestFrame(envelopeBytes: envelopeBytes)
        let wire = frame.encoded()
        let decoded = try ClientRequestFrame(decoding: wire)
        #expect(decoded.envelopeBytes == envelopeBytes)
        #expect(decoded.methodName == "ws_open")
        #expect(decoded.requestType == "call")
        #expect(decoded.sender == client)
        #expect(decoded.canisterID?.description == "bnz7o-iuaaa-aaaaa-qaaaa-cai")
        #expect(try Candid.decode(CanisterWsOpenArguments.self, from: decoded.arg ?? []).clientNonce == 9)
        // An indefinite-length outer map with an extra entry first.
        var indefinite: [UInt8] = [0xd9, 0xd9, 0xf7, 0xbf]
        indefinite += CBOREncoder.encode("other") + CBOREncoder.encode([1, 2])
        indefinite += CBOREncoder.encode("envelope") + envelopeBytes + [0xff]
        #expect(try ClientRequestFrame(decoding: indefinite).envelopeBytes == envelopeBytes)
        #expect(throws: ICWebSocketProtocolError.self) { try ClientRequestFrame(decoding: CBOREncoder.encode(["x": 1])) }
        #expect(throws: ICWebSocketProtocolError.self) { try ClientRequestFrame(decoding: [0xa1, 0x68]) }
    }
}

/// The SDK fixtures (protocol Appendix A): content written by the Rust CDK.
@Suite("ICWebSocketProtocol: sdk-js fixtures", .enabled(if: TestVectors.isAvailable))
struct FixtureTests {
    struct Fixture: Decodable {
        struct Frame: Decodable {
            struct Expected: Decodable {
                var sequence_num: UInt64
                var is_service_message: Bool
                var timestamp_ns: String
                var payload: String
                var sha256_content: String
            }
            var name: String
            var key: String
            var content: String
            var cert: String
            var tree: String
            var expected: Expected
        }
        struct Key: Decodable {
            var client_principal_text: String
            /// A decimal string (the JSON keeps u64 values exact).
            var client_nonce: String
        }
        var gateway_principal_text: String
        var handshake_frame_derived: String
        var client_key: Key
        var canister_to_client_frames: [Frame]
    }

    static func load() throws -> Fixture {
        try TestVectors.decode(Fixture.self, from: "ic-websocket/sdk-js-frames.json")
    }

    @Test("content bytes: decode, re-encode byte for byte, and the expected fields")
    func contents() throws {
        let fixture = try Self.load()
        let key = ClientKey(
            clientPrincipal: try Principal(text: fixture.client_key.client_principal_text),
            clientNonce: UInt64(fixture.client_key.client_nonce)!)
        let gatewayPrincipal = try Principal(text: fixture.gateway_principal_text)
        #expect(Hex.encode(GatewayHandshakeFrame(gatewayPrincipal: gatewayPrincipal).encoded()) == fixture.handshake_frame_derived)
        for (index, frame) in fixture.canister_to_client_frames.enumerated() {
            let content = try Hex.decode(frame.content)
            #expect(Hex.encode(SHA256.hash(content)) == frame.expected.sha256_content)
            let message = try WebsocketMessage(cbor: content)
            #expect(message.clientKey == key)
            #expect(message.sequenceNum == frame.expected.sequence_num)
            #expect(message.timestamp == UInt64(frame.expected.timestamp_ns))
            #expect(message.isServiceMessage == frame.expected.is_service_message)
            // Our encoder writes exactly the Rust CDK's bytes.
            #expect(message.cborEncoded() == content, "\(frame.name)")
            #expect(frame.key == MessageKey.format(gateway: gatewayPrincipal, nonce: UInt64(index)))
            // The G2 frame round trip.
            let g2 = CanisterMessageFrame(
                key: frame.key, content: content, cert: try Hex.decode(frame.cert),
                tree: try Hex.decode(frame.tree))
            #expect(try CanisterMessageFrame(decoding: g2.encoded()) == g2)
            // The certified tree holds SHA-256(content) under ["websocket", key].
            let tree = try HashTree(cborBytes: Hex.decode(frame.tree))
            #expect(tree.lookup(path: [MessageKey.certificationLabel, Array(frame.key.utf8)]) == .found(SHA256.hash(content)))

            // Service payloads.
            if message.isServiceMessage {
                let service = try WebsocketServiceMessageContent.decode(message.content)
                switch frame.expected.payload {
                case "OpenMessage": #expect(service == .openMessage(clientKey: key))
                case "AckMessage{last_incoming_sequence_num=0}": #expect(service == .ackMessage(lastIncomingSequenceNum: 0))
                case "CloseMessage{reason=ClosedByApplication}": #expect(service == .closeMessage(reason: .closedByApplication))
                default: Issue.record("unexpected payload \(frame.expected.payload)")
                }
                // ICCore lays out the type table inner types first, Rust's candid outer type
                // first: different but equally valid bytes. Certification hashes whatever
                // bytes were sent, so only the decoded value has to agree.
                #expect(try WebsocketServiceMessageContent.decode(service.encoded()) == service)
            } else {
                let text = try Candid.decodeValues(from: message.content)
                #expect(try text[0].record().value("text") == .text("Hello"))
            }
        }
    }
}
