/// The client's acknowledgement bookkeeping (protocol §5.6): every `ws_message` sent waits for
/// an `AckMessage` from the canister; when acks stop arriving within
/// `ackMessageInterval + 30 s`, the gateway is dropping or delaying messages.
///
/// A value type without I/O: the connection feeds it sends, acks and the time, and acts on the
/// errors it returns.
package struct AcknowledgementTracker: Sendable {
    /// One sent message waiting for its ack.
    struct Entry: Sendable, Equatable {
        let sequenceNumber: UInt64
        let sentAt: UInt64
    }

    /// `E` of §5.6, in ns.
    let timeout: UInt64
    /// Unacknowledged messages, oldest first, with strictly increasing sequence numbers.
    private(set) var entries: [Entry] = []
    /// When the ack timer fires (ns); `nil` until the first message is sent.
    private(set) var deadline: UInt64?

    init(timeoutNanoseconds: UInt64) { timeout = timeoutNanoseconds }

    /// The unacknowledged sequence numbers, oldest first.
    var unacknowledged: [UInt64] { entries.map { $0.sequenceNumber } }

    /// Records a sent message; starts the timer if it is not running.
    mutating func add(_ sequenceNumber: UInt64, now: UInt64) throws(ICWebSocketClientError) {
        if let last = entries.last, sequenceNumber <= last.sequenceNumber {
            throw .internalInconsistency("sequence number \(sequenceNumber) sent after \(last.sequenceNumber)")
        }
        entries.append(Entry(sequenceNumber: sequenceNumber, sentAt: now))
        if deadline == nil { deadline = now &+ timeout }
    }

    /// Processes `AckMessage { last_incoming_sequence_num = n }`.
    mutating func acknowledge(upTo n: UInt64, now: UInt64) throws(ICWebSocketClientError) {
        if let index = entries.firstIndex(where: { $0.sequenceNumber == n }) {
            entries.removeFirst(index + 1)
        } else if let last = entries.last, n > last.sequenceNumber {
            throw .acknowledgementForUnsentMessage(acknowledged: n, lastSent: last.sequenceNumber)
        }
        // Otherwise an old ack (or 0 before anything was sent): nothing to drop.
        let expired = entries.filter { now >= $0.sentAt && now - $0.sentAt >= timeout }
        if !expired.isEmpty { throw .acknowledgementTimeout(unacknowledged: unacknowledged) }
        deadline = now &+ timeout
    }

    /// The timer check: once the deadline has passed, reports every unacknowledged number.
    /// (The timer fires even when nothing is pending: every ack is answered with a keep-alive
    /// that must itself be acknowledged, so acks are due regularly.)
    func checkDeadline(now: UInt64) throws(ICWebSocketClientError) {
        if let deadline, now >= deadline { throw .acknowledgementTimeout(unacknowledged: unacknowledged) }
    }

    /// After a resume: the canister executed everything below `nextExpected`; the rest is sent
    /// again now, so its ack timer starts again.
    mutating func resume(nextExpected: UInt64, now: UInt64) {
        entries = entries.filter { $0.sequenceNumber >= nextExpected }.map { Entry(sequenceNumber: $0.sequenceNumber, sentAt: now) }
        deadline = now &+ timeout
    }

    /// Forgets everything (on close).
    mutating func clear() {
        entries.removeAll()
        deadline = nil
    }
}
