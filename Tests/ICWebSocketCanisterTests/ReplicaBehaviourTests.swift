import ICAgent
import ICCore
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

extension CanisterReplicaTests {
    /// Behaviour of the Swift canisters in the replica beyond the numbered scenarios: rollback of
    /// trapping handlers, several gateways, upgrades, and the chat and ping-pong canisters.
    @Suite("Rollback, gateways, upgrades, chat and ping-pong", .serialized)
    struct ReplicaBehaviourTests {
        typealias Testbed = WebSocketTestbed

        /// Runs `call` and returns the reject message it must end with.
        private func rejection(_ call: () async throws -> Void) async throws -> String {
            do {
                try await call()
            } catch AgentError.rejected(let reject) {
                return reject.message
            }
            throw TestbedFailure("the call was expected to be rejected, but it succeeded")
        }

        @Test("a trapping handler rolls back its whole call (registration, queued messages, sequence numbers)")
        func trappingHandlersRollBack() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 1)
                let initial = bed.certifiedData
                try await bed.setHandlersTrap(true)
                let openReject = try await rejection { _ = try await gateway.open(client) }
                #expect(openReject.contains("on_open trapped as requested"))
                // Nothing of ws_open survived: no client, no gateway, no OpenMessage, same certified data.
                #expect(bed.certifiedData == initial)
                #expect(try await gateway.poll(from: 0).messages.isEmpty)
                #expect(try await gateway.close(client.key) == .err("Gateway with principal \(gateway.principal) is not registered"))

                try await bed.setHandlersTrap(false)
                #expect(try await gateway.open(client) == .ok)
                let open = try #require(try await gateway.poll(from: 0).messages.first)
                #expect(open.nonce == 0 && open.sequence == 1)

                try await bed.setHandlersTrap(true)
                let messageReject = try await rejection { _ = try await gateway.relay(client.appMessage(sequence: 1, "boom")) }
                #expect(messageReject.contains("on_message trapped as requested"))
                let closeReject = try await rejection { _ = try await gateway.close(client.key) }
                #expect(closeReject.contains("on_close trapped as requested"))
                try await bed.setHandlersTrap(false)
                // The trapped ws_message did not consume sequence number 1; the trapped ws_close did not remove the client.
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "again")) == .ok)
                #expect(try await gateway.pollAll().count == 1)
            }
        }

        @Test("several gateways: separate queues and nonces under one certified tree")
        func severalGateways() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let first = bed.gateway()
                let second = bed.gateway()
                let a = bed.client(nonce: 1)
                let b = bed.client(nonce: 2)
                let c = bed.client(nonce: 3)
                #expect(try await first.open(a) == .ok)
                #expect(try await second.open(b) == .ok)
                #expect(try await first.open(c) == .ok)
                #expect(try await bed.send(to: b.principal, ["to b"]) == .ok)
                #expect(try await bed.send(to: a.principal, ["to a"]) == .ok)
                let onFirst = try await first.pollAll()
                let onSecond = try await second.pollAll()
                #expect(onFirst.map(\.nonce) == [0, 1, 2])
                #expect(onFirst.map(\.clientKey) == [a.key, c.key, a.key])
                #expect(onFirst.last?.appText == "to a")
                #expect(onFirst.last?.sequence == 2)
                #expect(onSecond.map(\.nonce) == [0, 1])
                #expect(onSecond.map(\.clientKey) == [b.key, b.key])
                #expect(onSecond.last?.appText == "to b")
                // Each batch verified against the same certified data: one tree holds both queues.
                let firstBatch = try await first.poll(from: 0)
                let secondBatch = try await second.poll(from: 0)
                #expect(firstBatch.raw.cert == secondBatch.raw.cert)
                #expect(firstBatch.raw.tree != secondBatch.raw.tree)
            }
        }

        @Test("ws_get_messages stays under the 3 MiB query reply limit, and still makes progress")
        func replyByteBound() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 1)
                #expect(try await gateway.open(client) == .ok)
                // Two 1.6 MB messages: together beyond 3 MiB − 64 KiB, each alone well within it.
                let big = String(repeating: "x", count: 1_600_000)
                for _ in 0..<2 { #expect(try await bed.send(to: client.principal, [big]) == .ok) }
                let first = try await gateway.poll(from: 0)
                #expect(first.messages.map(\.nonce) == [0, 1])
                #expect(!first.isEndOfQueue)
                #expect(first.messages.last?.appText == big)
                let second = try await gateway.poll(from: 2)
                #expect(second.messages.map(\.nonce) == [2])
                #expect(second.isEndOfQueue)
                #expect(try Candid.encode(CanisterWsGetMessagesResult.ok(first.raw)).count < 3 * 1024 * 1024)
            }
        }

        /// The test canister's post-upgrade argument that drops the sessions (the reference's behaviour).
        static func clearingUpgradeArgument() throws -> [UInt8] {
            try CandidEncoder.encode(
                [.nat64(50), .nat64(300_000), .opt(.record([.field("clear_sessions", true)]))],
                types: [.nat64, .nat64, .opt(.record([.field("clear_sessions", Bool.self)]))])
        }

        @Test(
            "upgrade with clear_sessions = true: like the reference libraries, all clients, queues and nonces are forgotten; timers restart"
        )
        func upgradeClearsState() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let emptyQueues = HashTree.labeled(MessageKey.certificationLabel, .empty).reconstruct()
                #expect(bed.certifiedData == emptyQueues)
                let gateway = bed.gateway()
                let client = bed.client(nonce: 1)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, ["before upgrade"]) == .ok)
                #expect(bed.certifiedData != emptyQueues)

                try await bed.advance(milliseconds: 100_000)
                try await bed.upgrade(to: try CanisterModules.testCanister(), arg: try Self.clearingUpgradeArgument())
                // The IC keeps certified data across an upgrade; post_upgrade re-certifies the empty queue.
                #expect(bed.certifiedData == emptyQueues)
                #expect(try await gateway.poll(from: 0).messages.isEmpty)
                #expect(
                    try await gateway.relay(client.appMessage(sequence: 1, "hello"))
                        == .err("Client with principal \(client.principal) doesn't have an open connection"))

                #expect(try await gateway.open(client) == .ok)
                let reopened = try await gateway.pollAll()
                #expect(reopened.map(\.nonce) == [0])
                #expect(reopened.first?.sequence == 1)
                // The ack interval is measured from post_upgrade, not from the original init.
                try await bed.advance(milliseconds: Testbed.ackIntervalMs - 100_000)
                #expect(try await gateway.pollAll().count == 1)
                try await bed.advance(milliseconds: 100_000)
                #expect(try await gateway.pollAll().last?.service == .ackMessage(lastIncomingSequenceNum: 0))
            }
        }

        @Test("upgrade (default): clients, queues, nonces, sequence numbers, certified data and the ack schedule survive")
        func upgradeKeepsSessions() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 1)
                let other = bed.client(nonce: 2)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.open(other) == .ok)
                #expect(try await bed.send(to: client.principal, ["one", "two"]) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "hello")) == .ok)
                let before = try await gateway.pollAll()
                #expect(before.map(\.nonce) == [0, 1, 2, 3])
                let certified = bed.certifiedData

                try await bed.advance(milliseconds: 100_000)
                try await bed.upgrade(to: try CanisterModules.testCanister(), arg: try Candid.encode(UInt64(50), UInt64(300_000)))
                // The restored queues certify to the same root; the same messages and witnesses verify.
                #expect(bed.certifiedData == certified)
                let after = try await gateway.pollAll()
                #expect(after.map(\.content) == before.map(\.content))
                #expect(after.map(\.key) == before.map(\.key))
                // Incoming sequence numbers continue (2 is next; a replay of 1 would close the client).
                #expect(try await gateway.relay(client.appMessage(sequence: 2, "after")) == .ok)
                // Outgoing ones and the gateway's nonces continue.
                #expect(try await bed.send(to: client.principal, ["three"]) == .ok)
                let next = try await gateway.pollAll(from: 4)
                #expect(next.map(\.nonce) == [4])
                #expect(next.map(\.sequence) == [4])
                #expect(next.map(\.appText) == ["three"])
                // The ack interval is still measured from the original init (the timer was re-armed
                // for the saved tick): 200 s after the upgrade, both clients get their acks.
                try await bed.advance(milliseconds: Testbed.ackIntervalMs - 100_000)
                let acks = try await gateway.pollAll(from: 5)
                #expect(acks.count == 2)
                #expect(acks.first { $0.clientKey == client.key }?.service == .ackMessage(lastIncomingSequenceNum: 2))
                #expect(acks.first { $0.clientKey == other.key }?.service == .ackMessage(lastIncomingSequenceNum: 0))
            }
        }

        @Test("chat: every message fans out to every client, with join and leave notices; undecodable input is refused")
        func chatFanOut() async throws {
            try await Testbed.with(module: try CanisterModules.chatCanister()) { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let alice = bed.client(nonce: 1)
                let bob = bed.client(nonce: 2)
                #expect(try await gateway.open(alice) == .ok)
                #expect(try await gateway.open(bob) == .ok)
                #expect(
                    try await bed.anonymous.query(bed.canister, "members", returning: [Principal].self).sorted()
                        == [alice.principal, bob.principal].sorted())
                let hello = try Candid.encode(ChatMessage(from: "ignored", text: "hello"))
                #expect(try await gateway.relay(alice.messageEnvelope(sequence: 1, content: hello)) == .ok)
                // The canister reads `record { text : text }` at its wire types (no generic
                // decoder in the module): the plain record too; anything else is refused with
                // the Candid error, and the session goes on.
                let plain = try Candid.encode(AppMessage(text: "plain"))
                #expect(try await gateway.relay(alice.messageEnvelope(sequence: 2, content: plain)) == .ok)
                let refused = try await gateway.relay(alice.messageEnvelope(sequence: 3, content: try Candid.encode(UInt64(5))))
                guard case .err(let reason) = refused else {
                    Issue.record("expected Err, got \(refused)")
                    return
                }
                #expect(reason.hasPrefix("cannot decode the message as record { text : text }: "), "\(reason)")
                #expect(reason.contains("nat64"), "\(reason)")
                #expect(try await gateway.close(bob.key) == .ok)

                let messages = try await gateway.pollAll()
                func chat(to client: TestClient) -> [ChatMessage] {
                    messages.filter { $0.clientKey == client.key && !$0.message.isServiceMessage }
                        .compactMap { try? Candid.decode(ChatMessage.self, from: $0.message.content) }
                }
                #expect(
                    chat(to: alice) == [
                        ChatMessage(from: "system", text: "\(alice.principal) joined"),
                        ChatMessage(from: "system", text: "\(bob.principal) joined"),
                        ChatMessage(from: alice.principal.description, text: "hello"),
                        ChatMessage(from: alice.principal.description, text: "plain"),
                        ChatMessage(from: "system", text: "\(bob.principal) left"),
                    ])
                #expect(
                    chat(to: bob) == [
                        ChatMessage(from: "system", text: "\(bob.principal) joined"),
                        ChatMessage(from: alice.principal.description, text: "hello"),
                        ChatMessage(from: alice.principal.description, text: "plain"),
                    ])
                // Per-client sequence numbers stay gap-free across the fan-out.
                for client in [alice, bob] {
                    let sequences = messages.filter { $0.clientKey == client.key }.map(\.sequence)
                    #expect(sequences == Array(1...UInt64(sequences.count)))
                }
                #expect(try await bed.anonymous.query(bed.canister, "members", returning: [Principal].self) == [alice.principal])
            }
        }

        @Test("ping-pong: ping on open, each message answered with \" ping\" appended")
        func pingPong() async throws {
            try await Testbed.with(module: try CanisterModules.pingPongCanister()) { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 46)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "ping-pong")) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 2, "ping-pong ping-pong")) == .ok)
                let messages = try await gateway.pollAll()
                #expect(messages.map(\.sequence) == [1, 2, 3, 4])
                #expect(messages.dropFirst().map(\.appText) == ["ping", "ping-pong ping", "ping-pong ping-pong ping"])
                #expect(try await bed.anonymous.query(bed.canister, "pings", returning: UInt64.self) == 2)
            }
        }
    }
}
