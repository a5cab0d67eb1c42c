import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// Random interleavings of canister sends, client sends, deliveries, keep-alive confirmations,
/// dropped connections, resumes through either gateway, and late copies of messages relayed
/// before a resume: both directions deliver each message exactly once and in order.
@Suite struct SessionResumptionPropertyTests {
    /// The client as the model sees it: what it verified, what it sent and not yet saw executed.
    struct ModelClient {
        let key = ClientKey(clientPrincipal: clientA, clientNonce: 1)
        var gateway = gateway1
        /// The next key nonce to poll from, per gateway.
        var pollFrom: [Principal: UInt64] = [:]
        var lastVerified: UInt64 = 0
        var delivered: [[UInt8]] = []
        var lastSent: UInt64 = 0
        /// Sent application messages not known to be executed: (sequence number, content).
        var unexecuted: [(UInt64, [UInt8])] = []
        var resumeCounter: UInt64 = 0
        var connected = true
        /// Waiting for the ResumeMessage of the last ws_resume.
        var resuming = false
    }

    @Test("exactly once, in order, both ways", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func exactlyOnceInOrder(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var harness = Harness()
        #expect(harness.openResumable(clientA) == .ok)
        var client = ModelClient()
        var canisterSent: [[UInt8]] = []
        /// Envelopes relayed by a gateway and not executed yet (they may execute after a resume).
        var inFlight: [(UInt64, [UInt8])] = []
        var counter: UInt8 = 0
        /// The client's application messages, in the order it sent them.
        var clientAppSent: [[UInt8]] = []

        func content() -> [UInt8] {
            counter &+= 1
            return [counter, UInt8(truncatingIfNeeded: canisterSent.count)]
        }

        for _ in 0..<400 {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<25:
                // The canister sends (connected or not).
                let bytes = content()
                if case .ok = harness.send(clientA, bytes) { canisterSent.append(bytes) }
            case 25..<45:
                // The client's gateway relays what it has; the client verifies in order.
                guard client.connected else { break }
                poll(&client, &harness)
            case 45..<62:
                // The client sends; the envelope is in flight.
                guard client.connected, !client.resuming else { break }
                client.lastSent += 1
                let bytes = [0xC0, UInt8(truncatingIfNeeded: client.lastSent)]
                client.unexecuted.append((client.lastSent, bytes))
                clientAppSent.append(bytes)
                inFlight.append((client.lastSent, bytes))
            case 62..<80:
                // The oldest in-flight envelope executes (late copies included).
                guard !inFlight.isEmpty else { break }
                let (seq, bytes) = inFlight.removeFirst()
                _ = harness.message(clientA, key: client.key, seq: seq, content: bytes)
            case 80..<86:
                // A keep-alive confirms what the client verified (sent in sequence, executed now).
                guard client.connected, !client.resuming, inFlight.isEmpty else { break }
                client.lastSent += 1
                _ = harness.message(
                    clientA, key: client.key, seq: client.lastSent,
                    service: .keepAliveMessage(lastIncomingSequenceNum: client.lastVerified))
            case 86..<93:
                // The connection drops; sometimes the gateway tells the canister, sometimes not.
                guard client.connected else { break }
                client.connected = false
                if Bool.random(using: &random) { harness.close(client.key, by: client.gateway) }
                // Some relayed envelopes never reach the IC.
                if Bool.random(using: &random) && !inFlight.isEmpty { inFlight.removeLast() }
            default:
                // The client resumes through a gateway of its choice.
                guard !client.connected else { break }
                client.gateway = Bool.random(using: &random) ? gateway1 : gateway2
                client.resumeCounter += 1
                client.connected = true
                client.resuming = true
                client.pollFrom[client.gateway] = harness.core.queue(of: client.gateway).last.map { $0.nonce + 1 } ?? 0
                let result = harness.resume(
                    clientA, via: client.gateway, lastReceived: client.lastVerified, counter: client.resumeCounter)
                #expect(result == .ok, "seed \(seed)")
                poll(&client, &harness)
                // The resume message came: re-send what did not execute, as fresh envelopes.
                #expect(!client.resuming, "seed \(seed): no ResumeMessage")
                for (seq, bytes) in client.unexecuted { inFlight.append((seq, bytes)) }
            }
        }
        // Settle: reconnect, deliver everything, execute everything.
        if !client.connected {
            client.gateway = gateway2
            client.resumeCounter += 1
            client.connected = true
            client.pollFrom[gateway2] = harness.core.queue(of: gateway2).last.map { $0.nonce + 1 } ?? 0
            _ = harness.resume(clientA, via: gateway2, lastReceived: client.lastVerified, counter: client.resumeCounter)
            client.resuming = true
            poll(&client, &harness)
            for (seq, bytes) in client.unexecuted { inFlight.append((seq, bytes)) }
        }
        while !inFlight.isEmpty {
            let (seq, bytes) = inFlight.removeFirst()
            _ = harness.message(clientA, key: client.key, seq: seq, content: bytes)
        }
        poll(&client, &harness)

        let received = harness.events.compactMap { event -> [UInt8]? in
            if case .message(_, let bytes) = event { return bytes }
            return nil
        }
        #expect(received == clientAppSent, "seed \(seed): the canister must execute every client message once, in order")
        #expect(clientAppSent.count > 20 && canisterSent.count > 20, "seed \(seed): the run must exercise both directions")
        #expect(client.delivered == canisterSent, "seed \(seed): the client must get every canister message once, in order")
        #expect(harness.core.isRegistered(client.key), "seed \(seed): the session must still exist")
    }

    /// Polls the client's gateway from where it left off, verifying sequence numbers like the SDK.
    func poll(_ client: inout ModelClient, _ harness: inout Harness) {
        while true {
            let from = client.pollFrom[client.gateway] ?? 0
            let batch = harness.poll(client.gateway, from: from)
            if batch.messages.isEmpty { return }
            for output in batch.messages {
                let nonce = MessageKey.nonce(of: output.key) ?? from
                client.pollFrom[client.gateway] = nonce + 1
                guard output.clientKey == client.key else { continue }
                let message = decoded(output)
                // The SDK's verifier: exactly the next number, or the connection fails.
                guard message.sequenceNum == client.lastVerified + 1 else { continue }
                client.lastVerified = message.sequenceNum
                if !message.isServiceMessage {
                    client.delivered.append(message.content)
                    continue
                }
                switch try? WebsocketServiceMessageContent.decode(message.content) {
                case .resumeMessage(_, let next)?:
                    client.unexecuted.removeAll { $0.0 < next }
                    client.resuming = false
                case .ackMessage(let n)?:
                    client.unexecuted.removeAll { $0.0 <= n }
                default: break
                }
            }
            if batch.isEndOfQueue { return }
        }
    }
}
