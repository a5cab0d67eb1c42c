import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// `record { text : text }`: the app message of the ping-pong and test canisters.
public struct TextMessage: CandidCodable, Sendable, Equatable {
    public var text: String
    public static var candidType: CandidType { .record([.field("text", String.self)]) }
    public func candidValue() -> CandidValue { .record([.field("text", text)]) }
    public init(text: String) { self.text = text }
    public init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// `record { from : text; text : text }`: the chat canister's message.
public struct ChatMessage: CandidCodable, Sendable, Equatable {
    public var from: String
    public var text: String
    public static var candidType: CandidType { .record([.field("from", String.self), .field("text", String.self)]) }
    public func candidValue() -> CandidValue { .record(sorting: [.field("from", from), .field("text", text)]) }
    public init(from: String = "", text: String) {
        self.from = from
        self.text = text
    }
    public init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        from = try record.field("from")
        text = try record.field("text")
    }
}

/// A gateway running in this process that can be stopped and started again with the same
/// identity and port (a gateway restart as operators do it).
public final class GatewayRunner: Sendable {
    public let identity = Ed25519Identity()
    private let baseConfiguration: GatewayConfiguration
    private let running = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, any Error>, port: Int)?>(nil)
    private let lastPort = NIOLockedValueBox(0)

    public init(replica: LocalReplica, configure: (inout GatewayConfiguration) -> Void = { _ in }) {
        var configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, icNetworkURL: replica.url,
            rootKey: .explicit(replica.rootKey),
            pollingInterval: .milliseconds(20), maxIdlePollingInterval: .milliseconds(100),
            prometheusEndpoint: nil)
        configuration.icClock = replica.clock
        configuration.shutdownGracePeriod = .seconds(2)
        configure(&configuration)
        baseConfiguration = configuration
    }

    /// A gateway with exactly this configuration.
    public init(configuration: GatewayConfiguration) {
        baseConfiguration = configuration
    }

    public var principal: Principal { identity.principal }
    public var url: String { "ws://127.0.0.1:\(lastPort.withLockedValue { $0 })" }

    /// Starts the gateway (on the port it had before, after a restart) and returns its URL.
    @discardableResult
    public func start() async throws -> String {
        var configuration = baseConfiguration
        let previous = lastPort.withLockedValue { $0 }
        if previous != 0 { configuration.port = previous }
        var logger = Logger(label: "e2e-gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["ICWS_TEST_GATEWAY_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let gateway = try Gateway(configuration: configuration, identity: identity, logger: logger)
        let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let task = Task { try await group.run() }
        let port = try await gateway.waitUntilListening()
        running.withLockedValue { $0 = (group, task, port) }
        lastPort.withLockedValue { $0 = port }
        return url
    }

    /// Stops the gateway as a crash would: its task is cancelled, connections are cut without
    /// Close frames, and no `ws_close` is promised. `start()` brings it back on the same port.
    public func crash() async {
        guard
            let current = running.withLockedValue({ state in
                defer { state = nil }; return state
            })
        else { return }
        current.task.cancel()
        _ = await current.task.result
    }

    /// Shuts the gateway down gracefully (Close 1001 to every client, `ws_close` for each).
    public func stop() async {
        guard
            let current = running.withLockedValue({ state in
                defer { state = nil }; return state
            })
        else { return }
        await current.group.triggerGracefulShutdown()
        _ = await current.task.result
    }
}
