import ICCore
import Testing

@testable import ICReplica

/// The replica's state as a value: ingress, request statuses and canister creation, without
/// Wasm or HTTP.
@Suite("Replica state")
struct ReplicaStateTests {
    static let alice = Principal.selfAuthenticating(derPublicKey: [1, 2, 3])
    static let canister = Principal.canister(index: 0)

    static func ingress(_ index: UInt8) throws -> ReplicaState.Ingress {
        ReplicaState.Ingress(
            requestID: try RequestID(bytes: Array(repeating: index, count: 32)), sender: alice, canisterID: canister,
            method: "inc", argument: [], effectiveCanisterID: canister)
    }

    @Test("a request id is accepted once, and the queue is bounded")
    func enqueueRefusesReplaysAndOverflow() throws {
        var state = ReplicaState(time: 1_000)
        try state.enqueue(try Self.ingress(1), expiry: 2_000, maxQueued: 2)
        #expect(throws: ReplicaError.self) { try state.enqueue(try Self.ingress(1), expiry: 2_000, maxQueued: 2) }
        try state.enqueue(try Self.ingress(2), expiry: 2_000, maxQueued: 2)
        #expect(throws: ReplicaError.self) { try state.enqueue(try Self.ingress(3), expiry: 2_000, maxQueued: 2) }
        #expect(state.takeIngress().map(\.requestID) == [try Self.ingress(1).requestID, try Self.ingress(2).requestID])
        #expect(state.ingressQueue.isEmpty)
        // Executed, but its status is still known: a replay stays refused.
        #expect(throws: ReplicaError.self) { try state.enqueue(try Self.ingress(1), expiry: 2_000, maxQueued: 2) }
        #expect(state.requests[try Self.ingress(1).requestID]?.isTerminal == false)
    }

    @Test("statuses expire oldest first, only when terminal, and the certified subtree follows")
    func statusesExpire() throws {
        var table = RequestStatusTable()
        let ids = try (1...4).map { try RequestID(bytes: Array(repeating: UInt8($0), count: 32)) }
        for (index, id) in ids.enumerated() {
            table.receive(id, sender: Self.alice, effectiveCanisterID: Self.canister, expiry: UInt64(100 + index * 100))
        }
        table.complete(ids[0], with: .success([1]))
        table.complete(ids[2], with: .failure(Reject(code: 4, message: "no", errorCode: "IC0406")))
        // ids[1] is still `received`: nothing behind it expires, even ids[2] whose expiry passed.
        table.expire(now: 1_000, keepingAtMost: 10)
        #expect(table[ids[0]] == nil)
        #expect(table[ids[1]] != nil && table[ids[2]] != nil && table[ids[3]] != nil)
        table.complete(ids[1], with: .success([]))
        table.expire(now: 1_000, keepingAtMost: 10)
        #expect(table[ids[1]] == nil && table[ids[2]] == nil)
        #expect(table[ids[3]]?.isTerminal == false)
        #expect(table.count == 1 && table.tree.count == 1)

        var fresh = RequestStatusTable()
        fresh.receive(ids[3], sender: Self.alice, effectiveCanisterID: Self.canister, expiry: 400)
        #expect(table.tree.rootHash == fresh.tree.rootHash, "the certified subtree must equal one built from the kept statuses")
    }

    @Test("beyond the limit the oldest terminal statuses go even before they expire")
    func statusLimit() throws {
        var table = RequestStatusTable()
        let ids = try (1...5).map { try RequestID(bytes: Array(repeating: UInt8($0), count: 32)) }
        for id in ids {
            table.receive(id, sender: Self.alice, effectiveCanisterID: Self.canister, expiry: 10_000)
            table.complete(id, with: .success([]))
        }
        table.expire(now: 0, keepingAtMost: 3)
        #expect(table.count == 3)
        #expect(table[ids[0]] == nil && table[ids[1]] == nil && table[ids[4]] != nil)
    }

    @Test("canister ids: the next free one, or a specified one inside the range and not taken")
    func createCanister() throws {
        var state = ReplicaState(time: 5)
        let range = Principal.canister(index: 0)...Principal.canister(index: 9)
        let specified = try state.createCanister(
            controllers: [Self.alice], specifiedID: Principal.canister(index: 1), range: range, maxCanisters: 3)
        #expect(specified == Principal.canister(index: 1))
        let first = try state.createCanister(controllers: [Self.alice], specifiedID: nil, range: range, maxCanisters: 3)
        let second = try state.createCanister(controllers: [Self.alice], specifiedID: nil, range: range, maxCanisters: 3)
        #expect(first == Principal.canister(index: 0))
        #expect(second == Principal.canister(index: 2), "index 1 is taken and must be skipped")
        #expect(state.canisters[second]?.creationTime == 5)
        #expect(state.needsPersisting)

        var full = state
        #expect(throws: Reject.self) {
            try full.createCanister(controllers: [Self.alice], specifiedID: nil, range: range, maxCanisters: 3)
        }
        var other = ReplicaState(time: 5)
        #expect(throws: Reject.self) {
            try other.createCanister(controllers: [], specifiedID: Principal.canister(index: 10), range: range, maxCanisters: 3)
        }
        #expect(throws: Reject.self) {
            try state.createCanister(controllers: [], specifiedID: first, range: range, maxCanisters: 9)
        }
        #expect(other.canisters.isEmpty && state.canisters.count == 3, "a refused creation changes nothing")
    }
}
