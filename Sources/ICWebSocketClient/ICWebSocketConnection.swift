import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers

/// A verified, acknowledged WebSocket session with one canister through an IC WebSocket gateway.
///
/// Every canister message is verified before the application sees it (certificate signature
/// and subnet delegation against the network's root key, freshness, certified data, the
/// message's hash in the tree, its sequence number); every application message is a
/// `ws_message` call signed by the caller's identity, which the gateway relays but cannot
/// forge; a gateway that drops or delays messages is detected by the acknowledgement timer.
///
/// ```swift
/// let connection = try await ICWebSocketConnection.connect(
///     gatewayURL: "ws://127.0.0.1:8080", canister: canisterID, identity: Ed25519Identity(),
///     network: .local(fetchRootKey: true), messageType: AppMessage.self)
/// try await connection.send(AppMessage(text: "hello"))
/// for try await message in connection.messages { print(message.text) }
/// await connection.close()
/// ```
///
/// `Message` is the canister's application message type (the `opt T` of its `ws_message`).
/// The connection runs until ``close()`` is called or it fails; releasing the object does not
/// close it.
public final class ICWebSocketConnection<Message: CandidCodable & Sendable>: Sendable {
    /// Verified application messages from the canister, in order. Finishes when the connection
    /// closes normally; throws the ``ICWebSocketClientError`` that ended it otherwise. Iterate it
    /// from one task only.
    public let messages: AsyncThrowingStream<Message, any Error>
    /// State changes (``ICWebSocketConnectionState``): open, reconnecting, closed. The newest
    /// 64 are kept when nobody reads them.
    public let states: AsyncStream<ICWebSocketConnectionState>
    /// The outcomes of sent messages, read from the IC, when
    /// ``ICWebSocketClientConfiguration/callOutcomeChecks`` is set (finished at once otherwise):
    /// refusals (`ws_message` replied `Err`), rejections, and checks that gave up; accepted
    /// messages only if ``CallOutcomeChecks/reportsAccepted``. Never closes the connection. The
    /// newest 256 are kept when nobody reads them.
    public let callOutcomes: AsyncStream<ICWebSocketCallOutcome>
    /// The canister this connection talks to.
    public let canister: Principal

    private let driver: ConnectionDriver<Message>
    private let outcomeChecker: CallOutcomeChecker?

    /// Counters for diagnostics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Certificates whose BLS signature (and delegation) were verified.
        public var certificatesVerified: Int
        /// Messages whose certificate had already been verified for an earlier message of its batch.
        public var certificateCacheHits: Int
        /// Canister messages received and verified (service messages included).
        public var messagesReceived: Int
        /// Connections opened again after a failure (resumed or not).
        public var reconnects: Int
        /// Times the session was resumed (`ws_resume` answered with a verified ResumeMessage).
        public var resumes: Int
        /// Times a resumable session (one that had opened) was given up for a new one with a
        /// new client key: its resume was refused, made no progress through any gateway, or
        /// the canister closed the session (a `CloseMessage`, also during a resume). Each time,
        /// sends waiting for that session's resume failed with the error that ended it and
        /// ``ICWebSocketConnectionState/reconnecting(attempt:cause:unacknowledged:)`` reported
        /// the messages that may be lost. Sessions that are not resumable
        /// (``ReconnectPolicy/resumesSession`` off) are not counted: each of their
        /// ``reconnects`` opens a new one.
        public var sessionsReplaced: Int
        /// This client's messages sent again after a resume (the canister had not executed them).
        public var messagesResent: Int
    }

    private init(
        canister: Principal, driver: ConnectionDriver<Message>,
        messages: AsyncThrowingStream<Message, any Error>, states: AsyncStream<ICWebSocketConnectionState>,
        callOutcomes: AsyncStream<ICWebSocketCallOutcome>, outcomeChecker: CallOutcomeChecker?
    ) {
        self.canister = canister
        self.driver = driver
        self.messages = messages
        self.states = states
        self.callOutcomes = callOutcomes
        self.outcomeChecker = outcomeChecker
    }

    /// Connects to `canister` through the gateway at `gatewayURL` and returns once the canister
    /// has confirmed the connection with a verified OpenMessage carrying this client's key.
    ///
    /// - Parameters:
    ///   - gatewayURL: `ws://` or `wss://` URL of the gateway.
    ///   - canister: the canister (it must embed the IC WebSocket library).
    ///   - identity: signs `ws_open` and every `ws_message`; the anonymous identity is refused
    ///     (the canister rejects it). One connection per principal and canister: a second one
    ///     with the same identity silently replaces the first (protocol §3.3).
    ///   - network: the IC and its root key policy; a local replica's key is fetched only if asked.
    ///   - messageType: the application message type.
    ///   - configuration: timeouts, limits, clock, reconnect policy.
    ///   - logger: where the connection logs.
    /// - Throws: ``ICWebSocketClientError`` when the arguments are unusable, the root key cannot be
    ///   fetched, the gateway cannot be reached, or the connection fails before it is open.
    public static func connect(
        gatewayURL: String, canister: Principal, identity: any Identity, network: ICNetwork,
        messageType: Message.Type = Message.self, configuration: ICWebSocketClientConfiguration = .init(),
        logger: Logger = Logger(label: "icws.client")
    ) async throws(ICWebSocketClientError) -> ICWebSocketConnection {
        try await connect(
            gatewayURLs: [gatewayURL], canister: canister, identity: identity, network: network,
            configuration: configuration, logger: logger)
    }

    /// Connects through the first of several gateways of the same IC; when a connection fails,
    /// the reconnect policy (``ICWebSocketClientConfiguration/reconnect``) moves on to the next
    /// gateway in turn and, by default, resumes the same session there (``ReconnectPolicy``).
    ///
    /// - Parameter gatewayURLs: `ws://` or `wss://` URLs, tried in order; at least one.
    /// - Throws: as ``connect(gatewayURL:canister:identity:network:messageType:configuration:logger:)``;
    ///   the first connection is made through the first gateway only.
    public static func connect(
        gatewayURLs: [String], canister: Principal, identity: any Identity, network: ICNetwork,
        messageType: Message.Type = Message.self, configuration: ICWebSocketClientConfiguration = .init(),
        logger: Logger = Logger(label: "icws.client")
    ) async throws(ICWebSocketClientError) -> ICWebSocketConnection {
        guard identity.publicKeyDER != nil, !identity.principal.isAnonymous else {
            throw .invalidConfiguration("the anonymous identity cannot open a connection; the canister rejects it")
        }
        let rootKey = try await network.resolveRootKey()
        // Outcome checks read the client's own request status from the IC itself: only the
        // request's sender may, so the agent signs with the client's identity.
        let agent = configuration.callOutcomeChecks.map { _ in
            HTTPAgent(
                configuration: .init(
                    url: network.url, rootKey: .explicit(rootKey),
                    ingressExpiry: configuration.ingressExpiry, clock: configuration.clock),
                identity: identity)
        }
        return try await connect(
            gatewayURLs: gatewayURLs, canister: canister, identity: identity, rootKey: rootKey,
            configuration: configuration, logger: logger, transport: WebSocketGatewayTransport(),
            outcomeAgent: agent)
    }

    /// The entry point with the transport seam exposed (tests).
    static func connect(
        gatewayURL: String, canister: Principal, identity: any Identity, rootKey: RootKey,
        configuration: ICWebSocketClientConfiguration, logger: Logger,
        transport: any GatewayTransport,
        outcomeAgent: HTTPAgent? = nil
    ) async throws(ICWebSocketClientError) -> ICWebSocketConnection {
        try await connect(
            gatewayURLs: [gatewayURL], canister: canister, identity: identity, rootKey: rootKey,
            configuration: configuration, logger: logger, transport: transport, outcomeAgent: outcomeAgent)
    }

    static func connect(
        gatewayURLs: [String], canister: Principal, identity: any Identity, rootKey: RootKey,
        configuration: ICWebSocketClientConfiguration, logger: Logger,
        transport: any GatewayTransport,
        outcomeAgent: HTTPAgent? = nil
    ) async throws(ICWebSocketClientError) -> ICWebSocketConnection {
        guard !gatewayURLs.isEmpty else { throw .invalidConfiguration("no gateway URL given") }
        for gatewayURL in gatewayURLs {
            let lowered = gatewayURL.lowercased()
            guard lowered.hasPrefix("ws://") || lowered.hasPrefix("wss://") else {
                throw .invalidConfiguration("gateway URL must start with ws:// or wss://, got \(gatewayURL)")
            }
        }
        guard configuration.maxBufferedMessages > 0, configuration.maxUnacknowledgedMessages > 0 else {
            throw .invalidConfiguration("buffer limits must be positive")
        }
        let messages = AsyncThrowingStream<Message, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(configuration.maxBufferedMessages))
        let states = AsyncStream<ICWebSocketConnectionState>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let driver = ConnectionDriver<Message>(
            gatewayURLs: gatewayURLs, canister: canister, identity: identity, rootKey: rootKey,
            configuration: configuration, logger: logger, transport: transport,
            messages: messages.continuation, states: states.continuation)
        let outcomes = AsyncStream<ICWebSocketCallOutcome>.makeStream(bufferingPolicy: .bufferingNewest(256))
        var checker: CallOutcomeChecker?
        if let checks = configuration.callOutcomeChecks, let outcomeAgent {
            checker = CallOutcomeChecker(
                agent: outcomeAgent, canister: canister, checks: checks,
                continuation: outcomes.continuation)
        } else {
            outcomes.continuation.finish()
        }
        let connection = ICWebSocketConnection(
            canister: canister, driver: driver, messages: messages.stream,
            states: states.stream, callOutcomes: outcomes.stream,
            outcomeChecker: checker)
        do {
            var onResent: (@Sendable (SentMessage) -> Void)?
            if let checker { onResent = { sent in checker.check(sent) } }
            try await driver.start(onResent: onResent)
        } catch {
            checker?.close()
            throw error
        }
        return connection
    }

    /// This connection's client key (the identity's principal and this session's random
    /// nonce). A resumed session keeps it; after a reconnect with a new session it is the new key.
    public var clientKey: ClientKey {
        guard let key = driver.currentKey.withLockedValue({ $0 }) else {
            preconditionFailure("a connection is only handed out once open, so it always has a key")
        }
        return key
    }

    /// Sends one application message as a signed `ws_message` with the next sequence number.
    /// Returns once the frame is written to the gateway; the canister acknowledges it later.
    /// While a resumable session is being resumed it waits until the session is open again.
    /// - Throws: ``ICWebSocketClientError/notOpen`` while (re)connecting a session that cannot resume,
    ///   ``ICWebSocketClientError/closed`` after close, or the encoding/transport error.
    /// - Returns: the message's sequence number, as ``callOutcomes`` reports it.
    @discardableResult
    public func send(_ message: Message) async throws(ICWebSocketClientError) -> UInt64 {
        let content: [UInt8]
        do { content = try Candid.encode(message) } catch { throw .messageEncoding("\(error)") }
        let sent = try await driver.send(content: content)
        outcomeChecker?.check(sent)
        return sent.sequenceNumber
    }

    /// Ends the session and closes the connection; returns once it is down. Calling it again
    /// does nothing.
    ///
    /// A resumable session (see ``ReconnectPolicy/resumesSession``) first asks the canister to
    /// end it (a signed `CloseMessage`): otherwise the canister would keep it for a resume
    /// through its grace period, and the application would see the client leave only then. The
    /// canister's answer closes the connection; without one within
    /// ``ReconnectPolicy/leaveTimeout`` it is closed anyway (WebSocket close 1000). A session
    /// that is not resumable is closed at once, and its gateway tells the canister (`ws_close`).
    /// Messages the canister sent before it ended the session are still delivered.
    public func close() async {
        await driver.close()
        outcomeChecker?.close()
    }

    /// Verification counters over the life of this connection (reconnects included).
    public func statistics() async -> Statistics {
        let stats = await driver.statistics()
        return Statistics(
            certificatesVerified: stats.certificatesVerified, certificateCacheHits: stats.certificateCacheHits,
            messagesReceived: stats.messagesReceived, reconnects: stats.reconnects, resumes: stats.resumes,
            sessionsReplaced: stats.sessionsReplaced, messagesResent: stats.messagesResent)
    }
}
