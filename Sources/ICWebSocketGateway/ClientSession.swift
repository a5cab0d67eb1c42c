import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// What a session needs from the gateway; one instance shared by all sessions.
final class SessionServices: Sendable {
    let configuration: GatewayConfiguration
    let gatewayPrincipal: Principal
    let state: GatewayState
    /// Submits client envelopes (its identity is never used for them).
    let callAgent: HTTPAgent
    let metrics: GatewayMetrics
    /// Starts a poller created by a registration.
    let startPoller: @Sendable (CanisterPoller) -> Void
    /// Calls `ws_close` for a client key as the gateway (§6.6), bounded in time.
    let closeOnCanister: @Sendable (SessionStateMachine.SessionTarget) async -> Void
    /// Called once per session when its closing work (Close frame, unregistration, `ws_close`) is done.
    let sessionFinished: @Sendable (ClientSession) -> Void

    init(
        configuration: GatewayConfiguration, gatewayPrincipal: Principal, state: GatewayState, callAgent: HTTPAgent,
        metrics: GatewayMetrics, startPoller: @escaping @Sendable (CanisterPoller) -> Void,
        closeOnCanister: @escaping @Sendable (SessionStateMachine.SessionTarget) async -> Void,
        sessionFinished: @escaping @Sendable (ClientSession) -> Void
    ) {
        self.configuration = configuration
        self.gatewayPrincipal = gatewayPrincipal
        self.state = state
        self.callAgent = callAgent
        self.metrics = metrics
        self.startPoller = startPoller
        self.closeOnCanister = closeOnCanister
        self.sessionFinished = sessionFinished
    }
}

/// One WebSocket connection: the I/O around a ``SessionStateMachine``, driven by events rather
/// than by tasks of its own, so that an idle connection costs only its channel and this object.
///
/// Events arrive from the connection's ``ClientConnectionHandler`` (client messages, the end of
/// the connection), from the canister's poller (messages, failure), from timers on the channel's
/// event loop and from the gateway (shutdown). Work that must wait happens elsewhere: a task
/// exists only while this connection has envelopes to submit (one at a time, §6.4), and the
/// channel's pending writes are the outbound queue, bounded by
/// ``GatewayConfiguration/maxPendingOutboundMessages``.
///
/// The first `end` action sends the Close frame, unregisters the client key and calls
/// `ws_close` as the machine decided, then reports to ``SessionServices/sessionFinished``.
final class ClientSession: Sendable {
    let id: UInt64
    private let services: SessionServices
    private let logger: Logger
    private let channel: any Channel
    private let startedAt = ContinuousClock.now
    private let state: NIOLockedValueBox<Inner>

    private struct Inner {
        var machine: SessionStateMachine
        /// Set when `ws_open` is forwarded; cleared by the first relayed message (the open message).
        var setupStartedAt: ContinuousClock.Instant?
        /// The session's key and canister, kept after the machine reaches `closed`.
        var target: SessionStateMachine.SessionTarget?
        /// Canister messages written to the channel and not yet flushed to the socket.
        var pendingOutbound = 0
        /// Envelopes waiting for the previous one's outcome. Reading pauses at
        /// `maxPendingCalls` / `maxPendingCallBytes`, so the array stays short and removing the
        /// first is cheap; an empty array allocates nothing, which idle connections appreciate.
        var calls: [ForwardedEnvelope] = []
        /// `calls` in bytes, each envelope with ``GatewayConfiguration/envelopeOverheadBytes``.
        var callBytes = 0
        /// Whether the gateway stopped reading from the socket because `calls` is full.
        var readingPaused = false
        /// Whether a task is submitting `calls`; it clears this when it finds the queue empty.
        var submitting = false
        var submitter: Task<Void, Never>?
        var timer: Scheduled<Void>?
        /// Set when the session ended; afterwards every event is ignored.
        var ending: SessionStateMachine.Ending?
    }

    /// Creates the session of a freshly upgraded `channel`; call ``start()`` on its event loop.
    init(id: UInt64, channel: any Channel, services: SessionServices, logger: Logger) {
        self.id = id
        self.channel = channel
        self.services = services
        var logger = logger
        logger[metadataKey: "connection_id"] = "\(id)"
        self.logger = logger
        state = NIOLockedValueBox(
            Inner(
                machine: SessionStateMachine(
                    gatewayPrincipal: services.gatewayPrincipal,
                    maxEnvelopeBytes: services.configuration.maxEnvelopeBytes,
                    handshakeTimeout: services.configuration.handshakeTimeout,
                    setupTimeout: services.configuration.setupTimeout)))
    }

    var sessionState: SessionStateMachine.State { state.withLockedValue { $0.machine.state } }

    /// Whether the gateway has begun the closing handshake (its Close frame is on the way).
    var isClosing: Bool { state.withLockedValue { $0.ending?.closeFrame != nil } }

    // MARK: Inputs

    /// Sends the handshake frame (§2.3) and arms the handshake timeout.
    func start() {
        let handshake = GatewayHandshakeFrame(gatewayPrincipal: services.gatewayPrincipal).encoded()
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: handshake)))
            .whenFailure { [self] error in handle(.writeFailed(reason: "handshake not sent: \(error)")) }
        arm(after: services.configuration.handshakeTimeout) { session in
            if case .initial = session.sessionState { session.handle(.handshakeTimeout) }
        }
    }

    /// A complete client message (fragments joined, size checked by the handler).
    func received(_ message: ByteBuffer, isText: Bool) {
        if isText {
            services.metrics.frameRejected(reason: "text_frame")
            handle(.textFrame)
            return
        }
        if case .end = handle(.binaryFrame(Array(message.readableBytesView))) {
            services.metrics.frameRejected(reason: "invalid_frame")
        }
    }

    /// A client message the handler refused (too big, badly fragmented, not WebSocket).
    func refused(code: GatewayCloseCode, reason: String, metric: String) {
        services.metrics.frameRejected(reason: metric)
        handle(.invalidMessage(code: code, reason: reason))
    }

    /// The connection is gone, or the client sent its Close frame.
    func connectionEnded(reason: String) { handle(.clientGone(reason: reason)) }

    /// A canister message for this client, from its poller, in queue order.
    func deliver(_ frame: [UInt8], polledAt: ContinuousClock.Instant) {
        let (action, wasSetup, overflow): (SessionStateMachine.Action, Bool, Bool) = state.withLockedValue { inner in
            guard inner.pendingOutbound < services.configuration.maxPendingOutboundMessages else { return (.none, false, true) }
            let action = inner.machine.handle(.canisterMessage(frame))
            guard case .send = action else { return (action, false, false) }
            inner.pendingOutbound += 1
            defer { inner.setupStartedAt = nil }
            return (action, inner.setupStartedAt != nil, false)
        }
        if overflow {
            let limit = services.configuration.maxPendingOutboundMessages
            handle(
                .outboundOverflow(reason: "client reads too slowly: \(limit) canister messages unsent (--max-pending-outbound \(limit))"))
            return
        }
        guard case .send(let bytes) = action else { return }
        if wasSetup { cancelTimer() }
        let metrics = services.metrics
        let startedAt = self.startedAt
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)))
            .whenComplete { [self] result in
                state.withLockedValue { $0.pendingOutbound -= 1 }
                switch result {
                case .success:
                    let now = ContinuousClock.now
                    metrics.messageRelayed(latency: now - polledAt)
                    if wasSetup { metrics.sessionOpened(after: now - startedAt) }
                case .failure(let error):
                    handle(.writeFailed(reason: "write failed: \(error)"))
                }
            }
    }

    /// The poller of this session's canister gave up.
    func pollerFailed(code: GatewayCloseCode, reason: String) { handle(.pollerFailed(code: code, reason: reason)) }

    /// The gateway is shutting down.
    func shutdown() { handle(.shutdown) }

    /// Closes the connection without a closing handshake (the gateway is stopping for good).
    func abort() { channel.close(promise: nil) }

    /// Ends this session because a resumed connection took its client key over.
    func supersede() { handle(.superseded) }

    // MARK: Events

    /// Feeds an event to the machine and performs its action.
    @discardableResult
    private func handle(_ event: SessionStateMachine.Event) -> SessionStateMachine.Action {
        let action = state.withLockedValue { inner -> SessionStateMachine.Action in
            let action = inner.machine.handle(event)
            switch action {
            case .registerAndForward(let target, _):
                inner.target = target
                inner.setupStartedAt = ContinuousClock.now
            case .end(let ending):
                inner.ending = ending
            default:
                break
            }
            return action
        }
        switch action {
        case .registerAndForward(let target, let envelope):
            register(target, envelope)
        case .forward(let envelope):
            enqueue(envelope)
        case .ignore(let reason):
            services.metrics.frameRejected(reason: "ignored")
            logger.warning("client frame dropped", metadata: ["reason": "\(reason)"])
        case .end(let ending):
            conclude(ending)
        case .send, .none:
            break
        }
        return action
    }

    private func register(_ target: SessionStateMachine.SessionTarget, _ envelope: ForwardedEnvelope) {
        if envelope.isResume {
            services.metrics.sessionResumed()
            logger.info(
                "client resumes its session (ws_resume)",
                metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
        }
        switch services.state.register(self, key: target.clientKey, canister: target.canister, takingOver: envelope.isResume) {
        case .replaced(let poller, let displaced):
            logger.notice(
                "a resumed connection takes over the client key from an older connection",
                metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
            displaced.supersede()
            enqueueWhenReady(envelope, poller: poller)
        case .duplicateClientKey:
            // Treated like a bad first frame: the other connection keeps the key.
            let ending = SessionStateMachine.Ending(
                closeFrame: (.policyViolation, "client key \(target.clientKey) is already connected"),
                unregisters: false, callsWsClose: false, reason: "duplicate client key")
            state.withLockedValue {
                _ = $0.machine.handle(.clientGone(reason: "duplicate"))
                $0.target = nil
                $0.ending = ending
            }
            services.metrics.frameRejected(reason: "duplicate_client_key")
            logger.warning("client key already connected", metadata: ["client_key": "\(target.clientKey)"])
            conclude(ending)
            return
        case .registeredStartingPoller(let poller):
            logger.info("session registered", metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
            enqueueWhenReady(envelope, poller: poller)
            services.startPoller(poller)
        case .registered(let poller):
            logger.info("session registered", metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
            enqueueWhenReady(envelope, poller: poller)
        }
        cancelTimer()
        arm(after: services.configuration.setupTimeout) { session in
            if case .setup = session.sessionState { session.handle(.setupTimeout) }
        }
    }

    // MARK: Calls (§6.4: one connection's envelopes reach the IC one after another)

    /// `ws_open` goes to the IC once the canister's poller knows where to start reading
    /// (``CanisterPoller/whenReady(_:)``), on the channel's event loop like every enqueue.
    private func enqueueWhenReady(_ envelope: ForwardedEnvelope, poller: CanisterPoller) {
        let eventLoop = channel.eventLoop
        poller.whenReady { [self] in
            if eventLoop.inEventLoop { enqueue(envelope) } else { eventLoop.execute { self.enqueue(envelope) } }
        }
    }

    /// Whether the gateway has stopped reading from this connection (its call queue is full).
    var isReadingPaused: Bool { state.withLockedValue { $0.readingPaused } }

    /// Queues an envelope for the IC. Called on the channel's event loop. A full queue stops
    /// reading from the socket instead of closing: TCP then holds the client back until the
    /// IC has caught up. Only a peer that keeps sending past a stopped reader (frames already
    /// in flight are bounded by ``GatewayConfiguration/callBacklogBudgetBytes``) is closed.
    private func enqueue(_ envelope: ForwardedEnvelope) {
        let configuration = services.configuration
        let cost = Self.queueCost(of: envelope)
        enum Outcome { case queued(startsSubmitter: Bool, pauses: Bool, bytes: Int), ignored, overBudget(Int) }
        let outcome = state.withLockedValue { inner -> Outcome in
            guard inner.ending == nil else { return .ignored }
            guard inner.callBytes + cost <= configuration.callBacklogBudgetBytes else { return .overBudget(inner.callBytes + cost) }
            inner.calls.append(envelope)
            inner.callBytes += cost
            let pauses =
                !inner.readingPaused
                && (inner.calls.count >= configuration.maxPendingCalls || inner.callBytes >= configuration.maxPendingCallBytes)
            if pauses { inner.readingPaused = true }
            defer { inner.submitting = true }
            return .queued(startsSubmitter: !inner.submitting, pauses: pauses, bytes: inner.callBytes)
        }
        let startsSubmitter: Bool
        switch outcome {
        case .ignored:
            return
        case .overBudget(let bytes):
            logger.warning(
                "client kept sending after reading stopped",
                metadata: [
                    "queued_bytes": "\(bytes)", "budget_bytes": "\(configuration.callBacklogBudgetBytes)",
                ])
            handle(
                .callBacklogExceeded(
                    reason: "\(bytes) bytes sent while reading was paused; budget \(configuration.callBacklogBudgetBytes) bytes"))
            return
        case .queued(let starts, let pauses, let queuedBytes):
            services.metrics.callsQueued(bytes: queuedBytes)
            if pauses { pauseReading() }
            startsSubmitter = starts
        }
        guard startsSubmitter else { return }
        let task = Task { await self.submitQueuedCalls() }
        // Kept only to cancel it when the session ends, and only while it runs (a finished task
        // kept by its handle would stay allocated for the life of the connection). Enqueues come
        // from the channel's event loop one at a time, so `submitting` still true means this
        // task has not finished.
        state.withLockedValue { inner in
            if inner.ending != nil {
                task.cancel()
            } else if inner.submitting {
                inner.submitter = task
            }
        }
    }

    /// Stops reading from the socket: the client's frames stay in the kernel's buffers and TCP
    /// flow control holds it back.
    private func pauseReading() {
        services.metrics.readingPaused()
        logger.debug(
            "call queue full; reading paused",
            metadata: [
                "max_pending_calls": "\(services.configuration.maxPendingCalls)",
                "max_pending_call_bytes": "\(services.configuration.maxPendingCallBytes)",
            ])
        channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
    }

    /// Reading resumes once the queue is down to half of both limits, so that a client sending
    /// steadily is not paused and resumed on every envelope.
    private func resumeReadingIfDrained() {
        let configuration = services.configuration
        let resumes = state.withLockedValue { inner -> Bool in
            guard inner.readingPaused, inner.ending == nil,
                inner.calls.count <= configuration.maxPendingCalls / 2,
                inner.callBytes <= configuration.maxPendingCallBytes / 2
            else { return false }
            inner.readingPaused = false
            return true
        }
        guard resumes else { return }
        logger.debug("call queue drained; reading resumed")
        resumeReading()
    }

    private func resumeReading() {
        let channel = self.channel
        channel.eventLoop.execute {
            channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            channel.read()
        }
    }

    /// Submits queued envelopes until the queue is empty, then ends; the next envelope starts a
    /// new task.
    private func submitQueuedCalls() async {
        while !Task.isCancelled {
            let next: ForwardedEnvelope? = state.withLockedValue { inner in
                guard inner.ending == nil, !inner.calls.isEmpty else {
                    inner.submitting = false
                    inner.submitter = nil
                    return nil
                }
                let envelope = inner.calls.removeFirst()
                inner.callBytes -= Self.queueCost(of: envelope)
                return envelope
            }
            guard let envelope = next else { return }
            resumeReadingIfDrained()
            await submit(envelope)
        }
    }

    /// What a queued envelope holds in memory: its body, its decoded argument and its record.
    static func queueCost(of envelope: ForwardedEnvelope) -> Int {
        envelope.body.count + envelope.arg.count + GatewayConfiguration.envelopeOverheadBytes
    }

    private func submit(_ envelope: ForwardedEnvelope) async {
        let start = ContinuousClock.now
        let outcome: String
        // A refused `ws_resume` must reach the client (it then opens a new session at once
        // instead of waiting for its resume timeout), so it is always submitted until executed.
        switch envelope.isResume ? .afterExecuted : services.configuration.callSubmission {
        case .afterAccepted: outcome = await submitUntilAccepted(envelope)
        case .afterExecuted: outcome = await submitUntilExecuted(envelope)
        }
        services.metrics.envelopeRelayed(after: ContinuousClock.now - start, outcome: outcome)
        if services.configuration.pollsAfterRelayedCall {
            services.state.wakePoller(of: envelope.canister)
        }
    }

    /// Hands the envelope to the IC's ingress queue.
    private func submitUntilAccepted(_ envelope: ForwardedEnvelope) async -> String {
        await resubmittingTransientFailures(envelope) { () async throws(AgentError) -> String in
            try await services.callAgent.acceptCall(envelope.body, effectiveCanisterID: envelope.canister)
            return "accepted"
        }
    }

    /// Submits the envelope and waits for its certified outcome.
    private func submitUntilExecuted(_ envelope: ForwardedEnvelope) async -> String {
        await resubmittingTransientFailures(envelope) { () async throws(AgentError) -> String in
            let reply = try await services.callAgent.submitCall(
                envelope.body, requestID: envelope.requestID,
                effectiveCanisterID: envelope.canister,
                ingressExpiry: envelope.ingressExpiry)
            // `ws_open` and `ws_message` answer `variant { Ok; Err : text }` (§3.1): an `Err`
            // means the canister refused the client's message, which nobody would see otherwise.
            if case .err(let text)? = try? Candid.decode(CanisterWsResult.self, from: reply) {
                services.metrics.callRefusedByCanister(method: envelope.methodName)
                logger.warning(
                    "the canister refused a client's call",
                    metadata: [
                        "method": "\(envelope.methodName)", "client_principal": "\(envelope.sender)", "error": "\(text)",
                    ])
                if envelope.isResume { handle(.resumeRefused(reason: text)) }
                return "refused"
            }
            return "replied"
        }
    }

    /// Runs `submission` and returns its outcome label. A transient failure (no answer, 429,
    /// 5xx) may or may not have left the envelope with the IC, so the same signed envelope is
    /// offered again a few times before the next one goes: dropping it would leave a gap the
    /// canister answers by closing the session, while the IC takes a request id at most once.
    /// A retry the IC answers with "already received" means an earlier attempt got through.
    private func resubmittingTransientFailures(
        _ envelope: ForwardedEnvelope, _ submission: () async throws(AgentError) -> String
    ) async -> String {
        var wait = Duration.milliseconds(100)
        for attempt in 1...Self.submissionAttempts {
            do {
                return try await submission()
            } catch {
                if attempt > 1, case .http(400, let message) = error, message.contains("already received") {
                    return "accepted"
                }
                guard error.isTransient, attempt < Self.submissionAttempts, !Task.isCancelled else {
                    return reportFailure(error, envelope)
                }
                logger.notice(
                    "offering a client's call to the IC again",
                    metadata: [
                        "method": "\(envelope.methodName)", "attempt": "\(attempt + 1)", "error": "\(error)",
                    ])
                try? await Task.sleep(for: wait)
                wait *= 2
            }
        }
        return "failed"
    }

    /// How often an envelope is offered to an IC that fails transiently (0.1 + 0.2 + 0.4 + 0.8 s of waiting).
    static let submissionAttempts = 5

    /// Logs a call that did not succeed. Outcomes are never sent to the client (§2.5): it learns
    /// of a refused `ws_open` by its open timeout and of a refused `ws_message` by a missing
    /// ack, or by reading its own request status from the IC; the gateway's log is where an
    /// operator sees them.
    private func reportFailure(_ error: AgentError, _ envelope: ForwardedEnvelope) -> String {
        let metadata: Logger.Metadata = [
            "method": "\(envelope.methodName)", "client_principal": "\(envelope.sender)", "error": "\(error)",
        ]
        if Task.isCancelled {
            logger.notice(
                "the session ended while one of its envelopes was being submitted; the IC may or may not have it",
                metadata: metadata)
            return "cancelled"
        }
        if error.isTransient {
            logger.warning("a client's call did not reach the IC; it is dropped", metadata: metadata)
            return "failed"
        }
        services.metrics.callRefusedByCanister(method: envelope.methodName)
        logger.warning("the IC rejected a client's call", metadata: metadata)
        // E.g. a canister without `ws_resume` (the reference library): the client must know.
        if envelope.isResume { handle(.resumeRefused(reason: "\(error)")) }
        return "rejected"
    }

    // MARK: Timers

    /// Runs `body` on the channel's event loop after `delay`, replacing the armed timer.
    private func arm(after delay: Duration, _ body: @escaping @Sendable (ClientSession) -> Void) {
        let scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) { [self] in body(self) }
        // The replaced timer, or the new one itself once the session has ended.
        let obsolete = state.withLockedValue { inner -> Scheduled<Void>? in
            guard inner.ending == nil else { return scheduled }
            defer { inner.timer = scheduled }
            return inner.timer
        }
        obsolete?.cancel()
    }

    private func cancelTimer() {
        state.withLockedValue { inner -> Scheduled<Void>? in
            defer { inner.timer = nil }
            return inner.timer
        }?.cancel()
    }

    // MARK: Ending (§6.3, §6.6)

    /// Runs once, for the first `end` action.
    private func conclude(_ ending: SessionStateMachine.Ending) {
        let (timer, submitter, target, wasPaused, unsubmitted) = state.withLockedValue { inner in
            defer {
                inner.timer = nil
                inner.submitter = nil
                inner.calls.removeAll()
                inner.callBytes = 0
                inner.readingPaused = false
            }
            return (inner.timer, inner.submitter, inner.target, inner.readingPaused, inner.calls.count)
        }
        timer?.cancel()
        submitter?.cancel()
        // The closing handshake needs the client's Close frame.
        if wasPaused { resumeReading() }
        if unsubmitted > 0 {
            services.metrics.envelopesDropped(unsubmitted)
            logger.notice(
                "session ended with envelopes not yet submitted to the IC; they are dropped",
                metadata: ["envelopes": "\(unsubmitted)"])
        }
        logger.info(
            "session ended",
            metadata: [
                "reason": "\(ending.reason)", "close_code": "\(ending.closeFrame.map { "\($0.code.rawValue)" } ?? "none")",
            ])
        if let frame = ending.closeFrame {
            closeConnection(code: frame.code, reason: frame.reason)
        } else {
            channel.close(promise: nil)
        }
        services.metrics.sessionEnded(after: ContinuousClock.now - startedAt, code: ending.closeFrame?.code)
        if let target, ending.unregisters { services.state.unregister(self, key: target.clientKey, canister: target.canister) }
        guard let target, ending.callsWsClose else {
            services.sessionFinished(self)
            return
        }
        let services = self.services
        Task {
            await services.closeOnCanister(target)
            services.sessionFinished(self)
        }
    }

    /// How long the client has to answer the gateway's Close frame before the TCP connection is
    /// closed anyway (RFC 6455 §7.1.1 lets the server close first once it sent its Close).
    static let closingHandshakeTimeout: TimeAmount = .seconds(5)

    /// Sends the Close frame, then closes the connection when the client answers (the handler
    /// sees its Close frame) or after ``closingHandshakeTimeout``.
    private func closeConnection(code: GatewayCloseCode, reason: String) {
        let channel = self.channel
        channel.writeAndFlush(Self.closeFrame(code: code, reason: reason, allocator: channel.allocator)).whenComplete { result in
            guard case .success = result else {
                channel.close(promise: nil)
                return
            }
            channel.eventLoop.scheduleTask(in: Self.closingHandshakeTimeout) { channel.close(promise: nil) }
        }
    }

    /// A Close frame with `code` and `reason`, cut to fit.
    static func closeFrame(code: GatewayCloseCode, reason: String, allocator: ByteBufferAllocator) -> WebSocketFrame {
        let text = closeReason(reason)
        var data = allocator.buffer(capacity: 2 + text.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: Int(code.rawValue)))
        data.writeString(text)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// A Close frame's reason holds at most 123 bytes of UTF-8 (RFC 6455 §5.5).
    static func closeReason(_ text: String) -> String {
        var reason = ""
        var length = 0
        for character in text {
            length += character.utf8.count
            guard length <= 123 else { break }
            reason.append(character)
        }
        return reason
    }
}
