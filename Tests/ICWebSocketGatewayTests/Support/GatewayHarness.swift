import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import Logging
import MetricsTestKit
import ServiceLifecycle

/// A gateway running in-process on a loopback ephemeral port for the duration of a test body.
struct RunningGateway: Sendable {
    let gateway: Gateway
    let port: Int
    let metrics: TestMetrics
    var url: String { "ws://127.0.0.1:\(port)/" }
    var principal: Principal { gateway.principal }
}

/// Test defaults: loopback, port 0, no Prometheus listener, quick polls.
func testConfiguration(icURL: String, rootKey: RootKeyPolicy = .fetchFromReplica) -> GatewayConfiguration {
    GatewayConfiguration(
        host: "127.0.0.1", port: 0, icNetworkURL: icURL, rootKey: rootKey,
        pollingInterval: .milliseconds(20), maxIdlePollingInterval: .milliseconds(100),
        pollRetryWindow: .zero, prometheusEndpoint: nil)
}

/// Runs a gateway while `body` runs, then shuts it down gracefully (as SIGTERM would).
@discardableResult
func withGateway<T: Sendable>(
    _ configuration: GatewayConfiguration, identity: any Identity = Ed25519Identity(),
    _ body: @Sendable (RunningGateway) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test-gateway")
    logger.logLevel = ProcessInfo.processInfo.environment["ICWS_TEST_GATEWAY_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    let metrics = TestMetrics()
    let gateway = try Gateway(configuration: configuration, identity: identity, logger: logger, metricsFactory: metrics)
    let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = try await gateway.waitUntilListening()
        let result: T
        do {
            result = try await body(RunningGateway(gateway: gateway, port: port, metrics: metrics))
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}
