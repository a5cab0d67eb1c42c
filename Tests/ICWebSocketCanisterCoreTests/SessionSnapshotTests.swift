import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// Sessions saved in `canister_pre_upgrade` and restored in `canister_post_upgrade`
/// (`SessionSnapshot`): a restored core is indistinguishable from the original, and damaged
/// or foreign bytes are refused with an error, never a trap.
@Suite("ICWebSocketCanisterCore: sessions survive upgrades (SessionSnapshot)")
struct SessionSnapshotTests {
    /// What the new module does in `post_upgrade`: restore, then resume with its parameters.
    static func restored(_ h: Harness) throws -> Harness {
        var copy = h
        copy.core = try WebSocketCanisterCore(restoringSnapshot: h.core.snapshot())
        try copy.core.resume(parameters: h.core.parameters, now: h.now)
        copy.certifiedData = copy.core.certifiedData()
        return copy
    }

    /// Everything observable of two cores is equal: certified data (and its from-scratch
    /// rebuild), clients, queues, timers, groups, and their snapshots byte for byte.
    static func expectEqual(_ a: inout Harness, _ b: inout Harness, _ gateways: [Principal], _ clients: [Principal]) {
        #expect(a.core.certifiedData() == b.core.certifiedData())
        #expect(b.core.certifiedDataFromScratch() == b.core.certifiedData())
        #expect(a.core.registeredClients == b.core.registeredClients)
        #expect(a.core.nextTimerDeadline == b.core.nextTimerDeadline)
        #expect(a.core.keepAliveChecks == b.core.keepAliveChecks)
        for gateway in gateways {
            #expect(a.core.isGatewayRegistered(gateway) == b.core.isGatewayRegistered(gateway))
            let (qa, qb) = (a.core.queue(of: gateway), b.core.queue(of: gateway))
            #expect(qa.map(\.clientKey) == qb.map(\.clientKey))
            #expect(qa.map(\.content) == qb.map(\.content))
            #expect(qa.map(\.nonce) == qb.map(\.nonce))
            #expect(qa.map(\.timestamp) == qb.map(\.timestamp))
            #expect(qa.map(\.contentHash) == qb.map(\.contentHash))
        }
        for client in clients {
            #expect(a.core.clientKey(of: client) == b.core.clientKey(of: client))
            #expect(a.core.groups(of: client) == b.core.groups(of: client))
        }
        #expect(a.core.snapshot() == b.core.snapshot())
    }

    /// Polls both from every nonce of the queue: replies (messages, witness bytes) are equal.
    static func expectSamePolls(_ a: inout Harness, _ b: inout Harness, _ gateway: Principal) {
        let queue = a.core.queue(of: gateway)
        for nonce in [0] + queue.map(\.nonce) + [(queue.last?.nonce ?? 0) + 1] {
            let (pa, pb) = (a.poll(gateway, from: nonce), b.poll(gateway, from: nonce))
            #expect(pa.messages == pb.messages)
            #expect(pa.tree == pb.tree)
            #expect(pa.isEndOfQueue == pb.isEndOfQueue)
        }
    }

    @Test("a snapshot of an idle core restores to an idle core")
    func emptyRoundTrip() throws {
        var h = Harness()
        var r = try Self.restored(h)
        Self.expectEqual(&h, &r, [gateway1], [clientA])
        #expect(h.core.snapshot().count == SessionSnapshot.headerSize + 1 + 8 + 4 * 5)
    }

    @Test("a chat's state round-trips: clients, sequence numbers, queues, witnesses, groups, timers; sequences continue")
    func chatRoundTrip() throws {
        var h = Harness(ackIntervalMs: 61_000)
        h.open(clientA, nonce: 7)
        h.open(clientB, nonce: 8, via: gateway2)
        h.open(clientC, nonce: 9)
        _ = h.core.join(clientA, group: "chat")
        _ = h.core.join(clientB, group: "chat")
        _ = h.core.join(clientC, group: "ops")
        h.message(clientA, seq: 1)
        h.message(clientA, seq: 2)
        h.message(clientB, seq: 1)
        for index in 0..<40 { h.send([clientA, clientB, clientC][index % 3], [UInt8(index), 1, 2]) }
        h.core.broadcast([9, 9], toGroup: "chat", now: h.now)
        h.endOfMessage()
        h.advance(ms: 61_000)  // ack tick: acks queued, keep-alive check pending
        #expect(!h.core.keepAliveChecks.isEmpty)

        var r = try Self.restored(h)
        let gateways = [gateway1, gateway2]
        let clients = [clientA, clientB, clientC]
        Self.expectEqual(&h, &r, gateways, clients)
        for gateway in gateways { Self.expectSamePolls(&h, &r, gateway) }
        #expect(r.core.members(of: "chat") == [clientA, clientB].sorted())

        // Sequences continue: the next incoming number is accepted, a replay is refused; the
        // next outgoing number follows the last one sent before the upgrade.
        let lastOutgoing = decoded(h.core.queue(of: gateway1).last { $0.clientKey.clientPrincipal == clientA }!)
            .sequenceNum
        #expect(r.message(clientA, seq: 3) == .ok)
        r.send(clientA, [42])
        let next = decoded(r.core.queue(of: gateway1).last!)
        #expect(next.sequenceNum == lastOutgoing + 1)
        #expect(r.core.queue(of: gateway1).last!.nonce == h.core.queue(of: gateway1).last!.nonce + 1)

        // Keep-alive state survived: A answers the ack (half a minute later), B and C stay
        // silent and are closed by the check the old core scheduled 60 s after its ack tick.
        r.advance(ms: 30_000)
        #expect(r.message(clientA, seq: 4, service: .keepAliveMessage(lastIncomingSequenceNum: next.sequenceNum)) == .ok)
        r.advance(ms: 30_001)
        #expect(r.core.clientKey(of: clientA) != nil)
        #expect(r.core.clientKey(of: clientB) == nil)
        #expect(r.core.clientKey(of: clientC) == nil)
        #expect(r.core.members(of: "chat") == [clientA])
        #expect(r.core.certifiedDataFromScratch() == r.core.certifiedData())
    }

    @Test("random sequences: a core restored at any point behaves exactly like the original afterwards", arguments: [UInt64(11), 12, 13])
    func randomLockstep(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        let gateways = [gateway1, gateway2, principal(3)]
        let clients = (0..<6).map { principal(UInt8(60 + $0)) }
        var original = Harness(maxReturned: 20, ackIntervalMs: 61_000)
        var sequences = [Principal: UInt64]()
        var restores = 0
        var largestRestoredQueue = 0

        func step(
            _ h: inout Harness, _ choice: Int, _ client: Principal, _ gateway: Principal, _ size: Int,
            _ sequences: inout [Principal: UInt64]
        ) {
            switch choice {
            case 0..<10:
                h.open(client, nonce: UInt64(size), via: gateway)
                sequences[client] = 1
                _ = h.core.join(client, group: size % 2 == 0 ? "even" : "odd")
            case 10..<60:
                for index in 0..<(size % 7 + 1) { _ = h.core.send(to: client, [UInt8(index), UInt8(size)], now: h.now) }
                h.core.broadcast([UInt8(size)], toGroup: "even", now: h.now)
                h.endOfMessage()
            case 60..<70:
                h.advance(ms: UInt64(size) * 1_000)
            case 70..<82:
                if h.core.clientKey(of: client) != nil, let seq = sequences[client] {
                    h.message(client, seq: seq, service: size % 2 == 0 ? .keepAliveMessage(lastIncomingSequenceNum: 0) : nil)
                    sequences[client] = seq + 1
                }
            default:
                _ = h.core.close(client, now: h.now)
                h.endOfMessage()
            }
        }

        for _ in 0..<8 {
            // Run the original alone for a while, restore a copy, then run both in lockstep.
            for _ in 0..<40 {
                step(
                    &original, Int.random(in: 0..<100, using: &random), clients.randomElement(using: &random)!,
                    gateways.randomElement(using: &random)!, Int.random(in: 1...90, using: &random), &sequences)
            }
            var copy = try Self.restored(original)
            restores += 1
            largestRestoredQueue = max(largestRestoredQueue, gateways.map { original.core.queue(of: $0).count }.max()!)
            var copySequences = sequences
            for _ in 0..<25 {
                let (choice, client, gateway, size) = (
                    Int.random(in: 0..<100, using: &random), clients.randomElement(using: &random)!,
                    gateways.randomElement(using: &random)!, Int.random(in: 1...90, using: &random)
                )
                step(&original, choice, client, gateway, size, &sequences)
                step(&copy, choice, client, gateway, size, &copySequences)
                #expect(original.core.takeEvents() == copy.core.takeEvents())
                #expect(original.events == copy.events)
            }
            Self.expectEqual(&original, &copy, gateways, clients)
            for gateway in gateways { Self.expectSamePolls(&original, &copy, gateway) }
        }
        #expect(restores == 8)
        #expect(largestRestoredQueue > 20)
    }

    // MARK: - Refused input

    /// A state with something in every section.
    static func busySnapshot() -> [UInt8] {
        var h = Harness(ackIntervalMs: 61_000)
        h.open(clientA)
        h.open(clientB, via: gateway2)
        _ = h.core.join(clientA, group: "chat")
        for index in 0..<5 { h.send(clientA, [UInt8(index)]) }
        h.advance(ms: 61_000)
        _ = h.core.close(clientB, now: h.now)  // gateway2 is now waiting for removal
        h.endOfMessage()
        return h.core.snapshot()
    }

    /// Recomputes the payload length and CRC-32, so that a change reaches the structural checks.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let length = UInt64(bytes.count - SessionSnapshot.headerSize)
        for index in 0..<8 { bytes[16 + index] = UInt8(truncatingIfNeeded: length >> UInt64(8 * index)) }
        let crc = CRC32.checksum(bytes[SessionSnapshot.headerSize...])
        for index in 0..<4 { bytes[24 + index] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * index)) }
        return bytes
    }

    static func refusal(_ bytes: [UInt8]) -> SessionSnapshotError? {
        do {
            _ = try WebSocketCanisterCore(restoringSnapshot: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("the busy snapshot itself restores (the refusals below are about the changes)")
    func busySnapshotRestores() throws {
        let bytes = Self.busySnapshot()
        #expect(Self.refusal(bytes) == nil)
        #expect(Self.refusal(Self.resealed(bytes)) == nil)
        #expect(try WebSocketCanisterCore(restoringSnapshot: bytes).snapshot() == bytes)
    }

    @Test("every truncation is refused as truncated")
    func truncated() {
        let bytes = Self.busySnapshot()
        for length in 0..<bytes.count {
            let error = Self.refusal(Array(bytes.prefix(length)))
            #expect(error?.kind == .truncated, "length \(length): \(String(describing: error))")
        }
    }

    @Test("a damaged byte anywhere in the payload fails the checksum")
    func garbled() {
        let bytes = Self.busySnapshot()
        for index in SessionSnapshot.headerSize..<bytes.count {
            var damaged = bytes
            damaged[index] ^= 0x5a
            #expect(Self.refusal(damaged)?.kind == .checksumMismatch, "byte \(index)")
        }
    }

    @Test("no magic: refused as not a snapshot; totalSize says nothing was saved")
    func badMagic() throws {
        var bytes = Self.busySnapshot()
        bytes[0] = 0
        #expect(Self.refusal(bytes)?.kind == .badMagic)
        #expect(try SessionSnapshot.totalSize(header: Array(bytes.prefix(SessionSnapshot.headerSize))) == nil)
        #expect(try SessionSnapshot.totalSize(header: [UInt8](repeating: 0, count: SessionSnapshot.headerSize)) == nil)
    }

    @Test("an unknown layout version is refused with a message naming both versions and the way out")
    func unknownVersion() throws {
        var bytes = Self.busySnapshot()
        bytes[8] = 3
        let error = try #require(Self.refusal(bytes))
        #expect(error.kind == .unsupportedVersion(3))
        #expect(error.message.description.contains("layout version 3"))
        #expect(error.message.description.contains("versions 1 to 2"))
        #expect(error.message.description.contains("clears the sessions"))
        #expect(throws: SessionSnapshotError.self) {
            try SessionSnapshot.totalSize(header: Array(bytes.prefix(SessionSnapshot.headerSize)))
        }
    }

    @Test("a version-1 snapshot (before resumable sessions) restores to the same sessions")
    func versionOne() throws {
        let original = try WebSocketCanisterCore(restoringSnapshot: Self.busySnapshot())
        let old = original.snapshot(layoutVersion: 1)
        #expect(old != original.snapshot())
        let restored = try WebSocketCanisterCore(restoringSnapshot: old)
        #expect(restored.snapshot() == original.snapshot())
    }

    @Test("an impossible state with a valid checksum is refused as malformed")
    func malformedButSealed() throws {
        let bytes = Self.busySnapshot()
        // Trailing bytes.
        #expect(Self.refusal(Self.resealed(bytes + [0]))?.kind == .malformed)
        // Header size field.
        var header = bytes
        header[12] = 31
        #expect(Self.refusal(header)?.kind == .malformed)
        // The ack-tick flag (first payload byte) must be 0 or 1.
        var flag = bytes
        flag[SessionSnapshot.headerSize] = 7
        #expect(Self.refusal(Self.resealed(flag))?.kind == .malformed)
        // A gateway's client count (the u64 after its principal and next nonce) that does not
        // match its clients: `removeClient` would underflow it later.
        let gatewaysOffset = SessionSnapshot.headerSize + 9 + 4 + 8 * Int(bytes[SessionSnapshot.headerSize + 9])
        let firstPrincipalLength = Int(bytes[gatewaysOffset + 4])
        var count = bytes
        count[gatewaysOffset + 4 + 1 + firstPrincipalLength + 8] &+= 1
        let error = try #require(Self.refusal(Self.resealed(count)))
        #expect(error.kind == .malformed)
        #expect(error.message.description.contains("clients"))
    }

    @Test("random damage with a valid checksum never traps: it is refused or restores a consistent core", arguments: [UInt64(1), 2])
    func resealedMutations(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let bytes = Self.busySnapshot()
        var refused = 0
        var restored = 0
        for _ in 0..<2_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: SessionSnapshot.headerSize..<bytes.count, using: &random)
                damaged[index] = UInt8.random(in: 0...255, using: &random)
            }
            do {
                var core = try WebSocketCanisterCore(restoringSnapshot: Self.resealed(damaged))
                #expect(core.certifiedData() == core.certifiedDataFromScratch())
                _ = core.snapshot()
                restored += 1
            } catch {
                refused += 1
                #expect(!error.message.isEmpty)
            }
        }
        // Contents, timestamps and nonces may take any value; counts, flags, lengths, orders and
        // references may not: both outcomes must be common.
        #expect(refused > 200)
        #expect(restored > 200)
    }
}
