import Foundation
import ICCore
import ICWebSocketProtocol
import Logging

@testable import ICWebSocketClient

/// A gateway played by the test through the SDK's transport seam (``GatewayTransport``): each
/// WebSocket the client opens arrives on ``nextConnection(within:)``, and the test reads the
/// client's frames and writes certified canister frames (``CertifiedFrameFactory``) exactly
/// when it wants. For what a real socket cannot do on cue: a frame numbered and queued but not
/// yet written when the connection ends (``ScriptedConnection/holdWrites()``), or a canister
/// message at one precise point of a resume.
final class ScriptedGateway: GatewayTransport {
    private let connections = AsyncQueue<ScriptedConnection>()

    /// The next WebSocket the client opened, or `nil` if none within `timeout`.
    func nextConnection(within timeout: Duration = .seconds(60)) async -> ScriptedConnection? {
        await connections.next(timeout: timeout)
    }

    func run(
        url: String, maxFrameSize: Int, logger: Logger,
        session: @escaping @Sendable (any GatewayChannel) async -> Void
    ) async throws -> (code: UInt16?, reason: String?) {
        let connection = ScriptedConnection()
        connections.push(connection)
        await session(connection)
        connection.shut()
        return connection.gatewayClose
    }
}

/// One scripted WebSocket: the client's side is the ``GatewayChannel``; the test's side sends
/// the handshake and canister frames, reads the client's requests, holds writes, and drops the
/// connection.
final class ScriptedConnection: GatewayChannel, @unchecked Sendable {
    struct Closed: Error {}

    private let toClient = AsyncQueue<GatewayFrame>()
    private let fromClient = AsyncQueue<[UInt8]>()
    private let lock = NSLock()
    private var holdsWrites = false
    private var heldWrites: [CheckedContinuation<Void, any Error>] = []
    private var closed = false
    private var closeFrame: (code: UInt16?, reason: String?) = (nil, nil)
    private var closedByClient: UInt16?

    /// The close code and reason of ``drop(code:reason:)``, as the transport reports them.
    var gatewayClose: (code: UInt16?, reason: String?) { lock.withLock { closeFrame } }

    /// Writes the client started and that wait (see ``holdWrites()``).
    var heldWriteCount: Int { lock.withLock { heldWrites.count } }

    // MARK: The client's side

    func receive() async throws -> GatewayFrame? { await toClient.next() }

    func send(_ bytes: [UInt8]) async throws {
        let (isClosed, hold) = lock.withLock { (closed, holdsWrites) }
        if isClosed { throw Closed() }
        guard hold else { return fromClient.push(bytes) }
        // Like a write stuck behind a full socket buffer: it ends only with the connection.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let closedMeanwhile = lock.withLock {
                if closed { return true }
                heldWrites.append(continuation)
                return false
            }
            if closedMeanwhile { continuation.resume(throwing: Closed()) }
        }
    }

    func close(code: UInt16, reason: String?) async {
        lock.withLock { closedByClient = code }
        shut()
    }

    /// The close code the client closed this connection with, if it did.
    var clientCloseCode: UInt16? { lock.withLock { closedByClient } }

    /// Ends the connection for both sides: held writes fail, the reader sees the end.
    func shut() {
        let held = lock.withLock {
            closed = true
            defer { heldWrites.removeAll() }
            return heldWrites
        }
        for write in held { write.resume(throwing: Closed()) }
        toClient.finish()
        fromClient.finish()
    }

    // MARK: The test's side

    /// The gateway's first frame (G1).
    func sendHandshake(_ gateway: Principal) {
        toClient.push(.binary(GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded()))
    }

    /// A canister message as the gateway relays it (G2).
    func deliver(_ frame: CanisterMessageFrame) { toClient.push(.binary(frame.encoded())) }

    /// The client's next request frame (C1), or `nil` if none within `timeout`.
    func nextRequest(within timeout: Duration = .seconds(60)) async throws -> ClientRequestFrame? {
        guard let bytes = await fromClient.next(timeout: timeout) else { return nil }
        return try ClientRequestFrame(decoding: bytes)
    }

    /// From now on the client's writes do not complete until the connection ends.
    func holdWrites() { lock.withLock { holdsWrites = true } }

    /// The gateway goes away: the client reads the end of the stream, and the transport reports
    /// `code` and `reason`.
    func drop(code: UInt16, reason: String) {
        lock.withLock { closeFrame = (code, reason) }
        toClient.finish()
    }
}

/// An unbounded queue with one reader at a time, whose wait can be bounded.
final class AsyncQueue<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [Element] = []
    private var finished = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Element?, Never>)?
    private var waiters = 0

    private enum Next {
        case element(Element)
        case end
        case wait(Int)
    }

    func push(_ element: Element) {
        let waiting: CheckedContinuation<Element?, Never>? = lock.withLock {
            guard !finished else { return nil }
            guard let waiter else {
                buffer.append(element)
                return nil
            }
            self.waiter = nil
            return waiter.continuation
        }
        waiting?.resume(returning: element)
    }

    /// No more elements: the reader gets what is buffered, then `nil`.
    func finish() {
        let waiting: CheckedContinuation<Element?, Never>? = lock.withLock {
            finished = true
            defer { waiter = nil }
            return waiter?.continuation
        }
        waiting?.resume(returning: nil)
    }

    /// The next element; `nil` once finished and drained, or after `timeout` if one is given.
    func next(timeout: Duration? = nil) async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let now: Next = lock.withLock {
                if !buffer.isEmpty { return .element(buffer.removeFirst()) }
                if finished { return .end }
                waiters += 1
                waiter = (waiters, continuation)
                return .wait(waiters)
            }
            switch now {
            case .element(let element): continuation.resume(returning: element)
            case .end: continuation.resume(returning: nil)
            case .wait(let id):
                guard let timeout else { return }
                Task {
                    try? await Task.sleep(for: timeout)
                    self.expire(id)
                }
            }
        }
    }

    private func expire(_ id: Int) {
        let waiting: CheckedContinuation<Element?, Never>? = lock.withLock {
            guard let waiter, waiter.id == id else { return nil }
            self.waiter = nil
            return waiter.continuation
        }
        waiting?.resume(returning: nil)
    }
}
