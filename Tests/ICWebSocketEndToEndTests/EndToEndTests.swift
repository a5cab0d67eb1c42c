import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// The whole system on loopback: the Swift client SDK, `icws gateway`, `icws replica` and the
/// Embedded Swift canisters compiled to Wasm. Scenario numbers refer to
/// `ic-websocket-protocol.md` §8; docs/CONFORMANCE.md maps every scenario to its test.
@Suite("End to end", .serialized)
struct EndToEndTests {
    static let minute = Duration.seconds(60)

    @Test("Scenario 46: ping-pong through the gateway, 20 round trips, clean close")
    func scenario46PingPongRoundTrips() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let client = try await connect(gateways[0].url, canister, local, as: TextMessage.self)
            #expect(try await client.next() == TextMessage(text: "ping"))
            var text = "ping"
            for _ in 1...20 {
                text += "-pong"
                try await client.send(TextMessage(text: text))
                #expect(try await client.next() == TextMessage(text: text + " ping"))
            }
            await client.close()
            let final = try await client.waitForState(.seconds(10), "closed") { if case .closed = $0 { true } else { false } }
            if case .closed(let error) = final { #expect(error == nil) }
            let statistics = await client.statistics()
            #expect(statistics.messagesReceived >= 21)
        }
    }

    @Test("Chat: two clients see each other's messages and join/leave notices")
    func chatBetweenTwoClients() async throws {
        try await withStack(module: try CanisterModules.chatCanister()) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let alice = Ed25519Identity(), bob = Ed25519Identity()
            let a = try await connect(gateways[0].url, canister, local, as: ChatMessage.self, identity: alice)
            #expect(try await a.next() == ChatMessage(from: "system", text: "\(alice.principal) joined"))
            let b = try await connect(gateways[0].url, canister, local, as: ChatMessage.self, identity: bob)
            #expect(try await b.next() == ChatMessage(from: "system", text: "\(bob.principal) joined"))
            #expect(try await a.next() == ChatMessage(from: "system", text: "\(bob.principal) joined"))

            try await a.send(ChatMessage(text: "hello bob"))
            #expect(try await a.next() == ChatMessage(from: alice.principal.description, text: "hello bob"))
            #expect(try await b.next() == ChatMessage(from: alice.principal.description, text: "hello bob"))
            try await b.send(ChatMessage(text: "hi alice"))
            #expect(try await b.next() == ChatMessage(from: bob.principal.description, text: "hi alice"))
            #expect(try await a.next() == ChatMessage(from: bob.principal.description, text: "hi alice"))

            // Bob closes: the gateway calls ws_close, the canister announces it.
            await b.close()
            #expect(try await a.next() == ChatMessage(from: "system", text: "\(bob.principal) left"))
            await a.close()
        }
    }

    @Test("Two gateways serve one canister: clients on different gateways chat")
    func twoGatewaysServeOneCanister() async throws {
        try await withStack(module: try CanisterModules.chatCanister(), gateways: 2) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            #expect(gateways[0].principal != gateways[1].principal)
            let alice = Ed25519Identity(), bob = Ed25519Identity()
            let a = try await connect(gateways[0].url, canister, local, as: ChatMessage.self, identity: alice)
            _ = try await a.next()
            let b = try await connect(gateways[1].url, canister, local, as: ChatMessage.self, identity: bob)
            _ = try await b.next()
            #expect(try await a.next() == ChatMessage(from: "system", text: "\(bob.principal) joined"))
            for round in 1...5 {
                try await a.send(ChatMessage(text: "a\(round)"))
                try await b.send(ChatMessage(text: "b\(round)"))
            }
            // Each client sees all ten messages; each sender's own order is kept.
            for client in [a, b] {
                var seen = [ChatMessage]()
                for _ in 0..<10 { seen.append(try await client.next()) }
                #expect(seen.filter { $0.from == alice.principal.description }.map(\.text) == (1...5).map { "a\($0)" })
                #expect(seen.filter { $0.from == bob.principal.description }.map(\.text) == (1...5).map { "b\($0)" })
            }
            await a.close()
            await b.close()
        }
    }

    @Test("Scenarios 24, 26, 61: ack and keep-alive rounds under replica time control")
    func ackAndKeepAliveRoundsUnderReplicaTime() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister(), manual: true) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let client = try await connect(gateways[0].url, canister, local, as: TextMessage.self)
            #expect(try await client.next() == TextMessage(text: "ping"))
            try await client.send(TextMessage(text: "one"))
            #expect(try await client.next() == TextMessage(text: "one ping"))
            // Three ack intervals (5 minutes each, measured from init) with the keep-alive check
            // 60 s after each ack: the client answers every ack with a keep-alive, so the check
            // (which closes a client silent for more than 60 s) keeps it. Time moves in exact
            // steps, as the check runs at its due time on the IC.
            for round in 1...3 {
                let received = await client.statistics().messagesReceived
                local.replica.advanceTime(by: .seconds(round == 1 ? 300 : 240))  // ack tick
                // The ack reached the client (which answers it with a keep-alive at once); on a
                // busy machine that can take a while, so wait for it rather than a fixed time.
                let deadline = ContinuousClock.now + .seconds(60)
                while await client.statistics().messagesReceived == received, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                // The keep-alive relayed and executed. Nothing outside the canister shows when it
                // ran, so this is a wait; 2 s was too short once with a build running beside the
                // suite on 2 cores.
                try await Task.sleep(for: .seconds(5))
                local.replica.advanceTime(by: .seconds(60))  // keep-alive check
                try await Task.sleep(for: .milliseconds(200))
                try await client.send(TextMessage(text: "round \(round)"))
                #expect(try await client.next() == TextMessage(text: "round \(round) ping"))
            }
            let statistics = await client.statistics()
            #expect(statistics.messagesReceived >= 8)  // open, ping, one ping, 3 acks, 3 replies
            await client.close()
        }
    }

    @Test("Scenario 25 end to end: a gateway dropping the client's keep-alives gets the client closed")
    func keepAliveTimeoutWhenTheGatewayDropsClientFrames() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister(), manual: true) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let proxy = FaultInjectingProxy(upstream: gateways[0].url)
            try await proxy.run { url in
                let client = try await connect(url, canister, local, as: TextMessage.self)
                #expect(try await client.next() == TextMessage(text: "ping"))
                proxy.inject { $0.dropFromClientAfterOpen = true }
                local.replica.advanceTime(by: .seconds(300))  // ack; the keep-alive is lost
                try await Task.sleep(for: .milliseconds(600))
                local.replica.advanceTime(by: .seconds(61))  // keep-alive check: timeout
                let closed = try await client.waitForState(.seconds(20), "the canister's close") {
                    if case .closed = $0 { true } else { false }
                }
                guard case .closed(.closedByCanister(let reason)?) = closed else {
                    Issue.record("expected a close by the canister, got \(closed)")
                    return
                }
                #expect(reason == .keepAliveTimeout)
                #expect(proxy.dropped >= 1)
            }
        }
    }

    @Test("Scenario 53 end to end: a gateway that drops one canister message is detected")
    func droppedCanisterMessageIsDetected() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let proxy = FaultInjectingProxy(upstream: gateways[0].url)
            try await proxy.run { url in
                let client = try await connect(url, canister, local, as: TextMessage.self)
                #expect(try await client.next() == TextMessage(text: "ping"))
                proxy.inject { $0.dropToClient = { $0.sequenceNum == 3 } }  // the reply to "one"
                try await client.send(TextMessage(text: "one"))
                try await client.send(TextMessage(text: "two"))
                let closed = try await client.waitForState(.seconds(20), "the gap to be detected") {
                    if case .closed = $0 { true } else { false }
                }
                guard case .closed(.verification(let error)?) = closed else {
                    Issue.record("expected a verification failure, got \(closed)")
                    return
                }
                #expect("\(error)".contains("3"))
                #expect(proxy.dropped == 1)
            }
        }
    }

    @Test("Gateway restart mid-session: the client is closed with 1001, reconnects, and chats again")
    func gatewayRestartMidSession() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let gateway = gateways[0]
            let client = try await connect(gateway.url, canister, local, as: TextMessage.self) {
                $0.reconnect = ReconnectPolicy(
                    maxAttempts: 20, initialDelay: .milliseconds(100), maximumDelay: .milliseconds(500), resumesSession: false)
            }
            #expect(try await client.next() == TextMessage(text: "ping"))
            let firstKey = client.clientKey
            await gateway.stop()
            _ = try await client.waitForState(.seconds(20), "reconnecting") { if case .reconnecting = $0 { true } else { false } }
            try await gateway.start()
            _ = try await client.waitForState(.seconds(30), "open again") { if case .open = $0 { true } else { false } }
            #expect(client.clientKey != firstKey)  // a new nonce
            #expect(try await client.next() == TextMessage(text: "ping"))  // the new session's greeting
            try await client.send(TextMessage(text: "after restart"))
            #expect(try await client.next() == TextMessage(text: "after restart ping"))
            await client.close()
        }
    }

    @Test("Canister upgrade mid-session (§4.9): the canister forgets the client, which detects it by its ack timeout")
    func canisterUpgradeMidSession() async throws {
        let module = try CanisterModules.pingPongCanister()
        try await withStack(module: module) { stack in
            let (local, canister, gateways) = (stack.local, stack.canister, stack.gateways)
            let client = try await connect(gateways[0].url, canister, local, as: TextMessage.self) {
                $0.ackMessageInterval = .seconds(2)
                $0.ackLatencyAllowance = .seconds(1)
                $0.timerResolution = .milliseconds(200)
            }
            #expect(try await client.next() == TextMessage(text: "ping"))
            try await ManagementCanister(agent: stack.controller).installCode(canister: canister, module: module, mode: .upgrade)
            try await client.send(TextMessage(text: "lost"))
            let closed = try await client.waitForState(.seconds(20), "the ack timeout") { if case .closed = $0 { true } else { false } }
            guard case .closed(.acknowledgementTimeout(let unacknowledged)?) = closed else {
                Issue.record("expected an ack timeout, got \(closed)")
                return
            }
            #expect(unacknowledged == [1])
        }
    }
}
