import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The least a WebSocket server can hold an idle connection with, on the two stacks the gateway
/// could be built on: each accepts any upgrade, sends one small binary frame (as the gateway
/// sends its handshake frame) and then only reads. `gateway-idle` runs them as child processes
/// beside `icws gateway`, so the gateway's cost per connection is seen against its floor.
enum WebSocketFloorServer {
    enum Stack: String, CaseIterable {
        /// SwiftNIO's WebSocket handlers, event-driven (what the gateway uses).
        case nio
        /// HummingbirdWebSocket: a task and async streams per connection.
        case hummingbird
    }

    static let greeting: [UInt8] = [0xd9, 0xd9, 0xf7]

    static func serve(_ stack: Stack, port: Int) async throws {
        switch stack {
        case .nio: try await serveNIO(port: port)
        case .hummingbird: try await serveHummingbird(port: port)
        }
    }

    private final class GreetingHandler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        func handlerAdded(context: ChannelHandlerContext) {
            let frame = WebSocketFrame(fin: true, opcode: .binary, data: context.channel.allocator.buffer(bytes: greeting))
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    private static func serveNIO(port: Int) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 1 << 20, automaticErrorHandling: true,
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(GreetingHandler()) }
                        })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        try await channel.closeFuture.get()
    }

    private static func serveHummingbird(port: Int) async throws {
        let upgrade = HTTPServerBuilder.http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .disabled))
        ) { _, _, _ in
            .upgrade([:]) { inbound, outbound, _ in
                try await outbound.write(.binary(ByteBuffer(bytes: greeting)))
                for try await _ in inbound {}
            }
        }
        let application = Application(
            router: Router(), server: upgrade,
            configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: 1024))
        try await application.runService(gracefulShutdownSignals: [])
    }
}
