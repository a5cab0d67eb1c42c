import ICWebSocketProtocol

/// Where a new poller should start reading its canister's queue for this gateway.
///
/// A canister keeps the messages it queued for a gateway until they are acknowledged or expire
/// (the CDK's ack interval, 5 minutes by default), including those for clients of an earlier run
/// of the gateway, or of a gateway that held the same identity. A poller that starts at nonce 0
/// pages through all of them, 50 per query, before the messages of its new clients come up: with
/// a busy canister, seconds before a client's open message. Its new clients' messages can only be
/// queued after their `ws_open` executes, and the gateway holds those until the search is done;
/// so everything before the queue's last page is for other clients and can be skipped.
///
/// `ws_get_messages(nonce)` returns the messages from `nonce` on (reference CDK and ours), which
/// makes the tail searchable without any new method: probe forward with doubling steps until a
/// probe comes back empty, then bisect, stopping at the first probe whose page ends the queue.
/// A queue of n messages costs about 2 log₂(n / 50) queries; a short queue costs the one query a
/// poller would have made anyway. Pure: the poller runs the queries.
public struct QueueTailSearch: Sendable, Equatable {
    /// What to do next.
    public enum Step: Equatable, Sendable {
        /// Query `ws_get_messages` with this nonce and report the page with ``record(probe:page:)``.
        case probe(UInt64)
        /// Start polling here: the first nonce of the queue's last page (`nil`: from the start,
        /// the queue fits in one page or is empty).
        case done(startNonce: UInt64?)
    }

    /// What one probe returned.
    public struct Page: Equatable, Sendable {
        public var firstNonce: UInt64?
        public var lastNonce: UInt64?
        public var isEndOfQueue: Bool

        public init(firstNonce: UInt64?, lastNonce: UInt64?, isEndOfQueue: Bool) {
            self.firstNonce = firstNonce
            self.lastNonce = lastNonce
            self.isEndOfQueue = isEndOfQueue
        }

        /// The nonces of a `ws_get_messages` reply.
        public init(_ messages: CanisterOutputCertifiedMessages) {
            firstNonce = messages.messages.first.flatMap { MessageKey.nonce(of: $0.key) }
            lastNonce = messages.messages.last.flatMap { MessageKey.nonce(of: $0.key) }
            isEndOfQueue = messages.isEndOfQueue
        }
    }

    /// Probes allowed before settling for the best start found so far.
    public let maxProbes: Int
    /// A nonce known to exist with more messages after it.
    private var low: UInt64?
    /// A nonce known to be past the end of the queue.
    private var high: UInt64?
    /// How far past `low` the next forward probe goes; 0 first (the next page itself, which is
    /// the end of a short backlog), then doubling.
    private var stride: UInt64 = 0
    /// Messages per page, learned from full pages: once the end is known to be within one page
    /// of `low`, probing `low` itself finds it.
    private var pageSize: UInt64 = 1
    public private(set) var probes = 0
    public private(set) var next: Step = .probe(0)

    public init(maxProbes: Int = 64) {
        self.maxProbes = maxProbes
    }

    /// Takes the page that probing `nonce` returned and decides the next step.
    @discardableResult
    public mutating func record(probe nonce: UInt64, page: Page) -> Step {
        probes += 1
        if page.isEndOfQueue || page.lastNonce == nil {
            if let first = page.firstNonce, page.isEndOfQueue {
                // This page reaches the end: start at the probe (or at its first message, if the
                // probe fell before the queue's beginning).
                next = .done(startNonce: nonce == 0 ? nil : max(nonce, first))
                return next
            }
            // Empty: the probe is past the end (or the queue is empty).
            guard nonce > 0, let low else {
                next = .done(startNonce: nil)
                return next
            }
            high = nonce
            next = bisect(low: low, high: nonce)
            return next
        }
        // More after this page: the message after its last is known to exist.
        let last = page.lastNonce!
        if let first = page.firstNonce, last >= first { pageSize = max(pageSize, last - first + 1) }
        low = last &+ 1
        if let high, high > low! {
            next = bisect(low: low!, high: high)
        } else {
            high = nil
            let (target, overflow) = low!.addingReportingOverflow(stride)
            next = .probe(overflow ? UInt64.max : target)
            stride = stride == 0 ? max(64, pageSize) : (stride > UInt64.max / 4 ? stride : stride * 2)
        }
        if probes >= maxProbes { next = .done(startNonce: low) }
        return next
    }

    private func bisect(low: UInt64, high: UInt64) -> Step {
        guard probes < maxProbes else { return .done(startNonce: low) }
        // `low` exists and `high` is past the end: probe between; within one page of the end,
        // `low` itself, whose page then ends the queue.
        guard high - low > pageSize else { return .probe(low) }
        return .probe(low + (high - low) / 2)
    }
}
