import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketTesting
import Logging
import Testing

/// A replica that persists its state (`--state-dir`) is stopped and started again on the same
/// port while a client session is open: the canister's memory, the session and the gateway's
/// poller all survive; the gateway's pollers retry through the outage.
@Suite("End to end: replica restart", .serialized)
struct ReplicaRestartTests {
    /// Runs a persisted replica on `port` (0 = any) until `body` returns; gives the bound port.
    static func runReplica(stateDirectory: String, port: Int, _ body: @Sendable (Replica, Int) async throws -> Void) async throws {
        var logger = Logger(label: "restart-replica")
        logger.logLevel = .critical
        let replica = try Replica(
            configuration: .init(
                seed: LocalReplica.seed, stateDirectory: stateDirectory, autoProgress: true,
                roundInterval: .milliseconds(20)), logger: logger)
        let ready = AsyncStream<Int>.makeStream()
        let app = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: port, logger: logger) {
            ready.continuation.yield($0)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            group.addTask { await replica.runRounds() }
            var iterator = ready.stream.makeAsyncIterator()
            let bound = await iterator.next() ?? 0
            do { try await body(replica, bound) } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    @Test("Replica restart mid-session: the session continues after the replica comes back")
    func replicaRestartMidSession() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("icws-restart-\(UInt64.random(in: 0...UInt64.max))")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let module = try CanisterModules.pingPongCanister()
        let identity = Ed25519Identity()
        let state = Shared()
        try await Self.runReplica(stateDirectory: directory, port: 0) { replica, port in
            let url = "http://127.0.0.1:\(port)"
            let controller = HTTPAgent(configuration: .init(url: url, rootKey: .explicit(replica.rootKey)), identity: Ed25519Identity())
            let canister = try await ManagementCanister(agent: controller)
                .deploy(module: module, effectiveCanisterID: replica.canisterRange.lowerBound)
            state.set(port: port, canister: canister, rootKey: replica.rootKey)
        }
        guard let (port, canister, rootKey) = state.get() else { throw TimedOut(what: "the first replica") }
        let url = "http://127.0.0.1:\(port)"
        // The gateway and the client outlive the replica process that serves them first.
        var configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, icNetworkURL: url, rootKey: .explicit(rootKey),
            pollingInterval: .milliseconds(20), maxIdlePollingInterval: .milliseconds(100),
            prometheusEndpoint: nil)
        configuration.pollRetryBudget = 50
        configuration.maxPollRetryBackoff = .milliseconds(200)
        let gatewayConfiguration = configuration
        try await Self.runReplica(stateDirectory: directory, port: port) { _, _ in
            let gateway = GatewayRunner(configuration: gatewayConfiguration)
            try await gateway.start()
            let client = try await ICWebSocketConnection.connect(
                gatewayURL: gateway.url, canister: canister, identity: identity, network: .local(url, rootKey: rootKey),
                messageType: TextMessage.self)
            #expect(try await client.next() == TextMessage(text: "ping"))
            try await client.send(TextMessage(text: "before"))
            #expect(try await client.next() == TextMessage(text: "before ping"))
            state.set(client: client, gateway: gateway)
        }
        // The replica is down here for a moment; then it comes back from its state directory.
        try await Task.sleep(for: .milliseconds(300))
        try await Self.runReplica(stateDirectory: directory, port: port) { replica, _ in
            #expect(replica.canisterIDs.contains(canister))
            guard let (client, gateway) = state.session() else { throw TimedOut(what: "the session") }
            try await client.send(TextMessage(text: "after restart"))
            #expect(try await client.next(.seconds(30)) == TextMessage(text: "after restart ping"))
            await client.close()
            await gateway.stop()
        }
    }

    /// Hands values from one replica run to the next.
    final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var first: (Int, Principal, RootKey)?
        private var live: (ICWebSocketConnection<TextMessage>, GatewayRunner)?
        func set(port: Int, canister: Principal, rootKey: RootKey) { lock.withLock { first = (port, canister, rootKey) } }
        func get() -> (Int, Principal, RootKey)? { lock.withLock { first } }
        func set(client: ICWebSocketConnection<TextMessage>, gateway: GatewayRunner) { lock.withLock { live = (client, gateway) } }
        func session() -> (ICWebSocketConnection<TextMessage>, GatewayRunner)? { lock.withLock { live } }
    }
}
