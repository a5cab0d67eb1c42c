import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// A handler that refuses a message makes `ws_message` reply `Err(reason)`, consumes the
/// sequence number and keeps the session open (the CDK's `ws_message` does exactly
/// `messageReply(core.wsMessage(…), refusals: handlers.deliver(core.takeEvents()))`).
@Suite("ICWebSocketCanisterCore: refused messages")
struct MessageRefusalTests {
    struct Greeting: CandidCodable, Equatable {
        var text: String
        static var candidType: CandidType { .record([.field("text", String.self)]) }
        func candidValue() -> CandidValue { .record([.field("text", text)]) }
        init(text: String) { self.text = text }
        init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
    }

    /// Collects what the handler accepted.
    final class Received: @unchecked Sendable { var greetings: [Greeting] = [] }

    static func handlers(_ received: Received) -> WebSocketHandlers {
        WebSocketHandlers(onMessage: { (_, bytes) throws(WebSocketMessageRefusal) in
            received.greetings.append(try WebSocketMessageRefusal.decode(Greeting.self, named: "Greeting", from: bytes))
        })
    }

    /// One `ws_message` as the CDK runs it.
    static func wsMessage(
        _ core: inout WebSocketCanisterCore, _ handlers: WebSocketHandlers, from client: Principal,
        seq: UInt64, content: [UInt8], now: UInt64
    ) -> (WebSocketResult, [WebSocketHandlers.Refusal]) {
        let key = core.clientKey(of: client) ?? ClientKey(clientPrincipal: client, clientNonce: 1)
        let message = WebsocketMessage(clientKey: key, sequenceNum: seq, timestamp: now, isServiceMessage: false, content: content)
        let result = core.wsMessage(caller: client, CanisterWsMessageArguments(msg: message), now: now)
        let refusals = handlers.deliver(core.takeEvents())
        return (WebSocketCanisterCore.messageReply(result, refusals: refusals), refusals)
    }

    @Test("an undecodable message gets Err with the Candid error; the next one is accepted")
    func refusalConsumesTheSequenceNumber() throws {
        var h = Harness()
        let received = Received()
        let handlers = Self.handlers(received)
        h.open(clientA)
        _ = h.core.takeEvents()

        // The chat canister's shape sent to a canister that expects `record { text }`.
        let wrongShape = try Candid.encode(CandidNull?.none)
        let (reply, refusals) = Self.wsMessage(&h.core, handlers, from: clientA, seq: 1, content: wrongShape, now: h.now)
        guard case .err(let reason) = reply else {
            Issue.record("expected Err, got \(reply)")
            return
        }
        #expect(reason.description.hasPrefix("cannot decode the message as Greeting: "))
        #expect(reason.description.count > "cannot decode the message as Greeting: ".count)
        #expect(refusals.map(\.clientPrincipal) == [clientA])
        let line = WebSocketCanisterCore.logLine(for: refusals[0])
        #expect(line.description.contains("\(clientA)") && line.description.contains(reason.description))

        // Session open, sequence number 1 consumed: 2 is expected and delivered.
        #expect(h.core.clientKey(of: clientA) != nil)
        let good = try Candid.encode(Greeting(text: "hello"))
        let (second, none) = Self.wsMessage(&h.core, handlers, from: clientA, seq: 2, content: good, now: h.now)
        #expect(second == .ok)
        #expect(none.isEmpty)
        #expect(received.greetings == [Greeting(text: "hello")])
    }

    @Test("the core's own error wins over a refusal, and a wrong sequence number is not retried as accepted")
    func coreErrorWins() throws {
        var h = Harness()
        let handlers = Self.handlers(Received())
        h.open(clientA)
        _ = h.core.takeEvents()
        let (reply, refusals) = Self.wsMessage(&h.core, handlers, from: clientA, seq: 5, content: [0xff], now: h.now)
        #expect(reply == .err("Expected incoming sequence number 1 but got 5"))
        #expect(refusals.isEmpty)
        #expect(
            WebSocketCanisterCore.messageReply(
                .err("core"),
                refusals: [
                    WebSocketHandlers.Refusal(clientPrincipal: clientA, refusal: WebSocketMessageRefusal("app"))
                ]) == .err("core"))
    }

    @Test("garbage bytes are refused, not trapped on")
    func garbageIsRefused() {
        var h = Harness()
        let handlers = Self.handlers(Received())
        h.open(clientA)
        _ = h.core.takeEvents()
        let (reply, _) = Self.wsMessage(&h.core, handlers, from: clientA, seq: 1, content: Array("hello".utf8), now: h.now)
        guard case .err(let reason) = reply else {
            Issue.record("expected Err, got \(reply)")
            return
        }
        #expect(reason.description.hasPrefix("cannot decode the message as Greeting: "))
    }
}

@Suite("ICWebSocketCanisterCore: refusing with a direct decoder")
struct DirectDecoderRefusalTests {
    static let textID = CandidFieldID.hash("text")

    /// `record { text : text }` read at its wire types, as the chat canister reads its input.
    static func readGreeting(_ reader: inout CandidWireReader, _ type: Int) throws(CandidError) -> String {
        var text: String?
        for field in try reader.beginRecord(type) {
            if field.id == textID { text = try reader.text(field.type) } else { try reader.skip(field.type) }
        }
        reader.endRecord()
        return try reader.required(text, field: textID)
    }

    static func decode(_ bytes: [UInt8]) throws(WebSocketMessageRefusal) -> String {
        try WebSocketMessageRefusal.decode(named: "Greeting", from: bytes, reading: readGreeting)
    }

    @Test("the same values and the same refusal text as the generic decoder")
    func sameAsGeneric() throws {
        let hello = try Candid.encode(MessageRefusalTests.Greeting(text: "hello"))
        #expect(try Self.decode(hello) == "hello")
        // Extra arguments are skipped, as by the generic decoder.
        #expect(try Self.decode(try Candid.encode(MessageRefusalTests.Greeting(text: "hi"), UInt64(1))) == "hi")
        for refused in [try Candid.encode(CandidNull?.none), Array("hello".utf8), try Candid.encode(), hello + [0]] {
            let generic = #expect(throws: WebSocketMessageRefusal.self) {
                try WebSocketMessageRefusal.decode(MessageRefusalTests.Greeting.self, named: "Greeting", from: refused)
            }
            let direct = #expect(throws: WebSocketMessageRefusal.self) { try Self.decode(refused) }
            #expect(direct?.reason.description.hasPrefix("cannot decode the message as Greeting: ") == true)
            #expect(direct == generic, "\(refused)")
        }
    }
}
