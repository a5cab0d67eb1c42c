import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import WSClient

/// Counts the canister messages all relay bench clients received, and when a target was reached.
final class RelayDeliveryCounter: Sendable {
    private let delivered = Atomic<Int>(0)
    private let target = Atomic<Int>(.max)
    private let reachedAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    private let ended = Atomic<Int>(0)

    var count: Int { delivered.load(ordering: .relaxed) }
    /// Open sessions whose connection ended without the bench closing it.
    var endedSessions: Int { ended.load(ordering: .relaxed) }
    var reached: ContinuousClock.Instant? { reachedAt.withLockedValue { $0 } }

    /// Records the instant the count reaches `total` (an absolute count).
    func arm(total: Int) {
        reachedAt.withLockedValue { $0 = nil }
        target.store(total, ordering: .relaxed)
        if delivered.load(ordering: .relaxed) >= total { reachedAt.withLockedValue { $0 = $0 ?? .now } }
    }

    func received() {
        if delivered.wrappingAdd(1, ordering: .relaxed).newValue == target.load(ordering: .relaxed) {
            reachedAt.withLockedValue { $0 = .now }
        }
    }

    func sessionEnded() { _ = ended.wrappingAdd(1, ordering: .relaxed) }

    private let checks = NIOLockedValueBox((passed: 0, failed: 0))

    /// First relayed messages that decoded to this client's next application message, and those that did not.
    var firstMessageChecks: (passed: Int, failed: Int) { checks.withLockedValue { $0 } }

    func checked(ok: Bool) { checks.withLockedValue { if ok { $0.passed += 1 } else { $0.failed += 1 } } }
}

/// A raw WebSocket client for the relay bench: handshake, `ws_open`, the open message, then it
/// only counts the binary messages the gateway relays (no decoding, no verification, so that the
/// bench's own CPU stays small).
final class RelayBenchClient: Sendable {
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let opened = Atomic<Bool>(false)
    private let closing = Atomic<Bool>(false)

    private init() {}

    /// Opens a session to `canister` through the gateway at `url`; nil when it did not open within
    /// `timeout`.
    static func open(
        url: String, canister: Principal, gateway: Principal, replica: Replica, counter: RelayDeliveryCounter,
        timeout: Duration = .seconds(120)
    ) async -> RelayBenchClient? {
        let identity = Ed25519Identity()
        guard let frame = wsOpenFrame(identity: identity, canister: canister, gateway: gateway, clock: replica) else { return nil }
        let (openings, openingsContinuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        var logger = Logger(label: "relay-bench-client")
        logger.logLevel = .critical
        let client = RelayBenchClient()
        let task = Task {
            _ = try? await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 22), logger: logger) {
                inbound, outbound, _ in
                var frames = inbound.makeAsyncIterator()
                guard try await frames.nextMessage(maxSize: 1 << 16) != nil else { return }
                try await outbound.write(.binary(ByteBuffer(bytes: frame)))
                guard case .binary(let open)? = try await frames.nextMessage(maxSize: 1 << 22) else { return }
                let openSequence = Self.message(in: Array(open.readableBytesView))?.sequenceNum
                client.opened.store(true, ordering: .relaxed)
                openingsContinuation.yield(true)
                // The first relayed message is decoded once, to check that it is a well-formed
                // application message for this client that follows the open message.
                guard case .binary(let first)? = try await frames.nextMessage(maxSize: 1 << 22) else { return }
                counter.received()
                let message = Self.message(in: Array(first.readableBytesView))
                counter.checked(
                    ok: message.map {
                        $0.clientKey.clientPrincipal == identity.principal && !$0.isServiceMessage
                            && openSequence.map { $0 + 1 } == $0.sequenceNum
                    } ?? false)
                while let frame = try await frames.next() {
                    // Only complete messages count (a long one may come in several frames).
                    if frame.fin, frame.opcode != .text { counter.received() }
                }
            }
            openingsContinuation.yield(false)
            openingsContinuation.finish()
            if client.opened.load(ordering: .relaxed), !client.closing.load(ordering: .relaxed) { counter.sessionEnded() }
        }
        client.task.withLockedValue { $0 = task }
        let didOpen = await result(
            of: {
                var iterator = openings.makeAsyncIterator()
                return await iterator.next() ?? false
            }, within: timeout, else: false)
        guard didOpen else {
            client.close()
            return nil
        }
        return client
    }

    /// The `WebsocketMessage` in a canister message frame (G2), nil when it is not one.
    static func message(in frame: [UInt8]) -> WebsocketMessage? {
        guard let decoded = try? CanisterMessageFrame(decoding: frame) else { return nil }
        return try? WebsocketMessage(cbor: decoded.content)
    }

    func close() {
        closing.store(true, ordering: .relaxed)
        task.withLockedValue { $0?.cancel() }
    }
}

/// A client's first frame: its signed `ws_open` call with a random client nonce, expiring as an
/// agent's would by the later of the replica's clock and the wall clock.
func wsOpenFrame(identity: any Identity, canister: Principal, gateway: Principal, clock: Replica) -> [UInt8]? {
    let now = max(clock.currentTime, UInt64(Date().timeIntervalSince1970 * 1e9))
    guard
        let arg = try? Candid.encode(
            CanisterWsOpenArguments(clientNonce: UInt64.random(in: 1...UInt64.max), gatewayPrincipal: gateway)),
        let envelope = try? Envelope.signed(
            RequestContent(
                kind: .call(canisterID: canister, methodName: "ws_open", arg: arg), sender: identity.principal,
                ingressExpiry: IngressExpiry.value(nowNanoseconds: now),
                nonce: (0..<16).map { _ in UInt8.random(in: 0...255) }),
            by: identity),
        let frame = try? ClientRequestFrame(envelopeBytes: CBOREncoder.encode(envelope.cbor))
    else { return nil }
    return frame.encoded()
}
