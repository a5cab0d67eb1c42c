import Foundation
import ICAgent
import ICCore

/// The release `icws gateway` (next to the running `icws-bench` binary) as a child process, so that
/// its RSS and CPU time are its own: a fresh identity, random loopback ports, limits opened up for
/// load generation.
final class BenchGatewayProcess {
    let identity = Ed25519Identity()
    /// `ws://127.0.0.1:<port>/`.
    let url: String
    let metricsURL: String
    private let process = Process()
    private let directory: URL

    /// Starts the gateway against `icNetworkURL` and waits until it answers WebSocket handshakes.
    /// `extraArguments` come after the defaults (later flags win).
    init(icNetworkURL: String, extraArguments: [String] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("icws-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pemPath = directory.appendingPathComponent("key_pair.pem").path
        try IdentityPEM.pem(for: identity).write(toFile: pemPath, atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000...40_000)
        let metricsPort = port + 1
        url = "ws://127.0.0.1:\(port)/"
        metricsURL = "http://127.0.0.1:\(metricsPort)/metrics"
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("icws")
        process.arguments = [
            "gateway", "--gateway-address", "127.0.0.1:\(port)", "--ic-network-url", icNetworkURL,
            "--prometheus-endpoint", "127.0.0.1:\(metricsPort)", "--identity-pem-path", pemPath,
            "--max-connections", "100000", "--max-connections-per-ip", "100000", "--new-connections-per-second", "100000",
            "--handshake-timeout", "3600", "--log-level", "error",
        ] + extraArguments
        do {
            try process.run()
            try await GatewayBenchmarks.waitForListener(url: url)
        } catch {
            stop()
            throw error
        }
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
