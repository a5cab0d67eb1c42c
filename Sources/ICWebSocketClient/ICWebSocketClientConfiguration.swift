import ICAgent

/// Settings of a client connection. The defaults are the reference client's (protocol §4.2, §5.7).
///
/// Timers: the open timeout runs on real (monotonic) time, because it is about the gateway
/// answering. The acknowledgement timeout and certificate freshness use ``clock``, because they
/// are compared with the canister's own time (its ack interval, the certificate's `/time`):
/// inject the replica's clock in tests that move replica time.
public struct ICWebSocketClientConfiguration: Sendable {
    /// How long to wait, from opening the WebSocket, for the verified OpenMessage (default 60 s).
    public var openTimeout: Duration
    /// Oldest acceptable certificate (default 5 min); `nil` disables the check (recorded fixtures only).
    public var maxCertificateAge: Duration?
    /// How far a certificate's `/time` may be ahead of ``clock`` (default 5 min).
    public var maxCertificateFutureSkew: Duration
    /// The canister's `send_ack_interval_ms` (default 300 s). MUST equal the canister's setting,
    /// or a healthy connection is closed (§5.6).
    public var ackMessageInterval: Duration
    /// Extra time allowed for an ack on top of ``ackMessageInterval`` (default 30 s, the
    /// protocol's latency bound): the ack timeout is their sum.
    public var ackLatencyAllowance: Duration
    /// How often timers are evaluated against ``clock`` (default 1 s).
    public var timerResolution: Duration
    /// Most sent messages that may await acknowledgement; `send` fails beyond it (default 1024).
    public var maxUnacknowledgedMessages: Int
    /// Most received application messages buffered for the application; the connection fails
    /// when the application falls this far behind (default 4096).
    public var maxBufferedMessages: Int
    /// Largest WebSocket message accepted from the gateway (default 4 MiB; a poll reply is at most 3 MiB).
    public var maxFrameSize: Int
    /// How far ahead `ingress_expiry` of signed requests is set (default 3 min).
    public var ingressExpiry: Duration
    /// What to do when an open connection fails (default: nothing, report the error).
    public var reconnect: ReconnectPolicy
    /// Whether to read each sent message's outcome from the IC (default `nil`: off). When set,
    /// ``ICWebSocketConnection/callOutcomes`` reports refused and rejected messages; it costs one
    /// polled `read_state` per sent message (see ``CallOutcomeChecks``).
    public var callOutcomeChecks: CallOutcomeChecks?
    /// Current time in ns since 1970 (default: the system clock).
    public var clock: @Sendable () -> UInt64

    /// A configuration; every parameter defaults to the reference client's value.
    public init(
        openTimeout: Duration = .seconds(60),
        maxCertificateAge: Duration? = .seconds(300),
        maxCertificateFutureSkew: Duration = .seconds(300),
        ackMessageInterval: Duration = .seconds(300),
        ackLatencyAllowance: Duration = .seconds(30),
        timerResolution: Duration = .seconds(1),
        maxUnacknowledgedMessages: Int = 1024,
        maxBufferedMessages: Int = 4096,
        maxFrameSize: Int = 4 << 20,
        ingressExpiry: Duration = IngressExpiry.defaultDelta,
        reconnect: ReconnectPolicy = .disabled,
        callOutcomeChecks: CallOutcomeChecks? = nil,
        clock: @escaping @Sendable () -> UInt64 = CertificateVerifier.systemClock
    ) {
        self.openTimeout = openTimeout
        self.maxCertificateAge = maxCertificateAge
        self.maxCertificateFutureSkew = maxCertificateFutureSkew
        self.ackMessageInterval = ackMessageInterval
        self.ackLatencyAllowance = ackLatencyAllowance
        self.timerResolution = timerResolution
        self.maxUnacknowledgedMessages = maxUnacknowledgedMessages
        self.maxBufferedMessages = maxBufferedMessages
        self.maxFrameSize = maxFrameSize
        self.ingressExpiry = ingressExpiry
        self.reconnect = reconnect
        self.callOutcomeChecks = callOutcomeChecks
        self.clock = clock
    }

    /// `ackMessageInterval + ackLatencyAllowance`: `E` of §5.6.
    public var ackTimeout: Duration { ackMessageInterval + ackLatencyAllowance }
}

/// Whether and how an open connection that fails is connected again, through the next gateway
/// of the list (failover).
///
/// With ``resumesSession`` (the default) the session itself survives (docs/SESSION-RESUMPTION.md):
/// the client asks for a resumable session when it opens, and after a failure sends `ws_resume`
/// through the next gateway: same client key, both sequence numbers continue, what the canister
/// queued meanwhile arrives exactly once, and what it never executed is sent again. When the
/// canister or gateway cannot resume (a reference implementation, the canister's grace period
/// passed, no `ResumeMessage` within ``resumeTimeout``) it opens a new session (new client
/// nonce) and reports the messages that may be lost, as without resumption.
public struct ReconnectPolicy: Sendable, Equatable {
    /// Attempts after each failure before giving up; 0 disables reconnecting.
    public var maxAttempts: Int
    /// Wait before the first attempt; doubled after each failed attempt up to ``maximumDelay``,
    /// each wait varied by ±30 % so that clients of a failed gateway do not return in step.
    public var initialDelay: Duration
    /// Longest wait between attempts.
    public var maximumDelay: Duration
    /// Whether to continue the same session after a failure (default `true`).
    public var resumesSession: Bool
    /// How long to wait for the canister's `ResumeMessage` after `ws_resume` before trying the
    /// next gateway, and after the last attempt a new session (default 20 s).
    public var resumeTimeout: Duration
    /// How long ``ICWebSocketConnection/close()`` waits for the canister to end a resumable
    /// session (default 10 s). The client asks it to (a signed `CloseMessage`), because a
    /// resumable session whose connection merely ends is kept by the canister for its grace
    /// period (120 s by default), and the application sees the client leave only then. A
    /// canister that does not answer in time (a reference one refuses the request) keeps the
    /// session for its grace period; `.zero` closes at once without asking.
    public var leaveTimeout: Duration

    /// Reconnects up to `maxAttempts` times per failure, waiting `initialDelay`, doubling up to `maximumDelay`.
    public init(
        maxAttempts: Int, initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(30),
        resumesSession: Bool = true, resumeTimeout: Duration = .seconds(20), leaveTimeout: Duration = .seconds(10)
    ) {
        self.maxAttempts = max(0, maxAttempts)
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.resumesSession = resumesSession
        self.resumeTimeout = resumeTimeout
        self.leaveTimeout = leaveTimeout
    }

    /// Never reconnect (the default).
    public static let disabled = ReconnectPolicy(maxAttempts: 0)
}
