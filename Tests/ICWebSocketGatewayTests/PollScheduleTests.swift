import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import Testing

/// The poller's decisions (protocol §6.5, scenarios 40–43) plus our backoff rules.
@Suite struct PollScheduleTests {
    let gateway = try! Principal(text: "sqdfl-mr4km-2hfjy-gajqo-xqvh7-hf4mf-nra4i-3it6l-neaw4-soolw-tae")
    let key = ClientKey(clientPrincipal: .anonymous, clientNonce: 1)

    func schedule() -> PollSchedule {
        PollSchedule(
            pollingInterval: .milliseconds(100), maxIdleInterval: .milliseconds(800), retryBudget: 3,
            maxRetryBackoff: .milliseconds(300))
    }

    func messages(_ nonces: ClosedRange<UInt64>) -> [CanisterOutputMessage] {
        nonces.map { CanisterOutputMessage(clientKey: key, key: MessageKey.format(gateway: gateway, nonce: $0), content: [1]) }
    }

    @Test func firstBatchMayStartAnywhereThenNoncesMustBeConsecutive() throws {
        var schedule = schedule()
        try schedule.accept(messages(5...9))
        #expect(schedule.nonce == 10)
        try schedule.accept(messages(10...10))
        #expect(schedule.nonce == 11)
    }

    @Test func nonConsecutiveNonceFailsWithTheReferenceText() throws {
        var schedule = schedule()
        try schedule.accept(messages(0...9))
        #expect(throws: PollSchedule.Failure(code: .canisterUnavailable, reason: "Non consecutive nonce: expected 10, got 0")) {
            try schedule.accept(messages(0...3))
        }
        // The whole batch is checked before anything changes.
        #expect(schedule.nonce == 10)
    }

    @Test func unparsableKeyFails() {
        var schedule = schedule()
        let bad = [CanisterOutputMessage(clientKey: key, key: "gateway_not-a-u64", content: [])]
        #expect(throws: PollSchedule.Failure.self) { try schedule.accept(bad) }
    }

    @Test func notEndOfQueuePollsAgainAtOnce() {
        var schedule = schedule()
        #expect(schedule.succeeded(messageCount: 10, isEndOfQueue: false, elapsed: .milliseconds(30)) == .pollNow)
    }

    @Test func endOfQueueSleepsTheRestOfThePeriod() {
        var schedule = schedule()
        #expect(schedule.succeeded(messageCount: 3, isEndOfQueue: true, elapsed: .milliseconds(30)) == .wait(.milliseconds(70)))
        #expect(schedule.succeeded(messageCount: 3, isEndOfQueue: true, elapsed: .milliseconds(130)) == .wait(.zero))
    }

    @Test func idlePollsBackOffUpToTheMaximumAndMessagesOrCallsReset() {
        var schedule = schedule()
        let waits = (0..<6).map { _ in schedule.succeeded(messageCount: 0, isEndOfQueue: true, elapsed: .zero) }
        #expect(
            waits == [
                .wait(.milliseconds(200)), .wait(.milliseconds(400)), .wait(.milliseconds(800)),
                .wait(.milliseconds(800)), .wait(.milliseconds(800)), .wait(.milliseconds(800)),
            ])
        schedule.clientCallRelayed()
        #expect(schedule.idleInterval == .milliseconds(100))
        _ = schedule.succeeded(messageCount: 0, isEndOfQueue: true, elapsed: .zero)
        _ = schedule.succeeded(messageCount: 1, isEndOfQueue: true, elapsed: .zero)
        #expect(schedule.idleInterval == .milliseconds(100))
    }

    @Test func transientFailuresBackOffThenGiveUpAfterTheBudget() {
        var schedule = schedule()
        #expect(schedule.failedTransiently("down") == .wait(.milliseconds(100)))
        #expect(schedule.failedTransiently("down") == .wait(.milliseconds(200)))
        #expect(schedule.failedTransiently("down") == .wait(.milliseconds(300)))
        guard case .fail(let failure) = schedule.failedTransiently("down") else {
            Issue.record("expected the budget to run out")
            return
        }
        #expect(failure.code == .tryAgainLater)
        #expect(failure.reason.contains("down"))
    }

    @Test func theBudgetAlsoNeedsTheFailuresToLastTheWindow() {
        var schedule = PollSchedule(
            pollingInterval: .milliseconds(100), maxIdleInterval: .seconds(1), retryBudget: 1,
            maxRetryBackoff: .seconds(1), retryWindow: .seconds(60))
        let start = ContinuousClock.now
        #expect(schedule.timedOut(now: start) == .pollNow)
        #expect(schedule.timedOut(now: start + .seconds(10)) == .pollNow)
        guard case .fail = schedule.timedOut(now: start + .seconds(61)) else {
            Issue.record("expected the poller to give up after the window")
            return
        }
    }

    @Test func successResetsTheFailureCount() {
        var schedule = schedule()
        _ = schedule.failedTransiently("x")
        _ = schedule.failedTransiently("x")
        _ = schedule.succeeded(messageCount: 0, isEndOfQueue: true, elapsed: .zero)
        #expect(schedule.failures == 0)
    }

    @Test func timeoutsRetryAtOnceWithinTheBudget() {
        var schedule = schedule()
        #expect(schedule.timedOut() == .pollNow)
        #expect(schedule.nonce == 0)
        _ = schedule.timedOut()
        _ = schedule.timedOut()
        guard case .fail = schedule.timedOut() else {
            Issue.record("expected the budget to run out")
            return
        }
    }
}
