import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// A small deterministic generator (SplitMix64), so that a failing seed can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite("ICWebSocketCanisterCore: incremental certification equals a full rebuild")
struct CertificationPropertyTests {
    /// After every step: the incrementally maintained certified data equals the root of the
    /// whole tree rebuilt from the queues (two independent rebuilds), the rebuilt tree is
    /// well-formed, and every `ws_get_messages` witness is exactly what ICCore's
    /// `HashTree.witness(for:)` prunes the rebuilt tree to for the returned keys.
    @Test("random send / poll / ack / expiry / close sequences", arguments: [UInt64(1), 2, 3, 4, 5])
    func randomSequences(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var h = Harness(maxReturned: Int.random(in: 1...80, using: &random), ackIntervalMs: 61_000)
        let gateways = [gateway1, gateway2, principal(3)]
        let clients = (0..<7).map { principal(UInt8(40 + $0)) }
        var sequences = [Principal: UInt64]()
        var checkedPolls = 0
        var maxQueue = 0

        for step in 0..<250 {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<8:
                // (Re)open a client through a random gateway.
                let client = clients.randomElement(using: &random)!
                h.open(client, nonce: UInt64(step), via: gateways.randomElement(using: &random)!)
                sequences[client] = 1
            case 8..<58:
                // One IC message with 1…40 sends (certified together at its end).
                let sends = Int.random(in: 1...40, using: &random)
                for _ in 0..<sends {
                    let client = clients.randomElement(using: &random)!
                    let size = Int.random(in: 0...64, using: &random)
                    _ = h.core.send(to: client, (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }, now: h.now)
                }
                h.endOfMessage()
            case 58..<66:
                // Time passes: ack ticks, keep-alive checks (closing silent clients, removing
                // empty gateways) and, at the next sends, expiry of old messages.
                h.advance(ms: UInt64.random(in: 1_000...90_000, using: &random))
            case 66..<72:
                // A keep-alive from a registered client.
                let client = clients.randomElement(using: &random)!
                if h.core.clientKey(of: client) != nil, let seq = sequences[client] {
                    h.message(client, seq: seq, service: .keepAliveMessage(lastIncomingSequenceNum: 0))
                    sequences[client] = seq + 1
                }
            case 72..<76:
                let client = clients.randomElement(using: &random)!
                _ = h.core.close(client, now: h.now)
                h.endOfMessage()
            default:
                // Polls from random nonces of every gateway.
                for gateway in gateways {
                    let queue = h.core.queue(of: gateway)
                    maxQueue = max(maxQueue, queue.count)
                    let from = queue.isEmpty ? 0 : queue[Int.random(in: 0..<queue.count, using: &random)].nonce
                    checkedPolls += checkPoll(&h, gateway, from: from)
                }
            }
            if step % 3 == 0 { checkRoot(h) }
        }
        checkRoot(h)
        #expect(checkedPolls > 10)
        #expect(maxQueue > 60)
    }

    /// Long queues whose head crosses many powers of two: appends and expiries only.
    @Test("a sliding window over 5 000 nonces")
    func slidingWindow() {
        var h = Harness(maxReturned: 50, ackIntervalMs: 61_000)
        h.open(clientA)
        // Keep the client alive through the ack ticks.
        var seq: UInt64 = 1
        var random = SplitMix(seed: 99)
        for round in 0..<50 {
            for _ in 0..<Int.random(in: 1...200, using: &random) { _ = h.core.send(to: clientA, [UInt8(round)], now: h.now) }
            h.endOfMessage()
            if round % 3 == 0 { checkRoot(h) }
            let queue = h.core.queue(of: gateway1)
            if !queue.isEmpty && round % 2 == 0 {
                _ = checkPoll(&h, gateway1, from: queue[Int.random(in: 0..<queue.count, using: &random)].nonce)
            }
            if round % 5 == 4 {
                h.advance(ms: 40_000)
                h.message(clientA, seq: seq, service: .keepAliveMessage(lastIncomingSequenceNum: 0))
                seq += 1
            }
        }
        #expect(h.core.isRegistered(h.core.clientKey(of: clientA)!))
        #expect(h.core.queue(of: gateway1).first!.nonce > 1_000, "the head must have moved")
    }

    private func checkRoot(_ h: Harness) {
        let full = h.core.certifiedTreeFromScratch()
        #expect(full.isWellFormed)
        let fromScratch = h.core.certifiedDataFromScratch()
        #expect(full.reconstruct() == fromScratch)
        if let certified = h.certifiedData { #expect(certified == fromScratch) }
        var keys = [[UInt8]]()
        collectKeys(full, into: &keys)
        var expected = [[UInt8]]()
        for gateway in [gateway1, gateway2, principal(3)] {
            expected += h.core.queue(of: gateway).map { Array(MessageKey.format(gateway: gateway, nonce: $0.nonce).utf8) }
        }
        expected.sort { $0.lexicographicallyPrecedes($1) }
        #expect(keys == expected, "the tree holds exactly the queued keys, sorted")
    }

    private func collectKeys(_ tree: HashTree, into keys: inout [[UInt8]]) {
        switch tree {
        case .fork(let left, let right):
            collectKeys(left, into: &keys)
            collectKeys(right, into: &keys)
        case .labeled(let label, let subtree):
            if label == MessageKey.certificationLabel { collectKeys(subtree, into: &keys) } else { keys.append(label) }
        default: break
        }
    }

    /// Polls and compares the witness with the pruned full tree; returns 1 if it checked one.
    private func checkPoll(_ h: inout Harness, _ gateway: Principal, from nonce: UInt64) -> Int {
        let batch = h.poll(gateway, from: nonce)  // checks h(tree), lookups, well-formedness
        if batch.messages.isEmpty { return 0 }
        let full = h.core.certifiedTreeFromScratch()
        let expected = full.witness(for: batch.messages.map { [MessageKey.certificationLabel, Array($0.key.utf8)] })
        let witness = try? HashTree(cborBytes: batch.tree)
        #expect(witness == expected, "the witness must be the full tree pruned to the returned keys")
        #expect(batch.tree == expected.encoded(selfDescribe: true), "the witness bytes are ICCore's CBOR encoding")
        return 1
    }
}
