import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers

/// Polls one canister's `ws_get_messages` as the gateway and hands each message to the session
/// of its client key (§6.5). One exists per canister with registered sessions; it stops after
/// the iteration in which the last session left, or when the canister fails for good.
final class CanisterPoller: Sendable {
    let canister: Principal
    private let agent: HTTPAgent
    private let configuration: GatewayConfiguration
    private let metrics: GatewayMetrics
    private let certificates: PollCertificateChecker?
    private let wakeup = PollerWakeup()
    /// Work waiting for the tail search (the `ws_open` of sessions registered meanwhile).
    private let readiness = NIOLockedValueBox<(ready: Bool, waiting: [@Sendable () -> Void])>((false, []))
    private let logger: Logger

    init(
        canister: Principal, agent: HTTPAgent, configuration: GatewayConfiguration, metrics: GatewayMetrics,
        certificates: PollCertificateChecker?, logger: Logger
    ) {
        self.canister = canister
        self.agent = agent
        self.configuration = configuration
        self.metrics = metrics
        self.certificates = certificates
        var logger = logger
        logger[metadataKey: "canister_id"] = "\(canister)"
        self.logger = logger
    }

    /// Ends the current sleep so that the next poll starts now.
    func wake() { wakeup.wake() }

    /// Runs `body` once the poller knows where its canister's queue ends (at once if it does):
    /// a session's `ws_open` waits for that, so that its open message cannot fall into the part
    /// of the queue the poller skips.
    func whenReady(_ body: @escaping @Sendable () -> Void) {
        let runNow = readiness.withLockedValue { state -> Bool in
            if state.ready { return true }
            state.waiting.append(body)
            return false
        }
        if runNow { body() }
    }

    private func becomeReady() {
        let waiting = readiness.withLockedValue { state -> [@Sendable () -> Void] in
            state.ready = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for body in waiting { body() }
    }

    /// After a first poll whose page did not reach the end of the queue: finds the queue's last
    /// page (``QueueTailSearch``) and moves the schedule there. Any failure ends the search early;
    /// the poller then pages on from where it is, as the reference does.
    private func skipBacklog(after firstPage: QueueTailSearch.Page, _ schedule: inout PollSchedule, state: GatewayState) async {
        var search = QueueTailSearch()
        search.record(probe: 0, page: firstPage)
        var last: (nonce: UInt64, batch: CanisterOutputCertifiedMessages)?
        while case .probe(let nonce) = search.next, !Task.isCancelled {
            metrics.pollSent(canister: canister)
            guard let batch = try? await query(nonce: nonce) else { return }
            last = (nonce, batch)
            search.record(probe: nonce, page: QueueTailSearch.Page(batch))
        }
        guard case .done(let start?) = search.next, start >= schedule.nonce else { return }
        if start > schedule.nonce {
            logger.info(
                "skipped messages queued before this poller started",
                metadata: [
                    "start_nonce": "\(start)", "skipped": "\(start - schedule.nonce)", "queries": "\(search.probes)",
                ])
            schedule.start(at: start)
        }
        // The page that ended the search is the next poll's answer: relay it rather than ask again.
        guard let last, last.nonce == start else { return }
        if let certificates {
            do throws(PollError) { try await certificates.check(last.batch, canister: canister) } catch { return }
        }
        do throws(PollSchedule.Failure) { try schedule.accept(last.batch.messages) } catch { return }
        if !last.batch.messages.isEmpty {
            relay(last.batch, to: state.sessions(of: canister), receivedAt: ContinuousClock.now)
        }
    }

    /// The poll loop; returns when the canister has no sessions left in `state`, on a fatal
    /// error, or on cancellation. `state` is the registry that created this poller: it is passed
    /// here rather than held, so that neither needs the other to exist first.
    func run(in state: GatewayState) async {
        metrics.pollerStarted()
        defer { metrics.pollerStopped() }
        logger.debug("poller started")
        var schedule = PollSchedule(
            pollingInterval: configuration.pollingInterval,
            maxIdleInterval: configuration.maxIdlePollingInterval,
            retryBudget: configuration.pollRetryBudget,
            maxRetryBackoff: configuration.maxPollRetryBackoff,
            retryWindow: configuration.pollRetryWindow)
        // Sessions' ws_open waits for the first poll (and the tail search it may start), so that
        // their open messages cannot fall into the part of the queue that is skipped.
        defer { becomeReady() }
        var isFirstPoll = true
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let start = clock.now
            let (next, firstPage) = await pollOnce(&schedule, start: start, clock: clock, reportsPage: isFirstPoll, state: state)
            if isFirstPoll {
                isFirstPoll = false
                if let firstPage, !firstPage.isEndOfQueue { await skipBacklog(after: firstPage, &schedule, state: state) }
                becomeReady()
            }
            if case .fail(let failure) = next {
                fail(failure, state: state)
                return
            }
            if state.removeIfEmpty(canister, poller: self) {
                logger.debug("poller stopped: no sessions left")
                return
            }
            if case .wait(let duration) = next {
                metrics.pollerDuration(canister: canister, clock.now - start)
                if await wakeup.wait(upTo: duration) { schedule.clientCallRelayed() }
            }
        }
    }

    /// One poll; with `reportsPage`, also the nonces of a successful batch (the first poll's,
    /// for the tail search).
    private func pollOnce(
        _ schedule: inout PollSchedule, start: ContinuousClock.Instant, clock: ContinuousClock,
        reportsPage: Bool, state: GatewayState
    ) async -> (PollSchedule.Next, QueueTailSearch.Page?) {
        metrics.pollSent(canister: canister)
        let batch: CanisterOutputCertifiedMessages
        do throws(PollError) {
            batch = try await query(nonce: schedule.nonce)
            try await certificates?.check(batch, canister: canister)
        } catch {
            metrics.pollFailed(kind: error.kind)
            switch error {
            case .fatal(let reason):
                return (.fail(.init(code: .canisterUnavailable, reason: reason)), nil)
            case .transient(let reason):
                if clock.now - start >= configuration.pollTimeout {
                    logger.notice("ws_get_messages timed out; polling again", metadata: ["nonce": "\(schedule.nonce)"])
                    return (schedule.timedOut(), nil)
                }
                logger.warning(
                    "ws_get_messages failed; retrying", metadata: ["reason": "\(reason)", "attempt": "\(schedule.failures + 1)"])
                return (schedule.failedTransiently(reason), nil)
            }
        }
        let received = clock.now
        do throws(PollSchedule.Failure) {
            try schedule.accept(batch.messages)
        } catch {
            return (.fail(error), nil)
        }
        if !batch.messages.isEmpty {
            relay(batch, to: state.sessions(of: canister), receivedAt: received)
        }
        let next = schedule.succeeded(messageCount: batch.messages.count, isEndOfQueue: batch.isEndOfQueue, elapsed: clock.now - start)
        return (next, reportsPage ? QueueTailSearch.Page(batch) : nil)
    }

    private func relay(
        _ batch: CanisterOutputCertifiedMessages, to sessions: [ClientKey: ClientSession],
        receivedAt: ContinuousClock.Instant
    ) {
        for message in batch.messages {
            // Messages for keys without a session (other gateways' old clients, clients that
            // left) are skipped (§6.5 step 4).
            guard let session = sessions[message.clientKey] else { continue }
            session.deliver(CanisterMessageFrame(message: message, of: batch).encoded(), polledAt: receivedAt)
        }
    }

    private func fail(_ failure: PollSchedule.Failure, state: GatewayState) {
        let sessions = state.removeCanister(canister, poller: self)
        logger.error(
            "poller failed; closing the canister's sessions",
            metadata: ["reason": "\(failure.reason)", "sessions": "\(sessions.count)"])
        for session in sessions { session.pollerFailed(code: failure.code, reason: failure.reason) }
    }

    enum PollError: Error {
        case transient(String)
        case fatal(String)

        var kind: String {
            switch self {
            case .transient: return "transient"
            case .fatal: return "fatal"
            }
        }
    }

    private static let resultTypes: [CandidType] = [CanisterWsGetMessagesResult.lenientCandidType]

    private func query(nonce: UInt64) async throws(PollError) -> CanisterOutputCertifiedMessages {
        let reply: [UInt8]
        do {
            let arg = try Candid.encode(CanisterWsGetMessagesArguments(nonce: nonce))
            reply = try await agent.query(canister: canister, method: "ws_get_messages", arg: arg)
        } catch let error as AgentError {
            throw Self.classify(error)
        } catch {
            throw .fatal("cannot encode the ws_get_messages argument: \(error)")
        }
        let result: CanisterWsGetMessagesResult
        do {
            let values = try CandidDecoder().decode(reply, as: Self.resultTypes)
            guard let first = values.first else { throw PollError.fatal("ws_get_messages replied with no value") }
            result = try CanisterWsGetMessagesResult(candid: first)
        } catch let error as PollError {
            throw error
        } catch {
            throw .fatal("ws_get_messages reply is not a CanisterWsGetMessagesResult: \(error)")
        }
        switch result {
        case .ok(let batch): return batch
        case .err(let text): throw .fatal("ws_get_messages returned Err: \(text)")
        }
    }

    /// The reference's split (§6.5): transport trouble, HTTP errors, unreadable or untrusted
    /// responses and SYS_TRANSIENT rejects are worth retrying; other rejects (stopped, deleted or
    /// trapping canister, missing method) are answers.
    static func classify(_ error: AgentError) -> PollError {
        switch error {
        case .transport, .http, .malformedResponse, .responseTooLarge, .timedOut, .certificate, .replyForgotten:
            return .transient(error.description)
        case .rejected(let reject):
            // A stopped or stopping canister (IC0508, IC0509) is what `dfx canister stop`, an
            // upgrade and `start` look like from here: the canister keeps its sessions across the
            // upgrade, so the poller rides it out within its retry budget and window instead of
            // closing every session at once.
            if reject.code == .sysTransient || reject.errorCode == "IC0508" || reject.errorCode == "IC0509" {
                return .transient(error.description)
            }
            return .fatal(error.description)
        case .identity, .querySignature, .replyDecoding:
            return .fatal(error.description)
        }
    }
}
