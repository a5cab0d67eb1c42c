import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers

/// Runs a connection's I/O around ``ClientStateMachine``: the WebSocket, the reader, the ordered
/// writer, the timers, and reconnecting (resuming the session through the next gateway when it
/// is resumable). Everything protocol-related is decided by the session.
actor ConnectionDriver<Message: CandidCodable & Sendable> {
    /// How one attempt (one WebSocket) ended.
    enum AttemptEnd: Sendable {
        /// The application called `close()`.
        case closedByUser
        /// The canister closed with `ClosedByApplication`.
        case closedByCanister
        /// Anything else; the connection failed.
        case failed(ICWebSocketClientError)
    }

    /// Counters of the current and past attempts.
    struct Statistics: Sendable, Equatable {
        var certificatesVerified = 0
        var certificateCacheHits = 0
        var messagesReceived = 0
        var reconnects = 0
        var resumes = 0
        /// Resumable sessions given up for a new one (see ``ICWebSocketConnection/Statistics/sessionsReplaced``).
        var sessionsReplaced = 0
        var messagesResent = 0
    }

    /// The gateways, tried in turn: each failure moves on to the next.
    private let gatewayURLs: [String]
    private var gatewayIndex = 0
    private var gatewayURL: String { gatewayURLs[gatewayIndex] }
    private let canister: Principal
    private let rootKey: RootKey
    private let configuration: ICWebSocketClientConfiguration
    private let logger: Logger
    private let transport: any GatewayTransport
    private let signer: ClientRequestSigner
    private let principal: Principal
    private let messages: AsyncThrowingStream<Message, any Error>.Continuation
    private let states: AsyncStream<ICWebSocketConnectionState>.Continuation
    let currentKey: NIOLockedValueBox<ClientKey?>

    private var session: ClientStateMachine?
    private var channel: (any GatewayChannel)?
    private var outbound: AsyncStream<OutgoingFrame>.Continuation?
    private var pendingSends: [Int: CheckedContinuation<Void, any Error>] = [:]
    private var nextSendID = 0
    private var attemptEnd: AttemptEnd?
    private var userClosed = false
    /// `close()` asked the canister to end the session; nothing more is sent.
    private var leaving = false
    private var leaveWaiter: CheckedContinuation<Bool, Never>?
    private var leaveTimer: Task<Void, Never>?
    private var finished = false
    private var everOpened = false
    private var openedInAttempt = false
    private var openWaiter: CheckedContinuation<Void, any Error>?
    private var openResult: Result<Void, ICWebSocketClientError>?
    private var lifeTask: Task<Void, Never>?
    private var pastStatistics = Statistics()
    /// When the attempt started, or the resume in progress last made progress (ws_resume sent,
    /// a replayed message verified): a resume that replays a long backlog through a busy
    /// gateway is not silence.
    private var openProgress = ContinuousClock.now
    /// Resume attempts in a row that got no `ResumeMessage`.
    private var resumeTimeouts = 0
    /// Told of each application message sent again after a resume (its new envelope), for the
    /// call outcome checks.
    private var resentHandler: (@Sendable (SentMessage) -> Void)?
    /// Sends whose frame was numbered but not yet written when the connection failed: the
    /// resume sends them again (or the canister already executed them), so they complete then.
    private var heldSends: [CheckedContinuation<Void, any Error>] = []
    /// Sends waiting for a resumed (or new) session to be open.
    private var openWaiters: [CheckedContinuation<Void, any Error>] = []

    private struct OutgoingFrame: Sendable {
        let bytes: [UInt8]
        let id: Int?
    }

    init(
        gatewayURLs: [String], canister: Principal, identity: any Identity, rootKey: RootKey,
        configuration: ICWebSocketClientConfiguration, logger: Logger, transport: any GatewayTransport,
        messages: AsyncThrowingStream<Message, any Error>.Continuation,
        states: AsyncStream<ICWebSocketConnectionState>.Continuation
    ) {
        self.gatewayURLs = gatewayURLs
        self.canister = canister
        self.rootKey = rootKey
        self.configuration = configuration
        self.logger = logger
        self.transport = transport
        self.principal = identity.principal
        self.signer = ClientRequestSigner(
            identity: identity, canister: canister,
            ingressExpiry: configuration.ingressExpiry, clock: configuration.clock)
        self.messages = messages
        self.states = states
        currentKey = NIOLockedValueBox(nil)
    }

    // MARK: Life cycle

    /// Starts the first attempt and returns once the connection is OPEN (or has failed).
    /// `onResent` is told of every application message sent again after a resume.
    func start(onResent: (@Sendable (SentMessage) -> Void)? = nil) async throws(ICWebSocketClientError) {
        resentHandler = onResent
        lifeTask = Task { await self.live() }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if let openResult {
                    continuation.resume(with: openResult.mapError { $0 as any Error })
                } else {
                    openWaiter = continuation
                }
            }
        } catch {
            throw (error as? ICWebSocketClientError) ?? .internalInconsistency("\(error)")
        }
    }

    /// Ends the session and waits until the connection is down: a resumable session first asks
    /// the canister to end it (``leave()``); then, or when it is not resumable, WebSocket close 1000.
    func close() async {
        guard !finished else { return }
        let left = await leave()
        if !left && !finished {
            userClosed = true
            if let channel {
                await channel.close(code: 1000, reason: nil)
            } else {
                lifeTask?.cancel()
            }
        }
        await lifeTask?.value
    }

    /// Sends a resumable, open session's leave message and waits, at most
    /// ``ReconnectPolicy/leaveTimeout``, for the canister's `CloseMessage` to end the connection.
    /// Returns whether it did; on `false` the caller closes the WebSocket.
    private func leave() async -> Bool {
        let timeout = configuration.reconnect.leaveTimeout
        guard timeout > .zero, !leaving, var session, outbound != nil else { return false }
        let message: WebsocketMessage
        let request: [UInt8]
        do {
            guard let leaveMessage = try session.leaveMessage() else { return false }
            message = leaveMessage
            request = try signer.messageRequest(message)
        } catch {
            logger.notice("cannot ask the canister to end the session; closing", metadata: ["error": "\(error)"])
            return false
        }
        self.session = session
        leaving = true
        enqueue(request, id: nil)
        logger.debug("asking the canister to end the session", metadata: ["sequence_num": "\(message.sequenceNum)"])
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            leaveWaiter = continuation
            leaveTimer = Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                await self?.resolveLeave(false)
            }
        }
        if !ended {
            logger.notice(
                "the canister did not end the session in time; closing the connection (the canister keeps the session for its grace period)",
                metadata: ["client_key": "\(session.clientKey)", "leave_timeout": "\(timeout)"])
        }
        return ended
    }

    private func resolveLeave(_ ended: Bool) {
        leaveTimer?.cancel()
        leaveTimer = nil
        leaveWaiter?.resume(returning: ended)
        leaveWaiter = nil
    }

    private func live() async {
        var attempt = 0
        while true {
            let end = await runAttempt()
            if userClosed { return finish(nil) }
            if openedInAttempt { attempt = 0 }
            switch end {
            case .closedByUser, .closedByCanister:
                return finish(nil)
            case .failed(let error):
                guard everOpened, Self.isRecoverable(error), attempt < configuration.reconnect.maxAttempts else {
                    return finish(error)
                }
                attempt += 1
                pastStatistics.reconnects += 1
                // Failover: the next attempt goes to the next gateway of the list.
                gatewayIndex = (gatewayIndex + 1) % gatewayURLs.count
                if case .resumeFailed = error { resumeTimeouts += 1 }
                // A refusal ends the session at once; silence only once every gateway was tried
                // (one of them may be the culprit, not the canister).
                let givesUp = Self.endsResumption(error) || resumeTimeouts >= gatewayURLs.count
                if let session, session.canResume, !givesUp {
                    logger.warning(
                        "connection failed, resuming the session",
                        metadata: ["error": "\(error)", "attempt": "\(attempt)", "gateway": "\(gatewayURL)"])
                    states.yield(.resuming(attempt: attempt, cause: error, gatewayURL: gatewayURL))
                } else {
                    // The next attempt opens a new session, whether it is given up here or it
                    // already ended during this attempt (a CloseMessage while resuming).
                    replaceSession(after: error)
                    let unacknowledged =
                        session?.unacknowledgedContent.map {
                            UnacknowledgedMessage(sequenceNumber: $0.sequenceNumber, content: $0.content)
                        } ?? []
                    logger.warning("connection failed, reconnecting", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                    states.yield(.reconnecting(attempt: attempt, cause: error, unacknowledged: unacknowledged))
                }
                do { try await Task.sleep(for: backoff(attempt: attempt)) } catch {
                    return finish(error is CancellationError ? nil : .closed)
                }
                if userClosed { return finish(nil) }
            }
        }
    }

    /// The wait before attempt `attempt` (from 1): `initialDelay` doubled per attempt up to
    /// `maximumDelay`, varied by ±30 %.
    private func backoff(attempt: Int) -> Duration {
        var delay = configuration.reconnect.initialDelay
        for _ in 1..<attempt { delay = min(delay * 2, configuration.reconnect.maximumDelay) }
        return delay * Double.random(in: 0.7...1.3)
    }

    /// Failures after which the session cannot be resumed: the next attempt opens a new one.
    private static func endsResumption(_ error: ICWebSocketClientError) -> Bool {
        switch error {
        case .closedByCanister: return true
        case .connectionClosed(let code, _): return code == CanisterWsResumeArguments.refusedCloseCode
        default: return false
        }
    }

    /// Gives up the current session after `error` ended its last attempt: the next attempt
    /// opens a new one (new client nonce). Called for every session that will not be resumed,
    /// also one the attempt itself closed, so that no send stays held for a resume that cannot
    /// come; a resumable session that had opened is counted in `sessionsReplaced`.
    private func replaceSession(after error: ICWebSocketClientError) {
        resumeTimeouts = 0
        // Their messages may be lost: they are among the unacknowledged ones reported.
        releaseHeldSends(error)
        guard var session, session.resumable, session.wasOpened else { return }
        pastStatistics.sessionsReplaced += 1
        logger.warning(
            "the session cannot be resumed; opening a new one",
            metadata: ["error": "\(error)", "unacknowledged": "\(session.unacknowledgedContent.map(\.sequenceNumber))"])
        session.close()
        self.session = session
    }

    /// Failures worth a new connection (not caller mistakes or bugs).
    private static func isRecoverable(_ error: ICWebSocketClientError) -> Bool {
        switch error {
        case .invalidConfiguration, .signing, .rootKeyUnavailable, .internalInconsistency, .messageDecoding, .receiveBufferFull:
            return false
        default:
            return true
        }
    }

    private func finish(_ error: ICWebSocketClientError?) {
        guard !finished else { return }
        finished = true
        resolveLeave(true)
        session?.close()
        resolveOpen(.failure(error ?? .closed))
        releaseOpenWaiters(error ?? .closed)
        releaseHeldSends(error ?? .closed)
        logger.info("connection closed", metadata: error.map { ["error": "\($0)"] } ?? [:])
        states.yield(.closed(error))
        states.finish()
        if let error { messages.finish(throwing: error) } else { messages.finish() }
    }

    private func resolveOpen(_ result: Result<Void, ICWebSocketClientError>) {
        guard openResult == nil else { return }
        openResult = result
        openWaiter?.resume(with: result.mapError { $0 as any Error })
        openWaiter = nil
    }

    // MARK: One attempt

    private func runAttempt() async -> AttemptEnd {
        if var resumable = session, resumable.canResume {
            accumulate(verifierOf: resumable)
            resumable.prepareForNextConnection()
            session = resumable
        } else {
            if let session {
                accumulate(verifierOf: session)
                pastStatistics.messagesReceived += Int(session.lastVerifiedSequenceNumber)
            }
            let clientKey = ClientKey(clientPrincipal: principal, clientNonce: UInt64.random(in: .min ... .max))
            session = ClientStateMachine(
                canister: canister, clientKey: clientKey, rootKey: rootKey,
                maxCertificateAge: configuration.maxCertificateAge, ackTimeout: configuration.ackTimeout,
                resumable: configuration.reconnect.maxAttempts > 0 && configuration.reconnect.resumesSession,
                clock: configuration.clock)
            states.yield(.connecting)
        }
        attemptEnd = nil
        openedInAttempt = false
        logger.debug("connecting", metadata: ["gateway": "\(gatewayURL)", "client_key": "\(session!.clientKey)"])
        do {
            let (code, reason) = try await transport.run(url: gatewayURL, maxFrameSize: configuration.maxFrameSize, logger: logger) {
                channel in
                await self.drive(channel)
            }
            channel = nil
            if userClosed { return .closedByUser }
            switch attemptEnd {
            case nil, .failed(.connectionClosed(nil, nil))?:
                // The reader saw the end of the stream; the close frame tells why.
                return .failed(.connectionClosed(code: code, reason: reason))
            case let end?:
                return end
            }
        } catch {
            channel = nil
            endOrHoldSends(.transport("\(error)"))
            if userClosed { return .closedByUser }
            return attemptEnd ?? .failed(.transport("\(error)"))
        }
    }

    /// Adds the counters of a connection's verifier (each connection has its own).
    private func accumulate(verifierOf session: ClientStateMachine) {
        pastStatistics.certificatesVerified += session.verifier?.certificatesVerified ?? 0
        pastStatistics.certificateCacheHits += session.verifier?.certificateCacheHits ?? 0
    }

    /// Certificate, message, reconnect and resume counters over all attempts.
    func statistics() -> Statistics {
        var total = pastStatistics
        if let session {
            total.certificatesVerified += session.verifier?.certificatesVerified ?? 0
            total.certificateCacheHits += session.verifier?.certificateCacheHits ?? 0
            total.messagesReceived += Int(session.lastVerifiedSequenceNumber)
        }
        return total
    }

    /// Runs reader, writer and timers on an open WebSocket until the first of them ends.
    private func drive(_ channel: any GatewayChannel) async {
        self.channel = channel
        if userClosed { return }
        let (stream, continuation) = AsyncStream<OutgoingFrame>.makeStream()
        outbound = continuation
        let end = await withTaskGroup(of: AttemptEnd?.self) { group -> AttemptEnd in
            group.addTask { await self.readLoop(channel) }
            group.addTask { await self.writeLoop(channel, stream) }
            group.addTask { await self.timerLoop() }
            var end: AttemptEnd?
            while end == nil, let result = await group.next() { end = result }
            let result = end ?? .failed(.internalInconsistency("session tasks ended without a result"))
            // Closing the WebSocket ends a reader still waiting for a frame, so the group can finish.
            await self.endAttempt(result, channel: channel)
            group.cancelAll()
            return result
        }
        _ = end
    }

    private func endAttempt(_ end: AttemptEnd, channel: any GatewayChannel) async {
        attemptEnd = attemptEnd ?? end
        outbound?.finish()
        outbound = nil
        switch attemptEnd {
        case .failed(let error)?:
            endOrHoldSends(error)
            // A gateway going away (1000, 1001: a restart, a drain) is an ordinary end the
            // application hears of anyway; anything else means something went wrong.
            let ordinary: Bool = if case .connectionClosed(let code, _) = error, code == 1000 || code == 1001 { true } else { false }
            logger.log(level: ordinary ? .notice : .warning, "closing the connection", metadata: ["error": "\(error)"])
            await channel.close(code: error.closeCode, reason: String(error.description.prefix(120)))
        case .closedByCanister?:
            endSends(with: .closed)
            await channel.close(code: 4001, reason: "ClosedByApplication")
        case .closedByUser?, nil:
            endSends(with: .closed)
        }
    }

    private func readLoop(_ channel: any GatewayChannel) async -> AttemptEnd? {
        do {
            guard let first = try await channel.receive() else {
                return userClosed ? .closedByUser : .failed(.connectionClosed(code: nil, reason: nil))
            }
            guard case .binary(let bytes) = first else {
                return .failed(.invalidHandshake("the first frame is a text frame, not a CBOR handshake"))
            }
            let end = try handshake(bytes)
            if let end { return end }
            while let frame = try await channel.receive() {
                guard case .binary(let bytes) = frame else {
                    return .failed(.verification(.malformedFrame("text frame received; all protocol frames are binary")))
                }
                if let end = try receive(bytes) { return end }
            }
            return userClosed ? .closedByUser : .failed(.connectionClosed(code: nil, reason: nil))
        } catch let error as ICWebSocketClientError {
            return .failed(error)
        } catch {
            return userClosed ? .closedByUser : .failed(.transport("\(error)"))
        }
    }

    private func handshake(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> AttemptEnd? {
        guard var session else { throw .internalInconsistency("no session") }
        let gateway = try session.receiveHandshake(bytes)
        logger.debug("handshake", metadata: ["gateway_principal": "\(gateway)"])
        if case .awaitingResume = session.phase {
            let arguments = try session.resumeArguments()
            self.session = session
            openProgress = .now
            logger.info(
                "resuming the session",
                metadata: [
                    "client_key": "\(session.clientKey)", "gateway": "\(gateway)",
                    "last_received": "\(arguments.lastReceivedSequenceNum)",
                ])
            enqueue(try signer.resumeRequest(arguments), id: nil)
        } else {
            self.session = session
            enqueue(
                try signer.openRequest(clientNonce: session.clientKey.clientNonce, gateway: gateway, resumable: session.resumable),
                id: nil)
        }
        return nil
    }

    private func receive(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> AttemptEnd? {
        guard var session else { throw .internalInconsistency("no session") }
        let action: ClientStateMachine.Action
        do {
            action = try session.receiveCanisterMessage(bytes)
            self.session = session
            if case .skippedDuringResume(let expected, let received) = action {
                // Not progress: a gateway relaying only leftovers must not keep the resume from
                // timing out.
                logger.debug(
                    "an earlier connection's message skipped while resuming",
                    metadata: ["expected_sequence_num": "\(expected)", "received_sequence_num": "\(received)"])
                return nil
            }
            if case .awaitingResume = session.phase { openProgress = .now }
        } catch {
            self.session = session
            throw error
        }
        switch action {
        case .opened(let gateway):
            everOpened = true
            openedInAttempt = true
            currentKey.withLockedValue { $0 = session.clientKey }
            logger.info("connection open", metadata: ["client_key": "\(session.clientKey)", "gateway": "\(gateway)"])
            states.yield(.open(clientKey: session.clientKey, gateway: gateway))
            resolveOpen(.success(()))
            releaseOpenWaiters(nil)
        case .resumed(let gateway, let resend):
            openedInAttempt = true
            // First what the canister has not executed, in order, then whatever waited.
            for message in resend {
                let signed = try signer.signedMessageRequest(message)
                enqueue(signed.bytes, id: nil)
                if !message.isServiceMessage {
                    resentHandler?(
                        SentMessage(
                            sequenceNumber: message.sequenceNum, requestID: signed.requestID, ingressExpiry: signed.ingressExpiry))
                }
            }
            pastStatistics.resumes += 1
            resumeTimeouts = 0
            pastStatistics.messagesResent += resend.count
            logger.info(
                "session resumed",
                metadata: ["client_key": "\(session.clientKey)", "gateway": "\(gateway)", "resent": "\(resend.count)"])
            states.yield(.resumed(clientKey: session.clientKey, gateway: gateway, resent: resend.count))
            releaseHeldSends(nil)
            releaseOpenWaiters(nil)
        case .none:
            break
        case .skippedDuringResume:
            break  // returned above
        case .lateResumeMessage(let next):
            logger.debug("a late ResumeMessage (an earlier ws_resume's) ignored", metadata: ["next_incoming": "\(next)"])
        case .deliver(let content):
            let value: Message
            do { value = try Candid.decode(Message.self, from: content) } catch {
                throw .messageDecoding("not a \(Message.candidType): \(error)")
            }
            if case .dropped = messages.yield(value) {
                throw .receiveBufferFull(limit: configuration.maxBufferedMessages)
            }
        case .sendKeepAlive(let keepAlive):
            logger.debug("ack received, sending keep-alive", metadata: ["sequence_num": "\(keepAlive.sequenceNum)"])
            enqueue(try signer.messageRequest(keepAlive), id: nil)
        case .closedByApplication:
            if leaving { logger.info("the canister ended the session, as close() asked", metadata: ["client_key": "\(session.clientKey)"]) }
            return .closedByCanister
        }
        if let confirmation = try self.session?.confirmationIfDue() {
            enqueue(try signer.messageRequest(confirmation), id: nil)
        }
        return nil
    }

    private func writeLoop(_ channel: any GatewayChannel, _ stream: AsyncStream<OutgoingFrame>) async -> AttemptEnd? {
        for await frame in stream {
            do {
                try await channel.send(frame.bytes)
                if let id = frame.id { pendingSends.removeValue(forKey: id)?.resume() }
            } catch {
                let failure = ICWebSocketClientError.transport("cannot send to the gateway: \(error)")
                if let id = frame.id { pendingSends.removeValue(forKey: id)?.resume(throwing: failure) }
                return userClosed ? .closedByUser : .failed(failure)
            }
        }
        // The stream is finished only when the attempt is already ending.
        return nil
    }

    private func timerLoop() async -> AttemptEnd? {
        let clock = ContinuousClock()
        let resuming = session?.canResume ?? false
        let openTimeout = resuming ? configuration.reconnect.resumeTimeout : configuration.openTimeout
        openProgress = clock.now
        // The open timeout runs from the attempt's start; a resume's from its last progress.
        var openDeadline: ContinuousClock.Instant { openProgress + openTimeout }
        while !Task.isCancelled {
            let isOpen = session?.isOpen ?? false
            let wait = isOpen ? configuration.timerResolution : min(configuration.timerResolution, openDeadline - clock.now)
            do { try await Task.sleep(for: max(wait, .zero)) } catch { return nil }
            guard let session else { return nil }
            if !session.isOpen, clock.now >= openDeadline {
                if resuming {
                    // The gateway or canister cannot resume (or this gateway is down): the next
                    // gateway, or after the last attempt a new session.
                    return .failed(.resumeFailed("no progress towards a ResumeMessage for \(openTimeout)"))
                }
                return .failed(.openTimeout(openTimeout))
            }
            do { try session.checkAcknowledgementDeadline() } catch { return .failed(error) }
        }
        return nil
    }

    // MARK: Sending

    private func enqueue(_ bytes: [UInt8], id: Int?) {
        outbound?.yield(OutgoingFrame(bytes: bytes, id: id))
    }

    /// A failed connection: a resumable session keeps its numbered sends for the resume; any
    /// other fails them, and those held over an earlier connection too (nothing will send them
    /// again; after `close()`, `finish` fails them with `closed`).
    private func endOrHoldSends(_ error: ICWebSocketClientError) {
        guard session?.canResume == true, !userClosed else {
            if !userClosed { releaseHeldSends(error) }
            return endSends(with: error)
        }
        heldSends += pendingSends.values
        pendingSends.removeAll()
    }

    /// Completes the sends held over a resume: done (`nil`), or failed.
    private func releaseHeldSends(_ error: ICWebSocketClientError?) {
        let held = heldSends
        heldSends.removeAll()
        for send in held {
            if let error { send.resume(throwing: error) } else { send.resume() }
        }
    }

    /// Wakes the sends waiting for the session: to go on (`nil`), or to fail.
    private func releaseOpenWaiters(_ error: ICWebSocketClientError?) {
        let waiting = openWaiters
        openWaiters.removeAll()
        for waiter in waiting {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    /// While a resumable session is between connections, a send waits for it to be open again
    /// instead of failing (its sequence number must follow the ones the resume sends again).
    private func waitForResumedSession() async throws(ICWebSocketClientError) {
        guard openWaiters.count < configuration.maxUnacknowledgedMessages else {
            throw .tooManyUnacknowledgedMessages(limit: configuration.maxUnacknowledgedMessages)
        }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                openWaiters.append(continuation)
            }
        } catch {
            throw (error as? ICWebSocketClientError) ?? .closed
        }
    }

    private func endSends(with error: ICWebSocketClientError) {
        let waiting = pendingSends
        pendingSends.removeAll()
        for continuation in waiting.values { continuation.resume(throwing: error) }
    }

    /// Numbers, signs and queues one application message; returns once it is written to the
    /// gateway, with the signed call's identity (for call outcome checks).
    @discardableResult
    func send(content: [UInt8]) async throws(ICWebSocketClientError) -> SentMessage {
        guard !finished, !leaving else { throw .closed }
        while let waiting = session, !(waiting.isOpen && outbound != nil), waiting.canResume, !finished {
            try await waitForResumedSession()
        }
        guard !finished, !leaving else { throw .closed }
        guard var session, outbound != nil else { throw .notOpen }
        guard session.acknowledgements.entries.count < configuration.maxUnacknowledgedMessages else {
            throw .tooManyUnacknowledgedMessages(limit: configuration.maxUnacknowledgedMessages)
        }
        let message = try session.nextMessage(content: content, isServiceMessage: false)
        self.session = session
        let signed = try signer.signedMessageRequest(message)
        let frame = signed.bytes
        nextSendID += 1
        let id = nextSendID
        do {
            // Numbering and queuing happen in one actor turn, so frames leave in sequence order (§5.3).
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                pendingSends[id] = continuation
                enqueue(frame, id: id)
            }
        } catch {
            throw (error as? ICWebSocketClientError) ?? .transport("\(error)")
        }
        return SentMessage(
            sequenceNumber: message.sequenceNum, requestID: signed.requestID,
            ingressExpiry: signed.ingressExpiry)
    }
}

/// One application message as it left for the gateway: its sequence number and the signed
/// `ws_message` call's request id and expiry.
struct SentMessage: Sendable {
    var sequenceNumber: UInt64
    var requestID: RequestID
    var ingressExpiry: UInt64
}
