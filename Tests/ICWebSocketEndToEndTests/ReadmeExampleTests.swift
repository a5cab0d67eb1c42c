import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketTesting
import Testing

// The README's client SDK example, compiled and run here so it stays true. Keep the two in step.

/// The ping-pong canister's message type (`record { text : text }`).
struct AppMessage: CandidCodable, Sendable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// README: "Using the client SDK".
func readmeExample(gatewayURL: String, canisterID: String, replicaURL: String, rootKeyHex: String) async throws -> [String] {
    let canister = try Principal(text: canisterID)
    let network = ICNetwork.local(replicaURL, rootKey: try RootKey(der: Hex.decode(rootKeyHex)))
    let connection = try await ICWebSocketConnection.connect(
        gatewayURL: gatewayURL, canister: canister, identity: Ed25519Identity(),
        network: network, messageType: AppMessage.self)

    var received = [String]()
    try await connection.send(AppMessage(text: "hello"))
    for try await message in connection.messages {  // verified: certificate, tree, sequence
        received.append(message.text)  // "ping", then "hello ping"
        if received.count == 2 { break }
    }
    await connection.close()
    return received
}

@Suite("README example")
struct ReadmeExampleTests {
    @Test("the README's client SDK example runs against the stack")
    func readmeExampleRuns() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let received = try await within(.seconds(60), "the README example") {
                try await readmeExample(
                    gatewayURL: stack.gateways[0].url, canisterID: stack.canister.description,
                    replicaURL: stack.local.url, rootKeyHex: Hex.encode(stack.local.rootKey.der))
            }
            #expect(received == ["ping", "hello ping"])
        }
    }
}
