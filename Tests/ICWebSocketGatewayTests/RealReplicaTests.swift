import Foundation
import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// The real path: `icws replica` on loopback running the Embedded Swift test canister, the
/// gateway in-process, real WebSocket clients that sign their own envelopes.
@Suite(.serialized) struct RealReplicaTests {
    static let initArgument = try! Candid.encode(UInt64(10), UInt64(300_000))

    /// Deploys the test canister and runs a gateway in front of the replica.
    static func withStack(
        configure: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (LocalReplica, Principal, RunningGateway) async throws -> Void
    ) async throws {
        let module = try CanisterModules.testCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module, arg: initArgument)
            var configuration = testConfiguration(icURL: local.url)
            configure(&configuration)
            try await withGateway(configuration) { gateway in
                try await body(local, canister, gateway)
            }
        }
    }

    /// Opens a session and returns the client, its socket and the verified OpenMessage.
    static func open(
        _ local: LocalReplica, _ canister: Principal, _ gateway: RunningGateway
    ) async throws
        -> (ClientRequests, TestWebSocket)
    {
        let client = ClientRequests(canister: canister, clock: local.clock)
        let socket = TestWebSocket(url: gateway.url)
        let handshake = try #require(await socket.nextBinary())
        #expect(handshake == GatewayHandshakeFrame(gatewayPrincipal: gateway.principal).encoded())
        socket.send(try client.open(gateway: gateway.principal))
        let open = try verifiedMessage(await socket.nextBinary(timeout: .seconds(60)), canister: canister, rootKey: local.rootKey)
        #expect(open.sequenceNum == 1)
        #expect(open.isServiceMessage)
        #expect(try WebsocketServiceMessageContent.decode(open.content) == .openMessage(clientKey: client.clientKey))
        return (client, socket)
    }

    static func send(
        _ local: LocalReplica, _ canister: Principal, to principal: Principal, _ messages: [[UInt8]]
    ) async throws
        -> CanisterWsResult
    {
        try await local.agent().call(
            canister, "send", arguments: Candid.encode(principal, messages.map(CandidBlob.init)),
            returning: CanisterWsResult.self)
    }

    @Test func openRelayAndCloseThroughTheRealReplica() async throws {
        try await Self.withStack { local, canister, gateway in
            let (client, socket) = try await Self.open(local, canister, gateway)

            // Canister → client: `send` queues, the poller relays with certificate and tree.
            #expect(try await Self.send(local, canister, to: client.identity.principal, [[1, 2, 3], [4, 5]]) == .ok)
            let first = try verifiedMessage(await socket.nextBinary(), canister: canister, rootKey: local.rootKey)
            let second = try verifiedMessage(await socket.nextBinary(), canister: canister, rootKey: local.rootKey)
            #expect(first.sequenceNum == 2 && !first.isServiceMessage && first.content == [1, 2, 3])
            #expect(second.sequenceNum == 3 && second.content == [4, 5])

            // Client → canister: three ws_message calls sent back to back reach the canister in
            // order (each is submitted when the previous one executed); a repeated number is then
            // refused by the canister with a CloseMessage, which proves the first three arrived.
            let app = try Candid.encode(TextMessage(text: "hello"))
            for sequence: UInt64 in 1...3 { socket.send(try client.message(sequenceNumber: sequence, content: app)) }
            socket.send(try client.message(sequenceNumber: 3, content: app))
            let close = try verifiedMessage(await socket.nextBinary(timeout: .seconds(60)), canister: canister, rootKey: local.rootKey)
            #expect(close.isServiceMessage)
            #expect(try WebsocketServiceMessageContent.decode(close.content) == .closeMessage(reason: .wrongSequenceNumber))
            socket.close()
            #expect(await socket.closed().code == 1000)
        }
    }

    @Test func clientCloseMakesTheGatewayCallWsClose() async throws {
        try await Self.withStack { local, canister, gateway in
            let (client, socket) = try await Self.open(local, canister, gateway)
            let principal = client.identity.principal
            #expect(try await Self.send(local, canister, to: principal, [[7]]) == .ok)
            _ = await socket.nextBinary()
            socket.close()
            #expect(await socket.closed().code == 1000)
            // ws_close, called by the gateway with its own identity, removed the client.
            let removed = try await eventually {
                if case .err(let text) = try await Self.send(local, canister, to: principal, [[8]]) {
                    return text.contains("doesn't have an open connection")
                }
                return false
            }
            #expect(removed)
        }
    }

    @Test func framesBeforeTheOpenMessageAreDroppedAndSessionsAreIndependent() async throws {
        try await Self.withStack { local, canister, gateway in
            let (a, socketA) = try await Self.open(local, canister, gateway)
            let (b, socketB) = try await Self.open(local, canister, gateway)
            #expect(try await Self.send(local, canister, to: b.identity.principal, [[2]]) == .ok)
            #expect(try await Self.send(local, canister, to: a.identity.principal, [[1]]) == .ok)
            #expect(try verifiedMessage(await socketA.nextBinary(), canister: canister, rootKey: local.rootKey).content == [1])
            #expect(try verifiedMessage(await socketB.nextBinary(), canister: canister, rootKey: local.rootKey).content == [2])
            socketA.close()
            socketB.close()
            _ = await socketA.closed()
            _ = await socketB.closed()
        }
    }

    @Test func gracefulShutdownClosesWith1001AndCallsWsClose() async throws {
        let module = try CanisterModules.testCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module, arg: Self.initArgument)
            let (principal, socket) = try await withGateway(testConfiguration(icURL: local.url)) { gateway in
                let (client, opened) = try await Self.open(local, canister, gateway)
                return (client.identity.principal, opened)
            }
            // withGateway returned: the shutdown finished within the grace period.
            let closed = await socket.closed(timeout: .seconds(2))
            #expect(closed.code == 1001)
            if case .err(let text) = try await Self.send(local, canister, to: principal, [[1]]) {
                #expect(text.contains("doesn't have an open connection"))
            } else {
                Issue.record("ws_close was not called during shutdown")
            }
        }
    }
}

/// A new poller in front of a canister that already holds a long queue for the gateway's
/// principal (here: a second gateway with the same identity) finds the end of that queue in a
/// few queries instead of paging through it before its client's open message.
@Suite(.serialized) struct BacklogTests {
    @Test func aNewPollerStartsAtTheEndOfTheQueue() async throws {
        let module = try CanisterModules.testCanister()
        try await LocalReplica.run { local in
            // 10 messages per poll: 600 queued messages are 60 pages.
            let canister = try await local.deploy(module: module, arg: RealReplicaTests.initArgument)
            let identity = Ed25519Identity()
            try await withGateway(testConfiguration(icURL: local.url), identity: identity) { first in
                let (client, socket) = try await RealReplicaTests.open(local, canister, first)
                for _ in 0..<6 {
                    #expect(
                        try await RealReplicaTests.send(
                            local, canister, to: client.identity.principal,
                            Array(repeating: [1], count: 100)) == .ok)
                }
                try await withGateway(testConfiguration(icURL: local.url), identity: identity) { second in
                    let (_, newcomer) = try await RealReplicaTests.open(local, canister, second)
                    let polls = second.metrics.counterTotal(label: "icws_gateway_polls_total")
                    #expect(polls <= 20, "\(polls) queries before the open message; paging would take 60")
                    newcomer.close()
                    _ = await newcomer.closed()
                }
                socket.close()
                _ = await socket.closed()
            }
        }
    }
}
