import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// Protocol §8.1, the canister-library scenarios that are pure logic. Each test is named after
/// its scenario number; the real-Wasm versions run against the replica.
@Suite("ICWebSocketCanisterCore: §8.1 scenarios")
struct ScenarioTests {
    @Test("1: ws_open from the anonymous principal")
    func scenario01() {
        var h = Harness()
        #expect(h.open(.anonymous) == .err("Anonymous principal is not allowed"))
        #expect(h.core.registeredClients.isEmpty)
        #expect(h.poll().messages.isEmpty)
        #expect(h.events.isEmpty)
    }

    @Test("2: ws_open queues the OpenMessage at the gateway's nonce 0")
    func scenario02() {
        var h = Harness()
        #expect(h.open(clientA, nonce: 7) == .ok)
        let batch = h.poll()
        #expect(batch.messages.count == 1)
        let key = ClientKey(clientPrincipal: clientA, clientNonce: 7)
        #expect(batch.messages[0].clientKey == key)
        #expect(batch.messages[0].key == "\(gateway1)_00000000000000000000")
        #expect(decoded(batch.messages[0]).sequenceNum == 1)
        #expect(decoded(batch.messages[0]).timestamp == h.now)
        #expect(service(batch.messages[0]) == .openMessage(clientKey: key))
        #expect(batch.isEndOfQueue)
        #expect(h.events == [.open(clientPrincipal: clientA)])
    }

    @Test("3: a second ws_open with the same key")
    func scenario03() {
        var h = Harness()
        h.open(clientA, nonce: 5)
        #expect(h.open(clientA, nonce: 5) == .err("Client with key \(clientA)_5 already has an open connection"))
        #expect(h.poll().messages.count == 1)
    }

    @Test("4: ws_open with another nonce replaces the connection silently")
    func scenario04() {
        var h = Harness()
        h.open(clientA, nonce: 1)
        h.events = []
        #expect(h.open(clientA, nonce: 2) == .ok)
        let old = ClientKey(clientPrincipal: clientA, clientNonce: 1)
        let new = ClientKey(clientPrincipal: clientA, clientNonce: 2)
        #expect(!h.core.isRegistered(old))
        #expect(h.core.clientKey(of: clientA) == new)
        #expect(h.events == [.close(clientPrincipal: clientA), .open(clientPrincipal: clientA)])
        // No CloseMessage for the old key: open(old), open(new).
        let batch = h.poll()
        #expect(batch.messages.map { service($0) } == [.openMessage(clientKey: old), .openMessage(clientKey: new)])
        #expect(h.send(clientA) == .ok)
        #expect(h.poll(from: 2).messages.first?.clientKey == new)
        #expect(
            h.message(clientA, key: old, seq: 1)
                == .err("Client with principal \(clientA) has a different key than the one used in the message"))
    }

    @Test("5: ws_message from a principal without a connection")
    func scenario05() {
        var h = Harness()
        #expect(h.message(clientB, seq: 1) == .err("Client with principal \(clientB) doesn't have an open connection"))
    }

    @Test("6: ws_message carrying another key")
    func scenario06() {
        var h = Harness()
        h.open(clientA, nonce: 1)
        let otherPrincipal = ClientKey(clientPrincipal: clientB, clientNonce: 1)
        #expect(
            h.message(clientA, key: otherPrincipal, seq: 1)
                == .err("Client with principal \(clientB) has a different key than the one used in the message"))
        let otherNonce = ClientKey(clientPrincipal: clientA, clientNonce: 2)
        #expect(
            h.message(clientA, key: otherNonce, seq: 1)
                == .err("Client with principal \(clientA) has a different key than the one used in the message"))
    }

    @Test("7: first ws_message with sequence number 1 reaches on_message")
    func scenario07() {
        var h = Harness()
        h.open(clientA)
        h.events = []
        #expect(h.message(clientA, seq: 1, content: [9, 8]) == .ok)
        #expect(h.events == [.message(clientPrincipal: clientA, content: [9, 8])])
    }

    @Test("8: a wrong sequence number closes the connection")
    func scenario08() {
        var h = Harness()
        h.open(clientA)
        let key = h.core.clientKey(of: clientA)!
        #expect(h.message(clientA, seq: 2) == .err("Expected incoming sequence number 1 but got 2"))
        let batch = h.poll(from: 1)
        #expect(batch.messages.count == 1)
        #expect(service(batch.messages[0]) == .closeMessage(reason: .wrongSequenceNumber))
        #expect(decoded(batch.messages[0]).sequenceNum == 2)
        #expect(h.close(key) == .err("Client with key \(key) doesn't have an open connection"))
        #expect(h.events.last == .close(clientPrincipal: clientA))
    }

    @Test("9: undecodable and canister-only service messages; the sequence number is consumed")
    func scenario09() {
        var h = Harness()
        h.open(clientA)
        let notService = try! Candid.encode("not a service message")
        let first = h.message(clientA, seq: 1, service: nil, content: notService)
        #expect(first == .ok)  // an application message: delivered
        // Now a service message whose content is valid Candid of another type.
        let key = h.core.clientKey(of: clientA)!
        let bad = WebsocketMessage(clientKey: key, sequenceNum: 2, timestamp: h.now, isServiceMessage: true, content: notService)
        let result = h.core.wsMessage(caller: clientA, CanisterWsMessageArguments(msg: bad), now: h.now)
        guard case .err(let text) = result else {
            Issue.record("expected an error")
            return
        }
        #expect(text.description.hasPrefix("Error decoding service message content:"))
        #expect(h.message(clientA, seq: 3, service: .ackMessage(lastIncomingSequenceNum: 1)) == .err("Invalid service message"))
        #expect(h.core.isRegistered(key))
    }

    @Test("10: keep-alive with the expected sequence number")
    func scenario10() {
        var h = Harness()
        h.open(clientA)
        #expect(h.message(clientA, seq: 1, service: .keepAliveMessage(lastIncomingSequenceNum: 1)) == .ok)
        #expect(h.events == [.open(clientPrincipal: clientA)])  // not delivered to on_message
    }

    @Test("11: ws_get_messages from an unknown gateway is an empty Ok")
    func scenario11() throws {
        var h = Harness()
        h.open(clientA)
        let result = try h.core.wsGetMessages(caller: gateway2, CanisterWsGetMessagesArguments(nonce: 0), certificate: nil)
        #expect(result == .ok(CanisterOutputCertifiedMessages(messages: [], cert: [], tree: [], isEndOfQueue: true)))
        // Without a certificate (a replicated call) there is nothing to return, so no trap either.
        #expect(try h.core.wsGetMessages(caller: gateway1, CanisterWsGetMessagesArguments(nonce: 5), certificate: nil) == .ok(.empty))
        #expect(throws: CanisterTrap.self) {
            try h.core.wsGetMessages(caller: gateway1, CanisterWsGetMessagesArguments(nonce: 0), certificate: nil)
        }
    }

    @Test("12: after one ws_open polling returns exactly one message")
    func scenario12() {
        var h = Harness()
        h.open(clientA)
        #expect(h.poll().messages.count == 1)
    }

    // The reference uses L = 50; a smaller L exercises the same boundaries with fewer sends.
    @Test("13: selection bounds: min(L, M − i) messages, is_end_of_queue = (M − i ≤ L)", arguments: [0, 1, 5, 9, 10, 11, 19, 24])
    func scenario13(from i: Int) {
        let limit = 10
        let m = 24
        var h = Harness(maxReturned: limit)
        h.open(clientA)
        for _ in 0..<(m - 1) { h.send(clientA) }
        let batch = h.poll(from: UInt64(i))
        #expect(batch.messages.count == min(limit, m - i))
        #expect(batch.isEndOfQueue == (m - i <= limit))
        if let first = batch.messages.first { #expect(MessageKey.nonce(of: first.key) == UInt64(i)) }
        #expect(h.poll(from: UInt64(m)).messages.isEmpty)
    }

    @Test("13: the default limit of 50")
    func scenario13Default() {
        var h = Harness()
        h.open(clientA)
        // One message sending 59 times: the tree is rebuilt once, at the end.
        for _ in 0..<59 { _ = h.core.send(to: clientA, [1], now: h.now) }
        h.endOfMessage()
        let batch = h.poll()
        #expect(batch.messages.count == 50)
        #expect(!batch.isEndOfQueue)
        #expect(h.poll(from: 50).messages.count == 10)
        #expect(h.poll(from: 50).isEndOfQueue)
    }

    @Test("14: every polled batch is consistent and certified")
    func scenario14() {
        var h = Harness()
        h.open(clientA)
        for n in 0..<30 { h.send(clientA, [UInt8(n)]) }
        var expectedSeq: UInt64 = 1
        var nonce: UInt64 = 0
        var batch = h.poll(from: nonce)
        while !batch.messages.isEmpty {
            for message in batch.messages {
                #expect(message.clientKey == h.core.clientKey(of: clientA))
                #expect(decoded(message).sequenceNum == expectedSeq)
                #expect(decoded(message).timestamp <= h.now)
                expectedSeq += 1
                nonce = MessageKey.nonce(of: message.key)! + 1
            }
            batch = h.poll(from: nonce)
        }
        #expect(expectedSeq == 32)
    }

    @Test("15: queue cleanup deletes at most 5 expired messages per send", arguments: [0, 3, 4, 5, 10, 20])
    func scenario15(sent n: Int) {
        var h = Harness(maxReturned: 1_000)
        h.open(clientA)
        for _ in 0..<n { h.send(clientA) }
        // The open message and the n sends; advancing past one interval fires the ack, whose
        // send removes up to 5 of the (now expired) messages.
        h.advance(ms: 300_000 + 1)
        let batch = h.poll()
        let total = n + 1
        #expect(batch.messages.count == max(total - 5, 0) + 1)
        #expect(decoded(batch.messages[0]).sequenceNum == UInt64(min(total, 5) + 1))
    }

    @Test("16: the last client's gateway keeps its messages until the check after the next tick")
    func scenario16() {
        var h = Harness()
        h.open(clientA)
        let key = h.core.clientKey(of: clientA)!
        h.advance(ms: 1_000)
        #expect(h.close(key) == .ok)
        #expect(h.poll().messages.count == 1)
        h.advance(ms: 299_000)  // the ack tick (no clients: nothing queued)
        #expect(h.poll().messages.count == 1)
        h.advance(ms: 60_000)  // the keep-alive check: empty for 359 s > 300 s
        #expect(h.poll().messages.isEmpty)
        #expect(!h.core.isGatewayRegistered(gateway1))
        // Its keys are uncertified: the tree is empty again.
        #expect(h.certifiedData == HashTree.labeled(MessageKey.certificationLabel, .empty).reconstruct())
        // A returning gateway starts again at nonce 0.
        h.open(clientB)
        #expect(h.poll().messages.first?.key == "\(gateway1)_00000000000000000000")
    }

    @Test("17: a gateway emptied just after a tick survives one more round")
    func scenario17() {
        var h = Harness()
        h.open(clientA)
        let key = h.core.clientKey(of: clientA)!
        h.advance(ms: 300_000)  // tick: ack queued
        h.advance(ms: 1)
        #expect(h.close(key) == .ok)
        h.advance(ms: 60_000 - 1)  // check: empty for ~60 s
        #expect(h.poll().messages.count == 2)
        h.advance(ms: 240_000)  // next tick
        #expect(h.poll().messages.count == 2)
        h.advance(ms: 60_000)  // check: empty for > 300 s
        #expect(h.poll().messages.isEmpty)
    }

    @Test("18–21: ws_close errors and success")
    func scenarios18to21() {
        var h = Harness()
        h.open(clientA, via: gateway1)
        h.open(clientB, via: gateway2)
        let key = h.core.clientKey(of: clientA)!
        let unknown = principal(99)
        #expect(h.close(key, by: unknown) == .err("Gateway with principal \(unknown) is not registered"))  // 18
        let missing = ClientKey(clientPrincipal: clientC, clientNonce: 3)
        #expect(h.close(missing) == .err("Client with key \(clientC)_3 doesn't have an open connection"))  // 19
        #expect(h.close(key, by: gateway2) == .err("Client with key \(key) was not registered to gateway \(gateway2)"))  // 20
        #expect(h.core.isRegistered(key))
        h.events = []
        #expect(h.close(key) == .ok)  // 21
        #expect(h.events == [.close(clientPrincipal: clientA)])
        #expect(h.close(key) == .err("Client with key \(key) doesn't have an open connection"))
        // No CloseMessage was queued by ws_close.
        #expect(h.poll().messages.count == 1)
    }

    @Test("22: send")
    func scenario22() {
        var h = Harness()
        #expect(h.send(clientA) == .err("Client with principal \(clientA) doesn't have an open connection"))
        h.open(clientA)
        #expect(h.send(clientA, [5]) == .ok)
        let batch = h.poll(from: 1)
        #expect(
            decoded(batch.messages[0])
                == WebsocketMessage(
                    clientKey: h.core.clientKey(of: clientA)!, sequenceNum: 2, timestamp: h.now, isServiceMessage: false, content: [5]))
    }

    @Test("23: close")
    func scenario23() {
        var h = Harness()
        #expect(h.core.close(clientA, now: h.now) == .err("Client with principal \(clientA) doesn't have an open connection"))
        h.open(clientA)
        #expect(h.core.close(clientA, now: h.now) == .ok)
        h.endOfMessage()
        #expect(service(h.poll(from: 1).messages[0]) == .closeMessage(reason: .closedByApplication))
        #expect(h.core.close(clientA, now: h.now) == .err("Client with principal \(clientA) doesn't have an open connection"))
        #expect(h.events.last == .close(clientPrincipal: clientA))
    }

    @Test("24: the ack carries the last client sequence number")
    func scenario24() {
        var h = Harness()
        h.open(clientA)
        h.message(clientA, seq: 1)
        h.advance(ms: 300_000)
        let batch = h.poll(from: 1)
        #expect(batch.messages.count == 1)
        #expect(decoded(batch.messages[0]).isServiceMessage)
        #expect(decoded(batch.messages[0]).sequenceNum == 2)
        #expect(service(batch.messages[0]) == .ackMessage(lastIncomingSequenceNum: 1))
        #expect(MessageKey.nonce(of: batch.messages[0].key) == 1)
    }

    @Test("25: keep-alive timeout closes the client 60 s after the ack")
    func scenario25() {
        var h = Harness()
        h.open(clientA)
        let key = h.core.clientKey(of: clientA)!
        h.advance(ms: 300_000)
        #expect(service(h.poll(from: 1).messages[0]) == .ackMessage(lastIncomingSequenceNum: 0))
        h.advance(ms: 60_000)
        let close = h.poll(from: 2).messages
        #expect(close.count == 1)
        #expect(service(close[0]) == .closeMessage(reason: .keepAliveTimeout))
        #expect(decoded(close[0]).sequenceNum == 3)
        #expect(h.close(key) == .err("Client with key \(key) doesn't have an open connection"))
    }

    @Test("26: a keep-alive in time keeps the client; the next ack counts it")
    func scenario26() {
        var h = Harness()
        h.open(clientA)
        h.advance(ms: 300_000)
        h.advance(ms: 30_000)
        #expect(h.message(clientA, seq: 1, service: .keepAliveMessage(lastIncomingSequenceNum: 2)) == .ok)
        h.advance(ms: 30_000)  // the check
        #expect(h.core.clientKey(of: clientA) != nil)
        #expect(h.message(clientA, seq: 2) == .ok)
        h.advance(ms: 240_000)  // next tick
        let ack = h.poll(from: 2).messages
        #expect(ack.count == 1)
        #expect(service(ack[0]) == .ackMessage(lastIncomingSequenceNum: 2))
        #expect(decoded(ack[0]).sequenceNum == 3)
    }

    @Test("27: a client that connects after a tick is not checked at that tick's check")
    func scenario27() {
        var h = Harness()
        h.open(clientA)
        h.advance(ms: 300_000)
        h.advance(ms: 10_000)
        h.open(clientB)
        h.advance(ms: 50_000)  // check: A silent → closed; B not waiting
        #expect(h.core.clientKey(of: clientA) == nil)
        #expect(h.core.clientKey(of: clientB) != nil)
        h.advance(ms: 240_000)  // next tick: B gets an ack
        let forB = h.poll().messages.filter { $0.clientKey.clientPrincipal == clientB }
        #expect(
            forB.map { service($0) } == [.openMessage(clientKey: h.core.clientKey(of: clientB)!), .ackMessage(lastIncomingSequenceNum: 0)])
    }

    @Test("28: gateway switch: counters restart per connection, nonces per gateway")
    func scenario28() {
        var h = Harness()
        h.open(clientA, nonce: 4, via: gateway1)
        let key = h.core.clientKey(of: clientA)!
        for _ in 0..<5 { h.send(clientA) }
        #expect(h.poll(gateway1).messages.map { decoded($0).sequenceNum } == [1, 2, 3, 4, 5, 6])
        #expect(h.poll(gateway2).messages.isEmpty)
        #expect(h.close(key, by: gateway1) == .ok)
        #expect(h.open(clientA, nonce: 4, via: gateway2) == .ok)
        for _ in 0..<5 { h.send(clientA) }
        let batch = h.poll(gateway2)
        #expect(batch.messages.first?.key == "\(gateway2)_00000000000000000000")
        #expect(batch.messages.map { decoded($0).sequenceNum } == [1, 2, 3, 4, 5, 6])
        #expect(service(batch.messages[0]) == .openMessage(clientKey: key))
    }

    @Test("29: init parameter check and defaults")
    func scenario29() {
        #expect(throws: CanisterTrap("send_ack_interval_ms must be greater than CLIENT_KEEP_ALIVE_TIMEOUT_MS")) {
            try WebSocketCanisterCore(parameters: WebSocketParameters(sendAckIntervalMs: 60_000), now: 0)
        }
        #expect(throws: Never.self) { try WebSocketCanisterCore(parameters: WebSocketParameters(sendAckIntervalMs: 60_001), now: 0) }
        let defaults = WebSocketParameters()
        #expect(defaults.maxNumberOfReturnedMessages == 50)
        #expect(defaults.sendAckIntervalMs == 300_000)
    }

    @Test("30: key format")
    func scenario30() {
        for nonce: UInt64 in [0, 7, 12_345, .max] {
            let key = MessageKey.format(gateway: gateway1, nonce: nonce)
            let digits = String(nonce)
            #expect(key == "\(gateway1)_" + String(repeating: "0", count: 20 - digits.count) + digits)
        }
    }

    @Test("31: handler events: one per event, in order")
    func scenario31() {
        var h = Harness()
        h.open(clientA)
        h.message(clientA, seq: 1, content: [1])
        h.message(clientA, seq: 2, content: [2])
        _ = h.core.close(clientA, now: h.now)
        h.endOfMessage()
        #expect(
            h.events == [
                .open(clientPrincipal: clientA), .message(clientPrincipal: clientA, content: [1]),
                .message(clientPrincipal: clientA, content: [2]), .close(clientPrincipal: clientA),
            ])
    }
}

@Suite("ICWebSocketCanisterCore: beyond the reference")
struct ExtraTests {
    @Test("certification caches: chunk boundaries, deletions, several gateways; witnesses verify")
    func certificationCaches() {
        var h = Harness(maxReturned: 1_000, ackIntervalMs: 100_000)
        h.open(clientA, via: gateway1)
        h.open(clientB, via: gateway2)
        h.open(clientC, via: gateway1)
        var step = 0
        func check(_ h: inout Harness) {
            #expect(h.certifiedData == h.core.certifiedDataFromScratch())
            for gateway in [gateway1, gateway2] {
                let batch = h.poll(gateway)  // verifies h(tree), leaves, well-formedness
                if batch.messages.count > 3 {
                    // A middle slice too.
                    let middle = h.poll(gateway, from: MessageKey.nonce(of: batch.messages[batch.messages.count / 2].key)!)
                    #expect(!middle.messages.isEmpty)
                }
            }
        }
        for round in 0..<3 {
            for n in 0..<70 {
                h.send(n % 3 == 0 ? clientB : (n % 2 == 0 ? clientA : clientC), [UInt8(n), UInt8(round)])
                step += 1
                if step % 23 == 0 { check(&h) }
            }
            check(&h)
            // Age everything; later sends delete 5 of the oldest each.
            h.advance(ms: 60_000)
        }
        check(&h)
        #expect(h.core.queue(of: gateway1).count > 64)
    }

    @Test("several gateways: separate queues and nonces, one certified tree")
    func severalGateways() {
        var h = Harness()
        h.open(clientA, via: gateway1)
        h.open(clientB, via: gateway2)
        h.open(clientC, via: gateway1)
        h.send(clientB)
        #expect(h.poll(gateway1).messages.map { MessageKey.nonce(of: $0.key)! } == [0, 1])
        #expect(h.poll(gateway2).messages.map { MessageKey.nonce(of: $0.key)! } == [0, 1])
        #expect(h.poll(gateway2).messages.allSatisfy { $0.clientKey.clientPrincipal == clientB })
    }

    @Test("byte bound: a reply never passes maxReplyBytes, yet always makes progress")
    func byteBound() {
        var h = Harness(maxReplyBytes: 10_000)
        h.open(clientA)
        for _ in 0..<10 { h.send(clientA, [UInt8](repeating: 7, count: 3_000)) }
        var nonce: UInt64 = 0
        var seen = 0
        while true {
            let batch = h.poll(from: nonce)
            if batch.messages.isEmpty { break }
            let size = (try? Candid.encode(CanisterWsGetMessagesResult.ok(batch)).count) ?? 0
            #expect(batch.messages.count == 1 || size <= 10_000)
            seen += batch.messages.count
            nonce = MessageKey.nonce(of: batch.messages.last!.key)! + 1
            if nonce < 11 { #expect(!batch.isEndOfQueue) }
        }
        #expect(seen == 11)
    }

    @Test("wipe removes every client and message")
    func wipe() {
        var h = Harness()
        h.open(clientA)
        h.open(clientB)
        h.events = []
        h.core.wipe(now: h.now)
        h.endOfMessage()
        #expect(h.core.registeredClients.isEmpty)
        #expect(h.poll().messages.isEmpty)
        #expect(Set(h.events.map { "\($0)" }).count == 2)
    }

    @Test("the timer deadline follows the ack interval and the checks")
    func timers() {
        var h = Harness(ackIntervalMs: 100_000)
        #expect(h.core.nextTimerDeadline == Harness.start + 100_000 * 1_000_000)
        h.advance(ms: 100_000)
        #expect(h.core.nextTimerDeadline == h.now + 60_000 * 1_000_000)
        h.advance(ms: 60_000)
        #expect(h.core.nextTimerDeadline == Harness.start + 200_000 * 1_000_000)
    }
}
