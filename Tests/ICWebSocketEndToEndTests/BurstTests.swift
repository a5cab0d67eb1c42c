import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketTesting
import Testing

/// The Swift SDK sending as a chat or game client does, in bursts, while every IC call takes as
/// long as on mainnet: nothing is closed, everything comes back verified and in order.
@Suite("bursts against an IC as slow as mainnet")
struct BurstTests {
    /// Runs the ping-pong canister behind a proxy that gives calls mainnet's latency, and one
    /// gateway in front of that proxy.
    static func withMainnetLatency(
        configure: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (LocalReplica, Principal, GatewayRunner) async throws -> Void
    ) async throws {
        let module = try CanisterModules.pingPongCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module)
            let proxy = FaultInjectingReplicaProxy(upstream: local.url)
            proxy.inject(.mainnetCallLatency)
            try await proxy.run { proxyURL in
                let gateway = GatewayRunner(replica: local) { configuration in
                    configuration.icNetworkURL = proxyURL
                    configure(&configuration)
                }
                try await gateway.start()
                do { try await body(local, canister, gateway) } catch {
                    await gateway.stop()
                    throw error
                }
                await gateway.stop()
            }
        }
    }

    /// Sends `count` messages back to back through the SDK and returns the replies' texts.
    static func burst(_ count: Int, through gateway: GatewayRunner, _ canister: Principal, _ local: LocalReplica) async throws -> [String] {
        // The longest expiry the IC takes: a busy machine running a debug build is slow.
        let connection = try await connect(gateway.url, canister, local, as: TextMessage.self) { $0.ingressExpiry = .seconds(300) }
        #expect(try await connection.next(.seconds(60)).text == "ping")
        for index in 0..<count { try await connection.send(TextMessage(text: "s\(index)")) }
        var texts: [String] = []
        for _ in 0..<count { texts.append(try await connection.next(.seconds(120)).text) }
        await connection.close()
        return texts
    }

    @Test("the SDK's burst of 40 messages is held back, not closed, and answered in order")
    func sdkBurstAgainstMainnetLatency() async throws {
        try await Self.withMainnetLatency(configure: { $0.maxPendingCalls = 4 }) { local, canister, gateway in
            let texts = try await Self.burst(40, through: gateway, canister, local)
            #expect(texts.count == 40)
            if let index = texts.indices.first(where: { texts[$0] != "s\($0) ping" }) {
                Issue.record("reply \(index) is '\(texts[index])', expected 's\(index) ping'")
            }
        }
    }

    @Test("submitting each envelope only after the previous one executed keeps order too")
    func burstWithSubmissionAfterExecution() async throws {
        try await Self.withMainnetLatency(configure: {
            $0.callSubmission = .afterExecuted
            $0.maxPendingCalls = 4
        }) { local, canister, gateway in
            let texts = try await Self.burst(12, through: gateway, canister, local)
            #expect(texts == (0..<12).map { "s\($0) ping" })
        }
    }
}
