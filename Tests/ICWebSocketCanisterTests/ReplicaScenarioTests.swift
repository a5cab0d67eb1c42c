import ICAgent
import ICCore
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

extension CanisterReplicaTests {
    /// The canister conformance scenarios of protocol §8.1, run against the real `TestCanister`
    /// Wasm module in the real replica. Each test is named after its scenario number.
    @Suite("TestCanister: §8.1 scenarios", .serialized)
    struct ReplicaScenarioTests {
        typealias Testbed = WebSocketTestbed

        @Test("1: ws_open from the anonymous principal")
        func anonymousOpen() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let before = bed.certifiedData
                #expect(try await gateway.open(bed.client(nonce: 1, anonymous: true)) == .err("Anonymous principal is not allowed"))
                #expect(try await gateway.poll(from: 0).messages.isEmpty)
                #expect(bed.certifiedData == before)
            }
        }

        @Test("2, 12, 30: ws_open queues exactly one OpenMessage at <gateway>_00000000000000000000")
        func openMessage() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 12_345)
                #expect(try await gateway.open(client) == .ok)
                let batch = try await gateway.poll(from: 0)
                #expect(batch.messages.count == 1)
                #expect(batch.isEndOfQueue)
                let open = try #require(batch.messages.first)
                #expect(open.key == "\(gateway.principal)_00000000000000000000")
                #expect(open.clientKey == client.key)
                #expect(open.sequence == 1)
                #expect(open.message.isServiceMessage)
                #expect(open.service == .openMessage(clientKey: client.key))
            }
        }

        @Test("3: a second ws_open with the same key")
        func duplicateOpen() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 7)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.open(client) == .err("Client with key \(client.principal)_7 already has an open connection"))
                #expect(try await gateway.poll(from: 0).messages.count == 1)
            }
        }

        @Test("4: ws_open with another nonce silently replaces the connection")
        func reopenWithAnotherNonce() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let first = bed.client(nonce: 1)
                let second = TestClient(testbed: bed, identity: first.identity, nonce: 2)
                #expect(try await gateway.open(first) == .ok)
                #expect(try await gateway.open(second) == .ok)
                #expect(try await bed.send(to: first.principal, ["after reopen"]) == .ok)
                let messages = try await gateway.pollAll()
                // open(first), open(second), the application message: no CloseMessage for the first key.
                #expect(messages.map(\.clientKey) == [first.key, second.key, second.key])
                #expect(messages.compactMap(\.service).allSatisfy { if case .openMessage = $0 { true } else { false } })
                #expect(messages.last?.appText == "after reopen")
                #expect(messages.last?.sequence == 2)
                #expect(
                    try await gateway.relay(first.messageEnvelope(sequence: 1, content: [], key: first.key))
                        == .err("Client with principal \(first.principal) has a different key than the one used in the message"))
                // on_close ran for the evicted key.
                #expect(bed.log.filter { $0 == "Client \(first.principal) disconnected" }.count == 1)
            }
        }

        @Test("5, 6: ws_message without a connection, or with another key")
        func messageErrors() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let stranger = bed.client(nonce: 1)
                #expect(
                    try await gateway.relay(stranger.appMessage(sequence: 1, "hi"))
                        == .err("Client with principal \(stranger.principal) doesn't have an open connection"))
                let client = bed.client(nonce: 5)
                #expect(try await gateway.open(client) == .ok)
                let otherPrincipal = ClientKey(clientPrincipal: stranger.principal, clientNonce: 5)
                #expect(
                    try await gateway.relay(client.messageEnvelope(sequence: 1, content: [], key: otherPrincipal))
                        == .err("Client with principal \(stranger.principal) has a different key than the one used in the message"))
                let otherNonce = ClientKey(clientPrincipal: client.principal, clientNonce: 6)
                #expect(
                    try await gateway.relay(client.messageEnvelope(sequence: 1, content: [], key: otherNonce))
                        == .err("Client with principal \(client.principal) has a different key than the one used in the message"))
                // Neither failure consumed the sequence number.
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "hello")) == .ok)
            }
        }

        @Test("7, 31: the first ws_message with sequence number 1 reaches on_message once")
        func firstMessage() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 3)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "hello")) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 2, "again")) == .ok)
                #expect(try await gateway.close(client.key) == .ok)
                let log = bed.log
                #expect(log.filter { $0 == "Opened websocket: \(client.principal)" }.count == 1)
                #expect(log.filter { $0 == "Received message: \(client.principal)" }.count == 2)
                #expect(log.filter { $0 == "Client \(client.principal) disconnected" }.count == 1)
            }
        }

        @Test("8: a wrong sequence number closes the client")
        func wrongSequenceNumber() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 8)
                #expect(try await gateway.open(client) == .ok)
                #expect(
                    try await gateway.relay(client.appMessage(sequence: 2, "skipped one"))
                        == .err("Expected incoming sequence number 1 but got 2"))
                let close = try #require(try await gateway.poll(from: 1).messages.first)
                #expect(close.service == .closeMessage(reason: .wrongSequenceNumber))
                #expect(close.sequence == 2)
                #expect(
                    try await gateway.close(client.key) == .err("Client with key \(client.principal)_8 doesn't have an open connection"))
                #expect(
                    try await gateway.relay(client.appMessage(sequence: 1, "too late"))
                        == .err("Client with principal \(client.principal) doesn't have an open connection"))
            }
        }

        @Test("9, 10: undecodable and canister-only service messages consume their sequence number; keep-alive is accepted")
        func serviceMessages() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 9)
                #expect(try await gateway.open(client) == .ok)
                guard
                    case .err(let decoding) = try await gateway.relay(
                        client.messageEnvelope(
                            sequence: 1, content: try Candid.encode(AppMessage(text: "not a service message")), isService: true))
                else {
                    Issue.record("a service message of another type was accepted")
                    return
                }
                #expect(decoding.hasPrefix("Error decoding service message content:"))
                #expect(
                    try await gateway.relay(
                        client.messageEnvelope(
                            sequence: 2, content: WebsocketServiceMessageContent.ackMessage(lastIncomingSequenceNum: 0).encoded(),
                            isService: true))
                        == .err("Invalid service message"))
                #expect(try await gateway.relay(client.keepAlive(sequence: 3, lastIncoming: 1)) == .ok)
                // Still registered: only the open message was ever queued.
                #expect(try await gateway.pollAll().count == 1)
                #expect(try await gateway.relay(client.appMessage(sequence: 4, "still here")) == .ok)
            }
        }

        @Test("11: ws_get_messages from an unknown gateway is an empty Ok")
        func unknownGateway() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let stranger = bed.gateway()
                let result = try await stranger.agent.query(
                    bed.canister, "ws_get_messages", CanisterWsGetMessagesArguments(nonce: 0),
                    returning: CanisterWsGetMessagesResult.self)
                #expect(result == .ok(.empty))
                // Also once another gateway has messages.
                let gateway = bed.gateway()
                #expect(try await gateway.open(bed.client(nonce: 1)) == .ok)
                #expect(
                    try await stranger.agent.query(
                        bed.canister, "ws_get_messages", CanisterWsGetMessagesArguments(nonce: 0),
                        returning: CanisterWsGetMessagesResult.self) == .ok(.empty))
            }
        }

        @Test("13, 14: polling returns min(L, M − i) certified messages with gap-free sequence numbers")
        func selection() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 13)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, (1...59).map { "message \($0)" }) == .ok)
                let total: UInt64 = 60
                for start: UInt64 in [0, 1, 10, 11, 59, 60, 61] {
                    let batch = try await gateway.poll(from: start)
                    let remaining = total > start ? total - start : 0
                    #expect(UInt64(batch.messages.count) == min(50, remaining), "from \(start)")
                    #expect(batch.isEndOfQueue == (remaining <= 50), "from \(start)")
                    #expect(batch.messages.map(\.nonce) == Array(start..<(start + UInt64(batch.messages.count))))
                    // Canister sequence numbers are 1, 2, 3, … per client: nonce i carries i + 1.
                    #expect(batch.messages.map(\.sequence) == batch.messages.map { $0.nonce + 1 })
                    #expect(batch.messages.allSatisfy { $0.clientKey == client.key })
                }
                let all = try await gateway.pollAll()
                #expect(all.count == 60)
                #expect(all.dropFirst().map(\.appText) == (1...59).map { "message \($0)" })
            }
        }

        @Test("15: an ack tick deletes at most 5 expired messages per send", arguments: [3, 10])
        func queueCleanup(sent: Int) async throws {
            // `sent` application messages after the open message: N + 1 messages are queued.
            try await Testbed.withTestCanister(maxReturned: 1_000) { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 15)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, (1...sent).map { "m\($0)" }) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs + 1)
                let messages = try await gateway.pollAll()
                #expect(messages.count == max(sent + 1 - 5, 0) + 1)
                #expect(messages.first?.sequence == UInt64(min(sent + 1, 5) + 1))
                #expect(messages.last?.service == .ackMessage(lastIncomingSequenceNum: 0))
            }
        }

        @Test("16: a gateway whose last client left keeps its messages until the check after the next tick")
        func emptyGatewayRemoval() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 16)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.close(client.key) == .ok)
                #expect(try await gateway.poll(from: 0).messages.count == 1)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                #expect(try await gateway.poll(from: 0).messages.count == 1)
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.poll(from: 0).messages.isEmpty)
                // The gateway is gone: ws_close now fails with the gateway error.
                #expect(try await gateway.close(client.key) == .err("Gateway with principal \(gateway.principal) is not registered"))
            }
        }

        @Test("17: a gateway emptied just after a tick survives one more round")
        func emptiedAfterTick() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 17)
                #expect(try await gateway.open(client) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                #expect(try await gateway.close(client.key) == .ok)
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.poll(from: 0).messages.count == 2)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs - Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.poll(from: 0).messages.count == 2)
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.poll(from: 0).messages.isEmpty)
            }
        }

        @Test("18–21: ws_close errors and success")
        func wsClose() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let first = bed.gateway()
                let second = bed.gateway()
                let client = bed.client(nonce: 21)
                let other = bed.client(nonce: 22)
                #expect(try await first.close(client.key) == .err("Gateway with principal \(first.principal) is not registered"))
                #expect(try await first.open(client) == .ok)
                #expect(try await second.open(other) == .ok)
                #expect(
                    try await first.close(other.key)
                        == .err("Client with key \(other.principal)_22 was not registered to gateway \(first.principal)"))
                #expect(
                    try await second.close(client.key)
                        == .err("Client with key \(client.principal)_21 was not registered to gateway \(second.principal)"))
                let unknown = ClientKey(clientPrincipal: other.principal, clientNonce: 99)
                #expect(try await first.close(unknown) == .err("Client with key \(other.principal)_99 doesn't have an open connection"))
                #expect(try await first.close(client.key) == .ok)
                #expect(try await first.close(client.key) == .err("Client with key \(client.principal)_21 doesn't have an open connection"))
                // ws_close queues nothing.
                #expect(try await first.pollAll().count == 1)
            }
        }

        @Test("22, 23: send and close from the canister")
        func sendAndClose() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 23)
                let stranger = bed.client(nonce: 1)
                #expect(
                    try await bed.send(to: stranger.principal, ["x"])
                        == .err("Client with principal \(stranger.principal) doesn't have an open connection"))
                #expect(
                    try await bed.closeByApplication(stranger.principal)
                        == .err("Client with principal \(stranger.principal) doesn't have an open connection"))
                #expect(try await gateway.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, ["one", "two"]) == .ok)
                #expect(try await bed.send(to: client.principal, []) == .ok)
                #expect(try await bed.closeByApplication(client.principal) == .ok)
                #expect(
                    try await bed.closeByApplication(client.principal)
                        == .err("Client with principal \(client.principal) doesn't have an open connection"))
                let messages = try await gateway.pollAll()
                #expect(messages.map(\.sequence) == [1, 2, 3, 4])
                #expect(messages.dropFirst().prefix(2).map(\.appText) == ["one", "two"])
                #expect(messages.last?.service == .closeMessage(reason: .closedByApplication))
                #expect(
                    try await bed.send(to: client.principal, ["gone"])
                        == .err("Client with principal \(client.principal) doesn't have an open connection"))
            }
        }

        @Test("24: the ack carries the last client sequence number")
        func ack() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 24)
                #expect(try await gateway.open(client) == .ok)
                #expect(try await gateway.relay(client.appMessage(sequence: 1, "one")) == .ok)
                let before = bed.certifiedData
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                #expect(bed.certifiedData != before)
                let ack = try #require(try await gateway.poll(from: 1).messages.first)
                #expect(ack.nonce == 1)
                #expect(ack.message.isServiceMessage)
                #expect(ack.sequence == 2)
                #expect(ack.service == .ackMessage(lastIncomingSequenceNum: 1))
            }
        }

        @Test("25: without a keep-alive the client is closed 60 s after the ack")
        func keepAliveTimeout() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 25)
                #expect(try await gateway.open(client) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                #expect(try await gateway.pollAll().last?.service == .ackMessage(lastIncomingSequenceNum: 0))
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs - 1)
                #expect(try await gateway.pollAll().count == 2)
                try await bed.advance(milliseconds: 1)
                // Queuing the CloseMessage 360 s after the open also pruned the open message (§4.7).
                let messages = try await gateway.pollAll()
                #expect(messages.map(\.sequence) == [2, 3])
                #expect(messages.last?.service == .closeMessage(reason: .keepAliveTimeout))
                #expect(
                    try await gateway.close(client.key) == .err("Client with key \(client.principal)_25 doesn't have an open connection"))
            }
        }

        @Test("26: a keep-alive in time keeps the client; the next ack counts it")
        func keepAliveInTime() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let client = bed.client(nonce: 26)
                #expect(try await gateway.open(client) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                let ack = try #require(try await gateway.pollAll().last)
                #expect(ack.service == .ackMessage(lastIncomingSequenceNum: 0))
                try await bed.advance(milliseconds: 30_000)
                #expect(try await gateway.relay(client.keepAlive(sequence: 1, lastIncoming: ack.sequence)) == .ok)
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.relay(client.appMessage(sequence: 2, "still connected")) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                let next = try #require(try await gateway.pollAll().last)
                #expect(next.sequence == 3)
                #expect(next.service == .ackMessage(lastIncomingSequenceNum: 2))
            }
        }

        @Test("27: a client that connects after a tick is not checked at that tick's check")
        func lateClient() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let gateway = bed.gateway()
                let early = bed.client(nonce: 1)
                let late = bed.client(nonce: 2)
                #expect(try await gateway.open(early) == .ok)
                try await bed.advance(milliseconds: Testbed.ackIntervalMs)
                #expect(try await gateway.open(late) == .ok)
                try await bed.advance(milliseconds: Testbed.keepAliveTimeoutMs)
                #expect(try await gateway.close(early.key) == .err("Client with key \(early.principal)_1 doesn't have an open connection"))
                // Exactly at the next tick: the late open message is not yet older than one interval, so not pruned.
                try await bed.advance(milliseconds: Testbed.ackIntervalMs - Testbed.keepAliveTimeoutMs)
                let lateMessages = try await gateway.pollAll().filter { $0.clientKey == late.key }
                #expect(lateMessages.map(\.sequence) == [1, 2])
                #expect(lateMessages.last?.service == .ackMessage(lastIncomingSequenceNum: 0))
            }
        }

        @Test("28: gateway switch: counters restart per connection, nonces per gateway")
        func gatewaySwitch() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let first = bed.gateway()
                let second = bed.gateway()
                let client = bed.client(nonce: 28)
                #expect(try await first.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, (1...5).map { "first \($0)" }) == .ok)
                #expect(try await first.pollAll().map(\.sequence) == [1, 2, 3, 4, 5, 6])
                #expect(try await second.poll(from: 0).messages.isEmpty)
                #expect(try await first.close(client.key) == .ok)
                #expect(try await second.open(client) == .ok)
                #expect(try await bed.send(to: client.principal, (1...5).map { "second \($0)" }) == .ok)
                let messages = try await second.pollAll()
                #expect(messages.map(\.nonce) == [0, 1, 2, 3, 4, 5])
                #expect(messages.map(\.sequence) == [1, 2, 3, 4, 5, 6])
                #expect(messages.first?.service == .openMessage(clientKey: client.key))
                // The first gateway's queue is unchanged.
                #expect(try await first.pollAll().count == 6)
            }
        }

        @Test("29: init refuses send_ack_interval_ms ≤ 60 000")
        func initParameterCheck() async throws {
            try await Testbed.withTestCanister { (bed: WebSocketTestbed) async throws in
                let module = try CanisterModules.testCanister()
                do {
                    _ = try await bed.local.deploy(
                        module: module, arg: try Candid.encode(UInt64(10), UInt64(60_000)), agent: bed.controller)
                    Issue.record("install with send_ack_interval_ms = 60 000 succeeded")
                } catch AgentError.rejected(let reject) {
                    #expect(reject.message.contains("send_ack_interval_ms must be greater than CLIENT_KEEP_ALIVE_TIMEOUT_MS"))
                }
                // wipe re-runs init with the same check: the call traps and nothing changes.
                let gateway = bed.gateway()
                #expect(try await gateway.open(bed.client(nonce: 1)) == .ok)
                await #expect(throws: AgentError.self) { try await bed.wipe(ackIntervalMs: 60_000) }
                #expect(try await gateway.pollAll().count == 1)
            }
        }
    }
}
