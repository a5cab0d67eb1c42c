import ICAgent
import NIOConcurrencyHelpers

/// Whether the gateway should get new connections, as `GET /readyz` reports it.
public enum GatewayReadiness: Sendable, Equatable {
    /// The IC answered its status request, the root key is known and the gateway is not
    /// shutting down.
    case ready
    /// Why a load balancer should send new connections elsewhere (one line, plain text).
    case notReady(String)
}

/// Liveness and readiness for load balancers and orchestrators, served on the metrics port as
/// `GET /healthz` and `GET /readyz`.
///
/// Liveness is the process answering at all. Readiness asks the IC for its status (is it
/// reachable and healthy?) and makes sure the root key is known (fetched first under
/// ``RootKeyPolicy/fetchFromReplica``), because without either no session can work; and it
/// fails as soon as graceful shutdown begins, before sessions are closed and before the
/// listener stops, so that a load balancer stops routing here first.
final class GatewayHealth: Sendable {
    /// One IC status request per this period at most, however often probes come: a probe storm
    /// (several load balancers, each probing every second) must not become a load on the IC.
    static let cachePeriod: Duration = .seconds(1)
    /// A probe answers within this even when the IC does not: load balancers time probes out
    /// (often after 1–5 s), and an answer with a reason is more useful than a timeout.
    static let checkTimeout: Duration = .seconds(2)

    private let agent: HTTPAgent
    private let icNetworkURL: String
    private let state = NIOLockedValueBox(State())
    private let clock = ContinuousClock()

    private struct State {
        var draining = false
        var last: (at: ContinuousClock.Instant, readiness: GatewayReadiness)?
    }

    init(agent: HTTPAgent, icNetworkURL: String) {
        self.agent = agent
        self.icNetworkURL = icNetworkURL
    }

    /// Graceful shutdown began: readiness fails from now on, whatever the IC says.
    func beginDraining() { state.withLockedValue { $0.draining = true } }

    var isDraining: Bool { state.withLockedValue { $0.draining } }

    /// The current readiness, checking the IC at most once per ``cachePeriod``.
    func readiness() async -> GatewayReadiness {
        let now = clock.now
        let cached: GatewayReadiness? = state.withLockedValue { state in
            if state.draining { return .notReady("shutting down") }
            guard let last = state.last, now - last.at < Self.cachePeriod else { return nil }
            return last.readiness
        }
        if let cached { return cached }
        let checked = await check()
        return state.withLockedValue { state in
            // Draining may have begun while the IC was asked; it wins.
            if state.draining { return .notReady("shutting down") }
            state.last = (clock.now, checked)
            return checked
        }
    }

    private func check() async -> GatewayReadiness {
        let agent = self.agent
        let url = icNetworkURL
        do {
            return try await withDeadline(Self.checkTimeout) { () async throws -> GatewayReadiness in
                let status: ReplicaStatus
                do { status = try await agent.status() } catch {
                    return .notReady("the IC at \(url) is unreachable: \(error)")
                }
                if let health = status.healthStatus, health != "healthy" {
                    return .notReady("the IC at \(url) reports replica_health_status \(health)")
                }
                do { _ = try await agent.certificateVerifier() } catch {
                    return .notReady("the root key is unknown: \(error)")
                }
                return .ready
            }
        } catch {
            // AsyncHTTPClient keeps retrying a refused connection, so "nothing listens" ends here too.
            return .notReady("the IC at \(url) is unreachable: no answer to /api/v2/status within \(Self.checkTimeout)")
        }
    }
}
