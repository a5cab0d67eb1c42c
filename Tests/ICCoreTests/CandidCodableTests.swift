import ICCore
import ICTestSupport
import Testing

// A ws_message-like record and a Result-like variant, as the WebSocket protocol uses them.

struct ClientKey: CandidCodable, Equatable {
    var clientPrincipal: Principal
    var clientNonce: UInt64

    static var candidType: CandidType {
        .record([.field("client_principal", Principal.self), .field("client_nonce", UInt64.self)])
    }

    func candidValue() -> CandidValue {
        .record(sorting: [.field("client_principal", clientPrincipal), .field("client_nonce", clientNonce)])
    }

    init(clientPrincipal: Principal, clientNonce: UInt64) {
        self.clientPrincipal = clientPrincipal
        self.clientNonce = clientNonce
    }

    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientPrincipal = try record.field("client_principal")
        clientNonce = try record.field("client_nonce")
    }
}

struct WebsocketMessage: CandidCodable, Equatable {
    var clientKey: ClientKey
    var sequenceNum: UInt64
    var timestamp: UInt64
    var isServiceMessage: Bool
    var content: CandidBlob

    static var candidType: CandidType {
        .record([
            .field("client_key", ClientKey.self), .field("sequence_num", UInt64.self),
            .field("timestamp", UInt64.self), .field("is_service_message", Bool.self),
            .field("content", CandidBlob.self),
        ])
    }

    func candidValue() -> CandidValue {
        // Declaration order on purpose: the encoder matches fields by id.
        .record([
            .field("client_key", clientKey), .field("sequence_num", sequenceNum), .field("timestamp", timestamp),
            .field("is_service_message", isServiceMessage), .field("content", content),
        ])
    }

    init(clientKey: ClientKey, sequenceNum: UInt64, timestamp: UInt64, isServiceMessage: Bool, content: [UInt8]) {
        self.clientKey = clientKey
        self.sequenceNum = sequenceNum
        self.timestamp = timestamp
        self.isServiceMessage = isServiceMessage
        self.content = CandidBlob(content)
    }

    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        clientKey = try record.field("client_key")
        sequenceNum = try record.field("sequence_num")
        timestamp = try record.field("timestamp")
        isServiceMessage = try record.field("is_service_message")
        content = try record.field("content")
    }
}

struct MessagesReply: CandidCodable, Equatable {
    var messages: [WebsocketMessage]
    var cert: CandidBlob

    static var candidType: CandidType {
        .record([.field("messages", [WebsocketMessage].self), .field("cert", CandidBlob.self)])
    }

    func candidValue() -> CandidValue {
        .record(sorting: [.field("messages", messages), .field("cert", cert)])
    }

    init(messages: [WebsocketMessage], cert: [UInt8]) {
        self.messages = messages
        self.cert = CandidBlob(cert)
    }

    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        messages = try record.field("messages")
        cert = try record.field("cert")
    }
}

enum MessagesResult: CandidCodable, Equatable {
    case ok(MessagesReply)
    case err(String)

    static var candidType: CandidType {
        .variant([.field("Ok", MessagesReply.self), .field("Err", String.self)])
    }

    func candidValue() -> CandidValue {
        switch self {
        case .ok(let reply): return .variant("Ok", reply)
        case .err(let message): return .variant("Err", message)
        }
    }

    init(candid value: CandidValue) throws(CandidError) {
        let variant = try value.variant()
        switch variant.id {
        case idHash("Ok"): self = .ok(try variant.payload())
        case idHash("Err"): self = .err(try variant.payload())
        default: throw variant.unknownTag()
        }
    }
}

private func sampleMessage(_ n: UInt64) throws -> WebsocketMessage {
    WebsocketMessage(
        clientKey: ClientKey(clientPrincipal: try Principal(text: "2vxsx-fae"), clientNonce: 0xdead_beef + n),
        sequenceNum: n, timestamp: 1_700_000_000_000_000_000 + n, isServiceMessage: n % 2 == 0,
        content: Array("hello \(n)".utf8))
}

@Suite("Candid typed layer")
struct CandidCodableTests {
    @Test("ws_message round trip through a typed struct")
    func message() throws {
        let message = try sampleMessage(7)
        let bytes = try Candid.encode(message)
        #expect(try Candid.decode(WebsocketMessage.self, from: bytes) == message)
        // And the same bytes read untyped, at the wire types, have the fields by hash.
        let values = try Candid.decodeValues(from: bytes)
        let record = try values[0].record()
        #expect(record.value("sequence_num") == .nat64(7))
        #expect(record.value("content") == .blob(Array("hello 7".utf8)))
    }

    @Test("the encoding matches the text-parsed value at the parsed type")
    func matchesText() throws {
        let message = try sampleMessage(1)
        let type = try CandidTextParser.parseType(
            """
            record { client_key: record { client_principal: principal; client_nonce: nat64 };
                     sequence_num: nat64; timestamp: nat64; is_service_message: bool; content: blob }
            """)
        let value = try CandidTextParser.parseValue(
            """
            record { client_key = record { client_principal = principal "2vxsx-fae"; client_nonce = 3735928560 };
                     sequence_num = 1; timestamp = 1_700_000_000_000_000_001; is_service_message = false;
                     content = blob "hello 1" }
            """)
        let fromText = try CandidEncoder.encode([value], types: [type])
        #expect(try Candid.encode(message) == fromText)
    }

    @Test("Ok / Err variant round trip")
    func result() throws {
        let ok = MessagesResult.ok(MessagesReply(messages: [try sampleMessage(1), try sampleMessage(2)], cert: [1, 2, 3]))
        #expect(try Candid.decode(MessagesResult.self, from: Candid.encode(ok)) == ok)
        let err = MessagesResult.err("nope")
        #expect(try Candid.decode(MessagesResult.self, from: Candid.encode(err)) == err)
    }

    @Test("typed decoding applies coercion: extra wire fields, absent options, extra variant tags")
    func coercion() throws {
        // Wire: the message record with an extra field and `nat` where an `opt nat64` is expected.
        struct Newer: CandidCodable, Equatable {
            var sequenceNum: UInt64
            var note: String?
            var extra: UInt64?
            static var candidType: CandidType {
                .record([.field("sequence_num", UInt64.self), .field("note", String?.self), .field("extra", UInt64?.self)])
            }
            func candidValue() -> CandidValue {
                .record(sorting: [.field("sequence_num", sequenceNum), .field("note", note), .field("extra", extra)])
            }
            init(sequenceNum: UInt64, note: String?, extra: UInt64?) {
                self.sequenceNum = sequenceNum
                self.note = note
                self.extra = extra
            }
            init(candid value: CandidValue) throws(CandidError) {
                let record = try value.record()
                sequenceNum = try record.field("sequence_num")
                note = try record.field("note")
                extra = try record.field("extra")
            }
        }
        let wire = try CandidTextParser.parseValue(
            "record { sequence_num = 5; other = \"ignored\"; extra = 99 }")
        let wireType = try CandidTextParser.parseType("record { sequence_num: nat64; other: text; extra: nat }")
        let bytes = try CandidEncoder.encode([wire], types: [wireType])
        // `extra` is `nat` on the wire, `opt nat64` expected: nat </: nat64, so it reads as null.
        #expect(try Candid.decode(Newer.self, from: bytes) == Newer(sequenceNum: 5, note: nil, extra: nil))

        // A variant with a tag the receiver does not know fails at the top level …
        let unknown = try CandidEncoder.encode(
            [.variant("Maybe", .null)],
            types: [.variant([.field("Ok", .null), .field("Maybe", .null)])])
        #expect(throws: CandidError.self) { try Candid.decode(MessagesResult.self, from: unknown) }
        // … and reads as null under an option.
        #expect(try Candid.decode(MessagesResult?.self, from: unknown) == nil)
    }

    @Test("argument sequences of 0 to 4 values")
    func arities() throws {
        try Candid.decode(from: Candid.encode())
        #expect(try Candid.decode(UInt8.self, from: Candid.encode(UInt8(7))) == 7)
        let two = try Candid.decode(String.self, Bool.self, from: Candid.encode("a", true))
        #expect(two.0 == "a" && two.1)
        let three = try Candid.decode(
            Int64.self, [UInt16].self, Double?.self,
            from: Candid.encode(Int64(-5), [UInt16(1), 2], Double?.some(0.5)))
        #expect(three.0 == -5 && three.1 == [1, 2] && three.2 == 0.5)
        let four = try Candid.decode(
            BigNat.self, BigInt.self, Float.self, CandidNull.self,
            from: Candid.encode(
                BigNat(decimal: "123456789012345678901234567890")!,
                BigInt(decimal: "-98765432109876543210")!, Float(1.5), CandidNull()))
        #expect(four.0.description == "123456789012345678901234567890")
        #expect(four.1.description == "-98765432109876543210")
        #expect(four.2 == 1.5)
        // Extra arguments are ignored; missing optional ones read as null.
        #expect(try Candid.decode(UInt8.self, from: Candid.encode(UInt8(1), "extra")) == 1)
        let padded = try Candid.decode(UInt8.self, String?.self, from: Candid.encode(UInt8(1)))
        #expect(padded.0 == 1 && padded.1 == nil)
    }

    @Test("every primitive conformance round-trips")
    func primitives() throws {
        func check<T: CandidCodable & Equatable>(_ value: T) throws {
            #expect(try Candid.decode(T.self, from: Candid.encode(value)) == value)
        }
        try check(true)
        try check(UInt8.max); try check(UInt16.max); try check(UInt32.max); try check(UInt64.max)
        try check(Int8.min); try check(Int16.min); try check(Int32.min); try check(Int64.min)
        try check(Float(-0.25)); try check(Double.greatestFiniteMagnitude)
        try check("☃ text"); try check(Principal.managementCanister)
        try check(BigNat(UInt64.max) + BigNat(1)); try check(BigInt(Int64.min))
        try check(CandidBlob([0, 1, 255])); try check([[UInt8(1)], []]); try check(UInt8?.none)
        try check(UInt8??.some(nil)); try check(CandidReserved())
        // `[UInt8]` is `vec nat8` too: same wire bytes as a blob.
        #expect(try Candid.encode([UInt8(1), 2]) == Candid.encode(CandidBlob([1, 2])))
    }

    @Test("many messages: decode a large reply")
    func manyMessages() throws {
        var messages = [WebsocketMessage]()
        for n in 0..<2_000 { messages.append(try sampleMessage(UInt64(n))) }
        let reply = MessagesResult.ok(MessagesReply(messages: messages, cert: Array(repeating: 7, count: 100)))
        let bytes = try Candid.encode(reply)
        #expect(try Candid.decode(MessagesResult.self, from: bytes) == reply)
        // With the types compiled once.
        let types = try CandidArgumentTypes(MessagesResult.self)
        #expect(try Candid.encode(reply, as: types) == bytes)
        #expect(try Candid.decode(MessagesResult.self, from: bytes, as: types) == reply)
    }
}
