import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers

/// Suite `gateway-burst`: clients that send all their messages at once, as a chat burst, a game
/// or a form does, through `icws gateway` (a child process) to the ping-pong canister, which
/// answers each message `m` with `m ping`.
///
///   icws-bench gateway-burst [clients=1] [messages=1000] [--ic-delay-ms 1500] [--ic-accept-ms 100] [gateway flags…]
///
/// Each client is the Swift SDK (`ICWebSocketConnection`): it opens a session, calls `send`
/// `messages` times back to back, and counts the replies it verified (certificate, tree,
/// sequence). `--ic-delay-ms D` puts a proxy between gateway and replica that answers each
/// synchronous call (`/api/v3/…/call`) D ms ± 33 % late, as mainnet's consensus does, and each
/// asynchronous one (`/api/v2/…/call`, accepted into the ingress queue) A ms ± 33 % late
/// (`--ic-accept-ms A`, default 100 when a delay is given: a round trip to one node).
/// Every client gives up after `messages` × (A + 50 ms) + 120 s. Anything after the known options is passed to `icws gateway` (e.g.
/// `--submit-next-after executed`).
///
/// Prints `{"name": "gateway_burst", "clients", "messages_per_client", "sent", "delivered",
/// "closed", "out_of_order", "seconds", "msgs_per_s", …}` with the gateway's peak RSS during the
/// burst, its CPU time, and how often it paused reading.
enum GatewayBurstBenchmark {
    static func run(arguments: [String]) async {
        var positional: [Int] = []
        var delay = 0
        var accept: Int?
        var gatewayArguments: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--ic-delay-ms", index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
                delay = value
                index += 2
            } else if argument == "--ic-accept-ms", index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
                accept = value
                index += 2
            } else if let value = Int(argument), gatewayArguments.isEmpty {
                positional.append(value)
                index += 1
            } else {
                gatewayArguments.append(argument)
                index += 1
            }
        }
        let clients = positional.first ?? 1
        let messages = positional.dropFirst().first ?? 1_000
        let (icDelay, extraArguments) = (delay, gatewayArguments)
        let acceptDelay = accept ?? (delay > 0 ? 100 : 0)
        do {
            try await GatewayBenchmarks.withReplica(canister: "PingPongCanister") { replicaURL, replica, module in
                let controller = HTTPAgent(configuration: .init(url: replicaURL, rootKey: .fetchFromReplica), identity: Ed25519Identity())
                let canister = try await ManagementCanister(agent: controller).deploy(
                    module: module, arg: Candid.encode(), effectiveCanisterID: replica.canisterRange.lowerBound)
                let proxy = FaultInjectingReplicaProxy(upstream: replicaURL)
                if icDelay > 0 || acceptDelay > 0 {
                    let execution = Duration.milliseconds(icDelay)
                    let acceptance = Duration.milliseconds(acceptDelay)
                    proxy.inject(
                        .callLatency(
                            execution: execution * 2 / 3...execution * 4 / 3,
                            acceptance: acceptance * 2 / 3...acceptance * 4 / 3))
                }
                try await proxy.run { proxyURL in
                    try await measure(
                        clients: clients, messages: messages, delay: icDelay, acceptDelay: acceptDelay, icURL: proxyURL,
                        replicaURL: replicaURL, rootKey: replica.rootKey, canister: canister,
                        gatewayArguments: extraArguments)
                }
            }
        } catch {
            print("{\"name\": \"gateway_burst.error\", \"error\": \"\(error)\"}")
        }
    }

    /// What one client saw.
    struct Outcome: Sendable {
        var delivered = 0
        var outOfOrder = 0
        var closed = false
        var error: String?
    }

    static func measure(
        clients: Int, messages: Int, delay: Int, acceptDelay: Int, icURL: String, replicaURL: String, rootKey: RootKey,
        canister: Principal, gatewayArguments: [String]
    ) async throws {
        let gateway = try await BenchGatewayProcess(
            icNetworkURL: icURL, extraArguments: ["--root-key", Hex.encode(rootKey.der)] + gatewayArguments)
        defer { gateway.stop() }
        var logger = Logger(label: "bench-burst-client")
        logger.logLevel = .critical
        let network = ICNetwork.local(replicaURL, rootKey: rootKey)
        let (url, clientLogger) = (gateway.url, logger)

        // Open every session first, so that the burst is measured alone.
        var connections: [ICWebSocketConnection<TextMessage>] = []
        for start in stride(from: 0, to: clients, by: 50) {
            let opened = await withTaskGroup(of: ICWebSocketConnection<TextMessage>?.self) { group in
                for _ in start..<min(clients, start + 50) {
                    group.addTask {
                        guard
                            let connection = try? await ICWebSocketConnection.connect(
                                gatewayURL: url, canister: canister, identity: Ed25519Identity(), network: network,
                                messageType: TextMessage.self, configuration: .init(openTimeout: .seconds(120)), logger: clientLogger)
                        else { return nil }
                        var iterator = connection.messages.makeAsyncIterator()
                        guard (try? await iterator.next())??.text == "ping" else { return nil }
                        return connection
                    }
                }
                return await group.reduce(into: [ICWebSocketConnection<TextMessage>]()) { if let connection = $1 { $0.append(connection) } }
            }
            connections += opened
        }
        let baselineRSS = gateway.rss
        let cpuBefore = gateway.cpuSeconds
        let peakRSS = PeakSampler(gateway: gateway)
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            let deadline = Duration.milliseconds(messages * (acceptDelay + 50)) + .seconds(120)
            for connection in connections {
                group.addTask { await burst(connection, messages: messages, deadline: deadline) }
            }
            return await group.reduce(into: [Outcome]()) { $0.append($1) }
        }
        let seconds = GatewayBenchmarks.seconds(clock.now - start)
        let peak = await peakRSS.stop()
        let cpu = gateway.cpuSeconds - cpuBefore
        let metrics = (try? await GatewayBenchmarks.scrape(gateway.metricsURL)) ?? ""
        let paused = counter(metrics, "icws_gateway_reading_paused_total")
        for connection in connections { await connection.close() }

        let sent = connections.count * messages
        let delivered = outcomes.reduce(0) { $0 + $1.delivered }
        let closed = outcomes.filter(\.closed).count + (clients - connections.count)
        let outOfOrder = outcomes.reduce(0) { $0 + $1.outOfOrder }
        let errors = Set(outcomes.compactMap(\.error)).prefix(3).map { "\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" }
        print(
            "{\"name\": \"gateway_burst\", \"clients\": \(clients), \"messages_per_client\": \(messages), \"ic_delay_ms\": \(delay), \"ic_accept_ms\": \(acceptDelay), "
                + "\"sessions_opened\": \(connections.count), \"sent\": \(sent), \"delivered\": \(delivered), \"closed\": \(closed), "
                + "\"out_of_order\": \(outOfOrder), \"seconds\": \(GatewayBenchmarks.rounded(seconds)), "
                + "\"msgs_per_s\": \(GatewayBenchmarks.rounded(Double(delivered) / max(seconds, 0.001))), "
                + "\"gateway_rss_before_kb\": \(baselineRSS / 1024), \"gateway_rss_peak_kb\": \(peak / 1024), "
                + "\"gateway_cpu_seconds\": \(GatewayBenchmarks.rounded(cpu)), \"reading_paused\": \(paused), "
                + "\"gateway_arguments\": \"\(gatewayArguments.joined(separator: " "))\", \"errors\": [\(errors.joined(separator: ", "))]}")
    }

    /// Sends `messages` at once, then reads the replies (each must be the next one expected)
    /// until all came or `deadline` passed.
    static func burst(_ connection: ICWebSocketConnection<TextMessage>, messages: Int, deadline: Duration) async -> Outcome {
        let progress = NIOLockedValueBox(Outcome())
        let finished = await result(
            of: {
                await receive(connection, messages: messages, into: progress)
                return true
            }, within: deadline, else: false)
        var outcome = progress.withLockedValue { $0 }
        if !finished {
            outcome.closed = true
            outcome.error = "no reply within \(deadline)"
        }
        return outcome
    }

    private static func receive(
        _ connection: ICWebSocketConnection<TextMessage>, messages: Int,
        into progress: NIOLockedValueBox<Outcome>
    ) async {
        do {
            for index in 0..<messages { try await connection.send(TextMessage(text: "b\(index)")) }
            var expected = 0
            for try await reply in connection.messages {
                let inOrder = reply.text == "b\(expected) ping"
                progress.withLockedValue {
                    if !inOrder { $0.outOfOrder += 1 }
                    $0.delivered += 1
                }
                expected += 1
                if expected == messages { break }
            }
            if expected < messages { progress.withLockedValue { $0.closed = true } }
        } catch {
            progress.withLockedValue {
                $0.closed = true
                $0.error = "\(error)"
            }
        }
    }

    static func counter(_ metrics: String, _ name: String) -> Int {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
    }
}

/// Samples a process's RSS every 100 ms and keeps the peak.
final class PeakSampler: Sendable {
    private let task: Task<Int, Never>

    init(gateway: BenchGatewayProcess) {
        let pid = gateway.pid
        task = Task {
            var peak = 0
            while !Task.isCancelled {
                peak = max(peak, GatewayBenchmarks.rss(of: pid))
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
    }

    func stop() async -> Int {
        task.cancel()
        return await task.value
    }
}
