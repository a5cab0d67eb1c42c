import ArgumentParser
import Foundation
import ICCore
import ICReplica
import Logging
import ServiceLifecycle

/// `icws replica`: a local Internet Computer speaking the IC HTTP interface.
struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Run a local Internet Computer replica (IC HTTP interface, Wasm canisters, BLS-certified state)."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (dfx's default is 4943).")
    var port = 4943

    @Option(help: "Directory where the root key, canisters and their memory are persisted (default: in memory only).")
    var stateDir: String?

    @Option(help: "Fixed root key seed: 64 hex digits (reproducible root key and node key).")
    var seed: String?

    @Flag(help: "Do not run rounds by themselves; drive them with POST /_/tick and /_/time.")
    var manual = false

    @Option(
        help:
            "Milliseconds between rounds while a canister has a heartbeat; otherwise rounds run only on ingress, due timers, and every 30 s for fresh certified time."
    )
    var roundInterval = 100

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "icws.replica")
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        logger.logLevel = level
        var configuration = ReplicaConfiguration(
            stateDirectory: stateDir, autoProgress: !manual,
            roundInterval: .milliseconds(max(1, roundInterval)))
        if let seed {
            guard let bytes = try? Hex.decode(seed), bytes.count == 32 else {
                throw ValidationError("--seed must be 64 hex digits (32 bytes)")
            }
            configuration.seed = bytes
        }
        let replica = try Replica(configuration: configuration, logger: logger)
        let serverLogger = logger
        let host = self.host
        let app = ReplicaServer.application(replica: replica, host: host, port: port, logger: logger) { port in
            serverLogger.info("icws replica listening on http://\(host):\(port)")
        }
        // Unbuffered, so the key shows at once even when stdout is a file or a pipe.
        let banner = """
            root key (DER, hex): \(Hex.encode(replica.rootKey.der))
            subnet: \(replica.subnetID)  node: \(replica.nodeID)
            mode: \(manual ? "manual (POST /_/tick, /_/time)" : "auto-progress: rounds on ingress, due timers and heartbeats (every \(roundInterval) ms), else every 30 s")  state: \(stateDir ?? "in memory")

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        var services: [any Service] = [app]
        if !manual { services.append(RoundService(replica: replica)) }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs the replica's rounds as a service of the group.
struct RoundService: Service {
    let replica: Replica

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await replica.runRounds()
        }
    }
}
