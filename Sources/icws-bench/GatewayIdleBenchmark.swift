import Foundation

/// `icws-bench gateway-idle [connections]`: idle WebSocket connections held by `icws gateway`
/// and the RSS each costs, side by side with the two floors in `WebSocketFloorServer` (a bare
/// SwiftNIO WebSocket server and a bare HummingbirdWebSocket one), in one run.
///
/// Each server is a child process, so its RSS is its own; the connections come from this
/// process through `IdleWebSocketClients`. A process here may hold at most `ulimit -n`
/// descriptors (20 000, hard, on the development machine), which caps one server at about
/// 19 950 connections.
enum GatewayIdleBenchmark {
    static func run(connections: Int) async {
        do {
            for server in ["nio-floor", "hummingbird-floor", "icws-gateway"] {
                try await measure(server, connections: connections)
            }
        } catch {
            print("{\"name\": \"gateway_idle.error\", \"error\": \"\(error)\"}")
        }
    }

    static func measure(_ server: String, connections: Int, attempt: Int = 1) async throws {
        // Below the usual ephemeral range (32768+), which the clients' own sockets fill.
        let port = Int.random(in: 10_000...30_000)
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let process = Process()
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("icws-bench-idle-\(UUID()).pem").path
        defer { try? FileManager.default.removeItem(atPath: keyPath) }
        switch server {
        case "icws-gateway":
            process.executableURL = directory.appendingPathComponent("icws")
            process.arguments = [
                "gateway", "--gateway-address", "127.0.0.1:\(port)", "--ic-network-url", "http://127.0.0.1:9",
                "--prometheus-endpoint", "none", "--identity-pem-path", keyPath,
                "--max-connections", "100000", "--max-connections-per-ip", "100000", "--new-connections-per-second", "100000",
                "--handshake-timeout", "3600", "--log-level", "error",
            ]
        default:
            process.executableURL = directory.appendingPathComponent("icws-bench")
            process.arguments = ["serve-websocket-floor", String(server.dropLast("-floor".count)), "\(port)"]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // Listening once one connection gets its first frame.
        var ready = false
        for _ in 0..<100 where !ready && process.isRunning {
            let probe = IdleWebSocketClients()
            ready = await probe.open(1, port: port) == 1
            await probe.closeAll()
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else {
            // Most likely the port was taken: try another one.
            guard attempt < 3 else { throw GatewayBenchmarks.BenchError("\(server) did not start (last port \(port))") }
            return try await measure(server, connections: connections, attempt: attempt + 1)
        }
        try await Task.sleep(for: .seconds(1))
        let baseline = GatewayBenchmarks.rss(of: process.processIdentifier)
        let clients = IdleWebSocketClients()
        let start = ContinuousClock.now
        let held = await clients.open(connections, port: port)
        let seconds = GatewayBenchmarks.seconds(ContinuousClock.now - start)
        try await Task.sleep(for: .seconds(2))
        let loaded = GatewayBenchmarks.rss(of: process.processIdentifier)
        let perConnection = held > 0 ? Double(loaded - baseline) / Double(held) / 1024 : 0
        print(
            "{\"name\": \"gateway_idle.\(server)\", \"requested\": \(connections), \"held\": \(held), "
                + "\"connect_seconds\": \(GatewayBenchmarks.rounded(seconds)), \"rss_baseline_kb\": \(baseline / 1024), "
                + "\"rss_loaded_kb\": \(loaded / 1024), \"rss_per_connection_kb\": \(GatewayBenchmarks.rounded(perConnection))}")
        await clients.closeAll()
    }
}
