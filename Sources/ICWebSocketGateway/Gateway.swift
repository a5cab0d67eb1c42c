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
    private let listening = NIOLockedValueBox(ListeningState.waiting([]))

    private enum ListeningState {
        case waiting([CheckedContinuation<Int, any Error>])
        case listening(Int)
        case stopped(String)
    }

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
    public func waitUntilListening() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Int, any Error>? = listening.withLockedValue { state in
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

    private enum ListeningOutcome {
        case success(Int)
        case failure(String)
    }

    private func setListening(_ outcome: ListeningOutcome) {
        let waiters: [CheckedContinuation<Int, any Error>] = listening.withLockedValue { state in
            guard case .waiting(let waiters) = state else {
                if case .failure(let why) = outcome { state = .stopped(why) }
                return []
            }
            switch outcome {
            case .success(let port): state = .listening(port)
            case .failure(let why): state = .stopped(why)
            }
            return waiters
        }
        for waiter in waiters {
            switch outcome {
            case .success(let port): waiter.resume(returning: port)
            case .failure(let why): waiter.resume(throwing: GatewayError.notListening(why))
            }
        }
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
            setListening(.failure("\(error)"))
            try? await httpClient.shutdown()
            throw error
        }
        setListening(.failure("the gateway stopped"))
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
        setListening(.success(port))
        // The metrics endpoint must not see our graceful shutdown directly (a detached task does
        // not inherit it): it keeps serving while sessions close, then stops with the listener.
        let metricsServer = prometheusAddress.flatMap { address in
            metricsRegistry.map { registry in
                ServiceGroup(
                    services: [Self.metricsApplication(registry: registry, address: address, logger: logger)],
                    gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
            }
        }
        let metricsTask = metricsServer.map { group in Task.detached { try await group.run() } }
        var failure: (any Error)?
        do { try await serveSessions(listener: listener, runtime: runtime) } catch { failure = error }
        runtime.closeAllConnections()
        if let metricsServer, let metricsTask {
            await metricsServer.triggerGracefulShutdown()
            _ = try? await metricsTask.value
        }
        if let failure { throw failure }
    }

    private func serveSessions(listener: any Channel, runtime: GatewayRuntime) async throws {
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do { try await gracefulShutdown() } catch { return }
                    // Sessions get 1001 and their ws_close first, then the listener stops.
                    await runtime.shutdown()
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
        registry: PrometheusCollectorRegistry, address: (host: String, port: Int),
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            logger: logger)
    }
}
