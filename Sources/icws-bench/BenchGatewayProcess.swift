import Foundation
import ICAgent
import ICCore

/// The release `icws gateway` (next to the running `icws-bench` binary) as a child process, so that
/// its RSS and CPU time are its own: a fresh identity, random loopback ports, limits opened up for
/// load generation.
final class BenchGatewayProcess {
    let identity = Ed25519Identity()
    /// `ws://127.0.0.1:<port>/`.
    private(set) var url = ""
    private(set) var metricsURL = ""
    private var process = Process()
    private let directory: URL

    /// Starts the gateway against `icNetworkURL` and waits until it answers WebSocket handshakes.
    /// `extraArguments` come after the defaults (later flags win). Ports are picked at random; a
    /// gateway that exits at once (port taken) is started again on other ports.
    init(icNetworkURL: String, extraArguments: [String] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("icws-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pemPath = directory.appendingPathComponent("key_pair.pem").path
        try IdentityPEM.pem(for: identity).write(toFile: pemPath, atomically: true, encoding: .utf8)
        for _ in 0..<5 {
            // Below the usual ephemeral range (32768+), which the bench's own sockets fill.
            let port = Int.random(in: 10_000...30_000)
            let metricsPort = port + 1
            url = "ws://127.0.0.1:\(port)/"
            metricsURL = "http://127.0.0.1:\(metricsPort)/metrics"
            process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "icws")
            process.arguments =
                [
                    "gateway", "--gateway-address", "127.0.0.1:\(port)", "--ic-network-url", icNetworkURL,
                    "--prometheus-endpoint", "127.0.0.1:\(metricsPort)", "--identity-pem-path", pemPath,
                    "--max-connections", "100000", "--max-connections-per-ip", "100000", "--new-connections-per-second", "100000",
                    "--handshake-timeout", "3600", "--log-level", "error",
                ] + extraArguments
            do {
                try process.run()
                if try await listening() { return }
            } catch {
                stop()
                throw error
            }
        }
        stop()
        throw GatewayBenchmarks.BenchError("the gateway did not start (tried 5 port pairs; see its output above)")
    }

    /// Whether the gateway answers a WebSocket handshake: false when it exited first, an error
    /// after 20 s.
    private func listening() async throws -> Bool {
        for _ in 0..<200 {
            guard process.isRunning else { return false }
            let socket = BenchSocket(url: url)
            if await socket.nextFrame(timeout: .milliseconds(500)) != nil {
                socket.cancel()
                return true
            }
            socket.cancel()
            try await Task.sleep(for: .milliseconds(100))
        }
        throw GatewayBenchmarks.BenchError("the gateway did not start at \(url)")
    }

    var pid: Int32 { process.processIdentifier }

    /// Resident set size, bytes.
    var rss: Int { GatewayBenchmarks.rss(of: pid) }

    /// User + system CPU time so far, seconds (Linux `/proc/<pid>/stat`).
    var cpuSeconds: Double { Self.cpuSeconds(statPath: "/proc/\(pid)/stat") }

    /// `utime + stime` of a `/proc/.../stat` file, seconds; 0 when unreadable.
    static func cpuSeconds(statPath: String) -> Double {
        guard let stat = try? String(contentsOfFile: statPath, encoding: .utf8),
            let afterName = stat.range(of: ")", options: .backwards)
        else { return 0 }
        // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGTERM, wait for the exit, remove the identity directory. Safe to call twice.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
