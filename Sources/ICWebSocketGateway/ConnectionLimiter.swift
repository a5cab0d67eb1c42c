import NIOConcurrencyHelpers

/// Admission control for new WebSocket connections: a total cap, a per-IP cap and a token bucket
/// for the rate of new connections (DESIGN.md "Bounded everything"; the reference has none).
public final class ConnectionLimiter: Sendable {
    /// Why a connection was refused; `rawValue` is the metric label.
    public enum Rejection: String, Sendable, Error {
        case tooManyConnections = "max_connections"
        case tooManyConnectionsFromIP = "max_connections_per_ip"
        case rateLimited = "new_connections_per_second"
        case shuttingDown = "shutting_down"

        public var message: String {
            switch self {
            case .tooManyConnections: return "the gateway holds its maximum number of connections"
            case .tooManyConnectionsFromIP: return "too many connections from this address"
            case .rateLimited: return "too many new connections per second"
            case .shuttingDown: return "the gateway is shutting down"
            }
        }
    }

    /// Why `rejection` happened, with the limit's value and flag: the Close frame's reason.
    public func reason(for rejection: Rejection) -> String {
        switch rejection {
        case .tooManyConnections: return "the gateway holds its maximum of \(maxConnections) connections (--max-connections)"
        case .tooManyConnectionsFromIP: return "more than \(maxConnectionsPerIP) connections from this address (--max-connections-per-ip)"
        case .rateLimited: return "more than \(connectionsPerSecond) new connections per second (--new-connections-per-second)"
        case .shuttingDown: return rejection.message
        }
    }

    private struct State {
        var total = 0
        var perIP: [String: Int] = [:]
        var tokens: Double
        var lastRefill: ContinuousClock.Instant
        var shuttingDown = false
    }

    public let maxConnections: Int
    public let maxConnectionsPerIP: Int
    public let connectionsPerSecond: Int
    private let clock = ContinuousClock()
    private let state: NIOLockedValueBox<State>

    public init(maxConnections: Int, maxConnectionsPerIP: Int, connectionsPerSecond: Int) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.connectionsPerSecond = connectionsPerSecond
        state = NIOLockedValueBox(State(tokens: Double(connectionsPerSecond), lastRefill: clock.now))
    }

    /// Takes a slot for a connection from `ip`; pair every success with ``release(_:)``.
    public func admit(_ ip: String) -> Rejection? {
        let now = clock.now
        return state.withLockedValue { state -> Rejection? in
            if state.shuttingDown { return .shuttingDown }
            let elapsed = now - state.lastRefill
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(Double(connectionsPerSecond), state.tokens + seconds * Double(connectionsPerSecond))
            state.lastRefill = now
            guard state.total < maxConnections else { return .tooManyConnections }
            guard state.perIP[ip, default: 0] < maxConnectionsPerIP else { return .tooManyConnectionsFromIP }
            guard state.tokens >= 1 else { return .rateLimited }
            state.tokens -= 1
            state.total += 1
            state.perIP[ip, default: 0] += 1
            return nil
        }
    }

    public func release(_ ip: String) {
        state.withLockedValue { state in
            state.total -= 1
            let remaining = state.perIP[ip, default: 1] - 1
            state.perIP[ip] = remaining > 0 ? remaining : nil
        }
    }

    /// Refuses every further connection.
    public func beginShutdown() { state.withLockedValue { $0.shuttingDown = true } }

    /// Connections currently admitted.
    public var activeConnections: Int { state.withLockedValue { $0.total } }
}
