import ArgumentParser
import CanisterToolchain
import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketGateway
import Logging
import ServiceLifecycle

/// `icws dev`: a local replica, a WebSocket canister and a gateway in one process.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a local replica, deploy a WebSocket canister and start a gateway: the whole stack in one command.",
        discussion: """
            Builds the canister on first use (Embedded Swift → Wasm; about a minute, cached after), starts the \
            replica (auto-progress), installs the canister, starts the gateway, and prints the `icws connect` \
            command to talk to it. Logs are prefixed [replica], [gateway] and [canister]. Ctrl-C stops everything \
            (open WebSockets are closed with 1001 and their sessions closed on the canister).
            With --state-dir the replica's state, the gateway key and the canister id survive restarts (the \
            canister is upgraded when its module changed); without it everything starts fresh.
            Every gateway flag of `icws gateway` for polling, limits and timeouts is accepted here too (and read \
            from the same ICWS_* environment variables), e.g. --max-pending-calls 128 --ping-interval 0.
            """
    )

    @Option(help: "Canister to run: chat, ping-pong, test, or a path to a .wasm module.")
    var canister = "chat"

    @Option(help: "Candid init argument for a .wasm module, as hex (default: none).")
    var argHex: String?

    @Option(help: "Address the replica and the gateway listen on.")
    var host = "127.0.0.1"

    @Option(help: "Replica port (IC HTTP interface).")
    var replicaPort = 4943

    @Option(help: "Gateway port (WebSockets).")
    var gatewayPort = 8080

    @Option(help: "Port of the browser chat page (the Wasm client, built from Web/); 0 serves none.")
    var webPort = 8081

    @Option(help: "Prometheus metrics endpoint of the gateway (host:port), or 'none'.")
    var prometheusEndpoint = "none"

    @Option(help: "Directory keeping the replica state, the gateway key and the canister id between runs.")
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @OptionGroup(title: "Gateway polling, limits and timeouts (as for `icws gateway`)")
    var gatewayTuning: GatewayTuningOptions

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { label in PrefixedLogHandler(label: label, level: level) }
        let choice = try CanisterChoice(canister, argHex: argHex)
        let module = try loadModule(choice)
        let store = try stateDir.map { try DevStateDirectory(path: $0) }

        var replicaConfiguration = ReplicaConfiguration(
            stateDirectory: store?.replicaDirectory, autoProgress: true,
            roundInterval: .milliseconds(50))
        replicaConfiguration.syncCallTimeout = .seconds(10)
        let replica = try Replica(configuration: replicaConfiguration, logger: Logger(label: "replica"))
        let replicaListening = AsyncStream<Int>.makeStream()
        let server = ReplicaServer.application(replica: replica, host: host, port: replicaPort, logger: Logger(label: "replica")) {
            replicaListening.continuation.yield($0)
            replicaListening.continuation.finish()
        }

        let gatewayIdentity: any Identity
        if let store {
            gatewayIdentity = try GatewayIdentity.loadOrCreate(path: store.gatewayKeyPath).identity
        } else {
            gatewayIdentity = Ed25519Identity()
        }
        let replicaURL = "http://\(host):\(replicaPort)"
        var gatewayConfiguration = GatewayConfiguration(
            host: host, port: gatewayPort, icNetworkURL: replicaURL,
            rootKey: .explicit(replica.rootKey))
        try gatewayTuning.apply(to: &gatewayConfiguration)
        gatewayConfiguration.prometheusEndpoint = prometheusEndpoint == "none" ? nil : prometheusEndpoint
        let gateway = try Gateway(configuration: gatewayConfiguration, identity: gatewayIdentity, logger: Logger(label: "gateway"))

        let setup = DevSetupService(
            replica: replica, replicaURL: replicaURL, replicaListening: replicaListening.stream,
            gateway: gateway, host: host, choice: choice, module: module, store: store,
            webAssets: webPort == 0 ? nil : buildWebClient(), webPort: webPort)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: server), .init(service: RoundService(replica: replica)), .init(service: gateway),
                .init(service: setup, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "dev"))
        // Ctrl-C must always stop the stack: a graceful shutdown that takes longer (seen once
        // with a reused state directory, cause not found yet) turns into cancellation.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }

    private func loadModule(_ choice: CanisterChoice) throws -> [UInt8] {
        switch choice {
        case .wasm(let path, _):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the Wasm module at \(path)")
            }
            return [UInt8](data)
        case .built(let product, _):
            guard let builder = CanisterBuilder.locate() ?? CanisterBuilder.locate(from: Self.executableDirectory) else {
                throw ValidationError(
                    """
                    cannot find the icws repository (Canisters/Package.swift) from the current directory; \
                    run `icws dev` inside the checkout, or pass --canister path/to/module.wasm
                    """)
            }
            if builder.isStale(product) {
                say("[dev] building \(product) (Embedded Swift → wasm32; about a minute the first time)…")
            }
            do {
                return try builder.module(product) { line in
                    if line.contains("error") { say("[dev] \(line)") }
                }
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// Builds the browser client when stale; `nil` (with a warning) when it cannot be built,
    /// so that the rest of the stack still starts.
    private func buildWebClient() -> URL? {
        guard let canisters = CanisterBuilder.locate() ?? CanisterBuilder.locate(from: Self.executableDirectory) else {
            say("[dev] warning: no icws checkout found from here, so no browser client is served (pass --web-port 0 to silence)")
            return nil
        }
        let builder = WebClientBuilder(canisters)
        if builder.isStale {
            say("[dev] building the browser client (Embedded Swift → wasm32; about two minutes the first time)…")
        }
        do {
            try builder.build { line in
                if line.contains("error") { say("[dev] \(line)") }
            }
            return builder.assetsDirectory
        } catch {
            say("[dev] warning: the browser client did not build, so no chat page is served: \(error)")
            return nil
        }
    }

    private static var executableDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
}

/// Which canister `icws dev` runs and its init argument.
enum CanisterChoice {
    case built(product: String, initArgument: [UInt8])
    case wasm(path: String, initArgument: [UInt8])

    init(_ text: String, argHex: String?) throws {
        let argument: [UInt8]
        if let argHex {
            guard let bytes = try? Hex.decode(argHex) else { throw ValidationError("--arg-hex must be hex") }
            argument = bytes
        } else {
            argument = Candid.encode()
        }
        switch text {
        case "chat": self = .built(product: "ChatCanister", initArgument: argument)
        case "ping-pong", "pingpong": self = .built(product: "PingPongCanister", initArgument: argument)
        case "test":
            // The reference test canister's init: (max_number_of_returned_messages, send_ack_interval_ms).
            let defaults = (try? Candid.encode(UInt64(50), UInt64(300_000))) ?? Candid.encode()
            self = .built(product: "TestCanister", initArgument: argHex == nil ? defaults : argument)
        default:
            guard text.hasSuffix(".wasm") || text.hasSuffix(".wasm.gz") else {
                throw ValidationError("--canister must be chat, ping-pong, test or a path to a .wasm module, not '\(text)'")
            }
            self = .wasm(path: text, initArgument: argument)
        }
    }

    var name: String {
        switch self {
        case .built(let product, _): return product
        case .wasm(let path, _): return URL(fileURLWithPath: path).lastPathComponent
        }
    }

    var initArgument: [UInt8] {
        switch self {
        case .built(_, let argument), .wasm(_, let argument): return argument
        }
    }

}

/// Where `icws dev --state-dir` keeps what survives a restart.
struct DevStateDirectory {
    let root: URL

    init(path: String) throws {
        root = URL(fileURLWithPath: path, isDirectory: true)
        do { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            throw ValidationError("cannot create the state directory \(path): \(error)")
        }
    }

    var replicaDirectory: String { root.appendingPathComponent("replica").path }
    var gatewayKeyPath: String { root.appendingPathComponent("gateway_key.pem").path }
    var controllerKeyPath: String { root.appendingPathComponent("controller.pem").path }

    func canisterID(for name: String) -> Principal? {
        guard let data = FileManager.default.contents(atPath: canisterIDPath(name).path) else { return nil }
        return try? Principal(text: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func save(canisterID: Principal, for name: String) {
        try? Data("\(canisterID)\n".utf8).write(to: canisterIDPath(name), options: .atomic)
    }

    private func canisterIDPath(_ name: String) -> URL { root.appendingPathComponent("canister-\(name).id") }
}

/// Deploys the canister once the replica listens, prints how to connect, then follows the
/// canister's log until shutdown.
struct DevSetupService: Service {
    let replica: Replica
    let replicaURL: String
    let replicaListening: AsyncStream<Int>
    let gateway: Gateway
    let host: String
    let choice: CanisterChoice
    let module: [UInt8]
    let store: DevStateDirectory?
    /// The built browser client, if it is to be served, and on which port.
    let webAssets: URL?
    let webPort: Int

    func run() async throws {
        let logger = Logger(label: "dev")
        var iterator = replicaListening.makeAsyncIterator()
        guard await iterator.next() != nil else { return }
        let controller: any Identity
        if let store {
            controller = try GatewayIdentity.loadOrCreate(path: store.controllerKeyPath).identity
        } else {
            controller = Ed25519Identity()
        }
        let agent = HTTPAgent(configuration: .init(url: replicaURL, rootKey: .explicit(replica.rootKey)), identity: controller)
        let management = ManagementCanister(agent: agent)
        let canisterID: Principal
        if let known = store?.canisterID(for: choice.name), replica.canisterIDs.contains(known) {
            canisterID = known
            if replica.moduleHash(of: known) != SHA256.hash(module) {
                logger.info("upgrading \(choice.name) (\(known)): its module changed")
                try await management.installCode(canister: known, module: module, arg: choice.initArgument, mode: .upgrade)
            } else {
                logger.info("reusing \(choice.name) (\(known)) from the state directory")
            }
        } else {
            canisterID = try await management.deploy(
                module: module, arg: choice.initArgument,
                effectiveCanisterID: replica.canisterRange.lowerBound)
            store?.save(canisterID: canisterID, for: choice.name)
        }
        let gatewayPort = try await gateway.waitUntilListening()
        let webListening = AsyncStream<Int>.makeStream()
        var webServer: (any Service)?
        if let webAssets {
            let page = WebClientServer.PageConfiguration(
                gatewayUrl: "ws://\(host):\(gatewayPort)", canisterId: canisterID.description,
                rootKey: Hex.encode(replica.rootKey.der), ackTimeoutMs: 330_000)
            // A child of this service's task: it stops on the group's graceful shutdown.
            webServer = try WebClientServer.application(
                assets: webAssets, configuration: page, host: host, port: webPort, logger: Logger(label: "web"),
                onServerRunning: { webListening.continuation.yield($0) })
        } else {
            webListening.continuation.finish()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let webServer { group.addTask { try await webServer.run() } }
            var listening = webListening.stream.makeAsyncIterator()
            let servedPort = webServer == nil ? nil : await listening.next()
            printBanner(canisterID: canisterID, gatewayPort: gatewayPort, webPort: servedPort)
            group.addTask { await followCanisterLog(canisterID) }
            try await group.waitForAll()
        }
    }

    private func printBanner(canisterID: Principal, gatewayPort: Int, webPort: Int?) {
        let browser = webPort.map { "  browser   http://\(host):\($0)/   (the chat page: open it in two tabs)\n" } ?? ""
        let banner = """

            ── icws dev is running ─────────────────────────────────────────────
              replica   \(replicaURL)   (root key below)
              canister  \(canisterID)   (\(choice.name))
              gateway   ws://\(host):\(gatewayPort)   principal \(gateway.principal)
            \(browser)  root key  \(Hex.encode(replica.rootKey.der))

              Connect (in another terminal):
                \(Self.connectExecutable) connect ws://\(host):\(gatewayPort) --canister \(canisterID) \\
                  --ic-url \(replicaURL) --root-key \(Hex.encode(replica.rootKey.der))

              Ctrl-C stops everything.
            ────────────────────────────────────────────────────────────────────

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
    }

    private func followCanisterLog(_ canisterID: Principal) async {
        await cancelWhenGracefulShutdown {
            var cursor = 0
            while !Task.isCancelled {
                let (lines, next) = replica.log(of: canisterID, after: cursor)
                cursor = next
                for line in lines { say("[canister] \(line)") }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

extension DevSetupService {
    /// How to run this same `icws` binary: its absolute path, so that the printed command works
    /// from any directory and starts at once (`swift run` would check the build first, and
    /// without `-c release` build a second, debug copy).
    static var connectExecutable: String {
        let path =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        return path.contains(" ") ? "'\(path)'" : path
    }
}

/// One line per log record, prefixed with its source: `[gateway] info: message key=value`.
struct PrefixedLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let details = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let source = label.hasPrefix("icws.") ? String(label.dropFirst(5)) : label
        FileHandle.standardOutput.write(Data("[\(source)] \(event.level): \(event.message)\(details)\n".utf8))
    }
}

/// Writes a line to stdout unbuffered, so it shows at once even when stdout is a pipe or a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
