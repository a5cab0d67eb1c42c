import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A layer-4 (TCP) load balancer on loopback, as an operator puts in front of several gateways:
/// each new connection goes to the next upstream in turn, bytes are copied both ways unchanged
/// (TLS and WebSocket pass through), and the connection stays on its upstream for its life.
///
/// Like HAProxy's `balance roundrobin` with `option redispatch`, an upstream that refuses the
/// connection is skipped and the next one tried; ``setEnabled(_:_:)`` takes an upstream out of
/// the rotation as a failing health check would.
///
/// ```swift
/// let proxy = RoundRobinTCPProxy(upstreamPorts: [8081, 8082, 8083])
/// try await proxy.run { port in /* clients connect to ws://127.0.0.1:\(port) */ }
/// ```
public final class RoundRobinTCPProxy: Sendable {
    /// The upstreams' loopback ports, in rotation order.
    public let upstreamPorts: [Int]
    private let state: NIOLockedValueBox<State>

    private struct State {
        var next = 0
        var enabled: [Bool]
        var accepted: [Int]
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    /// Why the proxy could not start.
    public enum ProxyError: Error, CustomStringConvertible {
        case noUpstreams
        case notBound
        case noUpstreamReachable

        public var description: String {
            switch self {
            case .noUpstreams: return "RoundRobinTCPProxy needs at least one upstream port"
            case .notBound: return "RoundRobinTCPProxy: the listening socket has no local port"
            case .noUpstreamReachable: return "RoundRobinTCPProxy: no enabled upstream accepted the connection"
            }
        }
    }

    public init(upstreamPorts: [Int]) {
        self.upstreamPorts = upstreamPorts
        state = NIOLockedValueBox(State(enabled: upstreamPorts.map { _ in true }, accepted: upstreamPorts.map { _ in 0 }))
    }

    /// Connections handed to each upstream so far (same order as ``upstreamPorts``).
    public var connectionsPerUpstream: [Int] { state.withLockedValue { $0.accepted } }

    /// Puts an upstream in or out of the rotation (connections already on it are not touched).
    public func setEnabled(_ index: Int, _ enabled: Bool) { state.withLockedValue { $0.enabled[index] = enabled } }

    /// Serves on an ephemeral loopback port while `body` runs with that port; then stops
    /// listening and closes every connection it still carries.
    public func run<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        guard !upstreamPorts.isEmpty else { throw ProxyError.noUpstreams }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] inbound in self.attach(inbound) }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = server.localAddress?.port else {
            try? await server.close()
            throw ProxyError.notBound
        }
        defer {
            server.close(promise: nil)
            let open = state.withLockedValue { state in
                defer { state.open = [:] }
                return Array(state.open.values)
            }
            for channel in open { channel.close(promise: nil) }
        }
        return try await body(port)
    }

    /// The upstream order for one new connection: the next enabled one first, then the others
    /// (for redispatch when it refuses).
    private func pickOrder() -> [Int] {
        state.withLockedValue { state in
            let count = upstreamPorts.count
            let start = state.next
            state.next = (state.next + 1) % count
            return (0..<count).map { (start + $0) % count }.filter { state.enabled[$0] }
        }
    }

    private func attach(_ inbound: any Channel) -> EventLoopFuture<Void> {
        connect(inbound, trying: pickOrder()[...])
    }

    /// Connects to the first reachable upstream of `order` on the inbound channel's event loop
    /// (both glue handlers must run on one loop), then glues the two channels together.
    private func connect(_ inbound: any Channel, trying order: ArraySlice<Int>) -> EventLoopFuture<Void> {
        guard let index = order.first else {
            return inbound.eventLoop.makeFailedFuture(ProxyError.noUpstreamReachable)
        }
        return ClientBootstrap(group: inbound.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: upstreamPorts[index])
            .flatMap { [self] outbound in
                inbound.eventLoop.assertInEventLoop()
                let (toUpstream, toClient) = GlueHandler.matchedPair()
                do {
                    try inbound.pipeline.syncOperations.addHandler(toUpstream)
                    try outbound.pipeline.syncOperations.addHandler(toClient)
                } catch {
                    outbound.close(promise: nil)
                    return inbound.eventLoop.makeFailedFuture(error)
                }
                self.track(inbound, upstream: index)
                self.track(outbound, upstream: nil)
                return inbound.eventLoop.makeSucceededVoidFuture()
            }
            .flatMapError { [self] _ in self.connect(inbound, trying: order.dropFirst()) }
    }

    private func track(_ channel: any Channel, upstream: Int?) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { state in
            state.open[id] = channel
            if let upstream { state.accepted[upstream] += 1 }
        }
        channel.closeFuture.whenComplete { [state] _ in _ = state.withLockedValue { $0.open.removeValue(forKey: id) } }
    }
}

/// Copies bytes from its channel to its partner's and back, with backpressure: a side reads only
/// while the other side can write (SwiftNIO's connect-proxy example's handler). Both partners
/// live on one event loop.
private final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }

    func channelInactive(context: ChannelHandlerContext) { partner?.partnerClose() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A half-close travels on as one, so either side may finish sending first.
        if let event = event as? ChannelEvent, case .inputClosed = event { partner?.partnerWriteEOF() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { partner?.partnerClose() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerWriteEOF() { context?.close(mode: .output, promise: nil) }
    private func partnerClose() { context?.close(promise: nil) }
    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }
}
