import AsyncHTTPClient
import CoreMetrics
import Hummingbird
import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle

/// The trustless IC WebSocket gateway: accepts client WebSockets, relays their signed envelopes
/// to the IC unchanged, and pushes each canister's certified messages back (protocol §6).
///
/// ```swift
/// let gateway = try Gateway(configuration: .init(port: 0, icNetworkURL: replicaURL, prometheusEndpoint: nil),
///                           identity: try GatewayIdentity.loadOrCreate(path: "./data/key_pair.pem").identity,
///                           logger: logger)
/// let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()   // elsewhere: let port = try await gateway.waitUntilListening()
/// ```
///
/// On graceful shutdown every WebSocket is closed with 1001, `ws_close` is called for every
/// registered session within ``GatewayConfiguration/shutdownGracePeriod``, and `run()` returns.
public final class Gateway: Service, Sendable {
    public let configuration: GatewayConfiguration
    private let identity: any Identity
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let prometheusAddress: (host: String, port: Int)?
    /// The registry behind the Prometheus endpoint (`nil` without one).
    public let metricsRegistry: PrometheusCollectorRegistry?
    /// Where the gateway's metrics go.
    public let metrics: GatewayMetrics
    /// The WebSocket listener's port, once bound.
    private let listening = PortAnnouncement()
    /// The metrics (and health) listener's port, once bound.
    private let metricsListening = PortAnnouncement()

    /// Validates the configuration and prepares TLS and metrics; nothing listens before `run()`.
    /// - Parameters:
    ///   - identity: the gateway's IC identity (see ``GatewayIdentity``); it signs polls and `ws_close`.
    ///   - metricsFactory: where metrics go; default: a Prometheus registry served on
    ///     ``GatewayConfiguration/prometheusEndpoint``, or the process-wide `MetricsSystem` without one.
    public init(
        configuration: GatewayConfiguration, identity: any Identity, logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        try Self.validate(configuration)
        self.configuration = configuration
        self.identity = identity
        self.logger = logger
        if let endpoint = configuration.prometheusEndpoint {
            prometheusAddress = try GatewayConfiguration.parseAddress(endpoint)
            let registry = PrometheusCollectorRegistry()
            metricsRegistry = registry
            metrics = GatewayMetrics(factory: metricsFactory ?? PrometheusMetricsFactory(registry: registry))
        } else {
            prometheusAddress = nil
            metricsRegistry = nil
            metrics = GatewayMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        }
        switch (configuration.tlsCertificatePEMPath, configuration.tlsCertificateKeyPEMPath) {
        case (let certificate?, let key?):
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                tls = try NIOSSLContext(
                    configuration: .makeServerConfiguration(
                        certificateChain: chain,
                        privateKey: .privateKey(privateKey)))
            } catch {
                throw GatewayError.tls("cannot load \(certificate) / \(key): \(error)")
            }
        case (nil, nil):
            tls = nil
        default:
            throw GatewayError.tls("TLS needs both a certificate chain and a key path")
        }
    }

    private static func validate(_ configuration: GatewayConfiguration) throws(GatewayError) {
        guard (0...65_535).contains(configuration.port) else { throw .configuration("port \(configuration.port) is out of range") }
        let positive: [(String, Int)] = [
            ("max frame size", configuration.maxFrameBytes), ("max message size", configuration.maxMessageBytes),
            ("max envelope size", configuration.maxEnvelopeBytes), ("max connections", configuration.maxConnections),
            ("max connections per IP", configuration.maxConnectionsPerIP),
            ("new connections per second", configuration.newConnectionsPerSecond),
            ("max pending outbound messages", configuration.maxPendingOutboundMessages),
            ("max pending calls", configuration.maxPendingCalls),
        ]
        for (name, value) in positive where value <= 0 { throw .configuration("\(name) must be positive, got \(value)") }
        guard configuration.pollRetryBudget >= 0 else { throw .configuration("poll retry budget must not be negative") }
        guard configuration.pollingInterval > .zero else { throw .configuration("polling interval must be positive") }
        guard configuration.tlsHandshakeTimeout > .zero else { throw .configuration("TLS handshake timeout must be positive") }
    }

    /// The gateway principal, sent to clients in the handshake (§2.3).
    public var principal: Principal { identity.principal }

    /// Waits until the WebSocket listener is bound and returns its port (useful with port 0).
    public func waitUntilListening() async throws -> Int { try await listening.wait() }

    /// Waits until the metrics listener (``GatewayConfiguration/prometheusEndpoint``), which also
    /// serves `GET /healthz` and `GET /readyz`, is bound and returns its port (useful with port 0).
    /// Throws ``GatewayError/notListening(_:)`` when the gateway has no metrics endpoint or it
    /// could not be bound.
    public func waitUntilMetricsListening() async throws -> Int {
        if prometheusAddress == nil { metricsListening.fail("no metrics endpoint is configured (prometheusEndpoint is nil)") }
        return try await metricsListening.wait()
    }

    /// Serves until cancelled or gracefully shut down.
    public func run() async throws {
        var httpConfiguration = HTTPClient.Configuration()
        // Every connection's calls and every canister's polls share this pool.
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        do {
            try await serve(httpClient: httpClient)
        } catch {
            listening.fail("\(error)")
            metricsListening.fail("\(error)")
            try? await httpClient.shutdown()
            throw error
        }
        listening.fail("the gateway stopped")
        metricsListening.fail("the gateway stopped")
        try await httpClient.shutdown()
    }

    private func serve(httpClient: HTTPClient) async throws {
        let runtime = GatewayRuntime(
            configuration: configuration, identity: identity, httpClient: httpClient,
            metrics: metrics, logger: logger)
        logger.info("gateway identity", metadata: ["gateway_principal": "\(principal)"])
        let listener = try await WebSocketListener.bind(
            .init(
                host: configuration.host, port: configuration.port, maxFrameBytes: configuration.maxFrameBytes,
                upgradeTimeout: configuration.handshakeTimeout, tls: tls,
                tlsHandshakeTimeout: configuration.tlsHandshakeTimeout),
            runtime: runtime)
        let port = listener.localAddress?.port ?? configuration.port
        logger.info(
            "gateway listening",
            metadata: [
                "address": "\(configuration.host):\(port)", "tls": "\(tls != nil)", "ic_network_url": "\(configuration.icNetworkURL)",
            ])
        listening.announce(port)
        // The metrics endpoint must not see our graceful shutdown directly (a detached task does
        // not inherit it): it keeps serving while sessions close, so that /readyz answers 503
        // "shutting down" during the drain instead of refusing connections, then stops with the
        // listener.
        let metricsServer = prometheusAddress.flatMap { address in
            metricsRegistry.map { registry in
                ServiceGroup(
                    services: [
                        Self.metricsApplication(
                            registry: registry, health: runtime.health, address: address, logger: logger,
                            announce: metricsListening)
                    ],
                    gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
            }
        }
        let metricsTask = metricsServer.map { group in
            Task.detached { [logger, metricsListening, endpoint = configuration.prometheusEndpoint ?? ""] in
                do { try await group.run() } catch {
                    // Metrics and health checks are how operators see the gateway: say so loudly.
                    logger.error(
                        "the metrics and health endpoint stopped", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                    metricsListening.fail("the metrics endpoint failed: \(error)")
                }
            }
        }
        var failure: (any Error)?
        do { try await serveSessions(listener: listener, runtime: runtime) } catch { failure = error }
        runtime.closeAllConnections()
        if let metricsServer, let metricsTask {
            await metricsServer.triggerGracefulShutdown()
            await metricsTask.value
        }
        if let failure { throw failure }
    }

    private func serveSessions(listener: any Channel, runtime: GatewayRuntime) async throws {
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do { try await gracefulShutdown() } catch { return }
                    // The drain, in this order (README, "Operating the gateway"):
                    // 1. /readyz fails at once, so that load balancers stop sending new connections;
                    runtime.health.beginDraining()
                    // 2. everything keeps working for the drain delay, while they notice (a probe
                    //    period or two): connections they still route here are served, not refused;
                    if self.configuration.readinessDrainDelay > .zero {
                        self.logger.info(
                            "readiness now fails; draining", metadata: ["delay": "\(self.configuration.readinessDrainDelay)"])
                        try? await Task.sleep(for: self.configuration.readinessDrainDelay)
                    }
                    // 3. sessions get 1001 and their ws_close (new connections are refused with 1001);
                    await runtime.shutdown()
                    // 4. the listener stops, then the metrics and health endpoint.
                    try? await listener.close()
                }
                group.addTask {
                    defer { runtime.pollerStarts.continuation.finish() }
                    try await listener.closeFuture.get()
                }
                for await poller in runtime.pollerStarts.stream {
                    group.addTask { await poller.run(in: runtime.state) }
                }
                group.cancelAll()
            }
        } onCancel: {
            listener.close(promise: nil)
            runtime.closeAllConnections()
        }
    }

    private static func metricsApplication(
        registry: PrometheusCollectorRegistry, health: GatewayHealth, address: (host: String, port: Int),
        logger: Logger, announce: PortAnnouncement
    ) -> some ApplicationProtocol {
        let router = Router()
        // Liveness: the process is up and its event loops answer. Nothing else, so that an
        // orchestrator never restarts a gateway for what a restart cannot fix (an IC outage).
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        // Readiness: whether new connections should come here (GatewayHealth).
        router.get("/readyz") { _, _ in
            let readiness = await health.readiness()
            let (status, text): (HTTPResponse.Status, String) =
                switch readiness {
                case .ready: (.ok, "ready")
                case .notReady(let reason): (.serviceUnavailable, "not ready: \(reason)")
                }
            return Response(
                status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in announce.announce(channel.localAddress?.port ?? address.port) },
            logger: logger)
    }
}

/// A port that becomes known once a listener is bound, or the reason it never will be; waiters
/// are answered either way.
final class PortAnnouncement: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Int, any Error>])
        case listening(Int)
        case stopped(String)
    }
    private let state = NIOLockedValueBox(State.waiting([]))

    /// Waits for the port (at once if known); throws ``GatewayError/notListening(_:)`` if it never comes.
    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Int, any Error>? = state.withLockedValue { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .listening(let port): return .success(port)
                case .stopped(let why): return .failure(GatewayError.notListening(why))
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// The listener is bound on `port`.
    func announce(_ port: Int) {
        let waiters: [CheckedContinuation<Int, any Error>] = state.withLockedValue { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .listening(port)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The listener is gone (or never came): later waiters get `why`.
    func fail(_ why: String) {
        let waiters: [CheckedContinuation<Int, any Error>] = state.withLockedValue { state in
            defer { state = .stopped(why) }
            guard case .waiting(let waiters) = state else { return [] }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: GatewayError.notListening(why)) }
    }
}
