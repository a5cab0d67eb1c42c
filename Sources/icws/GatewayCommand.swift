import ArgumentParser
import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import Logging
import ServiceLifecycle

/// `icws gateway`: the IC WebSocket gateway, with the reference gateway's flags and defaults.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the IC WebSocket gateway (drop-in for the reference ic-websocket-gateway).",
        discussion: """
            Clients open WebSockets to --gateway-address; the gateway relays their signed envelopes to the IC \
            unchanged and pushes each canister's certified messages back. Every option can also be set with the \
            environment variable named in its help; a command-line flag wins over the variable.
            The metrics endpoint also serves GET /healthz (200 while the process is up) and GET /readyz (200 when \
            the IC is reachable, the root key known and the gateway not shutting down; 503 with the reason otherwise).
            SIGTERM/SIGINT first make /readyz answer 503, keep serving for --readiness-drain-delay, then close every \
            WebSocket with 1001, call ws_close for open sessions within the grace period, and exit 0.
            Close codes sent by the gateway: 1001 shutdown, 1003 text frame, 1007 frame is not a CBOR client \
            request, 1008 protocol rule broken (not a call, bad ws_open, timeout, client too slow), 1009 frame, \
            message or envelope too big, 1011 canister failed (poller stopped), 1013 IC unreachable after \
            retries, or connection limit reached.
            """
    )

    private static func env(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
    private static func env(_ name: String, _ fallback: Int) -> Int { env(name).flatMap(Int.init) ?? fallback }

    // Reference flags.
    @Option(help: "Listen address host:port [ICWS_GATEWAY_ADDRESS].")
    var gatewayAddress = env("ICWS_GATEWAY_ADDRESS") ?? "0.0.0.0:8080"
    @Option(help: "IC HTTP endpoint [ICWS_IC_NETWORK_URL].")
    var icNetworkUrl = env("ICWS_IC_NETWORK_URL") ?? "http://127.0.0.1:4943"
    @Option(help: "Prometheus listener host:port, also serving /healthz and /readyz; or 'none' [ICWS_PROMETHEUS_ENDPOINT].")
    var prometheusEndpoint = env("ICWS_PROMETHEUS_ENDPOINT") ?? "0.0.0.0:9000"
    @Option(help: "TLS certificate chain (PEM); TLS is on when both TLS paths are set [ICWS_TLS_CERTIFICATE_PEM_PATH].")
    var tlsCertificatePemPath: String?
    @Option(help: "TLS private key (PKCS#8 PEM) [ICWS_TLS_CERTIFICATE_KEY_PEM_PATH].")
    var tlsCertificateKeyPemPath: String?
    @Option(help: "Seconds a TLS handshake may take before the connection is cut [ICWS_TLS_HANDSHAKE_TIMEOUT].")
    var tlsHandshakeTimeout = env("ICWS_TLS_HANDSHAKE_TIMEOUT", 10)

    // Ours.
    @Option(help: "Gateway identity: Ed25519 PEM, generated and saved on first start [ICWS_IDENTITY_PEM_PATH].")
    var identityPemPath = env("ICWS_IDENTITY_PEM_PATH") ?? "./data/key_pair.pem"
    @Option(
        help: """
            Root key: 'auto' (mainnet key for https://icp0.io and https://icp-api.io, else fetched from /api/v2/status), \
            'mainnet', 'fetch', or the key as DER hex [ICWS_ROOT_KEY].
            """)
    var rootKey = env("ICWS_ROOT_KEY") ?? "auto"
    @OptionGroup(title: "Polling, limits and timeouts")
    var tuning: GatewayTuningOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical [ICWS_LOG_LEVEL].")
    var logLevel = env("ICWS_LOG_LEVEL") ?? "info"
    @Option(help: "Log format: text or json [ICWS_LOG_FORMAT].")
    var logFormat = env("ICWS_LOG_FORMAT") ?? "text"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        switch logFormat {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        default: throw ValidationError("unknown log format '\(logFormat)'; use text or json")
        }
        let logger = Logger(label: "icws.gateway")
        let address = try GatewayConfiguration.parseAddress(gatewayAddress)
        let rootKeyPolicy: RootKeyPolicy
        switch rootKey {
        case "auto": rootKeyPolicy = .default(for: icNetworkUrl)
        case "mainnet": rootKeyPolicy = .mainnet
        case "fetch": rootKeyPolicy = .fetchFromReplica
        default:
            guard let der = try? Hex.decode(rootKey), let key = try? RootKey(der: der) else {
                throw ValidationError("--root-key must be auto, mainnet, fetch or a DER root key in hex")
            }
            rootKeyPolicy = .explicit(key)
        }
        if rootKeyPolicy == .fetchFromReplica {
            logger.warning("trusting the root key served by \(icNetworkUrl); use this only with a local replica")
        }
        var configuration = GatewayConfiguration(
            host: address.host, port: address.port, icNetworkURL: icNetworkUrl, rootKey: rootKeyPolicy,
            identityPEMPath: identityPemPath,
            tlsCertificatePEMPath: tlsCertificatePemPath ?? Self.env("ICWS_TLS_CERTIFICATE_PEM_PATH"),
            tlsCertificateKeyPEMPath: tlsCertificateKeyPemPath ?? Self.env("ICWS_TLS_CERTIFICATE_KEY_PEM_PATH"),
            prometheusEndpoint: prometheusEndpoint == "none" ? nil : prometheusEndpoint)
        try tuning.apply(to: &configuration)
        configuration.tlsHandshakeTimeout = .seconds(tlsHandshakeTimeout)
        let (identity, created) = try GatewayIdentity.loadOrCreate(path: identityPemPath)
        logger.info(
            created ? "generated a new gateway identity" : "loaded the gateway identity",
            metadata: ["path": "\(identityPemPath)", "gateway_principal": "\(identity.principal)"])
        let gateway = try Gateway(configuration: configuration, identity: identity, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: gateway)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
