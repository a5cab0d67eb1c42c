import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Many idle WebSocket connections from one process, as cheap as possible on the client side: a
/// bare channel per connection that sends the upgrade request and counts a connection as held
/// once the server's first bytes after the 101 response (the gateway's handshake frame) arrive.
final class IdleWebSocketClients: Sendable {
    private let channels = NIOLockedValueBox<[any Channel]>([])

    private final class UpgradeWatcher: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let held: EventLoopPromise<Void>
        private var received: [UInt8] = []

        init(held: EventLoopPromise<Void>) { self.held = held }

        func channelActive(context: ChannelHandlerContext) {
            let request =
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
            // The 101 response ends with an empty line; anything after it is the first frame.
            guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            guard received.starts(with: Array("HTTP/1.1 101".utf8)) else {
                held.fail(GatewayBenchmarks.BenchError("upgrade refused"))
                return
            }
            if received.count > end.upperBound { held.succeed(()) }
        }

        func channelInactive(context: ChannelHandlerContext) { held.fail(GatewayBenchmarks.BenchError("closed before the first frame")) }
    }

    /// Opens `count` connections, `concurrency` at a time; returns how many are held.
    func open(_ count: Int, port: Int, concurrency: Int = 256) async -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        var held = 0
        var started = 0
        while started < count {
            let batch = min(concurrency, count - started)
            var pending: [EventLoopFuture<Void>] = []
            for _ in 0..<batch {
                let promise = group.next().makePromise(of: Void.self)
                let channels = self.channels
                ClientBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(UpgradeWatcher(held: promise))
                        }
                    }
                    .connect(host: "127.0.0.1", port: port)
                    .whenComplete { result in
                        switch result {
                        case .success(let channel): channels.withLockedValue { $0.append(channel) }
                        case .failure(let error): promise.fail(error)
                        }
                    }
                pending.append(promise.futureResult)
            }
            for future in pending where (try? await future.get()) != nil { held += 1 }
            started += batch
        }
        return held
    }

    func closeAll() async {
        let all = channels.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in all { try? await channel.close().get() }
    }
}
