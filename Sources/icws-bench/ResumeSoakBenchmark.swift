import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers

/// Suite `soak-resume`: chat clients with resumable sessions on two gateways, each behind a
/// fault-injecting proxy, for a fixed time while a fault strikes every few seconds (in turn:
/// gateway 1's connections cut, gateway 2 crashed and restarted, gateway 2's connections cut,
/// gateway 1 crashed and restarted). Each client has both gateways in its list and resumes its
/// session through the other one. At the end every message sent must have reached every client
/// exactly once and in its sender's order; one JSON line says so.
///
///   icws-bench soak-resume [clients=100] [seconds=300] [messages-per-second=4] [fault-every-seconds=10]
enum ResumeSoakBenchmark {
    /// What one client sent and received.
    final class Client: Sendable {
        let index: Int
        let identity = Ed25519Identity()
        private let state = NIOLockedValueBox(
            (
                received: [String: [String]](), sent: [String](), failure: String?.none, replacedBecause: [String](),
                lastState: "none yet", lastStateAt: ContinuousClock.now, states: 0, stateAtEnd: String?.none,
                history: [String]()
            ))

        init(index: Int) { self.index = index }

        var principal: String { identity.principal.description }
        var sent: [String] { state.withLockedValue { $0.sent } }
        var failure: String? { state.withLockedValue { $0.failure } }
        func received(from sender: String) -> [String] { state.withLockedValue { $0.received[sender] ?? [] } }
        var receivedCount: Int { state.withLockedValue { $0.received.values.reduce(0) { $0 + $1.count } } }

        func recordReceived(_ message: ChatMessage) {
            state.withLockedValue { $0.received[message.from, default: []].append(message.text) }
        }
        func recordSent(_ text: String) { state.withLockedValue { $0.sent.append(text) } }
        /// The first failure; the connection's own end (its closed state) wins over a send's.
        func fail(_ why: String) {
            state.withLockedValue {
                // After the run's end the benchmark closes every connection: a send still
                // waiting then (for a resume) fails with `closed`, and says so.
                let why = $0.stateAtEnd == nil ? why : "still waiting when the run ended and closed it: \(why)"
                if $0.failure == nil || why.hasPrefix("closed:") && !$0.failure!.hasPrefix("closed:") { $0.failure = why }
            }
        }
        /// A new session replaced the client's: counted only during the run, as its statistics
        /// are (a resume may still time out while the connections are being closed).
        func replaced(_ why: String) {
            state.withLockedValue { if $0.stateAtEnd == nil { $0.replacedBecause.append(why) } }
        }
        /// The connection's newest state and when it was reported: a failed client's tells
        /// whether it was still resuming, reconnecting or closed when the run ended.
        func noteState(_ connectionState: ICWebSocketConnectionState) {
            state.withLockedValue {
                $0.lastState = "\(connectionState)"
                $0.lastStateAt = .now
                $0.states += 1
                // The last states, in short, to tell a failed or replaced client's story.
                $0.history.append((($0.stateAtEnd == nil) ? "" : "after the run: ") + Self.shortLabel(connectionState))
                if $0.history.count > 24 { $0.history.removeFirst() }
            }
        }
        /// Called once the run is over, before the connections are closed.
        func markEndOfRun(statistics: String) {
            state.withLockedValue {
                $0.stateAtEnd =
                    "\($0.lastState) (for \(format((ContinuousClock.now - $0.lastStateAt).seconds)) s; \($0.states) states; \(statistics))"
            }
        }
        /// The connection's state when the run ended.
        var stateAtEnd: String { state.withLockedValue { $0.stateAtEnd ?? $0.lastState } }
        var replacedBecause: [String] { state.withLockedValue { $0.replacedBecause } }
        /// A state in a few words: its kind, the attempt, the client nonce's last digits, the
        /// cause's first words.
        private static func shortLabel(_ state: ICWebSocketConnectionState) -> String {
            func cause(_ error: ICWebSocketClientError) -> String { String("\(error)".prefix(110)) }
            switch state {
            case .connecting: return "connecting"
            case .open(let key, _): return "open(…\(key.clientNonce % 10_000))"
            case .reconnecting(let attempt, let error, _): return "reconnecting#\(attempt)(\(cause(error)))"
            case .resuming(let attempt, let error, _): return "resuming#\(attempt)(\(cause(error)))"
            case .resumed(let key, _, let resent): return "resumed(…\(key.clientNonce % 10_000), \(resent) resent)"
            case .closed(let error): return "closed(\(error.map(cause) ?? ""))"
            }
        }
        /// The connection's last states (up to 24), oldest first.
        var history: String { state.withLockedValue { $0.history.joined(separator: " → ") } }
    }

    static func run(arguments: [String]) async {
        let values = arguments.compactMap { Double($0) }
        let clients = values.first.map { Int($0) } ?? 100
        let seconds = values.dropFirst().first.map { Int($0) } ?? 300
        let rate = values.dropFirst(2).first ?? 4
        let faultEvery = values.dropFirst(3).first ?? 10
        do {
            try await runThrowing(clients: clients, seconds: seconds, rate: rate, faultEvery: faultEvery)
        } catch {
            emit("soak-resume failed: \(error)")
            exit(1)
        }
    }

    private static func runThrowing(clients count: Int, seconds: Int, rate: Double, faultEvery: Double) async throws {
        let module = try CanisterModules.chatCanister()
        try await LocalReplica.run { local in
            let canister = try await local.deploy(module: module)
            let gateways = (0..<2).map { _ in
                GatewayRunner(replica: local) {
                    $0.pollingInterval = .milliseconds(50)
                    $0.maxIdlePollingInterval = .milliseconds(200)
                    $0.maxPendingOutboundMessages = 10_000
                }
            }
            for gateway in gateways { try await gateway.start() }
            let proxies = gateways.map { FaultInjectingProxy(upstream: $0.url) }
            try await proxies[0].run { url1 in
                try await proxies[1].run { url2 in
                    let faults: [@Sendable () async -> String] = [
                        {
                            proxies[0].cutConnections()
                            return "cut the connections to gateway 1"
                        },
                        { await crashAndRestart(gateways[1], "gateway 2") },
                        {
                            proxies[1].cutConnections()
                            return "cut the connections to gateway 2"
                        },
                        { await crashAndRestart(gateways[0], "gateway 1") },
                    ]
                    try await session(
                        local: local, canister: canister, clients: (0..<count).map(Client.init), urls: [url1, url2],
                        seconds: seconds, rate: rate, faultEvery: faultEvery, faults: faults)
                }
            }
            for gateway in gateways { await gateway.stop() }
        }
    }

    /// A crash (no Close frames, no `ws_close`), then the same gateway back on its port 2 s later.
    private static func crashAndRestart(_ gateway: GatewayRunner, _ name: String) async -> String {
        await gateway.crash()
        try? await Task.sleep(for: .seconds(2))
        do { try await gateway.start() } catch { return "\(name) crashed and did not restart: \(error)" }
        return "\(name) crashed, restarted 2 s later"
    }

    private static func session(
        local: LocalReplica, canister: Principal, clients: [Client], urls: [String], seconds: Int, rate: Double,
        faultEvery: Double, faults: [@Sendable () async -> String]
    ) async throws {
        let started = ContinuousClock.now
        let connections = try await openInBatches(clients.map(\.index)) { index in
            let client = clients[index]
            var logger = Logger(label: "soak-resume-client")
            logger.logLevel = .critical
            // Half start on each gateway; each has both, and moves to the other on a fault.
            let order = client.index % 2 == 0 ? urls : urls.reversed()
            return try await ICWebSocketConnection.connect(
                gatewayURLs: order, canister: canister, identity: client.identity,
                network: .local(local.url, rootKey: local.rootKey), messageType: ChatMessage.self,
                configuration: .init(
                    openTimeout: .seconds(60), maxBufferedMessages: 1 << 16,
                    reconnect: ReconnectPolicy(
                        maxAttempts: 1_000, initialDelay: .milliseconds(300), maximumDelay: .seconds(3),
                        resumeTimeout: .seconds(60)),
                    clock: local.clock),
                logger: logger)
        }
        emit(
            "{\"name\": \"soak_resume.connected\", \"clients\": \(clients.count), \"seconds\": \(format((ContinuousClock.now - started).seconds))}"
        )

        // Each client sends from its own queue, in order (a send waits while its session resumes).
        var outboxes = [Int: AsyncStream<String>.Continuation]()
        let faultCount = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                let connection = connections[client.index]!
                let (stream, continuation) = AsyncStream<String>.makeStream()
                outboxes[client.index] = continuation
                group.addTask {
                    do {
                        for try await message in connection.messages where message.from != "system" { client.recordReceived(message) }
                    } catch {
                        client.fail("\(error)")
                    }
                }
                group.addTask {
                    // Why a session had to be replaced, or why the connection ended.
                    for await state in connection.states {
                        client.noteState(state)
                        switch state {
                        case .reconnecting(_, let cause, _): client.replaced("\(cause)")
                        case .closed(let error?): client.fail("closed: \(error)")
                        default: break
                        }
                    }
                }
                group.addTask {
                    for await text in stream {
                        do { try await connection.send(ChatMessage(text: text)) } catch { client.fail("send \(text): \(error)") }
                    }
                }
            }
            // The fault injector.
            let runStart = ContinuousClock.now
            let deadline = runStart + .seconds(seconds)
            group.addTask {
                var next = runStart + .seconds(faultEvery)
                while next < deadline {
                    try await Task.sleep(until: next)
                    let what = await faults[faultCount.withLockedValue { $0 } % faults.count]()
                    let count = faultCount.withLockedValue {
                        $0 += 1; return $0
                    }
                    emit(
                        "{\"name\": \"soak_resume.fault\", \"n\": \(count), \"at_s\": \(format((ContinuousClock.now - runStart).seconds)), \"what\": \"\(what)\"}"
                    )
                    next = next + .seconds(faultEvery)
                }
            }
            // The senders: `rate` messages per second from random clients, faults or not.
            var sequence = 0
            let interval = Duration.seconds(1.0 / rate)
            while ContinuousClock.now < deadline {
                let client = clients.randomElement()!
                sequence += 1
                let text = "c\(client.index)-m\(sequence)"
                client.recordSent(text)
                outboxes[client.index]!.yield(text)
                try await Task.sleep(for: interval)
            }
            for outbox in outboxes.values { outbox.finish() }
            // Settle: until every client has every message, or 120 s.
            let expected = sequence
            let settleDeadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < settleDeadline, clients.contains(where: { $0.receivedCount < expected && $0.failure == nil }) {
                try await Task.sleep(for: .milliseconds(200))
            }
            var resumes = 0, replaced = 0, resent = 0
            for client in clients {
                let stats = await connections[client.index]!.statistics()
                resumes += stats.resumes
                replaced += stats.sessionsReplaced
                resent += stats.messagesResent
                client.markEndOfRun(
                    statistics: "\(stats.reconnects) reconnects, \(stats.resumes) resumes, \(stats.sessionsReplaced) sessions replaced")
            }
            // All at once: one after the other, the last ones would go on living (and resuming) for minutes.
            await withTaskGroup(of: Void.self) { closing in
                for connection in connections.values { closing.addTask { await connection.close() } }
            }
            group.cancelAll()
            report(clients, faults: faultCount.withLockedValue { $0 }, resumes: resumes, replaced: replaced, resent: resent)
        }
    }

    private static func report(_ clients: [Client], faults: Int, resumes: Int, replaced: Int, resent: Int) {
        var delivered = 0, missing = 0, duplicated = 0, outOfOrder = 0
        for receiver in clients {
            for sender in clients {
                let sent = sender.sent
                let got = receiver.received(from: sender.principal)
                delivered += got.count
                missing += Set(sent).subtracting(got).count
                duplicated += got.count - Set(got).count
                // Out of order: the received ones, deduplicated, are not a subsequence in sent order.
                var seen = Set<String>()
                let firstCopies = got.filter { seen.insert($0).inserted }
                if firstCopies != sent.filter(Set(firstCopies).contains) { outOfOrder += 1 }
            }
        }
        let sentTotal = clients.reduce(0) { $0 + $1.sent.count }
        let failed = clients.filter { $0.failure != nil }
        emit(
            """
            {"name": "soak_resume", "clients": \(clients.count), "sent": \(sentTotal), "delivered": \(delivered), \
            "expected": \(sentTotal * clients.count), "missing": \(missing), "duplicated": \(duplicated), \
            "out_of_order": \(outOfOrder), "resumes": \(resumes), "sessions_replaced": \(replaced), \
            "messages_resent": \(resent), "faults": \(faults), "failed_clients": \(failed.count)}
            """)
        if !failed.isEmpty {
            // What the failed clients' connections were doing when the run ended.
            var kinds = [String: Int]()
            for client in failed { kinds[String(client.stateAtEnd.prefix { $0 != " " && $0 != ":" }), default: 0] += 1 }
            let list = kinds.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
            emit("{\"name\": \"soak_resume.failed_states_at_end\", \(list)}")
        }
        for client in failed.prefix(3) {
            emit(
                "{\"name\": \"soak_resume.failure_example\", \"client\": \(client.index), \"why\": \"\(json(client.failure ?? ""))\", "
                    + "\"state_at_end\": \"\(json(client.stateAtEnd))\", \"history\": \"\(json(client.history, limit: 4_000))\"}")
        }
        for client in clients.filter({ !$0.replacedBecause.isEmpty }).prefix(3) {
            emit(
                "{\"name\": \"soak_resume.replaced_example\", \"client\": \(client.index), \"why\": \"\(json(client.replacedBecause.joined(separator: " | ")))\", "
                    + "\"state_at_end\": \"\(json(client.stateAtEnd))\", \"history\": \"\(json(client.history, limit: 4_000))\"}"
            )
        }
        if missing > 0 || duplicated > 0 || outOfOrder > 0 || !failed.isEmpty {
            emit("soak-resume: delivery guarantees violated")
            exit(1)
        }
    }
}

private func format(_ value: Double) -> String { String(format: "%.1f", value) }

/// One line on standard output, written at once (also into a file or a pipe: the run is long,
/// and watched while it goes).
private func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

private func json(_ text: String, limit: Int = 400) -> String {
    String(text.prefix(limit)).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "'")
}
