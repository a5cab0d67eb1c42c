import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import WSClient

/// A real WebSocket client (swift-websocket's WSClient) for tests: sends what it is told,
/// collects what it receives, reports how the server closed.
final class TestWebSocket: Sendable {
    enum Received: Sendable, Equatable {
        case binary([UInt8])
        case text(String)
    }

    enum Outgoing: Sendable {
        case binary([UInt8])
        case text(String)
        case close
    }

    private actor Inbox {
        var items: [Received] = []
        var finished = false
        func push(_ item: Received) { items.append(item) }
        func finish() { finished = true }
        func pop() -> (Received?, Bool) { items.isEmpty ? (nil, finished) : (items.removeFirst(), false) }
        var isFinished: Bool { finished && items.isEmpty }
        var isClosed: Bool { finished }
    }

    private let inbox = Inbox()
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let task: Task<WebSocketCloseFrame?, any Error>

    init(url: String, maxFrameSize: Int = 1 << 22, tls: TLSConfiguration? = nil) {
        let inbox = self.inbox
        let (outgoingStream, outgoing) = AsyncStream.makeStream(of: Outgoing.self)
        self.outgoing = outgoing
        var logger = Logger(label: "test-ws-client")
        logger.logLevel = .critical
        task = Task {
            defer { Task { await inbox.finish() } }
            return try await WebSocketClient.connect(
                url: url, configuration: .init(maxFrameSize: maxFrameSize), tlsConfiguration: tls, logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            switch message {
                            case .binary(let buffer): await inbox.push(.binary(Array(buffer.readableBytesView)))
                            case .text(let text): await inbox.push(.text(text))
                            }
                        }
                    }
                    group.addTask {
                        for await item in outgoingStream {
                            switch item {
                            case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .text(let text): try await outbound.write(.text(text))
                            case .close: try await outbound.close(.normalClosure, reason: nil)
                            }
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    func send(_ bytes: [UInt8]) { outgoing.yield(.binary(bytes)) }
    func sendText(_ text: String) { outgoing.yield(.text(text)) }
    func close() { outgoing.yield(.close) }

    /// The next message, or `nil` when the connection ended first or nothing came in time.
    func next(timeout: Duration = .seconds(60)) async -> Received? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (item, finished) = await inbox.pop()
            if let item { return item }
            if finished { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// The next binary message's bytes.
    func nextBinary(timeout: Duration = .seconds(60)) async -> [UInt8]? {
        guard case .binary(let bytes)? = await next(timeout: timeout) else { return nil }
        return bytes
    }

    /// Waits for the connection to end; returns the server's close code and reason
    /// (`nil` code when it closed without a Close frame or did not close in time).
    func closed(timeout: Duration = .seconds(60)) async -> (code: UInt16?, reason: String?) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await inbox.isClosed {
                guard let frame = try? await task.value else { return (nil, nil) }
                return (UInt16(webSocketErrorCode: frame.closeCode), frame.reason)
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return (nil, "did not close within \(timeout)")
    }

    var isClosed: Bool { get async { await inbox.isClosed } }

    /// Ends the client without waiting.
    func cancel() {
        outgoing.finish()
        task.cancel()
    }
}
