import AsyncHTTPClient
import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// Everything one `Gateway.run()` owns: the registry, the agents, admission control, the live
/// sessions and the queue of pollers to start.
final class GatewayRuntime: Sendable {
    let configuration: GatewayConfiguration
    let metrics: GatewayMetrics
    let limiter: ConnectionLimiter
    let pollerStarts = AsyncStream<CanisterPoller>.makeStream()
    /// The registry of canisters, their sessions and pollers.
    let state: GatewayState
    /// Readiness for `GET /readyz` (asks the IC as the gateway; fails once draining).
    let health: GatewayHealth
    private let logger: Logger
    private let identity: any Identity
    /// Polls and `ws_close` as the gateway.
    private let gatewayAgent: HTTPAgent
    /// Submits client envelopes; short-lived request timeout for polls lives in `pollAgent`.
    private let callAgent: HTTPAgent
    private let pollAgent: HTTPAgent
    private let certificates: PollCertificateChecker?
    private let liveSessions = NIOLockedValueBox<(nextID: UInt64, sessions: [UInt64: ClientSession], shuttingDown: Bool)>(
        (0, [:], false))
    /// Shared by every session (one object, not a copy per connection).
    private let services: SessionServices

    init(configuration: GatewayConfiguration, identity: any Identity, httpClient: HTTPClient, metrics: GatewayMetrics, logger: Logger) {
        self.configuration = configuration
        self.identity = identity
        self.metrics = metrics
        self.logger = logger
        limiter = ConnectionLimiter(
            maxConnections: configuration.maxConnections,
            maxConnectionsPerIP: configuration.maxConnectionsPerIP,
            connectionsPerSecond: configuration.newConnectionsPerSecond)
        gatewayAgent = HTTPAgent(
            configuration: .init(
                url: configuration.icNetworkURL, rootKey: configuration.rootKey,
                clock: configuration.icClock),
            identity: identity, httpClient: httpClient)
        callAgent = gatewayAgent
        health = GatewayHealth(agent: gatewayAgent, icNetworkURL: configuration.icNetworkURL)
        pollAgent = HTTPAgent(
            configuration: .init(
                url: configuration.icNetworkURL, rootKey: configuration.rootKey,
                requestTimeout: configuration.pollTimeout, clock: configuration.icClock),
            identity: identity, httpClient: httpClient)
        certificates = configuration.verifiesPollCertificates ? PollCertificateChecker(agent: pollAgent) : nil
        let pollAgent = self.pollAgent
        let certificates = self.certificates
        let state = GatewayState(metrics: metrics) { canister in
            CanisterPoller(
                canister: canister, agent: pollAgent, configuration: configuration, metrics: metrics,
                certificates: certificates, logger: logger)
        }
        self.state = state
        let gatewayAgent = self.gatewayAgent
        let liveSessions = self.liveSessions
        services = SessionServices(
            configuration: configuration, gatewayPrincipal: identity.principal, state: state, callAgent: callAgent,
            metrics: metrics,
            startPoller: { [pollerStarts] poller in pollerStarts.continuation.yield(poller) },
            closeOnCanister: { target in
                let shuttingDown = liveSessions.withLockedValue { $0.shuttingDown }
                await Self.callWsClose(
                    target, agent: gatewayAgent, configuration: configuration, shuttingDown: shuttingDown,
                    logger: logger)
            },
            sessionFinished: { session in _ = liveSessions.withLockedValue { $0.sessions.removeValue(forKey: session.id) } })
    }

    /// Admission control at the WebSocket upgrade, then the session's handler. A refused
    /// connection still gets a WebSocket, closed at once with 1013 (1001 while shutting down) and
    /// the reason, so the client learns why; an HTTP refusal would only show as a failed upgrade.
    /// Runs on the channel's event loop.
    func attach(_ channel: any Channel) throws {
        let ip = channel.remoteAddress?.ipAddress ?? "unknown"
        if let rejection = limiter.admit(ip) {
            metrics.connectionRejected(reason: rejection.rawValue)
            let reason = limiter.reason(for: rejection)
            logger.warning("connection refused", metadata: ["reason": "\(reason)", "remote_ip": "\(ip)"])
            let code = rejection == .shuttingDown ? GatewayCloseCode.goingAway : .tryAgainLater
            try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler(code: code, reason: reason))
            return
        }
        let limiter = self.limiter
        channel.closeFuture.whenComplete { _ in limiter.release(ip) }
        let (session, shuttingDown): (ClientSession, Bool) = liveSessions.withLockedValue { live in
            let id = live.nextID
            live.nextID += 1
            var sessionLogger = logger
            sessionLogger[metadataKey: "remote_ip"] = "\(ip)"
            let session = ClientSession(id: id, channel: channel, services: services, logger: sessionLogger)
            live.sessions[id] = session
            return (session, live.shuttingDown)
        }
        try channel.pipeline.syncOperations.addHandler(
            ClientConnectionHandler(
                session: session, maxMessageBytes: configuration.maxMessageBytes,
                maxFrameBytes: configuration.maxFrameBytes,
                pingInterval: configuration.pingInterval))
        if shuttingDown { session.shutdown() }
    }

    /// `ws_close(client_key)` as the gateway (§6.6); errors are logged, never retried.
    private static func callWsClose(
        _ target: SessionStateMachine.SessionTarget, agent: HTTPAgent,
        configuration: GatewayConfiguration, shuttingDown: Bool, logger: Logger
    ) async {
        let deadline =
            shuttingDown ? min(configuration.closeCallTimeout, configuration.shutdownGracePeriod) : configuration.closeCallTimeout
        let metadata: Logger.Metadata = ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"]
        do {
            let result = try await withDeadline(deadline) {
                try await agent.call(
                    target.canister, "ws_close", CanisterWsCloseArguments(clientKey: target.clientKey),
                    returning: CanisterWsCloseResult.self)
            }
            switch result {
            case .ok: logger.debug("ws_close done", metadata: metadata)
            case .err(let text):
                // Usually the canister already removed the client (it closed the connection itself).
                logger.info("ws_close refused by the canister", metadata: metadata.merging(["error": "\(text)"]) { $1 })
            }
        } catch {
            logger.warning("ws_close failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Closes every remaining connection at once (after the grace period, or on cancellation).
    func closeAllConnections() {
        let sessions = liveSessions.withLockedValue { Array($0.sessions.values) }
        for session in sessions { session.abort() }
    }

    /// Closes every session with 1001 and waits (bounded) for their `ws_close` calls.
    func shutdown() async {
        limiter.beginShutdown()
        let sessions: [ClientSession] = liveSessions.withLockedValue { live in
            live.shuttingDown = true
            return Array(live.sessions.values)
        }
        logger.info("shutting down", metadata: ["sessions": "\(sessions.count)"])
        for session in sessions { session.shutdown() }
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.shutdownGracePeriod
        while clock.now < deadline, liveSessions.withLockedValue({ !$0.sessions.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let left = liveSessions.withLockedValue { $0.sessions.count }
        if left > 0 { logger.warning("grace period over with sessions still closing", metadata: ["sessions": "\(left)"]) }
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}

/// Runs `operation`, cancelling it after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw DeadlineExceeded(limit: limit) }
        return result
    }
}
