import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import WSClient

/// One WebSocket message from the gateway.
enum GatewayFrame: Sendable, Equatable {
    case binary([UInt8])
    case text(String)
}

/// The seam between the protocol logic and the network: opens a WebSocket to a gateway and
/// runs a session on it. The SDK uses ``WebSocketGatewayTransport``; the session logic itself
/// (``ClientStateMachine``) never sees a socket.
protocol GatewayTransport: Sendable {
    /// Connects to `url` and runs `session` until it returns; then the WebSocket is closed.
    /// Returns the close code and reason the gateway sent, if any.
    func run(
        url: String, maxFrameSize: Int, logger: Logger,
        session: @escaping @Sendable (any GatewayChannel) async -> Void
    ) async throws -> (code: UInt16?, reason: String?)
}

/// An open WebSocket as a session uses it.
protocol GatewayChannel: Sendable {
    /// The next message; `nil` once the connection is closed. One reader at a time.
    func receive() async throws -> GatewayFrame?
    /// Writes one binary message.
    func send(_ bytes: [UInt8]) async throws
    /// Sends a close frame with `code` and `reason`.
    func close(code: UInt16, reason: String?) async
}

/// ``GatewayTransport`` over swift-websocket's client (ws:// and wss://). No subprotocol is
/// requested and no pings are sent: the reference gateway treats pings as protocol violations (§2.1).
struct WebSocketGatewayTransport: GatewayTransport {
    func run(
        url: String, maxFrameSize: Int, logger: Logger,
        session: @escaping @Sendable (any GatewayChannel) async -> Void
    ) async throws -> (code: UInt16?, reason: String?) {
        let configuration = WebSocketClientConfiguration(maxFrameSize: maxFrameSize, closeTimeout: .seconds(5), autoPing: .disabled)
        let closeFrame = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
            await session(WebSocketGatewayChannel(inbound: inbound, outbound: outbound, maxFrameSize: maxFrameSize))
        }
        return (closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) }, closeFrame?.reason)
    }
}

/// A swift-websocket connection as a ``GatewayChannel``.
final class WebSocketGatewayChannel: GatewayChannel, @unchecked Sendable {
    // The iterator is only advanced by the session's single reader (see `receive`), which the
    // lock makes safe even if that rule is broken.
    private let iterator: NIOLockedValueBox<WebSocketInboundMessageStream.AsyncIterator>
    private let outbound: WebSocketOutboundWriter

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, maxFrameSize: Int) {
        iterator = NIOLockedValueBox(inbound.messages(maxSize: maxFrameSize).makeAsyncIterator())
        self.outbound = outbound
    }

    func receive() async throws -> GatewayFrame? {
        var local = iterator.withLockedValue { $0 }
        let message = try await local.next()
        iterator.withLockedValue { $0 = local }
        switch message {
        case nil: return nil
        case .binary(let buffer)?: return .binary(Array(buffer.readableBytesView))
        case .text(let text)?: return .text(text)
        }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.writeBinaryMessage(ByteBuffer(bytes: bytes))
    }

    func close(code: UInt16, reason: String?) async {
        try? await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
    }
}
