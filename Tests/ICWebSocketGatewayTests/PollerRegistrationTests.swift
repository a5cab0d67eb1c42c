import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import MetricsTestKit
import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

@testable import ICWebSocketGateway

/// §8.2 scenario 39 under contention: the registry's lock is the only thing that keeps a canister
/// at one poller, so it is hammered here from many tasks at once. Sessions sit on embedded
/// channels; nothing is polled (the pollers are created, never run).
@Suite struct PollerRegistrationTests {
    static let canister = try! Principal(text: "bnz7o-iuaaa-aaaaa-qaaaa-cai")

    struct Registry {
        let state: GatewayState
        let services: SessionServices
        let pollersCreated: NIOLockedValueBox<Int>
    }

    static func registry() throws -> Registry {
        let configuration = testConfiguration(
            icURL: "http://127.0.0.1:9",
            rootKey: .explicit(try RootKey(der: FaultyReplicaTests.rootKeyDER)))
        let metrics = GatewayMetrics(factory: TestMetrics())
        let agent = HTTPAgent(configuration: .init(url: configuration.icNetworkURL, rootKey: configuration.rootKey))
        let logger = Logger(label: "poller-registration-test")
        let created = NIOLockedValueBox(0)
        let state = GatewayState(metrics: metrics) { canister in
            created.withLockedValue { $0 += 1 }
            return CanisterPoller(
                canister: canister, agent: agent, configuration: configuration, metrics: metrics,
                certificates: nil, logger: logger)
        }
        let services = SessionServices(
            configuration: configuration, gatewayPrincipal: Ed25519Identity().principal, state: state,
            callAgent: agent, metrics: metrics, startPoller: { _ in }, closeOnCanister: { _ in },
            sessionFinished: { _ in })
        return Registry(state: state, services: services, pollersCreated: created)
    }

    static func sessions(_ count: Int, _ services: SessionServices) -> [(ClientKey, ClientSession)] {
        let client = Ed25519Identity().principal
        return (0..<count).map { index in
            (
                ClientKey(clientPrincipal: client, clientNonce: UInt64(index)),
                ClientSession(id: UInt64(index), channel: EmbeddedChannel(), services: services, logger: Logger(label: "session"))
            )
        }
    }

    @Test("Scenario 39: 1 000 concurrent first registrations start exactly one poller")
    func concurrentFirstRegistrationsShareOnePoller() async throws {
        let registry = try Self.registry()
        let sessions = Self.sessions(1_000, registry.services)
        let starts = NIOLockedValueBox(0)
        let pollers = NIOLockedValueBox<Set<ObjectIdentifier>>([])
        await withTaskGroup(of: Void.self) { group in
            for (key, session) in sessions {
                group.addTask {
                    switch registry.state.register(session, key: key, canister: Self.canister) {
                    case .registeredStartingPoller(let poller):
                        starts.withLockedValue { $0 += 1 }
                        pollers.withLockedValue { _ = $0.insert(ObjectIdentifier(poller)) }
                    case .registered(let poller):
                        pollers.withLockedValue { _ = $0.insert(ObjectIdentifier(poller)) }
                    case .duplicateClientKey, .replaced:
                        Issue.record("distinct keys reported as duplicates")
                    }
                }
            }
        }
        #expect(starts.withLockedValue { $0 } == 1)
        #expect(registry.pollersCreated.withLockedValue { $0 } == 1)
        #expect(pollers.withLockedValue { $0.count } == 1)
        #expect(registry.state.sessions(of: Self.canister).count == 1_000)
    }

    @Test("Scenario 39: the last client leaving stops the poller; a later client starts a new one")
    func leavingWhileThePollerChecksNeverStrandsAClient() async throws {
        let registry = try Self.registry()
        let sessions = Self.sessions(1_000, registry.services)
        guard
            case .registeredStartingPoller(let first) = registry.state.register(
                sessions[0].1, key: sessions[0].0,
                canister: Self.canister)
        else {
            Issue.record("the first registration did not start a poller")
            return
        }
        for (key, session) in sessions.dropFirst() { _ = registry.state.register(session, key: key, canister: Self.canister) }
        // Everyone leaves while the poller keeps asking whether it may stop, as it does after
        // each iteration; it may stop only once the canister has no session left.
        let stopped = NIOLockedValueBox(false)
        await withTaskGroup(of: Void.self) { group in
            for (key, session) in sessions {
                group.addTask { registry.state.unregister(session, key: key, canister: Self.canister) }
            }
            group.addTask {
                while !stopped.withLockedValue({ $0 }) {
                    if registry.state.removeIfEmpty(Self.canister, poller: first) {
                        stopped.withLockedValue { $0 = true }
                    } else {
                        await Task.yield()
                    }
                }
            }
        }
        #expect(registry.state.sessions(of: Self.canister).isEmpty)
        #expect(registry.state.canisterCount == 0)
        // A later client gets a new poller (which starts at nonce 0: pollers hold their nonce).
        let late = Self.sessions(1, registry.services)[0]
        guard case .registeredStartingPoller(let second) = registry.state.register(late.1, key: late.0, canister: Self.canister) else {
            Issue.record("a client after the last one left did not start a new poller")
            return
        }
        #expect(second !== first)
        #expect(registry.pollersCreated.withLockedValue { $0 } == 2)
    }
}
