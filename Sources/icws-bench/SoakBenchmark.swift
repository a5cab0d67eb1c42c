import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers

/// Suite `soak`: chat clients on two gateways through one canister for a fixed time while a
/// fault injector cuts connections, slows the replica down and restarts a gateway. At the end,
/// every message sent by a client that stayed connected must have reached every other client
/// that stayed connected exactly once and in order.
///
///   icws-bench soak [clients=200] [seconds=60] [messages-per-second=4]
enum SoakBenchmark {
    /// What one client saw and did.
    final class Client: Sendable {
        let index: Int
        let identity = Ed25519Identity()
        let group: Character
        private let state = NIOLockedValueBox(
            (
                received: [(from: String, text: String, at: ContinuousClock.Instant)](),
                sent: [String](), sentAt: [String: ContinuousClock.Instant](),
                disconnected: false, error: String?.none
            ))

        init(index: Int, group: Character) {
            self.index = index
            self.group = group
        }

        var principal: String { identity.principal.description }
        var received: [(from: String, text: String, at: ContinuousClock.Instant)] { state.withLockedValue { $0.received } }
        var sent: [String] { state.withLockedValue { $0.sent } }
        var disconnected: Bool { state.withLockedValue { $0.disconnected } }
        var error: String? { state.withLockedValue { $0.error } }
        func sentAt(_ text: String) -> ContinuousClock.Instant? { state.withLockedValue { $0.sentAt[text] } }

        func recordReceived(_ message: ChatMessage) {
            state.withLockedValue { $0.received.append((message.from, message.text, .now)) }
        }

        func recordSent(_ text: String) {
            state.withLockedValue {
                $0.sent.append(text); $0.sentAt[text] = .now
            }
        }

        func markDisconnected(_ why: String) {
            state.withLockedValue {
                if !$0.disconnected { $0.error = why }
                $0.disconnected = true
            }
        }
    }

    static func run(clients count: Int, seconds: Int, rate: Double) async {
        do {
            try await runThrowing(clients: count, seconds: seconds, rate: rate)
        } catch {
            print("soak failed: \(error)")
            exit(1)
        }
    }

    private static func runThrowing(clients count: Int, seconds: Int, rate: Double) async throws {
        let module = try CanisterModules.chatCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module)
            let replicaProxy = FaultInjectingReplicaProxy(upstream: local.url)
            try await replicaProxy.run { replicaURL in
                let gateways = (0..<2).map { _ in
                    GatewayRunner(replica: local) {
                        $0.icNetworkURL = replicaURL
                        $0.pollingInterval = .milliseconds(50)
                        $0.maxIdlePollingInterval = .milliseconds(200)
                        $0.maxPendingOutboundMessages = 10_000
                    }
                }
                for gateway in gateways { try await gateway.start() }
                // Groups: A → gateway 1 (never faulted), B → gateway 2 (restarted), C → gateway 1
                // through a proxy whose connections get cut.
                let proxyA = FaultInjectingProxy(upstream: gateways[0].url)
                let proxyB = FaultInjectingProxy(upstream: gateways[1].url)
                let proxyC = FaultInjectingProxy(upstream: gateways[0].url)
                try await proxyA.run { urlA in
                    try await proxyB.run { urlB in
                        try await proxyC.run { urlC in
                            let clients = (0..<count).map { Client(index: $0, group: ["A", "B", "C"][$0 % 3]) }
                            let urls: [Character: String] = ["A": urlA, "B": urlB, "C": urlC]
                            try await session(
                                local: local, canister: canister, clients: clients, urls: urls, seconds: seconds, rate: rate,
                                faults: { phase in
                                    switch phase {
                                    case 1: proxyC.cutConnections(); return "cut the connections of group C"
                                    case 2: replicaProxy.inject(.delay(.milliseconds(300))); return "replica delayed by 300 ms per request"
                                    case 3: replicaProxy.inject(.none); return "replica back to normal"
                                    case 4:
                                        await gateways[1].stop()
                                        do { try await gateways[1].start() } catch { return "gateway 2 did not restart: \(error)" }
                                        return "restarted gateway 2"
                                    default: return nil
                                    }
                                })
                        }
                    }
                }
                for gateway in gateways { await gateway.stop() }
            }
        }
    }

    private static func session(
        local: LocalReplica, canister: Principal, clients: [Client], urls: [Character: String],
        seconds: Int, rate: Double, faults: @escaping @Sendable (Int) async -> String?
    ) async throws {
        let started = ContinuousClock.now
        let connections = try await openInBatches(clients.map(\.index)) { index in
            let client = clients[index]
            var logger = Logger(label: "soak-client")
            logger.logLevel = .critical
            return try await ICWebSocketConnection.connect(
                gatewayURL: urls[client.group]!, canister: canister, identity: client.identity,
                network: .local(local.url, rootKey: local.rootKey), messageType: ChatMessage.self,
                configuration: .init(openTimeout: .seconds(60), maxBufferedMessages: 1 << 16, clock: local.clock),
                logger: logger)
        }
        let connectSeconds = (ContinuousClock.now - started).seconds
        print("{\"name\": \"soak.connected\", \"clients\": \(clients.count), \"seconds\": \(format(connectSeconds))}")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                let connection = connections[client.index]!
                group.addTask {
                    do {
                        for try await message in connection.messages where message.from != "system" {
                            client.recordReceived(message)
                        }
                        client.markDisconnected("message stream ended")
                    } catch {
                        client.markDisconnected("\(error)")
                    }
                }
                group.addTask {
                    for await state in connection.states {
                        if case .closed = state { client.markDisconnected("\(state)"); break }
                        if case .reconnecting = state { client.markDisconnected("\(state)"); break }
                    }
                }
            }
            // Senders: `rate` messages per second from random clients that are still connected.
            let runStart = ContinuousClock.now
            let deadline = runStart + .seconds(seconds)
            var sequence = 0
            var phase = 0
            let interval = Duration.seconds(1.0 / rate)
            while ContinuousClock.now < deadline {
                let elapsed = (ContinuousClock.now - runStart).seconds / Double(seconds)
                if phase < 4, elapsed >= [0.2, 0.4, 0.6, 0.7][phase] {
                    phase += 1
                    if let what = await faults(phase) {
                        print(
                            "{\"name\": \"soak.fault\", \"at_s\": \(format((ContinuousClock.now - runStart).seconds)), \"what\": \"\(what)\"}"
                        )
                    }
                }
                let candidates = clients.filter { !$0.disconnected }
                if let client = candidates.randomElement(), let connection = connections[client.index] {
                    sequence += 1
                    let text = "c\(client.index)-m\(sequence)"
                    client.recordSent(text)
                    do { try await connection.send(ChatMessage(text: text)) } catch { client.markDisconnected("send: \(error)") }
                }
                try await Task.sleep(for: interval)
            }
            // Let the last messages arrive, then stop.
            try await Task.sleep(for: .seconds(8))
            let stayed = Set(clients.filter { !$0.disconnected }.map(\.index))
            for connection in connections.values { await connection.close() }
            group.cancelAll()
            report(clients, stayedConnected: stayed)
        }
    }

    private static func report(_ clients: [Client], stayedConnected: Set<Int>) {
        let stable = clients.filter { stayedConnected.contains($0.index) }
        let byPrincipal = Dictionary(uniqueKeysWithValues: clients.map { ($0.principal, $0) })
        var expected = 0, delivered = 0, missing = 0, duplicated = 0, outOfOrder = 0
        var latencies = [Double]()
        for receiver in stable {
            let received = receiver.received
            for sender in stable {
                let sent = sender.sent
                let got = received.filter { $0.from == sender.principal }.map(\.text)
                expected += sent.count
                delivered += got.count
                missing += Set(sent).subtracting(got).count
                duplicated += got.count - Set(got).count
                if got != sent, Set(got) == Set(sent), got.count == sent.count { outOfOrder += 1 }
            }
            for message in received {
                if let sender = byPrincipal[message.from], let sentAt = sender.sentAt(message.text) {
                    latencies.append((message.at - sentAt).seconds * 1_000)
                }
            }
        }
        latencies.sort()
        let p50 = latencies.isEmpty ? 0 : latencies[latencies.count / 2]
        let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        let sentTotal = clients.reduce(0) { $0 + $1.sent.count }
        let disconnectedByGroup = Dictionary(grouping: clients.filter { !stayedConnected.contains($0.index) }, by: \.group).mapValues(
            \.count)
        print(
            """
            {"name": "soak.result", "clients": \(clients.count), "stayed_connected": \(stable.count), \
            "disconnected_by_group": "\(disconnectedByGroup.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))", \
            "messages_sent": \(sentTotal), "deliveries_expected": \(expected), "deliveries_received": \(delivered), \
            "missing": \(missing), "duplicated": \(duplicated), "pairs_out_of_order": \(outOfOrder), \
            "delivery_latency_ms_p50": \(format(p50)), "delivery_latency_ms_p99": \(format(p99))}
            """)
        for group in ["A", "B", "C"] as [Character] {
            if let example = clients.first(where: { $0.group == group && !stayedConnected.contains($0.index) })?.error {
                print(
                    "{\"name\": \"soak.disconnect_example\", \"group\": \"\(group)\", \"why\": \"\(example.replacingOccurrences(of: "\"", with: "'"))\"}"
                )
            }
        }
        if missing > 0 || duplicated > 0 || outOfOrder > 0 {
            print("soak: delivery guarantees violated")
            exit(1)
        }
    }
}

private func format(_ value: Double) -> String { String(format: "%.1f", value) }

/// Opens one connection per index, 16 at a time (the soaks' clients), keyed by index.
func openInBatches<Connection: Sendable>(
    _ indices: [Int], _ open: @escaping @Sendable (Int) async throws -> Connection
) async throws -> [Int: Connection] {
    var opened = [Int: Connection]()
    for batch in stride(from: 0, to: indices.count, by: 16) {
        try await withThrowingTaskGroup(of: (Int, Connection).self) { group in
            for index in indices[batch..<min(batch + 16, indices.count)] {
                group.addTask { (index, try await open(index)) }
            }
            for try await (index, connection) in group { opened[index] = connection }
        }
    }
    return opened
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
