import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketTesting
import Testing
import WAT

/// Auto-progress rounds run only when there is work: an idle replica signs its state rarely, yet
/// ingress executes at once and a canister's timer fires when due without any ingress.
@Suite("Replica rounds on demand", .serialized)
struct IdleRoundTests {
    /// The counter canister without its heartbeat (a heartbeat needs a round every interval).
    static var counterWithoutHeartbeat: [UInt8] {
        let source = TestCanisters.counterWAT.replacingOccurrences(of: "(export \"canister_heartbeat\")", with: "")
        return try! wat2wasm(source)
    }

    @Test func anIdleReplicaRunsAlmostNoRounds() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            _ = try await harness.deploy(agent, module: Self.counterWithoutHeartbeat)
            try await Task.sleep(for: .milliseconds(300))
            let before = harness.replica.roundsRun
            try await Task.sleep(for: .seconds(2))
            let idle = harness.replica.roundsRun - before
            // Every 20 ms before (the harness's round interval): about 100 rounds.
            #expect(idle <= 1, "\(idle) rounds in 2 s of idleness")
        }
    }

    @Test func ingressStillRunsAtOnceAndTimersFireWhenDue() async throws {
        try await ReplicaHarness.run(configure: { $0.idleRoundInterval = .seconds(600) }) { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent, module: Self.counterWithoutHeartbeat)
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await agent.call(canister: id, method: "inc", arg: [])
            // A synchronous call answers after its round, not after the 10-minute idle period
            // (the bound leaves room for a machine loaded by the whole suite: a 5 s bound
            // failed once at 9 s).
            #expect(clock.now - start < .seconds(60))
            // The timer is due in 1 s; with rounds only on demand (and an idle period of 10
            // minutes here) it still fires, with no ingress to wake the replica.
            let timerSet = clock.now
            _ = try await agent.call(canister: id, method: "set_timer", arg: [])
            let ticksRightAfter = uint64(try await agent.query(canister: id, method: "ticks", arg: []))
            // Not yet fired, unless the machine was so slow that its second had already passed.
            if clock.now - timerSet < .milliseconds(900) { #expect(ticksRightAfter == 0) }
            var ticks: UInt64 = 0
            let deadline = clock.now + .seconds(30)
            while ticks == 0, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                ticks = uint64(try await agent.query(canister: id, method: "ticks", arg: []))
            }
            #expect(ticks == 1)
        }
    }

    @Test func aHeartbeatKeepsRoundsPeriodic() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent)
            let before = uint64(try await agent.query(canister: id, method: "beats", arg: []))
            // Every 20 ms: 150 in 3 s on a quiet machine, 2 when the whole suite loads it; an
            // idle replica would run none at all in the 20 s allowed.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(20)
            var after = before
            while after < before + 3, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                after = uint64(try await agent.query(canister: id, method: "beats", arg: []))
            }
            #expect(after >= before + 3, "\(after - before) heartbeats in 20 s")
        }
    }
}
