import Foundation
import ICAgent
import ICCore
import Testing

@testable import ICReplica

/// The replica over loopback HTTP with our HTTPAgent: every certificate is verified under the
/// root key fetched from /api/v2/status, and query node signatures are checked.
@Suite("Replica end to end", .serialized)
struct ReplicaEndToEndTests {
    @Test func statusServesTheRootKey() async throws {
        try await ReplicaHarness.run { harness in
            let status = try await harness.agent().status()
            #expect(status.rootKey == harness.replica.rootKey.der)
            #expect(status.healthStatus == "healthy")
        }
    }

    @Test func createInstallUpdateQueryReadState() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            #expect(uint64(try await agent.call(canister: id, method: "inc", arg: [])) == 1)
            #expect(uint64(try await agent.call(canister: id, method: "inc", arg: [])) == 2)
            let state = try await agent.query(canister: id, method: "get", arg: [])
            #expect(uint64(state) == 2 && uint64(state, at: 8) == 2)
            #expect(try await agent.call(canister: id, method: "echo", arg: [1, 2, 3]) == [1, 2, 3])
            #expect(try await agent.query(canister: id, method: "whoami", arg: []) == agent.identity.principal.bytes)
            let certificate = try await agent.readState(
                canister: id,
                paths: [
                    [Array("canister".utf8), id.bytes, Array("module_hash".utf8)],
                    [Array("canister".utf8), id.bytes, Array("controllers".utf8)],
                ])
            #expect(
                certificate.lookup([Array("canister".utf8), id.bytes, Array("module_hash".utf8)]).value
                    == SHA256.hash(TestCanisters.counter))
            let controllers = certificate.lookup([Array("canister".utf8), id.bytes, Array("controllers".utf8)]).value
            #expect(controllers == CBOREncoder.encode(.array([.bytes(agent.identity.principal.bytes)]), selfDescribe: true))
            // The v2 asynchronous endpoint with read_state polling gives the same outcome.
            #expect(harness.replica.log(of: id).contains("hello from init"))
        }
    }

    @Test func certifiedDataAndDataCertificate() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            _ = try await agent.call(canister: id, method: "set_cd", arg: [9, 9, 9])
            #expect(harness.replica.certifiedData(of: id) == [9, 9, 9])
            #expect(uint64(try await agent.query(canister: id, method: "has_cert", arg: [])) == 1)
            // certified_data is not readable through read_state.
            await #expect(throws: AgentError.self) {
                _ = try await agent.readState(canister: id, paths: [[Array("canister".utf8), id.bytes, Array("certified_data".utf8)]])
            }
        }
    }

    @Test func trapRollsBackMemoryGlobalsStableMemoryCertifiedDataAndTimer() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            _ = try await agent.call(canister: id, method: "inc", arg: [])
            do {
                _ = try await agent.call(canister: id, method: "boom", arg: [])
                Issue.record("boom should trap")
            } catch AgentError.rejected(let reject) {
                #expect(reject.code == .canisterError)
                #expect(reject.message.contains("boom requested"))
                #expect(reject.errorCode == "IC0503")
            }
            let state = try await agent.query(canister: id, method: "get", arg: [])
            #expect(uint64(state) == 1 && uint64(state, at: 8) == 1)
            #expect(uint64(try await agent.query(canister: id, method: "stable_get", arg: [])) == UInt64.max)
            #expect(harness.replica.certifiedData(of: id) == [])
            // The module keeps working after a rollback that re-instantiated it (memory had grown).
            #expect(uint64(try await agent.call(canister: id, method: "inc", arg: [])) == 2)
        }
    }

    @Test func queriesNeverChangeState() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            #expect(uint64(try await agent.query(canister: id, method: "bump_in_query", arg: [])) == 1000)
            #expect(uint64(try await agent.query(canister: id, method: "get", arg: [])) == 0)
            // A query method called as an update runs replicated and still changes nothing.
            #expect(uint64(try await agent.call(canister: id, method: "bump_in_query", arg: [])) == 1000)
            #expect(uint64(try await agent.query(canister: id, method: "get", arg: [])) == 0)
        }
    }

    @Test func upgradeKeepsStableMemoryAndResetsTheHeap() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            for _ in 0..<3 { _ = try await agent.call(canister: id, method: "inc", arg: []) }
            try await harness.install(agent, canister: id, module: TestCanisters.counter, mode: "upgrade")
            let state = try await agent.query(canister: id, method: "get", arg: [])
            #expect(uint64(state) == 3)  // restored by post_upgrade from stable memory
            #expect(uint64(state, at: 8) == 0)  // the heap starts afresh
            try await harness.install(agent, canister: id, module: TestCanisters.counter, mode: "reinstall")
            #expect(uint64(try await agent.query(canister: id, method: "stable_get", arg: [])) == UInt64.max)
        }
    }

    @Test func controllersAreEnforced() async throws {
        try await ReplicaHarness.run { harness in
            let owner = harness.agent()
            let id = try await harness.deploy(owner)
            let stranger = harness.agent()
            do {
                try await harness.install(stranger, canister: id, module: TestCanisters.counter, mode: "reinstall")
                Issue.record("a non-controller installed code")
            } catch AgentError.rejected(let reject) {
                #expect(reject.code == .canisterError)
                #expect(reject.errorCode == "IC0512")
            }
        }
    }

    @Test func systemAPIEdgeCases() async throws {
        try await ReplicaHarness.run(configure: { $0.updateInstructionLimit = 200_000 }) { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            for (method, code) in [("oob", "IC0502"), ("spin", "IC0502"), ("reply_twice", "IC0502"), ("no_reply", "IC0506")] {
                do {
                    _ = try await agent.call(canister: id, method: method, arg: [])
                    Issue.record("\(method) should be rejected")
                } catch AgentError.rejected(let reject) {
                    #expect(reject.code == .canisterError, "\(method)")
                    #expect(reject.errorCode == code, "\(method): \(reject.message)")
                }
            }
            #expect(uint64(try await agent.call(canister: id, method: "call_perform", arg: [])) == 2)
            do {
                _ = try await agent.call(canister: id, method: "refused", arg: [])
                Issue.record("canister_inspect_message should refuse 'refused'")
            } catch AgentError.rejected(let reject) {
                #expect(reject.code == .canisterReject)
            }
            // As today's IC: CanisterMethodNotFound, reject code 5 (CANISTER_ERROR), IC0536.
            do {
                _ = try await agent.call(canister: id, method: "no_such_method", arg: [])
                Issue.record("a missing method should be rejected")
            } catch AgentError.rejected(let reject) {
                #expect(reject.code == .canisterError)
                #expect(reject.errorCode == "IC0536")
            }
            do {
                _ = try await agent.query(canister: id, method: "no_such_query", arg: [])
                Issue.record("a missing query should be rejected")
            } catch AgentError.rejected(let reject) {
                #expect(reject.code == .canisterError)
                #expect(reject.errorCode == "IC0536")
            }
        }
    }

    @Test func timersAndHeartbeatsWithManualTime() async throws {
        try await ReplicaHarness.run(manual: true) { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            _ = try await agent.call(canister: id, method: "set_timer", arg: [])
            #expect(uint64(try await agent.query(canister: id, method: "ticks", arg: [])) == 0)
            harness.replica.advanceTime(by: .seconds(2))
            harness.replica.tick()
            #expect(uint64(try await agent.query(canister: id, method: "ticks", arg: [])) == 1)
            harness.replica.advanceTime(by: .seconds(2))
            harness.replica.tick()
            #expect(uint64(try await agent.query(canister: id, method: "ticks", arg: [])) == 1)  // the timer fired once
            // Heartbeats run every round; one that calls msg_reply traps and is rolled back.
            let before = uint64(try await agent.query(canister: id, method: "beats", arg: []))
            harness.replica.tick()
            #expect(uint64(try await agent.query(canister: id, method: "beats", arg: [])) > before)
            _ = try await agent.call(canister: id, method: "beat_reply", arg: [])
            let frozen = uint64(try await agent.query(canister: id, method: "beats", arg: []))
            harness.replica.tick()
            harness.replica.tick()
            #expect(uint64(try await agent.query(canister: id, method: "beats", arg: [])) == frozen)
            #expect(harness.replica.log(of: id).contains { $0.contains("msg_reply cannot be called from heartbeat") })
        }
    }
}

@Suite("Replica persistence", .serialized)
struct PersistenceTests {
    @Test func canistersMemoryAndRootKeySurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("icws-replica-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = Ed25519Identity()
        let box = Box()
        try await ReplicaHarness.run(configure: {
            $0.stateDirectory = directory; $0.seed = nil
        }) { harness in
            let agent = harness.agent(identity)
            let id = try await harness.deploy(agent)
            _ = try await agent.call(canister: id, method: "inc", arg: [])
            _ = try await agent.call(canister: id, method: "stable_put", arg: [])
            _ = try await agent.call(canister: id, method: "inc", arg: [])
            box.set(id, harness.replica.rootKey)
        }
        try await ReplicaHarness.run(configure: {
            $0.stateDirectory = directory; $0.seed = nil
        }) { harness in
            let (id, key) = box.get()
            #expect(harness.replica.rootKey == key)
            let agent = harness.agent(identity)
            let state = try await agent.query(canister: id, method: "get", arg: [])
            #expect(uint64(state) == 2 && uint64(state, at: 8) == 2)
            #expect(uint64(try await agent.query(canister: id, method: "stable_get", arg: [])) == 1)
            #expect(uint64(try await agent.call(canister: id, method: "inc", arg: [])) == 3)
        }
    }

    final class Box: @unchecked Sendable {
        private var value: (Principal, RootKey)?
        func set(_ id: Principal, _ key: RootKey) { value = (id, key) }
        func get() -> (Principal, RootKey) { value! }
    }
}
