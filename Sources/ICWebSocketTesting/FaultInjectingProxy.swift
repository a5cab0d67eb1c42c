import Foundation
import Hummingbird
import HummingbirdWebSocket
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WSClient

/// A WebSocket proxy between clients and a real gateway that loses frames on purpose, to show
/// that clients and canisters detect a gateway that drops messages. Faithful unless told otherwise.
public final class FaultInjectingProxy: Sendable {
    public struct Faults: Sendable {
        /// Drop canister → client frames whose decoded message makes this true.
        public var dropToClient: @Sendable (WebsocketMessage) -> Bool = { _ in false }
        /// Drop client → gateway frames after the first (`ws_open`) one.
        public var dropFromClientAfterOpen = false
        public init() {}
    }

    private let upstream: String
    private let faults = NIOLockedValueBox(Faults())
    private let droppedCount = NIOLockedValueBox(0)

    public init(upstream: String) {
        self.upstream = upstream
    }

    /// Changes the faults for frames from now on.
    public func inject(_ change: @Sendable (inout Faults) -> Void) { faults.withLockedValue { change(&$0) } }

    private let cuts = NIOLockedValueBox(0)

    /// Cuts every connection proxied so far (as a network failure would); new ones still pass.
    public func cutConnections() { cuts.withLockedValue { $0 += 1 } }

    /// Frames dropped so far.
    public var dropped: Int { droppedCount.withLockedValue { $0 } }

    /// Serves on a loopback port while `body` runs with the proxy's `ws://` URL.
    public func run(_ body: @Sendable (String) async throws -> Void) async throws {
        var quiet = Logger(label: "fault-injecting-proxy")
        quiet.logLevel = .critical
        let logger = quiet
        try await LoopbackServer.run(
            { onServerRunning in
                Application(
                    router: Router(),
                    server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 4 << 20, autoPing: .disabled))) { _, _, _ in
                        .upgrade([:]) { inbound, outbound, _ in await self.relay(inbound: inbound, outbound: outbound, logger: logger) }
                    },
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: onServerRunning, logger: logger)
            }, while: { port in try await body("ws://127.0.0.1:\(port)") })
    }

    private func relay(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let generation = cuts.withLockedValue { $0 }
        _ = try? await WebSocketClient.connect(url: upstream, configuration: .init(maxFrameSize: 4 << 20), logger: logger) {
            upstreamInbound, upstreamOutbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Gateway → client.
                group.addTask {
                    for try await message in upstreamInbound.messages(maxSize: 4 << 20) {
                        guard case .binary(let buffer) = message else { continue }
                        let bytes = Array(buffer.readableBytesView)
                        if let frame = try? CanisterMessageFrame(decoding: bytes),
                            let decoded = try? WebsocketMessage(cbor: frame.content),
                            self.faults.withLockedValue({ $0.dropToClient })(decoded)
                        {
                            self.droppedCount.withLockedValue { $0 += 1 }
                            continue
                        }
                        try await outbound.write(.binary(buffer))
                    }
                    try? await outbound.close(.goingAway, reason: "gateway closed")
                }
                // Client → gateway.
                group.addTask {
                    var first = true
                    for try await message in inbound.messages(maxSize: 4 << 20) {
                        guard case .binary(let buffer) = message else { continue }
                        if !first, self.faults.withLockedValue({ $0.dropFromClientAfterOpen }) {
                            self.droppedCount.withLockedValue { $0 += 1 }
                            continue
                        }
                        first = false
                        try await upstreamOutbound.write(.binary(buffer))
                    }
                    try? await upstreamOutbound.close(.normalClosure, reason: nil)
                }
                // A cut closes both sides without a proper close handshake reason.
                group.addTask {
                    while self.cuts.withLockedValue({ $0 }) == generation { try await Task.sleep(for: .milliseconds(20)) }
                    try? await outbound.close(.goingAway, reason: "connection cut by the fault injector")
                    try? await upstreamOutbound.close(.goingAway, reason: "connection cut by the fault injector")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
