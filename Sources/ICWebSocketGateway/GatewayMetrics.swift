import CoreMetrics
import ICCore

/// The gateway's metrics: the reference's names (§6.8) without per-client labels, plus ours
/// (prefixed `icws_gateway_`). Created with an explicit factory so that a gateway in a test or
/// inside `icws dev` never needs the process-wide `MetricsSystem` bootstrapped.
public final class GatewayMetrics: Sendable {
    private let factory: any MetricsFactory
    private let clientConnectedCount: Counter
    private let activePollers: Meter
    private let connectionDuration: Timer
    private let connectionOpeningTime: Timer
    private let messagesRelayedIn: Counter
    private let messagesRelayedOut: Counter
    private let relayLatency: Timer
    private let callLatency: Timer
    private let tlsResolutionTime: Timer
    private let readingPausedCount: Counter
    private let queuedCallBytes: Recorder
    private let droppedEnvelopes: Counter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        clientConnectedCount = Counter(label: "client_connected_count", factory: factory)
        activePollers = Meter(label: "active_pollers", factory: factory)
        connectionDuration = Timer(label: "connection_duration", factory: factory)
        connectionOpeningTime = Timer(label: "connection_opening_time", factory: factory)
        messagesRelayedIn = Counter(label: "icws_gateway_messages_relayed_in_total", factory: factory)
        messagesRelayedOut = Counter(label: "icws_gateway_messages_relayed_out_total", factory: factory)
        relayLatency = Timer(label: "icws_gateway_relay_latency", factory: factory)
        callLatency = Timer(label: "icws_gateway_call_latency", factory: factory)
        tlsResolutionTime = Timer(label: "tls_resolution_time", factory: factory)
        readingPausedCount = Counter(label: "icws_gateway_reading_paused_total", factory: factory)
        queuedCallBytes = Recorder(label: "icws_gateway_queued_call_bytes", factory: factory)
        droppedEnvelopes = Counter(label: "icws_gateway_envelopes_dropped_total", factory: factory)
    }

    // Reference metrics.
    func sessionOpened(after duration: Duration) {
        clientConnectedCount.increment()
        connectionOpeningTime.recordNanoseconds(duration.nanoseconds)
    }
    func sessionEnded(after duration: Duration, code: GatewayCloseCode?) {
        connectionDuration.recordNanoseconds(duration.nanoseconds)
        Counter(
            label: "icws_gateway_sessions_closed_total", dimensions: [("code", code.map { "\($0.rawValue)" } ?? "none")],
            factory: factory
        ).increment()
    }
    func clientsConnected(canister: Principal, count: Int) {
        Gauge(label: "clients_connected", dimensions: [("canister_id", "\(canister)")], factory: factory).record(count)
    }
    func tlsHandshakeCompleted(after duration: Duration) { tlsResolutionTime.recordNanoseconds(duration.nanoseconds) }
    func pollerStarted() { activePollers.increment() }
    func pollerStopped() { activePollers.decrement() }
    func pollerDuration(canister: Principal, _ duration: Duration) {
        Timer(label: "poller_duration", dimensions: [("canister_id", "\(canister)")], factory: factory).recordNanoseconds(
            duration.nanoseconds)
    }

    // Ours.
    func pollSent(canister: Principal) {
        Counter(label: "icws_gateway_polls_total", dimensions: [("canister_id", "\(canister)")], factory: factory).increment()
    }
    func pollFailed(kind: String) {
        Counter(label: "icws_gateway_poll_failures_total", dimensions: [("kind", kind)], factory: factory).increment()
    }
    func envelopeRelayed(after duration: Duration, outcome: String) {
        messagesRelayedIn.increment()
        callLatency.recordNanoseconds(duration.nanoseconds)
        Counter(label: "icws_gateway_calls_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }
    func messageRelayed(latency: Duration) {
        messagesRelayedOut.increment()
        relayLatency.recordNanoseconds(latency.nanoseconds)
    }
    func connectionRejected(reason: String) {
        Counter(label: "icws_gateway_rejected_connections_total", dimensions: [("reason", reason)], factory: factory).increment()
    }
    /// A connection's call queue filled and the gateway stopped reading from it.
    func readingPaused() { readingPausedCount.increment() }
    /// Bytes queued for the IC on a connection, recorded at each enqueue (its distribution
    /// shows how close clients come to ``GatewayConfiguration/maxPendingCallBytes``).
    func callsQueued(bytes: Int) { queuedCallBytes.record(bytes) }
    /// Envelopes a session still held for the IC when it ended.
    func envelopesDropped(_ count: Int) { droppedEnvelopes.increment(by: count) }
    /// The canister answered a relayed call with an error (`Err` reply or reject).
    func callRefusedByCanister(method: String) {
        Counter(label: "icws_gateway_calls_refused_by_canister_total", dimensions: [("method", method)], factory: factory).increment()
    }
    func sessionResumed() {
        Counter(label: "icws_gateway_sessions_resumed_total", factory: factory).increment()
    }
    func frameRejected(reason: String) {
        Counter(label: "icws_gateway_rejected_frames_total", dimensions: [("reason", reason)], factory: factory).increment()
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for timers.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
