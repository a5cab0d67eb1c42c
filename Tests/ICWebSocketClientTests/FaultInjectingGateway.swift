import Foundation
import Hummingbird
import HummingbirdWebSocket
import ICAgent
import ICCore
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import NIOCore

/// A minimal IC WebSocket gateway for client tests, with faults injected on purpose: it relays
/// client envelopes to a real replica unchanged and polls `ws_get_messages` as its own identity
/// (protocol §6), but can drop, tamper with or withhold canister messages, send a bad
/// handshake, or cut connections. Not a gateway implementation: one poller per connection, no limits.
final class FaultInjectingGateway: Sendable {
    /// What the gateway does wrong.
    enum Fault: Sendable, Equatable {
        /// Nothing: relays faithfully.
        case none
        /// Drops every AckMessage (the client's ack timer must fire).
        case dropAcks
        /// Drops the next application message (the client must see the sequence gap).
        case dropNextApplicationMessage
        /// Flips a byte of the next message's content (the client must see the hash mismatch).
        case tamperNextMessage
        /// Relays nothing at all (the client's open timer must fire).
        case relayNothing
        /// Sends the handshake principal as text instead of bytes.
        case textHandshake
    }

    /// A `ws_message` the gateway relayed, decoded, with the canister's answer.
    struct RelayedMessage: Sendable {
        let message: WebsocketMessage
        let result: CanisterWsResult?
    }

    let identity = Ed25519Identity()
    let canister: Principal
    private let agent: HTTPAgent
    private let state = LockedState()

    private final class LockedState: @unchecked Sendable {
        let lock = NSLock()
        var fault: Fault = .none
        var relayed: [RelayedMessage] = []
        var disconnectGeneration = 0
    }

    init(replicaURL: String, rootKey: RootKey, canister: Principal, clock: @escaping @Sendable () -> UInt64) {
        self.canister = canister
        agent = HTTPAgent(
            configuration: .init(
                url: replicaURL, rootKey: .explicit(rootKey),
                pollingInterval: (.milliseconds(5), .milliseconds(50)), clock: clock),
            identity: identity)
    }

    var fault: Fault {
        get { state.lock.withLock { state.fault } }
        set { state.lock.withLock { state.fault = newValue } }
    }

    /// The `ws_message` calls relayed so far, in order.
    var relayed: [RelayedMessage] { state.lock.withLock { state.relayed } }

    /// Closes every open client connection (as a crashing gateway would).
    func disconnectAll() { state.lock.withLock { state.disconnectGeneration += 1 } }

    private var disconnectGeneration: Int { state.lock.withLock { state.disconnectGeneration } }

    /// Serves on a loopback port while `body` runs with the `ws://` URL.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        var logger = Logger(label: "fault-injecting-gateway")
        logger.logLevel = .critical
        try await LoopbackServer.run(
            { onServerRunning in
                Application(
                    router: Router(),
                    server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .disabled))) { _, _, _ in
                        .upgrade([:]) { inbound, outbound, _ in
                            await self.serve(inbound: inbound, outbound: outbound)
                        }
                    },
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: onServerRunning, logger: logger)
            }, while: { port in try await body("ws://127.0.0.1:\(port)") })
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let handshake: [UInt8]
        if fault == .textHandshake {
            handshake = CBOREncoder.encode(.map([(.text("gateway_principal"), .text(identity.principal.description))]), selfDescribe: true)
        } else {
            handshake = GatewayHandshakeFrame(gatewayPrincipal: identity.principal).encoded()
        }
        do {
            try await outbound.write(.binary(ByteBuffer(bytes: handshake)))
            var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            guard case .binary(let first)? = try await frames.next() else { return }
            let open = try ClientRequestFrame(decoding: Array(first.readableBytesView))
            guard open.methodName == "ws_open", let sender = open.sender, let arg = open.arg else { return }
            let arguments = try Candid.decode(CanisterWsOpenArguments.self, from: arg)
            let clientKey = ClientKey(clientPrincipal: sender, clientNonce: arguments.clientNonce)
            _ = try await submit(open)
            let generation = disconnectGeneration
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.poll(for: clientKey, outbound: outbound, generation: generation) }
                group.addTask {
                    // Watches for disconnectAll().
                    while self.disconnectGeneration == generation { try await Task.sleep(for: .milliseconds(10)) }
                    try await outbound.close(.goingAway, reason: "fault-injecting gateway disconnect")
                }
                while case .binary(let buffer)? = try await frames.next() {
                    let request = try ClientRequestFrame(decoding: Array(buffer.readableBytesView))
                    let result = try await submit(request)
                    if let arg = request.arg,
                        let decoded = try? Candid.decode(CanisterWsMessageArguments.self, CandidNull?.self, from: arg)
                    {
                        state.lock.withLock { state.relayed.append(RelayedMessage(message: decoded.0.msg, result: result)) }
                    }
                }
                group.cancelAll()
            }
        } catch {
            // The connection ends; the test sees the effect on the client.
        }
    }

    /// Forwards a client envelope byte for byte and returns the canister's answer.
    private func submit(_ request: ClientRequestFrame) async throws -> CanisterWsResult? {
        let envelope = try Envelope(cborBytes: request.envelopeBytes)
        let reply = try await agent.submitCall(
            request.envelopeBytes, requestID: envelope.content.requestID,
            effectiveCanisterID: canister, ingressExpiry: envelope.content.ingressExpiry)
        return try? Candid.decode(CanisterWsResult.self, from: reply)
    }

    private func poll(for clientKey: ClientKey, outbound: WebSocketOutboundWriter, generation: Int) async throws {
        var nonce: UInt64 = 0
        while disconnectGeneration == generation {
            let result = try await agent.query(
                canister, "ws_get_messages", CanisterWsGetMessagesArguments(nonce: nonce),
                returning: CanisterWsGetMessagesResult.self)
            guard case .ok(let batch) = result else { throw CancellationError() }
            for message in batch.messages {
                nonce = (MessageKey.nonce(of: message.key) ?? nonce) + 1
                guard message.clientKey == clientKey else { continue }
                var frame = CanisterMessageFrame(message: message, of: batch)
                let decoded = try WebsocketMessage(cbor: frame.content)
                switch fault {
                case .relayNothing:
                    continue
                case .dropAcks:
                    if decoded.isServiceMessage, case .ackMessage? = try? WebsocketServiceMessageContent.decode(decoded.content) {
                        continue
                    }
                case .dropNextApplicationMessage where !decoded.isServiceMessage:
                    fault = .none
                    continue
                case .tamperNextMessage:
                    fault = .none
                    frame.content[frame.content.count - 1] ^= 0x01
                default:
                    break
                }
                try await outbound.write(.binary(ByteBuffer(bytes: frame.encoded())))
            }
            if batch.isEndOfQueue { try await Task.sleep(for: .milliseconds(20)) }
        }
    }
}
