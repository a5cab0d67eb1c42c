import NIOCore
import NIOWebSocket

/// The WebSocket of a connection that admission control refused: after a short pause it sends a
/// Close frame with the code and reason, then closes when the client answers (or after the
/// closing-handshake timeout). The pause keeps the Close frame apart from the upgrade response,
/// which some clients (swift-websocket's WSClient among them) otherwise fail to process.
final class RefusedConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let pause: TimeAmount = .milliseconds(50)

    private let code: GatewayCloseCode
    private let reason: String

    init(code: GatewayCloseCode, reason: String) {
        self.code = code
        self.reason = reason
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let frame = ClientSession.closeFrame(code: code, reason: reason, allocator: channel.allocator)
        context.eventLoop.scheduleTask(in: Self.pause) {
            channel.writeAndFlush(frame).whenComplete { _ in
                channel.eventLoop.scheduleTask(in: ClientSession.closingHandshakeTimeout) { channel.close(promise: nil) }
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).opcode == .connectionClose { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
