import Foundation
import ICCore
import ICReplica
import ICWebSocketTesting

#if canImport(Glibc)
import Glibc
#endif

/// Suite `gateway-relay`: the gateway's own canister → client relay throughput, without the
/// interpreted canister in the way.
///
///   icws-bench gateway-relay [sessions=100,1000] [messages=200000] [batch=100,1000]
///
/// `sessions` and `batch` take comma-separated lists; every (sessions, batch) pair is measured.
/// Per sessions value: a fresh `icws gateway` child process in front of a ``SyntheticPollSource``
/// in front of the in-process replica with the test canister; that many sessions open through the
/// real canister (handshake, `ws_open`, open message); then, per batch size, the source answers
/// `ws_get_messages` itself with `messages` pre-encoded messages in batches of `batch`, round-robin
/// over the sessions, and the bench clients count the binary frames they receive. The rate runs
/// from the first synthetic poll to the last expected frame (or to the timeout, with what arrived).
/// Each client decodes the first message relayed to it (in the first run after the sessions
/// opened) and checks it is its own application message following the open message
/// (`first_message_checks_*`, counted per gateway); every other frame is only counted.
///
/// CPU figures: `gateway_cpu_seconds` is the child's utime + stime over the measurement;
/// `bench_process_cpu_seconds` is this whole process (synthetic source, bench clients and the
/// idle replica: they share the machine's cores with the gateway); `source_handler_cpu_ms`
/// is the source's own per-poll work (request decoding and picking the pre-encoded answer; not
/// its HTTP I/O).
enum GatewayRelayBenchmark {
    /// The gateway's per-client queue (`--max-pending-outbound`). The synthetic source answers
    /// polls as fast as the gateway asks, so at the default (100) a client whose writer falls a few
    /// polls behind would be closed as too slow and the suite would measure that policy instead
    /// of the relay. `ICWS_MAX_PENDING_OUTBOUND` in the environment overrides it.
    static let maxPendingOutbound = ProcessInfo.processInfo.environment["ICWS_MAX_PENDING_OUTBOUND"].flatMap { Int($0) } ?? 10_000
    static let payloadBytes = 32

    static func run(arguments: [String]) async {
        func list(_ index: Int) -> [Int]? {
            guard index < arguments.count else { return nil }
            let values = arguments[index].split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            return values.isEmpty ? nil : values
        }
        let sessions = list(0) ?? [100, 1000]
        let messages = list(1)?.first ?? 200_000
        let batches = list(2) ?? [100, 1000]
        do {
            try await GatewayBenchmarks.withReplica { replicaURL, replica, module in
                let canister = try await GatewayBenchmarks.deployTestCanister(replicaURL: replicaURL, replica: replica, module: module)
                for count in sessions {
                    try await measure(
                        sessions: count, messages: messages, batches: batches,
                        replicaURL: replicaURL, replica: replica, canister: canister)
                }
            }
        } catch {
            print("{\"name\": \"gateway_relay.error\", \"error\": \"\(error)\"}")
        }
    }

    static func measure(
        sessions requested: Int, messages: Int, batches: [Int], replicaURL: String,
        replica: Replica, canister: Principal
    ) async throws {
        let source = SyntheticPollSource(upstream: replicaURL)
        try await source.run { sourceURL in
            let gateway = try await BenchGatewayProcess(
                icNetworkURL: sourceURL,
                extraArguments: ["--max-pending-outbound", "\(maxPendingOutbound)"])
            defer { gateway.stop() }
            let counter = RelayDeliveryCounter()
            let clock = ContinuousClock()
            let openStart = clock.now
            let clients = await openClients(
                requested, url: gateway.url, canister: canister, gateway: gateway.identity.principal,
                replica: replica, counter: counter)
            defer { for client in clients { client.close() } }
            let openSeconds = GatewayBenchmarks.seconds(clock.now - openStart)
            // Each open message passed through the source before it reached its client, so the
            // source knows every session by now; the wait only covers a reply still in flight.
            for _ in 0..<100 where source.learnedClientCount < clients.count {
                try await Task.sleep(for: .milliseconds(50))
            }
            print(
                "{\"name\": \"gateway_relay.sessions_opened\", \"requested\": \(requested), \"held\": \(clients.count), "
                    + "\"open_seconds\": \(GatewayBenchmarks.rounded(openSeconds)), \"client_keys_learned\": \(source.learnedClientCount), "
                    + "\"gateway_rss_kb\": \(gateway.rss / 1024), \"max_pending_outbound\": \(maxPendingOutbound), "
                    + "\"certificates\": \"the last real cert and tree, reused for every synthetic batch (gateway without --verify-polls)\"}"
            )
            guard !clients.isEmpty else { return }
            for batch in batches {
                try await measureRun(
                    sessions: clients.count, messages: messages, batch: batch, source: source, gateway: gateway,
                    replica: replica, counter: counter)
            }
        }
    }

    static func openClients(
        _ count: Int, url: String, canister: Principal, gateway: Principal, replica: Replica,
        counter: RelayDeliveryCounter
    ) async -> [RelayBenchClient] {
        await withTaskGroup(of: RelayBenchClient?.self) { group in
            var clients: [RelayBenchClient] = []
            var started = 0
            for _ in 0..<count {
                if started >= 256, let client = await group.next() {
                    if let client { clients.append(client) }
                } else {
                    started += 1
                }
                group.addTask {
                    await RelayBenchClient.open(url: url, canister: canister, gateway: gateway, replica: replica, counter: counter)
                }
            }
            for await client in group { if let client { clients.append(client) } }
            return clients
        }
    }

    static func measureRun(
        sessions: Int, messages: Int, batch: Int, source: SyntheticPollSource, gateway: BenchGatewayProcess,
        replica: Replica, counter: RelayDeliveryCounter
    ) async throws {
        let clock = ContinuousClock()
        let encodeStart = clock.now
        let run = try source.prepare(
            messages: messages, batchSize: batch, gateway: gateway.identity.principal,
            timestamp: replica.currentTime, payloadBytes: payloadBytes)
        let encodeSeconds = GatewayBenchmarks.seconds(clock.now - encodeStart)
        let metricsBefore = try await GatewayBenchmarks.scrape(gateway.metricsURL)
        let deliveredBefore = counter.count
        let endedBefore = counter.endedSessions
        counter.arm(total: deliveredBefore + messages)
        let gatewayCPUBefore = gateway.cpuSeconds
        let benchCPUBefore = processCPUSeconds()
        let switchedAt = clock.now
        source.activate(run)
        // Generous: a slow gateway still reports what arrived.
        let deadline = switchedAt + .seconds(max(30, messages / 1_000))
        while counter.reached == nil, clock.now < deadline, counter.endedSessions - endedBefore < sessions {
            try await Task.sleep(for: .milliseconds(5))
        }
        let finishedAt = counter.reached ?? clock.now
        let gatewayCPU = gateway.cpuSeconds - gatewayCPUBefore
        let benchCPU = processCPUSeconds() - benchCPUBefore
        let delivered = counter.count - deliveredBefore
        let statistics = source.currentStatistics
        let checks = counter.firstMessageChecks
        let metricsAfter = try await GatewayBenchmarks.scrape(gateway.metricsURL)
        let latency = histogramDifference(after: metricsAfter, before: metricsBefore, name: "icws_gateway_relay_latency")
        let start = statistics.firstPollAt ?? switchedAt
        let seconds = max(GatewayBenchmarks.seconds(finishedAt - start), 0.001)
        let rounded = GatewayBenchmarks.rounded
        print(
            "{\"name\": \"gateway_relay\", \"sessions\": \(sessions), \"batch\": \(batch), \"messages\": \(messages), "
                + "\"delivered\": \(delivered), \"seconds\": \(rounded(seconds)), \"messages_per_second\": \(rounded(Double(delivered) / seconds)), "
                + "\"polls_served\": \(statistics.polls), \"messages_served\": \(statistics.messagesServed), "
                + "\"unaligned_polls\": \(statistics.unalignedPolls), \"earlier_polls_forwarded\": \(statistics.earlierPolls), "
                + "\"switch_to_first_poll_ms\": \(rounded(GatewayBenchmarks.seconds(start - switchedAt) * 1000)), "
                + "\"gateway_cpu_seconds\": \(rounded(gatewayCPU)), "
                + "\"gateway_cpu_us_per_message\": \(rounded(delivered > 0 ? gatewayCPU / Double(delivered) * 1e6 : 0)), "
                + "\"bench_process_cpu_seconds\": \(rounded(benchCPU)), "
                + "\"source_handler_cpu_ms\": \(rounded(Double(statistics.handlerCPUNanoseconds) / 1e6)), "
                + "\"gateway_rss_kb\": \(gateway.rss / 1024), "
                + "\"relay_latency_samples\": \(Int(latency.last?.count ?? 0)), "
                + "\"relay_latency_p50_ms_upper_bound\": \(rounded(GatewayBenchmarks.bucketQuantile(latency, 0.5) * 1000)), "
                + "\"relay_latency_p99_ms_upper_bound\": \(rounded(GatewayBenchmarks.bucketQuantile(latency, 0.99) * 1000)), "
                + "\"sessions_ended_by_gateway\": \(counter.endedSessions - endedBefore), "
                + "\"first_message_checks_passed\": \(checks.passed), \"first_message_checks_failed\": \(checks.failed), "
                + "\"pre_encoded_batches\": \(run.batchCount), \"pre_encoded_kb\": \(run.encodedBytes / 1024), "
                + "\"pre_encode_seconds\": \(rounded(encodeSeconds)), \"payload_bytes\": \(payloadBytes), \"certificates\": \"reused\"}")
    }

    /// The buckets of `name` observed between two scrapes.
    static func histogramDifference(after: String, before: String, name: String) -> [(le: Double, count: Double)] {
        let earlier = Dictionary(GatewayBenchmarks.histogramBuckets(before, name: name).map { ($0.le, $0.count) }, uniquingKeysWith: +)
        return GatewayBenchmarks.histogramBuckets(after, name: name).map { ($0.le, $0.count - (earlier[$0.le] ?? 0)) }
    }

    /// User + system CPU time of this process so far, seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
