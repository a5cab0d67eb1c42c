import ICWebSocketProtocol

/// The poller's decisions as a value (§6.5, plus our backoff): which nonce to ask for, whether a
/// batch is acceptable, and how long to wait before the next poll.
public struct PollSchedule: Sendable {
    /// Why a poller gives up on its canister.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public let code: GatewayCloseCode
        public let reason: String
        public var description: String { reason }

        public init(code: GatewayCloseCode, reason: String) {
            self.code = code
            self.reason = reason
        }
    }

    /// What to do after an iteration.
    public enum Next: Equatable, Sendable {
        /// Poll again at once (`is_end_of_queue = false`, or a timed-out poll).
        case pollNow
        /// Wait up to this long (a relayed client call cuts the wait short).
        case wait(Duration)
        /// Stop and close every session of the canister.
        case fail(Failure)
    }

    /// The nonce of the next `ws_get_messages` (0 until the first message arrives).
    public private(set) var nonce: UInt64 = 0
    /// The current idle period; doubles on empty polls up to the maximum.
    public private(set) var idleInterval: Duration
    /// Consecutive transient failures.
    public private(set) var failures = 0

    public let pollingInterval: Duration
    public let maxIdleInterval: Duration
    public let retryBudget: Int
    public let maxRetryBackoff: Duration
    /// Failures must also have lasted this long before the poller gives up, so that a replica
    /// that is only slow under load for a while does not cost every session.
    public let retryWindow: Duration
    private var firstFailure: ContinuousClock.Instant?

    public init(
        pollingInterval: Duration, maxIdleInterval: Duration, retryBudget: Int, maxRetryBackoff: Duration,
        retryWindow: Duration = .zero
    ) {
        self.pollingInterval = pollingInterval
        self.maxIdleInterval = max(maxIdleInterval, pollingInterval)
        self.retryBudget = retryBudget
        self.maxRetryBackoff = maxRetryBackoff
        self.retryWindow = retryWindow
        self.idleInterval = pollingInterval
    }

    /// Whether the budget is spent: enough consecutive failures over a long enough time.
    private mutating func budgetSpent(now: ContinuousClock.Instant) -> Bool {
        let first = firstFailure ?? now
        firstFailure = first
        return failures > retryBudget && now - first >= retryWindow
    }

    /// Starts at `nonce` instead of the queue's beginning (``QueueTailSearch``): the first batch
    /// must then begin exactly there.
    public mutating func start(at nonce: UInt64) {
        self.nonce = nonce
    }

    /// Checks a batch's nonces before anything is relayed (§6.5 step 3) and advances the nonce.
    /// When the poller's nonce is 0 the first message may carry any nonce (older ones may be gone).
    public mutating func accept(_ messages: [CanisterOutputMessage]) throws(Failure) {
        var next = nonce
        for message in messages {
            guard let messageNonce = MessageKey.nonce(of: message.key) else {
                throw Failure(code: .canisterUnavailable, reason: "message key '\(message.key)' has no nonce")
            }
            if next != 0, messageNonce != next {
                throw Failure(code: .canisterUnavailable, reason: "Non consecutive nonce: expected \(next), got \(messageNonce)")
            }
            let (incremented, overflow) = messageNonce.addingReportingOverflow(1)
            guard !overflow else { throw Failure(code: .canisterUnavailable, reason: "message nonce overflows u64") }
            next = incremented
        }
        nonce = next
    }

    /// After a successful poll: immediate re-poll when the queue has more, else sleep the rest of
    /// the period; empty polls lengthen the period (idle backoff), messages reset it.
    public mutating func succeeded(messageCount: Int, isEndOfQueue: Bool, elapsed: Duration) -> Next {
        failures = 0
        firstFailure = nil
        if !isEndOfQueue { idleInterval = pollingInterval; return .pollNow }
        if messageCount > 0 {
            idleInterval = pollingInterval
        } else {
            idleInterval = min(idleInterval * 2, maxIdleInterval)
        }
        let period = messageCount > 0 ? pollingInterval : idleInterval
        return .wait(max(.zero, period - elapsed))
    }

    /// After a relayed client call: the next poll should come soon and at the base period.
    public mutating func clientCallRelayed() {
        idleInterval = pollingInterval
    }

    /// After a transient failure: back off exponentially; give up when the budget is spent.
    public mutating func failedTransiently(_ reason: String, now: ContinuousClock.Instant = .now) -> Next {
        failures += 1
        guard !budgetSpent(now: now) else {
            return .fail(
                Failure(
                    code: .tryAgainLater,
                    reason: "ws_get_messages failed \(failures) times: \(reason)"))
        }
        var backoff = pollingInterval
        for _ in 1..<failures where backoff < maxRetryBackoff { backoff = backoff * 2 }
        return .wait(min(backoff, maxRetryBackoff))
    }

    /// A poll that timed out is retried at once with the same nonce (§6.5), within the budget.
    public mutating func timedOut(now: ContinuousClock.Instant = .now) -> Next {
        failures += 1
        guard !budgetSpent(now: now) else {
            return .fail(Failure(code: .tryAgainLater, reason: "ws_get_messages timed out \(failures) times in a row"))
        }
        return .pollNow
    }
}
