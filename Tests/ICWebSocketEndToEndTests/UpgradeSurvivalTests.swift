import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// Canister upgrades with the CDK's saved sessions (docs/CANISTER-UPGRADES.md): three Swift
/// clients chat through the real gateway and the chat canister while the canister is upgraded
/// (`install_code` mode `upgrade`, through the management canister as `icws canister` does it).
/// Every client verifies every canister message (certificate, witness, sequence number), so a
/// restarted sequence, a lost or a duplicated message, or a wrong certified root after the
/// restore closes the client with an error that this test sees.
@Suite("End to end: sessions survive canister upgrades", .serialized)
struct UpgradeSurvivalTests {
    /// The chat canister's upgrade argument `(opt record { clear_sessions : bool })`.
    static func upgradeArgument(clearSessions: Bool?) throws -> [UInt8] {
        guard let clearSessions else { return Candid.encode() }
        let type: CandidType = .opt(.record([.field("clear_sessions", Bool.self)]))
        return try CandidEncoder.encode([.opt(.record([.field("clear_sessions", clearSessions)]))], types: [type])
    }

    /// The chat canister's `members` query: the principals with an open session.
    static func members(_ stack: Stack) async throws -> [Principal] {
        let reply = try await stack.controller.query(canister: stack.canister, method: "members", arg: Candid.encode())
        return try Candid.decode([Principal].self, from: reply)
    }

    /// Reads `count` application messages of `client` and returns them.
    static func read(_ count: Int, from client: ICWebSocketConnection<ChatMessage>) async throws -> [ChatMessage] {
        var messages = [ChatMessage]()
        for _ in 0..<count { messages.append(try await client.next(.seconds(60))) }
        return messages
    }

    /// Waits until `client` has received more canister messages (application or service)
    /// than `before`.
    static func waitForMore(_ client: ICWebSocketConnection<ChatMessage>, than before: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while await client.statistics().messagesReceived <= before {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "a canister message (an ack)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("Upgrade in the middle of a 3-client chat: sessions, sequences, acks and keep-alives continue; every message exactly once")
    func chatSurvivesUpgrade() async throws {
        let module = try CanisterModules.chatCanister()
        // Manual time: the ack tick and the keep-alive check after the upgrade run when the test
        // moves the replica's clock, which the clients follow too.
        try await withStack(module: module, manual: true) { stack in
            let identities = (0..<3).map { _ in Ed25519Identity() }
            let names = identities.map { $0.principal.description }
            var clients = [ICWebSocketConnection<ChatMessage>]()
            for (index, identity) in identities.enumerated() {
                let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: ChatMessage.self, identity: identity)
                clients.append(client)
                // Each joining client's notice reaches it and everyone already in the room.
                for earlier in clients {
                    #expect(try await earlier.next() == ChatMessage(from: "system", text: "\(names[index]) joined"))
                }
            }
            var expected = [[String]](repeating: [], count: 3)
            func say(_ sender: Int, _ text: String) async throws {
                _ = try await clients[sender].send(ChatMessage(text: text))
                expected[sender].append(text)
            }

            // Before: one round each, delivered.
            for sender in 0..<3 { try await say(sender, "before-\(sender)") }
            for client in clients { _ = try await Self.read(3, from: client) }

            // In the middle: messages sent right before the upgrade are still in the gateway's
            // or the IC's hands (or queued, unpolled, in the canister) while it is upgraded.
            for round in 0..<2 { for sender in 0..<3 { try await say(sender, "around-\(round)-\(sender)") } }
            try await ManagementCanister(agent: stack.controller).installCode(
                canister: stack.canister, module: module, arg: try Self.upgradeArgument(clearSessions: nil), mode: .upgrade)
            for round in 0..<2 { for sender in 0..<3 { try await say(sender, "after-\(round)-\(sender)") } }

            // Every client receives every message of the upgrade window exactly once, each
            // sender's in order (the SDK has already checked sequence numbers and certificates).
            let sent = 3 * 4
            for client in clients {
                let received = try await Self.read(sent, from: client)
                for sender in 0..<3 {
                    let texts = received.filter { $0.from == names[sender] }.map(\.text)
                    #expect(texts == Array(expected[sender].suffix(4)), "from client \(sender)")
                }
            }
            #expect(try await Self.members(stack).sorted() == identities.map(\.principal).sorted())

            // Acks continue: the ack timer the old module armed (5 minutes after init) was re-armed
            // by post_upgrade; each client answers its ack with a keep-alive, so the keep-alive
            // check a minute later keeps all three (a missing ack would instead close the clients
            // by their own ack timeout once time passes).
            var received = [Int]()
            for client in clients { received.append(await client.statistics().messagesReceived) }
            stack.local.replica.advanceTime(by: .seconds(300))
            for (client, before) in zip(clients, received) { try await Self.waitForMore(client, than: before) }
            // The keep-alives relayed and executed (nothing outside the canister shows when).
            // 5 s was once too short in the full suite on 2 cores (a 300-client test beside it).
            try await Task.sleep(for: .seconds(15))
            // Exactly the timeout: the check closes clients silent for *more* than 60 s, and
            // frozen time stamped the keep-alives with the tick's own time.
            stack.local.replica.advanceTime(by: .seconds(60))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.members(stack).count == 3, "a client missed its keep-alive after the upgrade")

            // A final round: each client's next message is exactly this, so nothing was
            // duplicated or left over; the sessions are still open in both directions.
            try await say(1, "final")
            for client in clients { #expect(try await client.next(.seconds(60)) == ChatMessage(from: names[1], text: "final")) }
            for client in clients {
                let statistics = await client.statistics()
                // 3 joins (fewer for later joiners), 3 + 12 + 1 chat messages, at least one ack.
                #expect(statistics.messagesReceived >= 1 + 16 + 1 + 1)
                await client.close()
            }
        }
    }

    @Test("Upgrade with clear_sessions = true behaves like the reference: the session is gone, the client must open a new one")
    func clearSessionsOnUpgrade() async throws {
        let module = try CanisterModules.chatCanister()
        try await withStack(module: module) { stack in
            let identity = Ed25519Identity()
            let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: ChatMessage.self, identity: identity) {
                $0.ackMessageInterval = .seconds(2)
                $0.ackLatencyAllowance = .seconds(1)
                $0.timerResolution = .milliseconds(200)
            }
            #expect(try await client.next() == ChatMessage(from: "system", text: "\(identity.principal) joined"))
            #expect(try await Self.members(stack) == [identity.principal])
            try await ManagementCanister(agent: stack.controller).installCode(
                canister: stack.canister, module: module, arg: try Self.upgradeArgument(clearSessions: true), mode: .upgrade)
            #expect(try await Self.members(stack).isEmpty)
            // The canister refuses the message (no open connection); the client sees no ack.
            _ = try await client.send(ChatMessage(text: "lost"))
            let closed = try await client.waitForState(.seconds(30), "the ack timeout") { if case .closed = $0 { true } else { false } }
            guard case .closed(.acknowledgementTimeout(let unacknowledged)?) = closed else {
                Issue.record("expected an ack timeout, got \(closed)")
                return
            }
            #expect(unacknowledged == [1])

            // A new session works (new nonce, sequence numbers from 1).
            let again = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: ChatMessage.self, identity: identity)
            #expect(try await again.next() == ChatMessage(from: "system", text: "\(identity.principal) joined"))
            _ = try await again.send(ChatMessage(text: "back"))
            #expect(try await again.next() == ChatMessage(from: identity.principal.description, text: "back"))
            await again.close()
        }
    }

    @Test("Saved sessions never come back stale: chat → ping-pong (drops sessions) → chat starts empty")
    func staleSessionsAreNotRestored() async throws {
        let chat = try CanisterModules.chatCanister()
        let pingPong = try CanisterModules.pingPongCanister()
        // Two gateways: the first keeps polling with its old nonce after the sessions are
        // dropped, so (as with the reference, §4.9) a new client on it would not see its
        // OpenMessage until its poller restarts; the second polls from the start.
        try await withStack(module: chat, gateways: 2) { stack in
            let identity = Ed25519Identity()
            let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: ChatMessage.self, identity: identity)
            _ = try await client.next()
            let management = ManagementCanister(agent: stack.controller)
            // The chat module saves the session; ping-pong's post_upgrade drops it (`initialize`)
            // and has no pre_upgrade, so the next chat module must find nothing to restore.
            try await management.installCode(canister: stack.canister, module: pingPong, mode: .upgrade)
            try await management.installCode(canister: stack.canister, module: chat, mode: .upgrade)
            #expect(try await Self.members(stack).isEmpty)
            // Chat to chat still keeps what there is: a new session survives the next upgrade.
            let again = try await connect(stack.gateways[1].url, stack.canister, stack.local, as: ChatMessage.self, identity: identity)
            _ = try await again.next()
            try await management.installCode(canister: stack.canister, module: chat, mode: .upgrade)
            #expect(try await Self.members(stack) == [identity.principal])
            await again.close()
            await client.close()
        }
    }
}
