import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A replica with one canister deployed and gateways in front of it.
struct Stack: Sendable {
    let local: LocalReplica
    let canister: Principal
    let gateways: [GatewayRunner]
    /// The canister's controller (for upgrades).
    let controller: HTTPAgent
}

/// Runs a replica, deploys `module`, starts `gateways` gateways; stops them all afterwards.
func withStack(
    module: [UInt8], arg: [UInt8] = Candid.encode(), manual: Bool = false, gateways count: Int = 1,
    configure: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in },
    _ body: @Sendable (Stack) async throws -> Void
) async throws {
    try await LocalReplica.run(manual: manual) { local in
        let controller = local.agent()
        let canister = try await local.deploy(module: module, arg: arg, agent: controller)
        let gateways = (0..<count).map { _ in GatewayRunner(replica: local, configure: configure) }
        for gateway in gateways { try await gateway.start() }
        do {
            try await body(Stack(local: local, canister: canister, gateways: gateways, controller: controller))
        } catch {
            for gateway in gateways { await gateway.stop() }
            throw error
        }
        for gateway in gateways { await gateway.stop() }
    }
}

/// Connects a client SDK connection through `gatewayURL` to `canister`, trusting the replica's
/// root key and following its clock.
func connect<Message: CandidCodable & Sendable>(
    _ gatewayURL: String, _ canister: Principal, _ local: LocalReplica, as type: Message.Type,
    identity: any Identity = Ed25519Identity(),
    configure: (inout ICWebSocketClientConfiguration) -> Void = { _ in }
) async throws -> ICWebSocketConnection<Message> {
    try await connect([gatewayURL], canister, local, as: type, identity: identity, configure: configure)
}

/// `connect` with a list of gateways (failover: the next one after each failure).
func connect<Message: CandidCodable & Sendable>(
    _ gatewayURLs: [String], _ canister: Principal, _ local: LocalReplica, as type: Message.Type,
    identity: any Identity = Ed25519Identity(),
    configure: (inout ICWebSocketClientConfiguration) -> Void = { _ in }
) async throws -> ICWebSocketConnection<Message> {
    var configuration = ICWebSocketClientConfiguration(openTimeout: .seconds(30), clock: local.clock)
    configure(&configuration)
    var logger = Logger(label: "e2e-client")
    logger.logLevel = ProcessInfo.processInfo.environment["ICWS_TEST_CLIENT_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return try await ICWebSocketConnection.connect(
        gatewayURLs: gatewayURLs, canister: canister, identity: identity,
        network: .local(local.url, rootKey: local.rootKey), messageType: type,
        configuration: configuration, logger: logger)
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body` with a deadline.
func within<T: Sendable>(
    _ timeout: Duration = .seconds(20), _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}

extension ICWebSocketConnection {
    /// The next application message, or an error after `timeout`.
    func next(_ timeout: Duration = .seconds(20)) async throws -> Message {
        let stream = messages
        return try await within(timeout, "an application message") {
            var iterator = stream.makeAsyncIterator()
            guard let message = try await iterator.next() else { throw TimedOut(what: "a message (the stream ended)") }
            return message
        }
    }

    /// Waits until the connection reports a state matching `predicate`; returns it.
    func waitForState(
        _ timeout: Duration = .seconds(20), _ what: String,
        _ predicate: @escaping @Sendable (ICWebSocketConnectionState) -> Bool
    ) async throws -> ICWebSocketConnectionState {
        let stream = states
        return try await within(timeout, what) {
            for await state in stream where predicate(state) { return state }
            throw TimedOut(what: "\(what) (the state stream ended)")
        }
    }
}
