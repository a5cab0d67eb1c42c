import AsyncHTTPClient
import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import Testing

/// `GET /healthz` and `GET /readyz` on the metrics port, asked over real HTTP of a real gateway in
/// front of a real replica, and the order of the drain on graceful shutdown.
@Suite(.serialized) struct HealthTests {
    struct HTTPAnswer: Sendable {
        var status: Int
        var body: String
    }

    /// One plain GET; `nil` when nothing answers (connection refused).
    static func get(_ url: String) async -> HTTPAnswer? {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(30)),
            let body = try? await response.body.collect(upTo: 1 << 20)
        else { return nil }
        return HTTPAnswer(status: Int(response.status.code), body: String(buffer: body))
    }

    /// Asks `url` until `predicate` holds (readiness is cached for up to a second), or fails.
    static func eventually(
        _ url: String, within timeout: Duration = .seconds(15), _ what: String,
        _ predicate: (HTTPAnswer?) -> Bool
    ) async -> HTTPAnswer? {
        let deadline = ContinuousClock.now + timeout
        var last: HTTPAnswer?
        while ContinuousClock.now < deadline {
            last = await get(url)
            if predicate(last) { return last }
            try? await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(url) never answered \(what); last answer: \(last.map { "\($0.status) \($0.body)" } ?? "none")")
        return last
    }

    /// A gateway with its metrics (and health) endpoint on an ephemeral loopback port; the
    /// caller controls shutdown through the group.
    static func withHealthGateway(
        _ configuration: GatewayConfiguration,
        _ body: @Sendable (_ gateway: RunningGateway, _ metricsURL: String, _ group: ServiceGroup) async throws -> Void
    ) async throws {
        var configuration = configuration
        configuration.prometheusEndpoint = "127.0.0.1:0"
        var logger = Logger(label: "test-gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["ICWS_TEST_GATEWAY_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let gateway = try Gateway(configuration: configuration, identity: Ed25519Identity(), logger: logger)
        let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await gateway.waitUntilListening()
            let metricsPort = try await gateway.waitUntilMetricsListening()
            do {
                try await body(
                    RunningGateway(gateway: gateway, port: port, metrics: TestMetrics()), "http://127.0.0.1:\(metricsPort)", group)
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("healthz is 200; readyz is 200 once the IC answered and the root key was fetched; metrics still served")
    func readyAgainstARealReplica() async throws {
        try await LocalReplica.run { local in
            // fetchFromReplica: readiness must fetch the root key itself before saying "ready".
            let configuration = testConfiguration(icURL: local.url, rootKey: .fetchFromReplica)
            try await Self.withHealthGateway(configuration) { _, metrics, _ in
                let health = await Self.get("\(metrics)/healthz")
                #expect(health?.status == 200)
                #expect(health?.body == "ok\n")
                // Eventually: on a machine loaded by parallel suites the first status request may
                // miss the 2 s check deadline (and is then reported as unreachable, which is right).
                let ready = await Self.eventually("\(metrics)/readyz", within: .seconds(30), "200") { $0?.status == 200 }
                #expect(ready?.body == "ready\n")
                #expect(await Self.get("\(metrics)/metrics")?.status == 200)
                #expect(await Self.get("\(metrics)/nothing-here")?.status == 404)
            }
        }
    }

    @Test("readyz is 503 with the reason while the IC is down, healthz stays 200, and readyz recovers with the IC")
    func readinessFollowsTheIC() async throws {
        try await LocalReplica.run { local in
            let proxy = FaultInjectingReplicaProxy(upstream: local.url)
            proxy.inject(.unavailable)
            try await proxy.run { proxyURL in
                let configuration = testConfiguration(icURL: proxyURL, rootKey: .fetchFromReplica)
                try await Self.withHealthGateway(configuration) { _, metrics, _ in
                    let down = await Self.get("\(metrics)/readyz")
                    #expect(down?.status == 503)
                    #expect(down?.body.hasPrefix("not ready: the IC at \(proxyURL) is unreachable") == true, "\(down?.body ?? "")")
                    #expect(await Self.get("\(metrics)/healthz")?.status == 200, "liveness must not depend on the IC")
                    proxy.inject(.none)
                    // Generous: under a full parallel suite the debug replica may miss the 2 s probe deadline a while.
                    let up = await Self.eventually("\(metrics)/readyz", within: .seconds(90), "200 after the IC came back") {
                        $0?.status == 200
                    }
                    #expect(up?.body == "ready\n")
                    proxy.inject(.unavailable)
                    _ = await Self.eventually("\(metrics)/readyz", within: .seconds(60), "503 after the IC went down again") {
                        $0?.status == 503
                    }
                }
            }
        }
    }

    @Test("readyz says why when nothing listens at the IC URL")
    func readinessWithoutAnIC() async throws {
        // A port that was just free: nothing answers there.
        let port = try await LoopbackPorts.unused(1)[0]
        let configuration = testConfiguration(icURL: "http://127.0.0.1:\(port)", rootKey: .fetchFromReplica)
        try await Self.withHealthGateway(configuration) { _, metrics, _ in
            let answer = await Self.eventually("\(metrics)/readyz", within: .seconds(60), "503") { $0?.status == 503 }
            #expect(answer?.status == 503)
            #expect(answer?.body.contains("is unreachable") == true, "\(answer?.body ?? "")")
            #expect(await Self.get("\(metrics)/healthz")?.status == 200)
        }
    }

    /// The drain's order: readiness fails first, while the WebSocket listener still accepts and
    /// serves and open sessions stay open; only after the drain delay are sessions closed (1001);
    /// the health endpoint answers 503 (not "connection refused") until the listener is gone.
    @Test("on graceful shutdown readiness fails first, before sessions close and the listener stops")
    func readinessFailsFirstOnShutdown() async throws {
        let module = try CanisterModules.testCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module, arg: RealReplicaTests.initArgument)
            var configuration = testConfiguration(icURL: local.url)
            // Long enough that a loaded machine still sees every step inside it.
            configuration.readinessDrainDelay = .seconds(10)
            configuration.shutdownGracePeriod = .seconds(2)
            try await Self.withHealthGateway(configuration) { gateway, metrics, group in
                let (_, socket) = try await RealReplicaTests.open(local, canister, gateway)
                _ = await Self.eventually("\(metrics)/readyz", within: .seconds(30), "200 before shutdown") { $0?.status == 200 }

                let clock = ContinuousClock()
                let shutdownAsked = clock.now
                await group.triggerGracefulShutdown()
                let notReady = await Self.eventually("\(metrics)/readyz", within: .seconds(8), "503 on shutdown") { $0?.status == 503 }
                let readinessFailedAt = clock.now
                #expect(notReady?.body == "not ready: shutting down\n")
                #expect(await Self.get("\(metrics)/healthz")?.status == 200, "the process is still up")

                // Readiness has failed; the gateway still works: the session is open and a new
                // connection gets the normal handshake, not a 1001 refusal.
                #expect(await socket.isClosed == false, "sessions must outlive the readiness failure")
                let late = TestWebSocket(url: gateway.url)
                let handshake = await late.nextBinary(timeout: .seconds(8))
                #expect(handshake == GatewayHandshakeFrame(gatewayPrincipal: gateway.principal).encoded())
                #expect(readinessFailedAt - shutdownAsked < .seconds(8), "readiness must fail well before the drain delay ends")
                #expect(await socket.isClosed == false, "…and before any session is closed")

                // Then the sessions are closed as before (1001), after the drain delay.
                let closed = await socket.closed(timeout: .seconds(30))
                let closedAt = clock.now
                #expect(closed.code == 1001)
                #expect(closedAt - shutdownAsked >= .milliseconds(9_900), "sessions closed before the drain delay was over")
                late.cancel()
            }
        }
    }
}
