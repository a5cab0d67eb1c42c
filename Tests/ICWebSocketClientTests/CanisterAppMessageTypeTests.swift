import Foundation
import ICWebSocketClient
import Testing

/// Reading the application message type from a canister's Candid interface: the repository's
/// own `.did` files (the bytes embedded as `candid:service`) and the shapes other tools write.
@Suite("CanisterAppMessageType")
struct CanisterAppMessageTypeTests {
    static let candidDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Canisters/Candid")

    static func interface(_ canister: String) throws -> String {
        try String(contentsOf: candidDirectory.appendingPathComponent("\(canister).did"), encoding: .utf8)
    }

    @Test("the chat canister's .did names record { from : text; text : text }")
    func chat() throws {
        #expect(
            try CanisterAppMessageType(candidInterface: Self.interface("ChatCanister"))
                == .record([.init(name: "from", type: "text"), .init(name: "text", type: "text")]))
    }

    @Test("the ping-pong and test canisters' .did name record { text : text }", arguments: ["PingPongCanister", "TestCanister"])
    func text(canister: String) throws {
        #expect(try CanisterAppMessageType(candidInterface: Self.interface(canister)) == .record([.init(name: "text", type: "text")]))
    }

    @Test("a canister without ws_message is refused with a clear error")
    func minimal() throws {
        #expect(throws: ICWebSocketClientError.self) { try CanisterAppMessageType(candidInterface: Self.interface("MinimalCanister")) }
    }

    @Test("inline, quoted, commented and nested types")
    func otherShapes() throws {
        let inline = """
            // comment with ws_message : (text)
            service : { ws_message : (CanisterWsMessageArguments, opt record { "text" : text }) -> (variant { Ok; Err : text }) }
            """
        #expect(try CanisterAppMessageType(candidInterface: inline) == .record([.init(name: "text", type: "text")]))
        let primitive = "type M = text; service : { \"ws_message\" : (A, opt M) -> (R); }"
        #expect(try CanisterAppMessageType(candidInterface: primitive) == .other("text"))
        let nested = "type M = record { body : record { a : nat }; n : nat64 }; service : { ws_message : (A, opt M) -> (R) }"
        #expect(
            try CanisterAppMessageType(candidInterface: nested)
                == .record([.init(name: "body", type: "record { a : nat }"), .init(name: "n", type: "nat64")]))
        let notOpt = "service : { ws_message : (A, text) -> (R) }"
        #expect(throws: ICWebSocketClientError.self) { try CanisterAppMessageType(candidInterface: notOpt) }
        let cyclic = "type A = B; type B = A; service : { ws_message : (X, opt A) -> (R) }"
        #expect(try CanisterAppMessageType(candidInterface: cyclic) == .other("A"))
    }
}
