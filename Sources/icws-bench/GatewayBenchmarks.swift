import CanisterToolchain
import Foundation
import Hummingbird
import ICAgent
import ICCore
import ICReplica
import ICWebSocketProtocol
import Logging
import NIOCore
import WSClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Suite `gateway`: a load generator against `icws gateway` (a child process, so that its RSS is
/// its own) in front of the in-process replica running the Embedded Swift test canister.
///
///   icws-bench gateway [sessions] [idle]   (defaults 1000 and 0; `gateway-idle` measures idle connections
///   with lighter clients and side by side with bare servers; mind `ulimit -n` in both processes)
///
/// Reports: idle connections held (handshake done, no ws_open) and gateway RSS per connection;
/// open sessions held and RSS per session; canister → client messages relayed per
/// second end to end; the gateway's own poll-reply → frame-written latency (its
/// `icws_gateway_relay_latency` histogram, scraped from Prometheus); delivery latency from the
/// `send` call's reply to the client's frame with the default polling settings.
enum GatewayBenchmarks {
    static func run(clients: Int, idle: Int) async {
        do {
            try await measure(clients: clients, idle: idle)
        } catch {
            print("{\"name\": \"gateway.error\", \"error\": \"\(error)\"}")
        }
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func measure(clients: Int, idle: Int) async throws {
        try await withReplica { replicaURL, replica, module in
            try await runAgainst(replicaURL: replicaURL, replica: replica, module: module, clients: clients, idle: idle)
        }
    }

    /// Runs `body` with the in-process replica serving on loopback (its URL, the replica) and an
    /// Embedded Swift canister's module (the test canister unless named), built on first use.
    static func withReplica(canister: String = "TestCanister", _ body: (String, Replica, [UInt8]) async throws -> Void) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let module = try CanisterBuilder(repositoryRoot: root).module(canister)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let replica = try Replica(
            configuration: .init(
                seed: [UInt8](repeating: 9, count: 32), autoProgress: true,
                roundInterval: .milliseconds(20)), logger: logger)
        let ready = AsyncStream<Int>.makeStream()
        let server = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: 0, logger: logger) { port in
            ready.continuation.yield(port)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.runService(gracefulShutdownSignals: []) }
            group.addTask { await replica.runRounds() }
            var ports = ready.stream.makeAsyncIterator()
            let replicaURL = "http://127.0.0.1:\(await ports.next() ?? 0)"
            defer { group.cancelAll() }
            try await body(replicaURL, replica, module)
        }
    }

    /// Deploys the test canister: 50 messages per poll (the CDK's batch limit), acks every 300 s.
    static func deployTestCanister(replicaURL: String, replica: Replica, module: [UInt8]) async throws -> Principal {
        let controller = HTTPAgent(configuration: .init(url: replicaURL, rootKey: .fetchFromReplica), identity: Ed25519Identity())
        return try await ManagementCanister(agent: controller).deploy(
            module: module, arg: Candid.encode(UInt64(50), UInt64(300_000)), effectiveCanisterID: replica.canisterRange.lowerBound)
    }

    static func runAgainst(replicaURL: String, replica: Replica, module: [UInt8], clients: Int, idle: Int) async throws {
        let canister = try await deployTestCanister(replicaURL: replicaURL, replica: replica, module: module)

        let gateway = try await BenchGatewayProcess(icNetworkURL: replicaURL)
        defer { gateway.stop() }
        let identity = gateway.identity
        let url = gateway.url
        var baseline = gateway.rss
        let clock = ContinuousClock()

        // 0. Idle connections held: WebSocket open, handshake received, nothing else.
        if idle > 0 {
            let idleStart = clock.now
            let sockets = IdleSockets()
            await concurrently(0..<idle) { _ in
                let socket = BenchSocket(url: url)
                if await socket.nextFrame(timeout: .seconds(30)) != nil { await sockets.add(socket) } else { socket.cancel() }
            }
            let held = await sockets.count
            let openSeconds = seconds(clock.now - idleStart)
            try await Task.sleep(for: .seconds(2))
            let loaded = gateway.rss
            print(
                "{\"name\": \"gateway.idle_connections_held\", \"requested\": \(idle), \"held\": \(held), "
                    + "\"connect_seconds\": \(rounded(openSeconds)), \"gateway_rss_baseline_kb\": \(baseline / 1024), "
                    + "\"gateway_rss_loaded_kb\": \(loaded / 1024), "
                    + "\"rss_per_connection_kb\": \(rounded(held > 0 ? Double(loaded - baseline) / Double(held) / 1024 : 0))}")
            await sockets.closeAll()
            try await Task.sleep(for: .seconds(3))
            baseline = gateway.rss
        }

        // 1. Sessions held: open `clients` full sessions (handshake, ws_open, OpenMessage).
        let openStart = clock.now
        let sessions = BenchSessions()
        await concurrently(0..<clients) { _ in
            await sessions.open(url: url, canister: canister, gateway: identity.principal, clock: replica)
        }
        let held = await sessions.openCount
        let openSeconds = seconds(clock.now - openStart)
        try await Task.sleep(for: .seconds(2))
        let loaded = gateway.rss
        let perSession = held > 0 ? Double(loaded - baseline) / Double(held) : 0
        print(
            "{\"name\": \"gateway.sessions_held\", \"requested\": \(clients), \"held\": \(held), \"open_seconds\": \(rounded(openSeconds)), "
                + "\"gateway_rss_baseline_kb\": \(baseline / 1024), \"gateway_rss_loaded_kb\": \(loaded / 1024), "
                + "\"rss_per_session_kb\": \(rounded(perSession / 1024))}")

        // 2. Relay throughput and delivery latency: up to 1000 sessions, `perClient` messages each.
        let targets = await sessions.first(1000)
        // 4 000 messages in all: more would queue in the interpreted canister for longer than
        // its acknowledgement interval (300 s here), after which the CDK drops unacknowledged
        // messages and the gateway, seeing the nonce gap, closes the sessions (1011) as the
        // reference does. The gateway's own relay capacity is `gateway-relay`'s job.
        let perClient = max(1, 4_000 / max(1, targets.count))
        let payload = [UInt8](repeating: 0x61, count: 32)
        let relayStart = clock.now
        let sendAgent = HTTPAgent(configuration: .init(url: replicaURL, rootKey: .fetchFromReplica), identity: identity)
        await concurrently(targets, limit: 64) { session in
            let blobs = (0..<perClient).map { _ in CandidBlob(payload) }
            guard let arg = try? Candid.encode(session.principal, blobs) else { return }
            await session.expect(perClient)
            _ = try? await sendAgent.call(canister: canister, method: "send", arg: arg)
            session.markSent()
        }
        var delivered = 0
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline {
            delivered = 0
            for session in targets { delivered += await session.receivedCount }
            if delivered >= targets.count * perClient { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let relaySeconds = seconds(clock.now - relayStart)
        var latencies: [Double] = []
        for session in targets { latencies += await session.deliveryLatencies }
        latencies.sort()
        print(
            "{\"name\": \"gateway.relay_end_to_end\", \"clients\": \(targets.count), \"messages\": \(delivered), "
                + "\"expected\": \(targets.count * perClient), \"seconds\": \(rounded(relaySeconds)), "
                + "\"messages_per_second\": \(rounded(Double(delivered) / max(relaySeconds, 0.001))), "
                + "\"delivery_after_send_reply_ms_p50\": \(rounded(percentile(latencies, 0.5))), "
                + "\"delivery_after_send_reply_ms_p99\": \(rounded(percentile(latencies, 0.99)))}")

        // 3. The gateway's own added latency: poll reply received → client frame written.
        let metrics = try await scrape(gateway.metricsURL)
        let histogram = histogramBuckets(metrics, name: "icws_gateway_relay_latency")
        print(
            "{\"name\": \"gateway.added_latency_poll_reply_to_frame\", \"samples\": \(histogram.last?.count ?? 0), "
                + "\"p50_ms_upper_bound\": \(rounded(bucketQuantile(histogram, 0.5) * 1000)), "
                + "\"p99_ms_upper_bound\": \(rounded(bucketQuantile(histogram, 0.99) * 1000))}")
        // Sessions the gateway ended during the run, by close code ("none": the peer went away).
        let closed = metrics.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("icws_gateway_sessions_closed_total{"), let start = line.range(of: "code=\""),
                let end = line[start.upperBound...].firstIndex(of: "\""), let count = line.split(separator: " ").last
            else { return nil }
            return "\"\(line[start.upperBound..<end])\": \(count)"
        }
        print("{\"name\": \"gateway.sessions_closed_by_code\", \(closed.joined(separator: ", "))}")
        await sessions.closeAll()
    }

    static func waitForListener(url: String) async throws {
        for _ in 0..<200 {
            let socket = BenchSocket(url: url)
            if await socket.nextFrame(timeout: .milliseconds(500)) != nil {
                socket.cancel()
                return
            }
            socket.cancel()
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the gateway did not start at \(url)")
    }

    /// Resident set size of a process, bytes (Linux `/proc/<pid>/status`).
    static func rss(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }

    static func scrape(_ url: String) async throws -> String {
        guard let target = URL(string: url) else { throw BenchError("bad metrics URL") }
        let (data, _) = try await URLSession.shared.data(from: target)
        return String(decoding: data, as: UTF8.self)
    }

    /// Cumulative buckets `(le, count)` of a Prometheus histogram, summed over its label sets.
    static func histogramBuckets(_ text: String, name: String) -> [(le: Double, count: Double)] {
        var buckets: [Double: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("\(name)_bucket") {
            guard let leRange = line.range(of: "le=\""), let end = line[leRange.upperBound...].firstIndex(of: "\""),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            let le = String(line[leRange.upperBound..<end])
            buckets[le == "+Inf" ? .infinity : Double(le) ?? .infinity, default: 0] += value
        }
        return buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func bucketQuantile(_ buckets: [(le: Double, count: Double)], _ q: Double) -> Double {
        guard let total = buckets.last?.count, total > 0 else { return 0 }
        for bucket in buckets where bucket.count >= q * total { return bucket.le }
        return .infinity
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func rounded(_ value: Double) -> Double { value.isFinite ? (value * 100).rounded() / 100 : -1 }
}

/// Connections that only did the handshake.
actor IdleSockets {
    private var sockets: [BenchSocket] = []
    func add(_ socket: BenchSocket) { sockets.append(socket) }
    var count: Int { sockets.count }
    func closeAll() {
        for socket in sockets { socket.cancel() }
        sockets = []
    }
}

/// The load generator's sessions.
actor BenchSessions {
    private var sessions: [BenchSession] = []

    func open(url: String, canister: Principal, gateway: Principal, clock: Replica) async {
        let identity = Ed25519Identity()
        let socket = BenchSocket(url: url)
        guard await socket.nextFrame(timeout: .seconds(30)) != nil else { socket.cancel(); return }
        guard let frame = wsOpenFrame(identity: identity, canister: canister, gateway: gateway, clock: clock) else {
            socket.cancel()
            return
        }
        socket.send(frame)
        guard await socket.nextFrame(timeout: .seconds(120)) != nil else { socket.cancel(); return }
        let session = BenchSession(principal: identity.principal, socket: socket)
        sessions.append(session)
        session.startCounting()
    }

    var openCount: Int { sessions.count }
    func first(_ count: Int) -> [BenchSession] { Array(sessions.prefix(count)) }
    func closeAll() { for session in sessions { session.socket.cancel() } }
}

/// One open session: counts the frames it receives and when.
final class BenchSession: Sendable {
    let principal: Principal
    let socket: BenchSocket
    private let stats = Stats()

    private actor Stats {
        var expected = 0
        var received = 0
        var sentAt: ContinuousClock.Instant?
        var latencies: [Double] = []
        func expect(_ count: Int) { expected += count }
        func sent() { sentAt = ContinuousClock.now }
        func frame() {
            received += 1
            if let sentAt { latencies.append(GatewayBenchmarks.seconds(ContinuousClock.now - sentAt) * 1000) }
        }
    }

    init(principal: Principal, socket: BenchSocket) {
        self.principal = principal
        self.socket = socket
    }

    func startCounting() {
        let stats = self.stats
        socket.onFrame { await stats.frame() }
    }

    func expect(_ count: Int) async { await stats.expect(count) }
    func markSent() { Task { await stats.sent() } }
    var receivedCount: Int { get async { await stats.received } }
    var deliveryLatencies: [Double] { get async { await stats.latencies } }
}

/// A minimal WSClient wrapper for the load generator.
final class BenchSocket: Sendable {
    private let frames: AsyncStream<[UInt8]>
    private let outgoing: AsyncStream<[UInt8]>.Continuation
    private let task: Task<Void, Never>
    private let consumer = ConsumerBox()

    private actor ConsumerBox {
        var iterator: AsyncStream<[UInt8]>.AsyncIterator?
        func set(_ iterator: AsyncStream<[UInt8]>.AsyncIterator) { self.iterator = iterator }
    }

    init(url: String) {
        let (frames, framesContinuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(64))
        let (outgoingStream, outgoing) = AsyncStream.makeStream(of: [UInt8].self)
        self.frames = frames
        self.outgoing = outgoing
        var logger = Logger(label: "bench-client")
        logger.logLevel = .critical
        task = Task {
            defer { framesContinuation.finish() }
            _ = try? await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 22), logger: logger) {
                inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            if case .binary(let buffer) = message { framesContinuation.yield(Array(buffer.readableBytesView)) }
                        }
                    }
                    group.addTask {
                        for await bytes in outgoingStream { try await outbound.write(.binary(ByteBuffer(bytes: bytes))) }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    func send(_ bytes: [UInt8]) { outgoing.yield(bytes) }

    /// The next frame (only before `onFrame` takes over the stream).
    func nextFrame(timeout: Duration) async -> [UInt8]? {
        let frames = self.frames
        return await result(
            of: {
                var iterator = frames.makeAsyncIterator()
                return await iterator.next()
            }, within: timeout, else: nil)
    }

    /// Hands every later frame to `handler`.
    func onFrame(_ handler: @escaping @Sendable () async -> Void) {
        let frames = self.frames
        Task {
            for await _ in frames { await handler() }
        }
    }

    func cancel() {
        outgoing.finish()
        task.cancel()
    }
}
