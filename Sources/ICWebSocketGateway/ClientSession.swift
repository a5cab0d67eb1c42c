import HummingbirdWebSocket
import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// What a session needs from the gateway.
struct SessionServices: Sendable {
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
}

/// One WebSocket connection: the I/O around a ``SessionStateMachine``. Four tasks run while it
/// lives: the reader (client frames → events), the writer (canister messages → client), the
/// caller (this connection's envelopes → IC, one after another, §6.4) and the timers. The first
/// `end` action stops all four; then the Close frame is sent, the key unregistered and `ws_close`
/// called as the machine decided.
final class ClientSession: Sendable {
    struct Outbound: Sendable {
        let frame: [UInt8]
        let polledAt: ContinuousClock.Instant
    }

    let id: UInt64
    private let services: SessionServices
    private let logger: Logger
    private let machine: NIOLockedValueBox<SessionStateMachine>
    private let setupStartedAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    private let startedAt = ContinuousClock.now

    private let outbound: AsyncStream<Outbound>
    private let outboundContinuation: AsyncStream<Outbound>.Continuation
    private let calls: AsyncStream<ForwardedEnvelope>
    private let callsContinuation: AsyncStream<ForwardedEnvelope>.Continuation
    private let endings: AsyncStream<SessionStateMachine.Ending>
    private let endingsContinuation: AsyncStream<SessionStateMachine.Ending>.Continuation

    init(id: UInt64, services: SessionServices, logger: Logger) {
        self.id = id
        self.services = services
        var logger = logger
        logger[metadataKey: "connection_id"] = "\(id)"
        self.logger = logger
        machine = NIOLockedValueBox(SessionStateMachine(gatewayPrincipal: services.gatewayPrincipal,
                                                        maxEnvelopeBytes: services.configuration.maxEnvelopeBytes))
        // Bounded queues (§6.5: a slow client must not stall its canister's other clients).
        (outbound, outboundContinuation) = AsyncStream.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, services.configuration.maxPendingOutboundMessages)))
        (calls, callsContinuation) = AsyncStream.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, services.configuration.maxPendingCalls)))
        (endings, endingsContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(1))
    }

    // MARK: Inputs from the gateway

    /// A canister message for this client, from its poller.
    func deliver(_ frame: [UInt8], polledAt: ContinuousClock.Instant) {
        if case .dropped = outboundContinuation.yield(Outbound(frame: frame, polledAt: polledAt)) {
            _ = handle(.outboundOverflow)
        }
    }

    /// The poller of this session's canister gave up.
    func pollerFailed(code: GatewayCloseCode, reason: String) {
        _ = handle(.pollerFailed(code: code, reason: reason))
    }

    /// The gateway is shutting down.
    func shutdown() { _ = handle(.shutdown) }

    var state: SessionStateMachine.State { machine.withLockedValue { $0.state } }

    // MARK: Events

    /// Feeds an event to the machine and performs the synchronous part of its action; returns
    /// the action so that the writer can send frames.
    @discardableResult
    private func handle(_ event: SessionStateMachine.Event) -> SessionStateMachine.Action {
        let action = machine.withLockedValue { $0.handle(event) }
        switch action {
        case .registerAndForward(let target, let envelope):
            setupStartedAt.withLockedValue { $0 = ContinuousClock.now }
            switch services.state.register(self, key: target.clientKey, canister: target.canister) {
            case .duplicateClientKey:
                // Treated like a bad first frame: the other connection keeps the key.
                machine.withLockedValue { _ = $0.handle(.clientGone(reason: "duplicate")) }
                services.metrics.frameRejected(reason: "duplicate_client_key")
                logger.warning("client key already connected", metadata: ["client_key": "\(target.clientKey)"])
                conclude(.init(closeFrame: (.policyViolation, "client key \(target.clientKey) is already connected"),
                               unregisters: false, callsWsClose: false, reason: "duplicate client key"))
            case .registeredStartingPoller(let poller):
                logger.info("session registered", metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
                enqueue(envelope)
                services.startPoller(poller)
            case .registered:
                logger.info("session registered", metadata: ["canister_id": "\(target.canister)", "client_key": "\(target.clientKey)"])
                enqueue(envelope)
            }
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

    private func enqueue(_ envelope: ForwardedEnvelope) {
        if case .dropped = callsContinuation.yield(envelope) { handle(.callQueueOverflow) }
    }

    private func conclude(_ ending: SessionStateMachine.Ending) {
        endingsContinuation.yield(ending)
        endingsContinuation.finish()
    }

    // MARK: Running

    /// Serves the connection until the session ends, then cleans up (§6.3, §6.6).
    func run(inbound: WebSocketInboundStream, outbound writer: WebSocketOutboundWriter) async {
        let handshake = GatewayHandshakeFrame(gatewayPrincipal: services.gatewayPrincipal).encoded()
        do {
            try await writer.write(.binary(ByteBuffer(bytes: handshake)))
        } catch {
            handle(.writeFailed(reason: "handshake not sent: \(error)"))
        }
        let ending: SessionStateMachine.Ending = await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.readFrames(inbound) }
            group.addTask { await self.writeMessages(writer) }
            group.addTask { await self.submitCalls() }
            group.addTask { await self.runTimers() }
            var iterator = endings.makeAsyncIterator()
            let ending = await iterator.next()
            group.cancelAll()
            return ending ?? .init(closeFrame: nil, unregisters: false, callsWsClose: false, reason: "cancelled")
        }
        outboundContinuation.finish()
        callsContinuation.finish()
        let target = lastTarget()
        logger.info("session ended", metadata: [
            "reason": "\(ending.reason)", "close_code": "\(ending.closeFrame.map { "\($0.code.rawValue)" } ?? "none")",
        ])
        if let frame = ending.closeFrame {
            try? await writer.close(WebSocketErrorCode(codeNumber: Int(frame.code.rawValue)), reason: Self.closeReason(frame.reason))
        }
        services.metrics.sessionEnded(after: ContinuousClock.now - startedAt, code: ending.closeFrame?.code)
        if let target {
            if ending.unregisters { services.state.unregister(self, key: target.clientKey, canister: target.canister) }
            if ending.callsWsClose { await services.closeOnCanister(target) }
        }
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

    /// The target survives the transition to `closed` only in our own records.
    private let boundTarget = NIOLockedValueBox<SessionStateMachine.SessionTarget?>(nil)
    private func lastTarget() -> SessionStateMachine.SessionTarget? { boundTarget.withLockedValue { $0 } }

    /// Client frames → events. Messages are joined here (not by the WebSocket layer) so that an
    /// oversized or badly fragmented one gets its own close code.
    private func readFrames(_ inbound: WebSocketInboundStream) async {
        let limit = services.configuration.maxMessageBytes
        var iterator = inbound.makeAsyncIterator()
        var pending: (isText: Bool, data: ByteBuffer)?
        do {
            while let frame = try await iterator.next() {
                switch frame.opcode {
                case .binary, .text:
                    guard pending == nil else {
                        handle(.invalidMessage(code: .invalidFrame, reason: "new message inside a fragmented one"))
                        return
                    }
                    pending = (frame.opcode == .text, frame.data)
                case .continuation:
                    guard pending != nil else {
                        handle(.invalidMessage(code: .invalidFrame, reason: "continuation frame without a message"))
                        return
                    }
                    var data = frame.data
                    pending!.data.writeBuffer(&data)
                }
                guard let message = pending else { continue }
                guard message.data.readableBytes <= limit else {
                    services.metrics.frameRejected(reason: "message_too_big")
                    handle(.invalidMessage(code: .messageTooBig,
                                           reason: "message of \(message.data.readableBytes)+ bytes exceeds the limit of \(limit)"))
                    return
                }
                guard frame.fin else { continue }
                pending = nil
                if message.isText {
                    services.metrics.frameRejected(reason: "text_frame")
                    handle(.textFrame)
                } else {
                    let action = handle(.binaryFrame(Array(message.data.readableBytesView)))
                    if case .registerAndForward(let target, _) = action { boundTarget.withLockedValue { $0 = target } }
                    if case .end = action { services.metrics.frameRejected(reason: "invalid_frame") }
                }
            }
            handle(.clientGone(reason: "client closed the connection"))
        } catch {
            handle(.clientGone(reason: "read failed: \(error)"))
        }
    }

    /// Canister messages → client, in queue order.
    private func writeMessages(_ writer: WebSocketOutboundWriter) async {
        for await item in outbound {
            guard case .send(let frame) = handle(.canisterMessage(item.frame)) else { continue }
            let wasSetup = setupStartedAt.withLockedValue { started in
                defer { started = nil }
                return started != nil
            }
            do {
                try await writer.write(.binary(ByteBuffer(bytes: frame)))
                services.metrics.messageRelayed(latency: ContinuousClock.now - item.polledAt)
                if wasSetup { services.metrics.sessionOpened(after: ContinuousClock.now - startedAt) }
            } catch {
                handle(.writeFailed(reason: "write failed: \(error)"))
                return
            }
        }
    }

    /// This connection's envelopes → IC, each submitted when the previous one has its outcome.
    private func submitCalls() async {
        for await envelope in calls {
            let start = ContinuousClock.now
            var outcome = "replied"
            do {
                _ = try await services.callAgent.submitCall(envelope.body, requestID: envelope.requestID,
                                                            effectiveCanisterID: envelope.canister,
                                                            ingressExpiry: envelope.ingressExpiry)
            } catch {
                // Outcomes are never reported to the client (§2.5); a rejected ws_open shows up
                // as the client's open timeout, a rejected ws_message as a missing ack.
                outcome = error.isTransient ? "failed" : "rejected"
                logger.notice("relayed call did not succeed",
                              metadata: ["method": "\(envelope.methodName)", "error": "\(error)"])
            }
            services.metrics.envelopeRelayed(after: ContinuousClock.now - start, outcome: outcome)
            if services.configuration.pollsAfterRelayedCall {
                services.state.wakePoller(of: envelope.canister)
            }
        }
    }

    private func runTimers() async {
        let configuration = services.configuration
        do {
            try await Task.sleep(for: configuration.handshakeTimeout)
            handle(.handshakeTimeout)
            guard case .setup = state, let started = setupStartedAt.withLockedValue({ $0 }) else { return }
            try await Task.sleep(until: started + configuration.setupTimeout, clock: .continuous)
            handle(.setupTimeout)
        } catch {
            return
        }
    }
}
