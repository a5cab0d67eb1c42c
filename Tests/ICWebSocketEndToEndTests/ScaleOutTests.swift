import AsyncHTTPClient
import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

/// The operator's scale-out setup, for real: three gateways, each with its own identity and
/// sharing nothing, behind one TCP round-robin load balancer; clients land on any of them.
///
/// What it shows (README, "Operating the gateway"): every client's messages travel both ways
/// and verify wherever it landed; each gateway registers only its own clients with the
/// canister, so the canister keeps one queue per gateway and each gateway's poller reads only its
/// own queue; when a gateway leaves (readiness first, the balancer takes it out, then its
/// sessions close), its clients reconnect through the balancer to the others, and the canister
/// keeps the departed gateway's queue until its first keep-alive check more than one ack
/// interval after the last client left, then drops it.
@Suite("scale-out: three gateways behind a TCP load balancer", .serialized)
struct ScaleOutTests {
    static let clientCount = 300
    static let messagesPerClient = 1
    /// Clients opening at once: enough to be quick, few enough that a debug build's replica
    /// (one message at a time, on an interpreter) opens them well within the open timeout.
    static let openConcurrency = 50

    /// One gateway as an operator runs it: own identity, own metrics and health endpoint.
    final class OperatedGateway: Sendable {
        let identity = Ed25519Identity()
        let gateway: Gateway
        private let group: ServiceGroup
        private let task: Task<Void, any Error>
        let port: Int
        let metricsURL: String

        /// - Parameters:
        ///   - icURL: the IC as this gateway reaches it (default: the replica itself).
        ///   - submission: when a client's next envelope goes; `.afterExecuted` makes
        ///     `icws_gateway_messages_relayed_in_total` count executed calls only.
        init(
            local: LocalReplica, drainDelay: Duration, icURL: String? = nil,
            submission: GatewayConfiguration.CallSubmission = .afterAccepted
        ) async throws {
            var configuration = GatewayConfiguration(
                host: "127.0.0.1", port: 0, icNetworkURL: icURL ?? local.url, rootKey: .explicit(local.rootKey),
                pollingInterval: .milliseconds(20), maxIdlePollingInterval: .milliseconds(100),
                prometheusEndpoint: "127.0.0.1:0")
            configuration.icClock = local.clock
            configuration.shutdownGracePeriod = .seconds(10)
            configuration.readinessDrainDelay = drainDelay
            configuration.callSubmission = submission
            var logger = Logger(label: "scale-out-gateway")
            logger.logLevel =
                ProcessInfo.processInfo.environment["ICWS_TEST_GATEWAY_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
            gateway = try Gateway(configuration: configuration, identity: identity, logger: logger)
            let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
            self.group = group
            task = Task { try await group.run() }
            port = try await gateway.waitUntilListening()
            metricsURL = "http://127.0.0.1:\(try await gateway.waitUntilMetricsListening())"
        }

        var principal: Principal { identity.principal }

        /// Begins the graceful shutdown (as SIGTERM does) without waiting for it.
        func beginShutdown() async { await group.triggerGracefulShutdown() }

        /// Stops at once (the task is cancelled: connections are cut, no 1001). Whether `ws_close`
        /// reaches the canister depends on the IC being reachable; a crash test cuts that first.
        func cancel() async {
            task.cancel()
            _ = await task.result
        }

        /// Shuts down gracefully and waits until it stopped.
        func stop() async {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }

        /// One metric's value from `GET /metrics` (`labels` is the exact `{…}` part, if any).
        func metric(_ name: String, labels: String = "") async throws -> Double? {
            let text = try await Self.get("\(metricsURL)/metrics").body
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                if line[..<space] == "\(name)\(labels)" { return Double(line[line.index(after: space)...]) }
            }
            return nil
        }

        static func get(_ url: String) async throws -> (status: Int, body: String) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4 << 20)))
        }
    }

    /// A client and where the balancer put it.
    struct Landed: Sendable {
        let index: Int
        let connection: ICWebSocketConnection<TextMessage>
        let gateway: Principal
        let key: ClientKey
    }

    /// The messages in `gateway`'s queue on the canister, read as the gateway reads them
    /// (`ws_get_messages`, signed by its identity): the first page (the canister returns at most
    /// 50 per query) or, with `allPages`, page after page from nonce 0. Reading a queue through
    /// the interpreted canister of a debug build is costly; one page is enough to see whose
    /// messages a queue holds.
    static func queue(
        of gateway: OperatedGateway, _ canister: Principal, _ local: LocalReplica, allPages: Bool = false
    ) async throws -> [CanisterOutputMessage] {
        let agent = HTTPAgent(
            configuration: .init(url: local.url, rootKey: .explicit(local.rootKey), clock: local.clock), identity: gateway.identity)
        var nonce: UInt64 = 0
        var messages: [CanisterOutputMessage] = []
        while true {
            let reply = try await agent.query(
                canister: canister, method: "ws_get_messages", arg: Candid.encode(CanisterWsGetMessagesArguments(nonce: nonce)))
            let result = try Candid.decode(CanisterWsGetMessagesResult.self, from: reply)
            guard case .ok(let batch) = result else {
                Issue.record("ws_get_messages as \(gateway.principal): \(result)")
                break
            }
            messages += batch.messages
            guard allPages, let last = batch.messages.last, !batch.isEndOfQueue,
                let lastNonce = UInt64(String(last.key.suffix(MessageKey.nonceDigits)))
            else { break }
            nonce = lastNonce + 1
        }
        return messages
    }

    /// The next application message that is not the canister's greeting ("ping", sent again
    /// after a reconnect).
    static func nextReply(_ connection: ICWebSocketConnection<TextMessage>) async throws -> String {
        while true {
            let text = try await connection.next(.seconds(120)).text
            if text != "ping" { return text }
        }
    }

    /// Measures the phases of a test (printed, for the README's figures).
    final class Laps: @unchecked Sendable {
        private let clock = ContinuousClock()
        private var phase: ContinuousClock.Instant
        private let name: String
        init(_ name: String) {
            self.name = name
            phase = clock.now
        }
        func lap(_ what: String) {
            print("\(name): \(what) in \(clock.now - phase)")
            phase = clock.now
        }
    }

    @Test(
        "300 clients through a round-robin balancer over 3 gateways: delivery both ways, per-gateway pollers and queues, a gateway leaving")
    func threeGatewaysBehindABalancer() async throws {
        let started = ContinuousClock.now
        let module = try CanisterModules.pingPongCanister()
        // Rounds only when there is work: a manual replica's ticker signs a certificate every
        // few milliseconds, which a debug build cannot afford next to 300 clients.
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module)
            var started: [OperatedGateway] = []
            for index in 0..<3 {
                // Only the gateway that leaves gets a drain delay: the balancer's "probe period".
                started.append(try await OperatedGateway(local: local, drainDelay: index == 2 ? .seconds(1) : .zero))
            }
            let gateways = started
            #expect(Set(gateways.map(\.principal)).count == 3, "each gateway has its own identity")
            let proxy = RoundRobinTCPProxy(upstreamPorts: gateways.map(\.port))
            do {
                try await proxy.run { proxyPort in
                    try await Self.exercise(local, canister, gateways, proxy, "ws://127.0.0.1:\(proxyPort)")
                }
            } catch {
                for gateway in gateways { await gateway.stop() }
                throw error
            }
            for gateway in gateways { await gateway.stop() }
        }
        print("scale-out test: \(ContinuousClock.now - started) in all")
    }

    static func exercise(
        _ local: LocalReplica, _ canister: Principal, _ gateways: [OperatedGateway], _ proxy: RoundRobinTCPProxy, _ url: String
    ) async throws {
        let laps = Laps("scale-out test")

        // 1. 300 clients open through the balancer, each with its own identity.
        var clients: [Landed] = []
        for chunk in stride(from: 0, to: clientCount, by: openConcurrency) {
            try await withThrowingTaskGroup(of: Landed.self) { group in
                for index in chunk..<min(chunk + openConcurrency, clientCount) {
                    group.addTask {
                        let connection = try await connect(url, canister, local, as: TextMessage.self) {
                            $0.openTimeout = .seconds(120)
                            $0.ingressExpiry = .seconds(300)
                            // A gateway that leaves closes with 1001: the client comes back through the balancer.
                            $0.reconnect = ReconnectPolicy(maxAttempts: 6, initialDelay: .milliseconds(200), maximumDelay: .seconds(2))
                        }
                        let state = try await connection.waitForState(.seconds(120), "open") {
                            if case .open = $0 { return true } else { return false }
                        }
                        guard case .open(let key, let gateway) = state else { throw TimedOut(what: "open state") }
                        #expect(try await connection.next(.seconds(120)).text == "ping")
                        return Landed(index: index, connection: connection, gateway: gateway, key: key)
                    }
                }
                for try await landed in group { clients.append(landed) }
            }
        }
        clients.sort { $0.index < $1.index }
        laps.lap("\(clientCount) clients opened")
        #expect(proxy.connectionsPerUpstream == [100, 100, 100], "round robin: \(proxy.connectionsPerUpstream)")
        for gateway in gateways {
            let mine = clients.filter { $0.gateway == gateway.principal }.count
            #expect(mine == 100, "gateway \(gateway.principal) has \(mine) clients")
        }

        // 2. Every client sends; every reply comes back to it, verified by the SDK.
        let failures = NIOLockedValueBox<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    for message in 0..<messagesPerClient {
                        let text = "c\(client.index)-m\(message)"
                        try await client.connection.send(TextMessage(text: text))
                        let reply = try await Self.nextReply(client.connection)
                        if reply != "\(text) ping" { failures.withLockedValue { $0.append("\(text) → \(reply)") } }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(failures.withLockedValue { $0 } == [])
        var verified = 0
        for client in clients { verified += await client.connection.statistics().messagesReceived }
        // Per client: the open service message, "ping", and one reply per message.
        let perClient = 2 + messagesPerClient
        #expect(verified == clientCount * perClient, "messages verified by the clients: \(verified)")
        laps.lap("\(clientCount * messagesPerClient) messages each way, \(verified) canister messages verified")

        // 3. Per gateway: one poller for the canister, its own 100 clients, exactly their
        //    messages relayed, and a queue on the canister that holds only its clients' messages.
        let id = "{canister_id=\"\(canister)\"}"
        var queueBeforeLeaving: [CanisterOutputMessage] = []
        for (index, gateway) in gateways.enumerated() {
            let mine = Set(clients.filter { $0.gateway == gateway.principal }.map(\.key))
            #expect(try await gateway.metric("clients_connected", labels: id) == 100)
            #expect(try await gateway.metric("active_pollers") == 1)
            let polls = try await gateway.metric("icws_gateway_polls_total", labels: id) ?? 0
            #expect(polls > 0)
            let relayed = try await gateway.metric("icws_gateway_messages_relayed_out_total") ?? 0
            #expect(relayed == Double(mine.count * perClient), "gateway \(gateway.principal) relayed \(relayed)")
            let queue = try await Self.queue(of: gateway, canister, local)
            #expect(!queue.isEmpty)
            #expect(
                Set(queue.map(\.clientKey)).isSubset(of: mine), "the canister's queue for a gateway holds only its own clients' messages")
            #expect(queue.allSatisfy { $0.key.hasPrefix("\(gateway.principal)_") }, "message keys carry the gateway's principal")
            if index == 2 { queueBeforeLeaving = queue }
            print(
                "scale-out test: gateway \(index + 1) \(gateway.principal): \(mine.count) clients, \(Int(polls)) polls, "
                    + "\(Int(relayed)) messages relayed")
        }
        laps.lap("per-gateway metrics and queues checked")

        // 4. Gateway 3 leaves as an operator takes one out: SIGTERM, readiness fails, the
        //    balancer's health check takes it out of the rotation, then its sessions close (1001)
        //    and its clients resume their sessions through the balancer on the other two.
        let leaving = gateways[2]
        await leaving.beginShutdown()
        while try await OperatedGateway.get("\(leaving.metricsURL)/readyz").status != 503 {
            try await Task.sleep(for: .milliseconds(20))
        }
        proxy.setEnabled(2, false)
        let moved = clients.filter { $0.gateway == leaving.principal }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in moved {
                group.addTask {
                    // The session resumes (same key) through another gateway.
                    let state = try await client.connection.waitForState(.seconds(120), "resumed elsewhere") {
                        if case .resumed(_, let gateway, _) = $0 { return gateway != leaving.principal } else { return false }
                    }
                    guard case .resumed(let key, let gateway, _) = state else { return }
                    #expect(key == client.key)
                    #expect(gateway == gateways[0].principal || gateway == gateways[1].principal)
                    // The session answers like before, through the new gateway.
                    let text = "c\(client.index)-moved"
                    try await client.connection.send(TextMessage(text: text))
                    #expect(try await Self.nextReply(client.connection) == "\(text) ping")
                }
            }
            try await group.waitForAll()
        }
        await leaving.stop()
        laps.lap("gateway 3 drained; its \(moved.count) clients resumed their sessions through gateways 1 and 2 and talked again")
        #expect(proxy.connectionsPerUpstream[2] == 100, "no new connection went to the leaving gateway")
        #expect(proxy.connectionsPerUpstream[0] + proxy.connectionsPerUpstream[1] == 200 + moved.count)
        var remaining = 0.0
        for gateway in gateways[0..<2] { remaining += try await gateway.metric("clients_connected", labels: id) ?? 0 }
        #expect(remaining == Double(clientCount), "all 300 clients are on gateways 1 and 2")
        print(
            "scale-out test: balancer connections per gateway \(proxy.connectionsPerUpstream); clients now on gateways 1 and 2: \(Int(remaining))"
        )

        // 5. The departed gateway's queue on the canister outlives it (its clients were closed with
        //    ws_close, which queues nothing): still there, readable by its principal
        //    (GatewayQueueLifetimeTests shows when it goes).
        let afterLeaving = try await Self.queue(of: leaving, canister, local)
        #expect(afterLeaving == queueBeforeLeaving, "the queue of a gateway that just left stays as it was")
        print("scale-out test: gateway 3's queue right after it left: \(afterLeaving.count) messages (first page) as before")
        await withTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.connection.close() } }
        }
        laps.lap("clients closed")
    }
}

extension ScaleOutTests {
    /// When the canister drops the queue of a gateway that is gone, for a gateway that left
    /// gracefully (its clients closed with `ws_close`) and one that crashed (no `ws_close`): few
    /// clients, and the canister's ack interval (300 s) jumped over with the replica's clock.
    /// Nested in ScaleOutTests, whose `.serialized` keeps it from running beside the 300 clients
    /// (it moves the clock only once the one client it keeps has answered).
    @Suite("scale-out: the queue of a gateway that left")
    struct GatewayQueueLifetimeTests {
        static func isClose(_ message: CanisterOutputMessage) -> Bool {
            guard let content = try? WebsocketMessage(cbor: message.content), content.isServiceMessage,
                case .closeMessage? = try? WebsocketServiceMessageContent.decode(content.content)
            else { return false }
            return true
        }

        @Test(
            "a departed gateway's queue stays for one ack interval after its last client left, then goes; a crashed one's a keep-alive timeout later"
        )
        func departedGatewayQueues() async throws {
            let laps = ScaleOutTests.Laps("queue lifetime test")
            let module = try CanisterModules.pingPongCanister()
            try await LocalReplica.run { local in
                // A stays, B leaves gracefully, C crashes. A and C reach the IC through links the
                // test controls: C's goes down first, so that nothing of its end (no ws_close)
                // reaches the canister, as when its machine dies; A's is slowed below so that its
                // client's keep-alive executes a few (replica) seconds after the ack, as on the IC.
                let linkA = FaultInjectingReplicaProxy(upstream: local.url)
                let linkC = FaultInjectingReplicaProxy(upstream: local.url)
                try await linkA.run { urlA in
                    try await linkC.run { urlC in
                        try await Self.exercise(local, module, laps, linkA, urlA, linkC, urlC)
                    }
                }
            }
        }

        static func exercise(
            _ local: LocalReplica, _ module: [UInt8], _ laps: ScaleOutTests.Laps,
            _ linkA: FaultInjectingReplicaProxy, _ urlA: String, _ linkC: FaultInjectingReplicaProxy, _ urlC: String
        ) async throws {
            let canister = try await local.deploy(module: module)
            // A counts a relayed call once the IC executed it: the clock moves only after that.
            let a = try await ScaleOutTests.OperatedGateway(local: local, drainDelay: .zero, icURL: urlA, submission: .afterExecuted)
            let b = try await ScaleOutTests.OperatedGateway(local: local, drainDelay: .zero)
            let c = try await ScaleOutTests.OperatedGateway(local: local, drainDelay: .zero, icURL: urlC)
            var connections: [ICWebSocketConnection<TextMessage>] = []
            for gateway in [a, b, c] {
                let connection = try await connect("ws://127.0.0.1:\(gateway.port)", canister, local, as: TextMessage.self) {
                    $0.ingressExpiry = .seconds(300)
                    // Two acks come 362 s (of the jumped clock) apart, more than the default ack timeout (330 s).
                    $0.ackMessageInterval = .seconds(900)
                }
                #expect(try await connection.next(.seconds(60)).text == "ping")
                connections.append(connection)
            }
            let queueOfB = try await ScaleOutTests.queue(of: b, canister, local)
            #expect(queueOfB.count == 2, "open message and ping")
            await b.stop()
            linkC.inject(.unavailable)
            await c.cancel()
            laps.lap("3 gateways, 1 client each; B stopped, C crashed")

            // Right after: B's queue is unchanged (ws_close removed its client and queued nothing;
            // B is only marked for removal); C's client is still registered, its queue as it was.
            #expect(try await ScaleOutTests.queue(of: b, canister, local) == queueOfB)
            #expect(try await ScaleOutTests.queue(of: c, canister, local).count == 2)

            /// One ack interval: the ack tick (acks to every registered client; A's answers, 5 s
            /// later in replica time), then the keep-alive check 61 s after the tick.
            func ackInterval() async throws {
                let before = try await a.metric("icws_gateway_messages_relayed_in_total") ?? 0
                // Every request of A waits 2 s in its link from now: the keep-alive cannot reach the
                // replica before the clock was moved past the tick.
                linkA.inject(.delay(.seconds(2)))
                try await Task.sleep(for: .milliseconds(2_500))
                local.replica.advanceTime(by: .seconds(301))
                try await Task.sleep(for: .milliseconds(500))
                local.replica.advanceTime(by: .seconds(5))
                let deadline = ContinuousClock.now + .seconds(120)
                while try await a.metric("icws_gateway_messages_relayed_in_total") ?? 0 <= before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(try await a.metric("icws_gateway_messages_relayed_in_total") ?? 0 > before, "A's client answered the ack")
                linkA.inject(.none)
                local.replica.advanceTime(by: .seconds(56))
                try await Task.sleep(for: .seconds(1))
            }

            try await ackInterval()
            // At the keep-alive check, B had been without clients for more than one ack interval
            // (300 s): its queue is gone. C's client missed the keep-alive: closed, with a
            // CloseMessage queued for it in C's queue (the older messages are pruned as expired).
            let queueOfBLater = try await ScaleOutTests.queue(of: b, canister, local)
            #expect(queueOfBLater.isEmpty, "B's queue is dropped at the first keep-alive check more than 300 s after it left")
            let queueOfCLater = try await ScaleOutTests.queue(of: c, canister, local)
            #expect(queueOfCLater.contains(where: isClose), "C's client was closed for the missed keep-alive")
            let queueOfA = try await ScaleOutTests.queue(of: a, canister, local)
            #expect(!queueOfA.isEmpty, "A still has its client and its queue")
            #expect(!queueOfA.contains(where: isClose), "A's client answered the ack and stays")
            laps.lap("one ack interval later (362 s): B's queue dropped, C's client closed")
            print(
                "queue lifetime test: after 362 s: B \(queueOfBLater.count) messages, C \(queueOfCLater.count) "
                    + "(with a CloseMessage for its client), A \(queueOfA.count)")

            // One more ack interval: C, without clients since that check, goes too; A stays.
            try await ackInterval()
            #expect(
                try await ScaleOutTests.queue(of: c, canister, local).isEmpty,
                "C's queue dropped one ack interval after its client was closed")
            #expect(!(try await ScaleOutTests.queue(of: a, canister, local)).isEmpty)
            #expect(try await a.metric("clients_connected", labels: "{canister_id=\"\(canister)\"}") == 1, "A's client answered every ack")
            laps.lap("two ack intervals later (724 s): C's queue dropped, A unaffected")
            for connection in connections { await connection.close() }
            await a.stop()
        }
    }
}
