import Foundation
import ICAgent
import ICCore
import ICReplica
import Logging

/// A real `icws replica` serving the IC HTTP interface on a loopback ephemeral port for the
/// duration of a test body.
public struct LocalReplica: Sendable {
    /// The replica itself (time control, ticks, canister state inspection).
    public let replica: Replica
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    public let url: String

    /// The fixed seed of test replicas (deterministic root key).
    public static let seed = [UInt8](repeating: 7, count: 32)

    /// Starts a replica and its server; `body` runs while they serve, then both stop.
    ///
    /// - Parameter manual: `false` (default) runs rounds as ingress arrives and on a timer, with
    ///   time following the wall clock. `true` freezes time at 2027-01-15 (move it with
    ///   `replica.advanceTime`/`setTime`) while a background ticker still executes rounds so calls complete.
    public static func run(
        manual: Bool = false, configure: (inout ReplicaConfiguration) -> Void = { _ in },
        _ body: @Sendable (LocalReplica) async throws -> Void
    ) async throws {
        var configuration = ReplicaConfiguration(seed: seed, autoProgress: !manual, roundInterval: .milliseconds(20))
        configure(&configuration)
        var logger = Logger(label: "test-replica")
        logger.logLevel = .critical
        let replica = try Replica(configuration: configuration, logger: logger)
        if manual { try replica.setTime(1_800_000_000_000_000_000) }
        let ready = AsyncStream<Int>.makeStream()
        let app = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: 0, logger: logger) { port in
            ready.continuation.yield(port)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            if manual {
                group.addTask {
                    while !Task.isCancelled {
                        replica.tick()
                        try? await Task.sleep(for: .milliseconds(2))
                    }
                }
            } else {
                group.addTask { await replica.runRounds() }
            }
            var iterator = ready.stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            do {
                try await body(LocalReplica(replica: replica, url: "http://127.0.0.1:\(port)"))
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// An agent that trusts the root key served at `/api/v2/status` and follows the replica's clock
    /// (so ingress expiries stay valid when a test moves time).
    public func agent(_ identity: any Identity = Ed25519Identity(), verifiesQuerySignatures: Bool = true) -> HTTPAgent {
        HTTPAgent(
            configuration: .init(
                url: url, rootKey: .fetchFromReplica, verifiesQuerySignatures: verifiesQuerySignatures,
                pollingInterval: (.milliseconds(5), .milliseconds(50)), clock: clock),
            identity: identity)
    }

    /// The replica's notion of "now" for clients: its own time in manual mode, the wall clock
    /// (never behind the replica) otherwise.
    public var clock: @Sendable () -> UInt64 {
        let replica = self.replica
        return {
            replica.configuration.autoProgress ? max(replica.currentTime, UInt64(Date().timeIntervalSince1970 * 1e9)) : replica.currentTime
        }
    }

    /// The root key clients must trust.
    public var rootKey: RootKey { replica.rootKey }

    /// Creates a canister controlled by `agent`'s identity and installs `module` with `arg`.
    public func deploy(module: [UInt8], arg: [UInt8] = Candid.encode(), agent: HTTPAgent? = nil) async throws -> Principal {
        try await ManagementCanister(agent: agent ?? self.agent())
            .deploy(module: module, arg: arg, effectiveCanisterID: replica.canisterRange.lowerBound)
    }
}
