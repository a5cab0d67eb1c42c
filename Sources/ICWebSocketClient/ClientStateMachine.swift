import ICCertification
import ICCore
import ICWebSocketProtocol

/// The client side of one connection as a value (protocol §1.4.1, §5): it consumes frames,
/// application sends and the time, and returns what the connection must do. It does no I/O,
/// so every row of the state table is testable on frames alone.
package struct ClientStateMachine: Sendable {
    /// §1.4.1 states after the WebSocket is up.
    package enum Phase: Sendable, Equatable {
        case awaitingHandshake
        case awaitingOpen(gateway: Principal)
        case open(gateway: Principal)
        case closed
    }

    /// What a received canister message asks the connection to do.
    package enum Action: Sendable, Equatable {
        /// The verified OpenMessage carried our key: report OPEN.
        case opened(gateway: Principal)
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
    /// Application messages sent and not yet acknowledged: sequence number → Candid bytes.
    package private(set) var unacknowledgedContent: [(sequenceNumber: UInt64, content: [UInt8])] = []

    package init(
        canister: Principal, clientKey: ClientKey, rootKey: RootKey, maxCertificateAge: Duration?,
        ackTimeout: Duration, clock: @escaping @Sendable () -> UInt64
    ) {
        self.canister = canister
        self.clientKey = clientKey
        self.rootKey = rootKey
        self.maxCertificateAge = maxCertificateAge
        self.clock = clock
        acknowledgements = AcknowledgementTracker(timeoutNanoseconds: ackTimeout.icNanoseconds)
    }

    package var isOpen: Bool { if case .open = phase { return true } else { return false } }

    /// The first frame: G1 (§2.3). Returns the gateway principal `ws_open` must name.
    package mutating func receiveHandshake(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> Principal {
        guard phase == .awaitingHandshake else { throw .internalInconsistency("a second handshake") }
        let handshake: GatewayHandshakeFrame
        do { handshake = try GatewayHandshakeFrame(decoding: bytes) } catch {
            phase = .closed
            throw .invalidHandshake(error.description)
        }
        phase = .awaitingOpen(gateway: handshake.gatewayPrincipal)
        verifier = CanisterMessageVerifier(
            canister: canister, rootKey: rootKey, clientKey: clientKey,
            gateway: handshake.gatewayPrincipal, maxCertificateAge: maxCertificateAge,
            clock: clock)
        return handshake.gatewayPrincipal
    }

    /// A G2 frame after the handshake (§5.1, §5.5).
    package mutating func receiveCanisterMessage(_ bytes: [UInt8]) throws(ICWebSocketClientError) -> Action {
        let gateway: Principal
        switch phase {
        case .awaitingOpen(let g), .open(let g): gateway = g
        case .awaitingHandshake, .closed: throw .internalInconsistency("canister message in phase \(phase)")
        }
        guard var verifier else { throw .internalInconsistency("no verifier after the handshake") }
        let message: WebsocketMessage
        do {
            message = try verifier.verify(bytes)
            self.verifier = verifier
        } catch {
            self.verifier = verifier
            throw .verification(error)
        }
        guard message.isServiceMessage else {
            // An application message before OPEN cannot happen with a conforming canister (the
            // OpenMessage is number 1); the JS client drops such messages silently, we refuse.
            guard isOpen else { throw .invalidServiceMessage("application message before the open message") }
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
            return .opened(gateway: gateway)
        case .ackMessage(let n):
            guard isOpen else { throw .invalidServiceMessage("ack message before the open message") }
            let now = clock()
            try acknowledgements.acknowledge(upTo: n, now: now)
            unacknowledgedContent.removeAll { $0.sequenceNumber <= n }
            // §5.6 step 4: answer with the canister sequence number of the ack just processed.
            let keepAlive = WebsocketServiceMessageContent.keepAliveMessage(
                lastIncomingSequenceNum: message.sequenceNum
            ).encoded()
            return .sendKeepAlive(try nextMessage(content: keepAlive, isServiceMessage: true))
        case .closeMessage(let reason):
            phase = .closed
            if reason == .closedByApplication { return .closedByApplication }
            throw .closedByCanister(reason)
        case .keepAliveMessage:
            throw .invalidServiceMessage("the canister sent a KeepAliveMessage, which only clients send")
        }
    }

    /// Numbers and tracks the next `ws_message` (§5.3, §5.4). Only while OPEN.
    package mutating func nextMessage(content: [UInt8], isServiceMessage: Bool) throws(ICWebSocketClientError) -> WebsocketMessage {
        switch phase {
        case .open: break
        case .closed: throw .closed
        case .awaitingHandshake, .awaitingOpen: throw .notOpen
        }
        let now = clock()
        let sequenceNumber = lastSentSequenceNumber + 1
        try acknowledgements.add(sequenceNumber, now: now)
        lastSentSequenceNumber = sequenceNumber
        if !isServiceMessage { unacknowledgedContent.append((sequenceNumber, content)) }
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
