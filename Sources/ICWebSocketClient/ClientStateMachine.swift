import ICCertification
import ICCore
import ICWebSocketProtocol

/// The client side of one session as a value (protocol §1.4.1, §5): it consumes frames,
/// application sends and the time, and returns what the connection must do. It does no I/O,
/// so every row of the state table is testable on frames alone.
///
/// A resumable session (docs/SESSION-RESUMPTION.md) outlives its connection: after a drop,
/// ``prepareForNextConnection()`` keeps the key, both sequence numbers and the messages the
/// canister has not confirmed; the next handshake leads to `ws_resume` instead of `ws_open`.
package struct ClientStateMachine: Sendable {
    /// §1.4.1 states after the WebSocket is up.
    package enum Phase: Sendable, Equatable {
        case awaitingHandshake
        case awaitingOpen(gateway: Principal)
        /// `ws_resume` sent: the canister's replayed messages are delivered as usual; the
        /// session is open again with its `ResumeMessage`.
        case awaitingResume(gateway: Principal)
        case open(gateway: Principal)
        case closed
    }

    /// What a received canister message asks the connection to do.
    package enum Action: Sendable, Equatable {
        /// The verified OpenMessage carried our key: report OPEN.
        case opened(gateway: Principal)
        /// The verified ResumeMessage carried our key: the session continues through `gateway`;
        /// send `resend` (messages the canister did not execute, numbered as before) first.
        case resumed(gateway: Principal, resend: [WebsocketMessage])
        /// Nothing to do (an ack replayed during a resume: the ResumeMessage that follows
        /// settles it).
        case none
        /// A ResumeMessage answering an earlier `ws_resume` arrived after another one had
        /// resumed the session; it changes nothing (see ``ClientStateMachine/receiveCanisterMessage(_:)``).
        case lateResumeMessage(nextIncomingSequenceNum: UInt64)
        /// While awaiting the ResumeMessage, a verified message of this session that is not the
        /// next expected one: left over in this gateway's queue from an earlier connection
        /// through it (see ``ClientStateMachine/receiveCanisterMessage(_:)``). Not delivered, and
        /// not progress towards the resume.
        case skippedDuringResume(expected: UInt64, received: UInt64)
        /// Deliver an application message (Candid bytes) to the application.
        case deliver([UInt8])
        /// An ack was processed: send this keep-alive (already numbered and tracked).
        case sendKeepAlive(WebsocketMessage)
        /// The canister closed the connection with `ClosedByApplication` (not an error).
        case closedByApplication
    }

    package let canister: Principal
    package let clientKey: ClientKey
    package let rootKey: RootKey
    package let maxCertificateAge: Duration?
    package let clock: @Sendable () -> UInt64
    package private(set) var phase: Phase = .awaitingHandshake
    package private(set) var verifier: CanisterMessageVerifier?
    package private(set) var acknowledgements: AcknowledgementTracker
    /// The last client sequence number used (§5.3: incremented before each `ws_message`).
    package private(set) var lastSentSequenceNumber: UInt64 = 0
    /// Whether `ws_open` asks for a resumable session.
    package let resumable: Bool
    /// Messages sent and not yet acknowledged, oldest first: application messages always,
    /// keep-alives too in a resumable session (a resume sends every unexecuted number again).
    private var sent: [(sequenceNumber: UInt64, content: [UInt8], isServiceMessage: Bool)] = []
    /// The last canister sequence number verified, over every connection of the session.
    package private(set) var lastVerifiedSequenceNumber: UInt64 = 0
    /// The `resume_counter` of the last `ws_resume` (strictly increasing, a replay guard).
    package private(set) var resumeCounter: UInt64 = 0
    /// ResumeMessages received: the canister sends at most one per `ws_resume` it executes.
    private var resumeMessagesReceived: UInt64 = 0
    /// Whether the canister ever confirmed the session (OpenMessage).
    package private(set) var wasOpened = false
    /// The canister sequence number the last keep-alive confirmed.
    private var lastConfirmed: UInt64 = 0
    /// A resumable session confirms what it verified at least every this many canister messages
    /// (not only when an ack asks), so that the canister's replay buffer holds what a resume
    /// may need rather than a whole ack interval's worth.
    package static let confirmationInterval: UInt64 = 256

    /// Application messages sent and not yet acknowledged: sequence number → Candid bytes.
    package var unacknowledgedContent: [(sequenceNumber: UInt64, content: [UInt8])] {
        sent.filter { !$0.isServiceMessage }.map { (sequenceNumber: $0.sequenceNumber, content: $0.content) }
    }

    package init(
        canister: Principal, clientKey: ClientKey, rootKey: RootKey, maxCertificateAge: Duration?,
        ackTimeout: Duration, resumable: Bool = false, clock: @escaping @Sendable () -> UInt64
    ) {
        self.resumable = resumable
        self.canister = canister
        self.clientKey = clientKey
        self.rootKey = rootKey
        self.maxCertificateAge = maxCertificateAge
        self.clock = clock
        acknowledgements = AcknowledgementTracker(timeoutNanoseconds: ackTimeout.icNanoseconds)
    }

    package var isOpen: Bool { if case .open = phase { return true } else { return false } }

    /// Whether the next connection resumes this session (`ws_resume`) rather than opening one.
    package var canResume: Bool { resumable && wasOpened && phase != .closed }

    /// Whether a handshake has been read and the first message is awaited (open or resume).
    package var isAwaitingFirstMessage: Bool {
        switch phase {
        case .awaitingOpen, .awaitingResume: return true
        case .awaitingHandshake, .open, .closed: return false
        }
    }

    /// After the connection dropped: wait for the next gateway's handshake, keeping the key,
    /// both sequence numbers and the unexecuted messages (only for a session that ``canResume``).
    package mutating func prepareForNextConnection() {
        guard canResume else { return }
        phase = .awaitingHandshake
        verifier = nil
    }

    /// The first frame: G1 (§2.3). Returns the gateway principal `ws_open` (or `ws_resume`)
    /// must name.
    package mutating func receiveHandshake(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> Principal {
        guard phase == .awaitingHandshake else { throw .internalInconsistency("a second handshake") }
        let handshake: GatewayHandshakeFrame
        do { handshake = try GatewayHandshakeFrame(decoding: bytes) } catch {
            phase = .closed
            throw .invalidHandshake(error.description)
        }
        let gateway = handshake.gatewayPrincipal
        phase = wasOpened ? .awaitingResume(gateway: gateway) : .awaitingOpen(gateway: gateway)
        // A resumed session continues the canister's numbering; keys must now be this gateway's.
        verifier = CanisterMessageVerifier(
            canister: canister, rootKey: rootKey, clientKey: clientKey,
            gateway: gateway, maxCertificateAge: maxCertificateAge,
            expectedSequenceNumber: lastVerifiedSequenceNumber + 1, clock: clock)
        return gateway
    }

    /// The `ws_resume` argument for the gateway of the handshake just read (a fresh counter).
    package mutating func resumeArguments() throws(ICWebSocketClientError) -> CanisterWsResumeArguments {
        guard case .awaitingResume(let gateway) = phase else { throw .internalInconsistency("ws_resume in phase \(phase)") }
        resumeCounter += 1
        return CanisterWsResumeArguments(
            clientNonce: clientKey.clientNonce, gatewayPrincipal: gateway,
            lastReceivedSequenceNum: lastVerifiedSequenceNumber, resumeCounter: resumeCounter)
    }

    /// A G2 frame after the handshake (§5.1, §5.5).
    package mutating func receiveCanisterMessage(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> Action {
        let gateway: Principal
        let resuming: Bool
        switch phase {
        case .awaitingOpen(let g), .open(let g): (gateway, resuming) = (g, false)
        case .awaitingResume(let g): (gateway, resuming) = (g, true)
        case .awaitingHandshake, .closed: throw .internalInconsistency("canister message in phase \(phase)")
        }
        guard var verifier else { throw .internalInconsistency("no verifier after the handshake") }
        let message: WebsocketMessage
        do {
            message = try verifier.verify(bytes)
            self.verifier = verifier
        } catch {
            self.verifier = verifier
            // A gateway's queue can still hold this session's messages from an earlier
            // connection through it (polled late, or the replay of a resume that connection did
            // not finish); they come before this ws_resume's replay. Such a message is genuine
            // (certificate, tree, this gateway's key and this client were checked before the
            // number), so while resuming it is skipped rather than ending the attempt: the replay
            // brings every message after the last verified one again, in order, and the
            // ResumeMessage follows it. Nothing skipped is delivered, so nothing is lost,
            // doubled or reordered; a gateway sending only such messages makes no progress and
            // the resume timeout moves on. Once open, the same mismatch is an error as before.
            if resuming, case .unexpectedSequenceNumber(let expected, let received) = error {
                return .skippedDuringResume(expected: expected, received: received)
            }
            throw .verification(error)
        }
        lastVerifiedSequenceNumber = message.sequenceNum
        guard message.isServiceMessage else {
            // An application message before OPEN cannot happen with a conforming canister (the
            // OpenMessage is number 1); the JS client drops such messages silently, we refuse.
            // During a resume, the canister's replayed messages come before its ResumeMessage.
            guard isOpen || resuming else { throw .invalidServiceMessage("application message before the open message") }
            return .deliver(message.content)
        }
        let content: WebsocketServiceMessageContent
        do { content = try WebsocketServiceMessageContent.decode(message.content) } catch {
            throw .invalidServiceMessage("undecodable service message: \(error)")
        }
        switch content {
        case .openMessage(let key):
            guard case .awaitingOpen = phase else { throw .invalidServiceMessage("a second open message") }
            guard key == clientKey else { throw .openMessageForAnotherClient(expected: clientKey, found: key) }
            phase = .open(gateway: gateway)
            wasOpened = true
            return .opened(gateway: gateway)
        case .resumeMessage(let key, let next):
            guard resuming || (isOpen && resumeMessagesReceived < resumeCounter) else {
                throw .invalidServiceMessage("a resume message without a ws_resume")
            }
            guard key == clientKey else { throw .openMessageForAnotherClient(expected: clientKey, found: key) }
            guard next >= 1, next - 1 <= lastSentSequenceNumber else {
                throw .invalidServiceMessage("the canister expects message \(next) next, but only \(lastSentSequenceNumber) were sent")
            }
            resumeMessagesReceived += 1
            guard resuming else {
                // Two ws_resume executed (the first one's answer came too late for its attempt)
                // and the first ResumeMessage resumed the session; this is the second. Verified,
                // for this key and in sequence, so nothing was lost or repeated on the way in;
                // the canister executed everything before `next`, and everything from the first
                // one's (smaller or equal) number on was sent again (copies it had executed are
                // refused as duplicates). Nothing is left to do.
                return .lateResumeMessage(nextIncomingSequenceNum: next)
            }
            let now = clock()
            sent.removeAll { $0.sequenceNumber < next }
            acknowledgements.resume(nextExpected: next, now: now)
            let resend = sent.map {
                WebsocketMessage(
                    clientKey: clientKey, sequenceNum: $0.sequenceNumber, timestamp: now,
                    isServiceMessage: $0.isServiceMessage, content: $0.content)
            }
            phase = .open(gateway: gateway)
            return .resumed(gateway: gateway, resend: resend)
        case .ackMessage(let n):
            if resuming { return .none }
            guard isOpen else { throw .invalidServiceMessage("ack message before the open message") }
            let now = clock()
            try acknowledgements.acknowledge(upTo: n, now: now)
            sent.removeAll { $0.sequenceNumber <= n }
            // §5.6 step 4: answer with the canister sequence number of the ack just processed.
            return .sendKeepAlive(try keepAlive(confirming: message.sequenceNum))
        case .closeMessage(let reason):
            phase = .closed
            if reason == .closedByApplication { return .closedByApplication }
            throw .closedByCanister(reason)
        case .keepAliveMessage:
            throw .invalidServiceMessage("the canister sent a KeepAliveMessage, which only clients send")
        }
    }

    /// A numbered keep-alive confirming canister messages up to `sequenceNum`.
    private mutating func keepAlive(confirming sequenceNum: UInt64) throws(ICWebSocketClientError) -> WebsocketMessage {
        lastConfirmed = sequenceNum
        let content = WebsocketServiceMessageContent.keepAliveMessage(lastIncomingSequenceNum: sequenceNum).encoded()
        return try nextMessage(content: content, isServiceMessage: true)
    }

    /// A keep-alive to send now when a resumable, open session has verified
    /// ``confirmationInterval`` messages since it last confirmed (icws canisters accept a
    /// keep-alive at any time and trim the session's replay buffer with it).
    package mutating func confirmationIfDue() throws(ICWebSocketClientError) -> WebsocketMessage? {
        guard resumable, isOpen, lastVerifiedSequenceNumber >= lastConfirmed + Self.confirmationInterval else { return nil }
        return try keepAlive(confirming: lastVerifiedSequenceNumber)
    }

    /// The message a resumable, open session sends when the application closes it: a
    /// `CloseMessage { ClosedByApplication }` from the client, on which an icws canister ends the
    /// session at once and answers with its own `CloseMessage` (docs/SESSION-RESUMPTION.md),
    /// instead of keeping it for a `ws_resume` through its grace period. `nil` for a session that
    /// is not resumable (the gateway's `ws_close` ends it) or not open.
    package mutating func leaveMessage() throws(ICWebSocketClientError) -> WebsocketMessage? {
        guard resumable, isOpen else { return nil }
        let content = WebsocketServiceMessageContent.closeMessage(reason: .closedByApplication).encoded()
        return try nextMessage(content: content, isServiceMessage: true)
    }

    /// Numbers and tracks the next `ws_message` (§5.3, §5.4). Only while OPEN.
    package mutating func nextMessage(content: [UInt8], isServiceMessage: Bool) throws(ICWebSocketClientError) -> WebsocketMessage {
        switch phase {
        case .open: break
        case .closed: throw .closed
        case .awaitingHandshake, .awaitingOpen, .awaitingResume: throw .notOpen
        }
        let now = clock()
        let sequenceNumber = lastSentSequenceNumber + 1
        try acknowledgements.add(sequenceNumber, now: now)
        lastSentSequenceNumber = sequenceNumber
        if !isServiceMessage || resumable { sent.append((sequenceNumber, content, isServiceMessage)) }
        return WebsocketMessage(
            clientKey: clientKey, sequenceNum: sequenceNumber, timestamp: now,
            isServiceMessage: isServiceMessage, content: content)
    }

    /// The ack timer (§5.7), evaluated against the session clock.
    package func checkAcknowledgementDeadline() throws(ICWebSocketClientError) {
        guard isOpen else { return }
        try acknowledgements.checkDeadline(now: clock())
    }

    /// Marks the session closed and clears the ack bookkeeping (§5.6, last rule).
    package mutating func close() {
        phase = .closed
        acknowledgements.clear()
    }
}
