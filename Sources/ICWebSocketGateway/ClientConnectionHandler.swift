import NIOCore
import NIOWebSocket

/// The WebSocket layer of one client connection, after the upgrade: joins fragmented messages
/// (here rather than in a generic aggregator, so that an oversized or badly fragmented message
/// gets its own close code), answers and sends pings, runs the closing handshake, and hands
/// complete messages and the end of the connection to the ``ClientSession``.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: ClientSession
    private let maxMessageBytes: Int
    private let maxFrameBytes: Int
    private let pingInterval: Duration
    /// The message being joined from fragments.
    private var pending: (isText: Bool, data: ByteBuffer)?
    private var pinger: RepeatedTask?
    private var awaitingPong = false
    private var ended = false

    init(session: ClientSession, maxMessageBytes: Int, maxFrameBytes: Int, pingInterval: Duration) {
        self.session = session
        self.maxMessageBytes = maxMessageBytes
        self.maxFrameBytes = maxFrameBytes
        self.pingInterval = pingInterval
    }

    func handlerAdded(context: ChannelHandlerContext) {
        session.start()
        guard pingInterval > .zero else { return }
        let period = TimeAmount.nanoseconds(pingInterval.nanoseconds)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        pinger = context.value.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            handler.value.ping(context: context.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pinger?.cancel()
        pinger = nil
    }

    /// Keep-alive (the reference's idle handling): a ping every interval; a client that has not
    /// answered the previous one is gone.
    private func ping(context: ChannelHandlerContext) {
        guard !ended else { return }
        // While the session holds the client back (its call queue is full) nothing is read,
        // pongs included; the client is not the one that is slow.
        if session.isReadingPaused {
            awaitingPong = false
            return
        }
        if awaitingPong {
            end(context: context, reason: "no pong within \(pingInterval)")
            return
        }
        awaitingPong = true
        let frame = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(string: "icws"))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.opcode == .connectionClose { return closeReceived(context: context, frame) }
        guard !ended else { return }
        // Any frame proves the client alive.
        awaitingPong = false
        switch frame.opcode {
        case .ping:
            guard frame.fin else { return refuse(context: context, .protocolError, "fragmented ping", metric: "protocol_error") }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .binary, .text:
            guard pending == nil else {
                return refuse(context: context, .invalidFrame, "new message inside a fragmented one", metric: "invalid_frame")
            }
            pending = (frame.opcode == .text, frame.unmaskedData)
            messageGrew(context: context, fin: frame.fin)
        case .continuation:
            guard pending != nil else {
                return refuse(context: context, .invalidFrame, "continuation frame without a message", metric: "invalid_frame")
            }
            var data = frame.unmaskedData
            pending!.data.writeBuffer(&data)
            messageGrew(context: context, fin: frame.fin)
        default:
            refuse(context: context, .protocolError, "unknown opcode \(frame.opcode)", metric: "protocol_error")
        }
    }

    private func messageGrew(context: ChannelHandlerContext, fin: Bool) {
        guard let message = pending else { return }
        guard message.data.readableBytes <= maxMessageBytes else {
            pending = nil
            return refuse(
                context: context, .messageTooBig,
                "message of \(message.data.readableBytes)+ bytes exceeds the limit of \(maxMessageBytes) (--max-message-size)",
                metric: "message_too_big")
        }
        guard fin else { return }
        pending = nil
        session.received(message.data, isText: message.isText)
    }

    /// The client's Close frame: either the answer to ours (then the connection is done) or its
    /// own wish to close, which is echoed with its code (RFC 6455 §5.5.1).
    private func closeReceived(context: ChannelHandlerContext, _ frame: WebSocketFrame) {
        let wasEnded = ended
        ended = true
        if wasEnded || session.isClosing {
            context.close(promise: nil)
            return
        }
        var data = frame.unmaskedData
        let code = data.readInteger(as: UInt16.self)
        var echo = context.channel.allocator.buffer(capacity: 2)
        if let code { echo.writeInteger(code) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: echo))).whenComplete { _ in
            channel.close(promise: nil)
        }
        // After the echo: ending the session closes the channel.
        session.connectionEnded(reason: "client closed the connection" + (code.map { " (\($0))" } ?? ""))
    }

    private func refuse(context: ChannelHandlerContext, _ code: GatewayCloseCode, _ reason: String, metric: String) {
        pending = nil
        ended = true
        session.refused(code: code, reason: reason, metric: metric)
    }

    private func end(context: ChannelHandlerContext, reason: String) {
        ended = true
        session.connectionEnded(reason: reason)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pinger?.cancel()
        pinger = nil
        if !ended {
            ended = true
            session.connectionEnded(reason: "client closed the connection")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !ended else { return }
        switch error as? NIOWebSocketError {
        case .invalidFrameLength?:
            refuse(
                context: context, .messageTooBig, "frame exceeds the limit of \(maxFrameBytes) bytes (--max-frame-size)",
                metric: "frame_too_big")
        case let error?:
            refuse(context: context, .protocolError, "invalid WebSocket frame: \(error)", metric: "protocol_error")
        case nil:
            end(context: context, reason: "read failed: \(error)")
        }
    }
}
