import ArgumentParser
import Foundation
import ICWebSocketGateway

/// The gateway's polling, limit and timeout flags, shared by `icws gateway` and `icws dev` so
/// that whatever can be tuned in production can be tried locally. Each flag also reads the
/// `ICWS_*` environment variable named in its help; a flag wins over the variable.
struct GatewayTuningOptions: ParsableArguments {
    private static func env(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
    private static func env(_ name: String, _ fallback: Int) -> Int { env(name).flatMap(Int.init) ?? fallback }

    @Option(help: "Poll period in ms while messages flow [ICWS_POLLING_INTERVAL].")
    var pollingInterval = env("ICWS_POLLING_INTERVAL", 100)
    @Option(help: "Longest idle poll period in ms; empty polls double the period up to this [ICWS_MAX_IDLE_POLLING_INTERVAL].")
    var maxIdlePollingInterval = env("ICWS_MAX_IDLE_POLLING_INTERVAL", 1_000)
    @Flag(inversion: .prefixedNo, help: "Poll right after relaying a client's call [ICWS_POLL_AFTER_CALL=0 disables].")
    var pollAfterCall = env("ICWS_POLL_AFTER_CALL") != "0"
    @Option(help: "ws_get_messages timeout in ms; a timed-out poll is retried at once [ICWS_POLL_TIMEOUT].")
    var pollTimeout = env("ICWS_POLL_TIMEOUT", 5_000)
    @Option(help: "Consecutive failed polls tolerated before a canister's sessions are closed [ICWS_POLL_RETRY_BUDGET].")
    var pollRetryBudget = env("ICWS_POLL_RETRY_BUDGET", 8)
    @Option(help: "Seconds polls must keep failing (beyond the budget) before sessions are closed [ICWS_POLL_RETRY_WINDOW].")
    var pollRetryWindow = env("ICWS_POLL_RETRY_WINDOW", 60)
    @Option(help: "Longest wait between retries of a failing poll, in ms [ICWS_MAX_POLL_RETRY_BACKOFF].")
    var maxPollRetryBackoff = env("ICWS_MAX_POLL_RETRY_BACKOFF", 5_000)
    @Flag(help: "Verify each poll's certificate and tree before relaying (cached per certificate) [ICWS_VERIFY_POLLS=1].")
    var verifyPolls = env("ICWS_VERIFY_POLLS") == "1"
    @Option(help: "Largest WebSocket frame from a client, bytes; a bigger one closes with 1009 [ICWS_MAX_FRAME_SIZE].")
    var maxFrameSize = env("ICWS_MAX_FRAME_SIZE", 2 * 1024 * 1024 + 1024)
    @Option(help: "Largest WebSocket message from a client, bytes; a bigger one closes with 1009 [ICWS_MAX_MESSAGE_SIZE].")
    var maxMessageSize = env("ICWS_MAX_MESSAGE_SIZE", 2 * 1024 * 1024 + 1024)
    @Option(help: "Largest envelope forwarded to the IC, bytes; a bigger one closes with 1009 [ICWS_MAX_ENVELOPE_SIZE].")
    var maxEnvelopeSize = env("ICWS_MAX_ENVELOPE_SIZE", 2 * 1024 * 1024)
    @Option(help: "Simultaneous connections [ICWS_MAX_CONNECTIONS].")
    var maxConnections = env("ICWS_MAX_CONNECTIONS", 50_000)
    @Option(help: "Simultaneous connections from one IP [ICWS_MAX_CONNECTIONS_PER_IP].")
    var maxConnectionsPerIp = env("ICWS_MAX_CONNECTIONS_PER_IP", 1_000)
    @Option(help: "New connections accepted per second [ICWS_NEW_CONNECTIONS_PER_SECOND].")
    var newConnectionsPerSecond = env("ICWS_NEW_CONNECTIONS_PER_SECOND", 1_000)
    @Option(help: "Canister messages queued for one client before it is closed as too slow (1008) [ICWS_MAX_PENDING_OUTBOUND].")
    var maxPendingOutbound = env("ICWS_MAX_PENDING_OUTBOUND", 100)
    @Option(
        help: """
            Client envelopes waiting for the IC per connection before the gateway stops reading from it \
            (backpressure, never a close); reading resumes at half [ICWS_MAX_PENDING_CALLS].
            """)
    var maxPendingCalls = env("ICWS_MAX_PENDING_CALLS", 64)
    @Option(
        help: """
            The same in bytes. A client that keeps sending after reading stopped is closed (1008) once its queue \
            exceeds this + --max-message-size + 1 MiB [ICWS_MAX_PENDING_CALL_BYTES].
            """)
    var maxPendingCallBytes = env("ICWS_MAX_PENDING_CALL_BYTES", 1 << 20)
    @Option(
        help: """
            When a connection's next envelope goes to the IC: 'accepted' (the previous one is in the IC's ingress \
            queue; a burst drains at network speed) or 'executed' (the previous one ran; strictest order, refusals \
            logged, about one message per consensus round) [ICWS_SUBMIT_NEXT_AFTER].
            """)
    var submitNextAfter = env("ICWS_SUBMIT_NEXT_AFTER") ?? "accepted"
    @Option(help: "Seconds a session may wait for its first canister message after ws_open [ICWS_SETUP_TIMEOUT].")
    var setupTimeout = env("ICWS_SETUP_TIMEOUT", 60)
    @Option(help: "Seconds a new connection may take to send ws_open [ICWS_HANDSHAKE_TIMEOUT].")
    var handshakeTimeout = env("ICWS_HANDSHAKE_TIMEOUT", 30)
    @Option(help: "Seconds between WebSocket pings; a client that misses a pong is closed; 0 disables [ICWS_PING_INTERVAL].")
    var pingInterval = env("ICWS_PING_INTERVAL", 30)
    @Option(help: "Seconds shutdown waits for ws_close calls [ICWS_SHUTDOWN_GRACE_PERIOD].")
    var shutdownGracePeriod = env("ICWS_SHUTDOWN_GRACE_PERIOD", 5)
    @Option(
        help: """
            Seconds SIGTERM keeps serving after GET /readyz started to answer 503, so that load balancers stop \
            sending new connections before sessions are closed; set it to their probe period times their failure \
            threshold [ICWS_READINESS_DRAIN_DELAY].
            """)
    var readinessDrainDelay = env("ICWS_READINESS_DRAIN_DELAY", 0)

    /// Writes these settings into `configuration`, refusing values that cannot work.
    func apply(to configuration: inout GatewayConfiguration) throws {
        let positive: [(String, Int)] = [
            ("--polling-interval", pollingInterval), ("--max-idle-polling-interval", maxIdlePollingInterval),
            ("--poll-timeout", pollTimeout), ("--max-frame-size", maxFrameSize), ("--max-message-size", maxMessageSize),
            ("--max-envelope-size", maxEnvelopeSize), ("--max-connections", maxConnections),
            ("--max-connections-per-ip", maxConnectionsPerIp), ("--new-connections-per-second", newConnectionsPerSecond),
            ("--max-pending-outbound", maxPendingOutbound), ("--max-pending-calls", maxPendingCalls),
            ("--max-pending-call-bytes", maxPendingCallBytes), ("--setup-timeout", setupTimeout),
            ("--handshake-timeout", handshakeTimeout),
        ]
        for (flag, value) in positive where value <= 0 {
            throw ValidationError("\(flag) must be positive, not \(value)")
        }
        let notNegative: [(String, Int)] = [
            ("--poll-retry-budget", pollRetryBudget), ("--poll-retry-window", pollRetryWindow),
            ("--max-poll-retry-backoff", maxPollRetryBackoff), ("--ping-interval", pingInterval),
            ("--shutdown-grace-period", shutdownGracePeriod), ("--readiness-drain-delay", readinessDrainDelay),
        ]
        for (flag, value) in notNegative where value < 0 {
            throw ValidationError("\(flag) must not be negative, not \(value)")
        }
        guard let submission = GatewayConfiguration.CallSubmission(rawValue: submitNextAfter) else {
            throw ValidationError("--submit-next-after must be 'accepted' or 'executed', not '\(submitNextAfter)'")
        }
        configuration.callSubmission = submission
        configuration.pollingInterval = .milliseconds(pollingInterval)
        configuration.maxIdlePollingInterval = .milliseconds(max(maxIdlePollingInterval, pollingInterval))
        configuration.pollsAfterRelayedCall = pollAfterCall
        configuration.pollTimeout = .milliseconds(pollTimeout)
        configuration.pollRetryBudget = pollRetryBudget
        configuration.maxPollRetryBackoff = .milliseconds(maxPollRetryBackoff)
        configuration.pollRetryWindow = .seconds(pollRetryWindow)
        configuration.verifiesPollCertificates = verifyPolls
        configuration.maxFrameBytes = maxFrameSize
        configuration.maxMessageBytes = maxMessageSize
        configuration.maxEnvelopeBytes = maxEnvelopeSize
        configuration.maxConnections = maxConnections
        configuration.maxConnectionsPerIP = maxConnectionsPerIp
        configuration.newConnectionsPerSecond = newConnectionsPerSecond
        configuration.maxPendingOutboundMessages = maxPendingOutbound
        configuration.maxPendingCalls = maxPendingCalls
        configuration.maxPendingCallBytes = maxPendingCallBytes
        configuration.setupTimeout = .seconds(setupTimeout)
        configuration.handshakeTimeout = .seconds(handshakeTimeout)
        configuration.pingInterval = .seconds(pingInterval)
        configuration.shutdownGracePeriod = .seconds(shutdownGracePeriod)
        configuration.readinessDrainDelay = .seconds(readinessDrainDelay)
    }
}
