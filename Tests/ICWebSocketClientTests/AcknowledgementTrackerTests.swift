import Testing

@testable import ICWebSocketClient

/// The ack queue rules of protocol §5.6 (§8.3 scenarios 58–62).
struct AcknowledgementTrackerTests {
    static let second: UInt64 = 1_000_000_000
    /// E = 300 s + 30 s.
    let timeout = 330 * second

    private func timeoutNumbers(_ body: () throws(ICWebSocketClientError) -> Void) -> [UInt64]? {
        do { try body() } catch {
            if case .acknowledgementTimeout(let numbers) = error { return numbers }
        }
        return nil
    }

    @Test func addingANumberNotAboveTheLastThrows() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        try tracker.add(1, now: 0)
        try tracker.add(2, now: 0)
        #expect(throws: ICWebSocketClientError.self) { try tracker.add(2, now: 0) }
        #expect(throws: ICWebSocketClientError.self) { try tracker.add(1, now: 0) }
        #expect(tracker.unacknowledged == [1, 2])
    }

    @Test func theTimerStartsWithTheFirstSend() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        #expect(tracker.deadline == nil)
        try tracker.checkDeadline(now: 10 * timeout)
        try tracker.add(1, now: 5 * Self.second)
        #expect(tracker.deadline == 5 * Self.second + timeout)
        try tracker.add(2, now: 9 * Self.second)
        #expect(tracker.deadline == 5 * Self.second + timeout, "a running timer is not restarted by sends")
    }

    @Test func anAckDropsEverythingUpToItsNumberAndRestartsTheTimer() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        for n in 1...3 { try tracker.add(UInt64(n), now: 0) }
        try tracker.acknowledge(upTo: 2, now: 100 * Self.second)
        #expect(tracker.unacknowledged == [3])
        #expect(tracker.deadline == 100 * Self.second + timeout)
    }

    @Test func anUnknownLowerAckIsIgnoredAndAckZeroIsNotAnError() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        try tracker.acknowledge(upTo: 0, now: 0)
        for n in 1...3 { try tracker.add(UInt64(n), now: 0) }
        try tracker.acknowledge(upTo: 0, now: Self.second)
        #expect(tracker.unacknowledged == [1, 2, 3])
        try tracker.acknowledge(upTo: 1, now: Self.second)
        try tracker.acknowledge(upTo: 1, now: Self.second)
        #expect(tracker.unacknowledged == [2, 3])
    }

    @Test func anAckAboveTheLastSentNumberIsAnError() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        for n in 1...3 { try tracker.add(UInt64(n), now: 0) }
        #expect {
            try tracker.acknowledge(upTo: 4, now: 0)
        } throws: { error in
            guard case ICWebSocketClientError.acknowledgementForUnsentMessage(4, 3) = error else { return false }
            return true
        }
    }

    @Test func anAckArrivingAfterOthersExpiredReportsTheRemainingOnes() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        for n in 1...3 { try tracker.add(UInt64(n), now: 0) }
        #expect(timeoutNumbers { () throws(ICWebSocketClientError) in try tracker.acknowledge(upTo: 1, now: timeout) } == [2, 3])
    }

    @Test func theTimerReportsEveryUnacknowledgedNumber() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        try tracker.add(1, now: 0)
        try tracker.checkDeadline(now: timeout - 1)
        #expect(timeoutNumbers { () throws(ICWebSocketClientError) in try tracker.checkDeadline(now: timeout) } == [1])
    }

    /// §8.3 scenario 60: after message 1 is acknowledged in time, the keep-alive (2) is the only
    /// unacknowledged message, and it alone is reported when the next ack does not come.
    @Test func afterAnInTimeAckOnlyTheKeepAliveIsReported() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        try tracker.add(1, now: 0)
        try tracker.acknowledge(upTo: 1, now: 300 * Self.second)
        try tracker.add(2, now: 300 * Self.second)
        try tracker.checkDeadline(now: 300 * Self.second + timeout - 1)
        #expect(timeoutNumbers { () throws(ICWebSocketClientError) in try tracker.checkDeadline(now: 300 * Self.second + timeout) } == [2])
    }

    @Test func clearStopsTheTimer() throws {
        var tracker = AcknowledgementTracker(timeoutNanoseconds: timeout)
        try tracker.add(1, now: 0)
        tracker.clear()
        #expect(tracker.deadline == nil)
        #expect(tracker.unacknowledged.isEmpty)
        try tracker.checkDeadline(now: 10 * timeout)
    }
}
