import ICAgent

/// Every setting of the gateway, with the reference's defaults where the reference has the
/// setting (protocol §6.1) and documented bounds where it has none (§6.7, DESIGN.md "Bounded
/// everything").
public struct GatewayConfiguration: Sendable {
    /// Listen host. Reference default `0.0.0.0`.
    public var host: String
    /// Listen port; `0` picks an ephemeral port (see ``Gateway/waitUntilListening()``). Reference default 8080.
    public var port: Int
    /// The IC HTTP endpoint. Reference default `http://127.0.0.1:4943`.
    public var icNetworkURL: String
    /// Which root key certificates are checked against (mainnet key for mainnet URLs, fetched
    /// from `/api/v2/status` for local ones; see ``RootKeyPolicy/default(for:)``).
    public var rootKey: RootKeyPolicy
    /// The poll period, measured start to start, while messages flow. Reference default 100 ms.
    public var pollingInterval: Duration
    /// The longest period an idle poller backs off to. Each empty poll doubles the period,
    /// starting from `pollingInterval`; any message, or a relayed client call, resets it.
    /// Set equal to `pollingInterval` for the reference's fixed period.
    public var maxIdlePollingInterval: Duration
    /// Poll right after a client's call was answered by the IC (the reply is likely queued).
    public var pollsAfterRelayedCall: Bool
    /// Deadline of one `ws_get_messages` query; on timeout the poller asks again at once (§6.5).
    public var pollTimeout: Duration
    /// Consecutive transient poll failures tolerated before the canister's sessions are closed.
    public var pollRetryBudget: Int
    /// Longest wait between retries of a failing poll (the wait doubles from `pollingInterval`).
    public var maxPollRetryBackoff: Duration
    /// The failures must also have lasted this long before sessions are closed (a replica that
    /// is only slow for a while keeps its sessions).
    public var pollRetryWindow: Duration
    /// Verify every poll's certificate and tree before relaying (clients verify anyway; this
    /// protects clients that do not). Each certificate is checked once and cached.
    public var verifiesPollCertificates: Bool

    /// Largest WebSocket frame accepted from a client, in bytes.
    public var maxFrameBytes: Int
    /// Largest WebSocket message (after joining continuation frames) accepted from a client.
    public var maxMessageBytes: Int
    /// Largest envelope forwarded to the IC (the IC itself refuses bigger ingress).
    public var maxEnvelopeBytes: Int
    /// Simultaneous WebSocket connections.
    public var maxConnections: Int
    /// Simultaneous WebSocket connections from one IP address.
    public var maxConnectionsPerIP: Int
    /// New WebSocket connections accepted per second (burst of the same size).
    public var newConnectionsPerSecond: Int
    /// Canister messages waiting to be written to one client; a client that falls further behind
    /// is closed so that it never stalls the other clients of its canister.
    public var maxPendingOutboundMessages: Int
    /// Client envelopes waiting for the IC on one connection before the gateway stops reading
    /// from its socket (backpressure: TCP then holds the client back); reading resumes when half
    /// of them are submitted. Never a reason to close a connection.
    public var maxPendingCalls: Int
    /// The same in bytes (envelope bytes plus ``envelopeOverheadBytes`` each).
    public var maxPendingCallBytes: Int
    /// When a connection's next envelope is submitted (its envelopes reach the IC one after
    /// another, §6.4).
    public var callSubmission: CallSubmission = .afterAccepted
    /// How long a session may stay in SETUP (between `ws_open` and its first canister message).
    /// The reference has no limit; clients give up after 60 s.
    public var setupTimeout: Duration
    /// How long a session may stay in INIT waiting for the `ws_open` frame.
    public var handshakeTimeout: Duration
    /// Period of the WebSocket pings the gateway sends; a client that has not answered the
    /// previous ping when the next one is due is closed (the idle timeout).
    public var pingInterval: Duration
    /// How long shutdown waits for `ws_close` calls of open sessions.
    public var shutdownGracePeriod: Duration
    /// How long graceful shutdown keeps serving normally after `GET /readyz` started to fail,
    /// before sessions are closed: long enough for load balancers to see the failing probe
    /// (their probe period times their failure threshold) and stop routing new connections
    /// here. Zero (the default) closes sessions at once, as before readiness existed.
    public var readinessDrainDelay: Duration = .zero
    /// Deadline of each `ws_close` call.
    public var closeCallTimeout: Duration

    /// The gateway's Ed25519 key (PKCS#8 PEM); generated and saved on first start when missing.
    /// Used by the CLI; ``Gateway`` itself takes an identity.
    public var identityPEMPath: String
    /// TLS certificate chain (PEM); TLS is on when both paths are set.
    public var tlsCertificatePEMPath: String?
    /// TLS private key (PKCS#8 PEM).
    public var tlsCertificateKeyPEMPath: String?
    /// A TLS handshake that takes longer is cut (the reference's limit, 10 s).
    public var tlsHandshakeTimeout: Duration = .seconds(10)
    /// Prometheus listener `host:port`; `nil` serves no metrics endpoint. Reference default `0.0.0.0:9000`.
    public var prometheusEndpoint: String?
    /// The IC's notion of now (ns since 1970) for the ingress expiry of the gateway's own
    /// queries and calls and for certificate freshness: the system clock, except under a local
    /// replica whose time a test or tool moves (`LocalReplica.clock`).
    public var icClock: @Sendable () -> UInt64 = CertificateVerifier.systemClock

    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        icNetworkURL: String = "http://127.0.0.1:4943",
        rootKey: RootKeyPolicy? = nil,
        pollingInterval: Duration = .milliseconds(100),
        maxIdlePollingInterval: Duration = .seconds(1),
        pollsAfterRelayedCall: Bool = true,
        pollTimeout: Duration = .seconds(5),
        pollRetryBudget: Int = 8,
        maxPollRetryBackoff: Duration = .seconds(5),
        pollRetryWindow: Duration = .seconds(60),
        verifiesPollCertificates: Bool = false,
        maxFrameBytes: Int = 2 * 1024 * 1024 + 1024,
        maxMessageBytes: Int = 2 * 1024 * 1024 + 1024,
        maxEnvelopeBytes: Int = 2 * 1024 * 1024,
        maxConnections: Int = 50_000,
        maxConnectionsPerIP: Int = 1_000,
        newConnectionsPerSecond: Int = 1_000,
        maxPendingOutboundMessages: Int = 100,
        maxPendingCalls: Int = 64,
        maxPendingCallBytes: Int = 1 << 20,
        setupTimeout: Duration = .seconds(60),
        handshakeTimeout: Duration = .seconds(30),
        pingInterval: Duration = .seconds(30),
        shutdownGracePeriod: Duration = .seconds(5),
        closeCallTimeout: Duration = .seconds(10),
        identityPEMPath: String = "./data/key_pair.pem",
        tlsCertificatePEMPath: String? = nil,
        tlsCertificateKeyPEMPath: String? = nil,
        prometheusEndpoint: String? = "0.0.0.0:9000"
    ) {
        self.host = host
        self.port = port
        self.icNetworkURL = icNetworkURL
        self.rootKey = rootKey ?? .default(for: icNetworkURL)
        self.pollingInterval = pollingInterval
        self.maxIdlePollingInterval = max(maxIdlePollingInterval, pollingInterval)
        self.pollsAfterRelayedCall = pollsAfterRelayedCall
        self.pollTimeout = pollTimeout
        self.pollRetryBudget = pollRetryBudget
        self.maxPollRetryBackoff = maxPollRetryBackoff
        self.pollRetryWindow = pollRetryWindow
        self.verifiesPollCertificates = verifiesPollCertificates
        self.maxFrameBytes = maxFrameBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxEnvelopeBytes = maxEnvelopeBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.newConnectionsPerSecond = newConnectionsPerSecond
        self.maxPendingOutboundMessages = maxPendingOutboundMessages
        self.maxPendingCalls = max(1, maxPendingCalls)
        self.maxPendingCallBytes = max(1, maxPendingCallBytes)
        self.setupTimeout = setupTimeout
        self.handshakeTimeout = handshakeTimeout
        self.pingInterval = pingInterval
        self.shutdownGracePeriod = shutdownGracePeriod
        self.closeCallTimeout = closeCallTimeout
        self.identityPEMPath = identityPEMPath
        self.tlsCertificatePEMPath = tlsCertificatePEMPath
        self.tlsCertificateKeyPEMPath = tlsCertificateKeyPEMPath
        self.prometheusEndpoint = prometheusEndpoint
    }

    /// When a connection's next envelope goes to the IC. Either way one connection's envelopes
    /// are submitted one after another and different connections' concurrently.
    public enum CallSubmission: String, Sendable, CaseIterable {
        /// Once the IC accepted the previous one into its ingress queue (`/api/v2/…/call`
        /// answered 202): a round trip to one node, not a consensus round, so a client's burst
        /// drains at network speed and its envelopes do not expire in the queue. One node's
        /// ingress queue is first in, first out; on a subnet of many nodes two envelopes
        /// accepted by different nodes could still be executed out of order (the canister then
        /// refuses the second by its sequence number, which the client sees), which the
        /// reference gateway, submitting everything at once, risks far more often. The gateway
        /// only learns refusals before execution; a canister's `Err` reply or trap is seen by the
        /// client (its own request status) and in the canister's log.
        case afterAccepted = "accepted"
        /// Once the previous one was executed (`/api/v3/…/call` answered with its certified
        /// outcome): the strictest order, and the gateway logs every `Err` reply and reject; but
        /// one consensus round per envelope (1–2 s on mainnet) caps a connection at about one
        /// message per second, and a burst longer than the ingress expiry (5 minutes) cannot
        /// be delivered at all.
        case afterExecuted = "executed"
    }

    /// What one queued envelope costs beyond its bytes (its record, request id, method name),
    /// counted against ``maxPendingCallBytes`` so that many tiny envelopes are bounded too.
    public static let envelopeOverheadBytes = 256

    /// The most a client may have queued for the IC, in bytes, before it is closed (1008).
    ///
    /// Reading stops at ``maxPendingCallBytes``, but frames already read from the socket are
    /// still delivered: at most one message of ``maxMessageBytes`` plus what one read cycle holds
    /// (``callBacklogSlackBytes``). A client held back by TCP never reaches this budget; only a
    /// peer that keeps sending past a stopped reader can, which is what the budget is for.
    public var callBacklogBudgetBytes: Int { maxPendingCallBytes + maxMessageBytes + callBacklogSlackBytes }

    /// Room in ``callBacklogBudgetBytes`` for what one read cycle brings in after reading
    /// stopped: the listener reads at most 4 × 64 KiB per cycle, so 1 MiB is ample.
    public var callBacklogSlackBytes = 1 << 20

    /// `host:port` split at the last colon (IPv6 hosts may be bracketed).
    public static func parseAddress(_ text: String) throws(GatewayError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { throw .configuration("'\(text)' is not an address of the form host:port") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .configuration("'\(text)' has no host") }
        return (host, port)
    }
}

extension RootKeyPolicy {
    /// The reference's rule (§6.1): the built-in mainnet key for `https://icp0.io` and
    /// `https://icp-api.io`, the key served at `/api/v2/status` for anything else.
    public static func `default`(for url: String) -> RootKeyPolicy {
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed == "https://icp0.io" || trimmed == "https://icp-api.io" ? .mainnet : .fetchFromReplica
    }
}
