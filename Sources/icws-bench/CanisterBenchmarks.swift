import CanisterToolchain
import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketProtocol
import Logging

/// Suite `canister`: the Embedded Swift canisters in the replica. Module sizes; Wasm
/// instructions (WasmKit fuel) and host time of `ws_open`, `ws_message`, the test canister's
/// `send` and a 50-message `ws_get_messages`; and how one `send`'s cost (queueing plus the
/// certified-data update) grows with the number of queued messages.
///
/// `wasm_us` is the Wasm execution alone (the replica's `lastExecution`), `call_us` the whole
/// loopback round trip through our agent (signing, HTTP, a round, certification).
enum CanisterBenchmarks {
    static func run(_ harness: BenchmarkHarness) async {
        await exitOnFailure("canister") { try await runThrowing(harness) }
    }

    /// One measured operation: instructions, Wasm time and round-trip time per iteration.
    private struct Samples {
        var instructions: [Double] = []
        var wasmMicroseconds: [Double] = []
        var callMicroseconds: [Double] = []

        func report(_ name: String, extra: String = "") {
            print(
                "{\"name\": \"\(name)\", \"instructions\": \(Int(median(instructions))), \"wasm_us\": \(rounded(median(wasmMicroseconds))), "
                    + "\"call_us\": \(rounded(median(callMicroseconds))), \"iterations\": \(instructions.count)\(extra)}")
        }

        private func median(_ values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        private func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
    }

    private static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    private static func runThrowing(_ harness: BenchmarkHarness) async throws {
        guard let builder = CanisterBuilder.locate() else {
            throw BenchFailure("run icws-bench canister inside the repository (it builds Canisters/ on first use)")
        }
        try builder.build { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        for name in CanisterBuilder.knownCanisters {
            print("{\"name\": \"canister.module_bytes.\(name)\", \"bytes\": \(try builder.module(name).count)}")
        }
        let module = try builder.module("TestCanister")

        var logger = Logger(label: "bench-canister")
        logger.logLevel = .critical
        let replica = try Replica(
            configuration: .init(seed: [UInt8](repeating: 3, count: 32), roundInterval: .milliseconds(50)), logger: logger)
        let ready = AsyncStream<Int>.makeStream()
        let app = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: 0, logger: logger) { ready.continuation.yield($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            group.addTask { await replica.runRounds() }
            var iterator = ready.stream.makeAsyncIterator()
            let url = "http://127.0.0.1:\(await iterator.next() ?? 0)"
            func agent(_ identity: any Identity) -> HTTPAgent {
                HTTPAgent(
                    configuration: .init(
                        url: url, rootKey: .fetchFromReplica, requestTimeout: .seconds(120),
                        pollingInterval: (.milliseconds(2), .milliseconds(20))),
                    identity: identity)
            }
            let controller = agent(Ed25519Identity())
            let canister = try await ManagementCanister(agent: controller).deploy(
                module: module, arg: try Candid.encode(UInt64(50), UInt64(300_000)), effectiveCanisterID: replica.canisterRange.lowerBound)
            let bench = Bench(
                replica: replica, canister: canister, controller: controller, gateway: agent(Ed25519Identity()), module: module)
            try await bench.run(harness, makeAgent: agent)
            group.cancelAll()
        }
    }

    private struct Bench: Sendable {
        let replica: Replica
        let canister: Principal
        let controller: HTTPAgent
        let gateway: HTTPAgent
        /// The test canister's module (upgraded to itself).
        let module: [UInt8]

        /// Runs `call` and records what the replica measured for it.
        func measure(_ samples: inout Samples, _ call: () async throws -> Void) async throws {
            let clock = ContinuousClock()
            let start = clock.now
            try await call()
            let elapsed = clock.now - start
            guard let execution = replica.lastExecution(of: canister) else { throw BenchFailure("no execution recorded") }
            samples.instructions.append(Double(execution.instructions))
            samples.wasmMicroseconds.append(CanisterBenchmarks.microseconds(execution.duration))
            samples.callMicroseconds.append(CanisterBenchmarks.microseconds(elapsed))
        }

        func check(_ reply: [UInt8], _ what: String) throws {
            guard try Candid.decode(CanisterWsResult.self, from: reply) == .ok else { throw BenchFailure("\(what) failed") }
        }

        func open(_ client: HTTPAgent, nonce: UInt64) async throws {
            try check(
                try await client.call(
                    canister: canister, method: "ws_open",
                    arg: try Candid.encode(
                        CanisterWsOpenArguments(clientNonce: nonce, gatewayPrincipal: gateway.identity.principal))), "ws_open")
        }

        func send(to principal: Principal, count: Int, size: Int = 32) async throws {
            let blob = try Candid.encode([UInt8](repeating: 0x61, count: size))
            var left = count
            while left > 0 {
                let chunk = min(left, 500)
                try check(
                    try await controller.call(
                        canister: canister, method: "send",
                        arg: try Candid.encode(
                            principal, [CandidBlob](repeating: CandidBlob(blob), count: chunk))), "send")
                left -= chunk
            }
        }

        func wipe() async throws {
            _ = try await controller.call(canister: canister, method: "wipe", arg: try Candid.encode(UInt64(50), UInt64(300_000)))
        }

        func run(_ harness: BenchmarkHarness, makeAgent: (any Identity) -> HTTPAgent) async throws {
            let iterations = harness.iterations

            var opens = Samples()
            for index in 0..<iterations {
                let client = makeAgent(Ed25519Identity())
                try await measure(&opens) { try await open(client, nonce: UInt64(index)) }
            }
            opens.report("canister.ws_open", extra: ", \"queued_before\": \"0..\(iterations)\"")
            try await wipe()

            // ws_message: an application message with 32 bytes of text from one client, sequence
            // 1, 2, 3, … It must be the test canister's `record { text : text }`: anything else is
            // refused (Err) since issue 15.
            let client = makeAgent(Ed25519Identity())
            try await open(client, nonce: 1)
            let key = ClientKey(clientPrincipal: client.identity.principal, clientNonce: 1)
            let content = try CandidEncoder.encode(
                [.record([.field("text", .text(String(repeating: "b", count: 32)))])],
                types: [.record([.field("text", String.self)])])
            var messages = Samples()
            for sequence in 1...UInt64(iterations) {
                let argument = try Candid.encode(
                    CanisterWsMessageArguments(
                        msg: WebsocketMessage(
                            clientKey: key, sequenceNum: sequence, timestamp: replica.currentTime, isServiceMessage: false, content: content
                        )),
                    CandidNull?.none)
                try await measure(&messages) {
                    try check(try await client.call(canister: canister, method: "ws_message", arg: argument), "ws_message")
                }
            }
            messages.report("canister.ws_message", extra: ", \"content_bytes\": \(content.count)")

            // ws_get_messages returning 50 (of 100 queued) 32-byte messages.
            try await wipe()
            try await open(client, nonce: 1)
            try await send(to: client.identity.principal, count: 99)
            var polls = Samples()
            var returned = 0
            for _ in 0..<iterations {
                try await measure(&polls) {
                    let result = try Candid.decode(
                        CanisterWsGetMessagesResult.self,
                        from: try await gateway.query(
                            canister: canister, method: "ws_get_messages", arg: try Candid.encode(CanisterWsGetMessagesArguments(nonce: 0)))
                    )
                    guard case .ok(let batch) = result else { throw BenchFailure("ws_get_messages failed") }
                    returned = batch.messages.count
                }
            }
            guard returned == 50 else { throw BenchFailure("ws_get_messages returned \(returned) messages, expected 50") }
            polls.report("canister.ws_get_messages_50", extra: ", \"queued\": 100")

            // One send (one 32-byte message: queueing, cleanup check, certified-data update) as the queue grows.
            for queued in [10, 100, 1_000, 5_000] {
                try await wipe()
                try await open(client, nonce: 1)
                try await send(to: client.identity.principal, count: queued - 1)
                var sends = Samples()
                let argument = try Candid.encode(
                    client.identity.principal, [CandidBlob(try Candid.encode([UInt8](repeating: 0x63, count: 32)))])
                for _ in 0..<min(iterations, 20) {
                    try await measure(&sends) {
                        try check(try await controller.call(canister: canister, method: "send", arg: argument), "send")
                    }
                }
                sends.report("canister.send_one_at_queue_\(queued)", extra: ", \"queued\": \(queued)")
                var largePolls = Samples()
                for _ in 0..<min(iterations, 20) {
                    try await measure(&largePolls) {
                        _ = try await gateway.query(
                            canister: canister, method: "ws_get_messages",
                            arg: try Candid.encode(CanisterWsGetMessagesArguments(nonce: UInt64(queued / 2))))
                    }
                }
                largePolls.report("canister.ws_get_messages_50_at_queue_\(queued)", extra: ", \"queued\": \(queued)")
            }

            // ICWebSocket.broadcast of one 32-byte message to every registered client (the test
            // canister's `broadcast (null, blob)`): queueing, CBOR, hashing and one certification
            // pass for all the new leaves.
            let blob = CandidBlob(try Candid.encode([UInt8](repeating: 0x64, count: 32)))
            try await wipe()
            var opened = 0
            for recipients in [10, 100, 1_000] {
                while opened < recipients {
                    let batch = min(recipients - opened, 50)
                    let agents = (0..<batch).map { _ in makeAgent(Ed25519Identity()) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (index, agent) in agents.enumerated() {
                            let nonce = UInt64(opened + index)
                            group.addTask { try await self.open(agent, nonce: nonce) }
                        }
                        try await group.waitForAll()
                    }
                    opened += batch
                }
                var broadcasts = Samples()
                let argument = try Candid.encode([Principal]?.none, blob)
                for _ in 0..<min(iterations, 5) {
                    try await measure(&broadcasts) {
                        let reply = try await controller.call(canister: canister, method: "broadcast", arg: argument)
                        guard try Candid.decode(UInt64.self, from: reply) == UInt64(recipients) else {
                            throw BenchFailure("broadcast did not reach \(recipients) clients")
                        }
                    }
                }
                let perRecipient = broadcasts.instructions.sorted()[broadcasts.instructions.count / 2] / Double(recipients)
                broadcasts.report(
                    "canister.broadcast_\(recipients)",
                    extra: ", \"recipients\": \(recipients), \"instructions_per_recipient\": \(Int(perRecipient))")
            }

            // Upgrades that keep the sessions (docs/CANISTER-UPGRADES.md): `canister_pre_upgrade`
            // (snapshot + stable write; the test canister logs its own instruction count, as the
            // replica keeps no statistics of the discarded old module) and
            // `canister_post_upgrade` (stable read, checks, queues and certified tree rebuilt),
            // with `clients` clients and `perClient` 32-byte messages queued for each.
            for (clients, perClient) in [(10, 100), (100, 50)] {
                try await wipe()
                var agents = [HTTPAgent]()
                while agents.count < clients {
                    let batch = (0..<min(clients - agents.count, 50)).map { _ in makeAgent(Ed25519Identity()) }
                    let first = agents.count
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (index, agent) in batch.enumerated() {
                            group.addTask { try await self.open(agent, nonce: UInt64(first + index)) }
                        }
                        try await group.waitForAll()
                    }
                    agents += batch
                }
                // The open message is each client's first; fill up to perClient.
                for agent in agents { try await send(to: agent.identity.principal, count: perClient - 1) }
                var saves = Samples()
                var restores = Samples()
                var savedBytes = 0
                for _ in 0..<min(iterations, 3) {
                    // The log keeps the last 1 000 lines; the cursor counts every line ever logged.
                    let cursor = replica.log(of: canister, after: Int.max).cursor
                    try await measure(&restores) {
                        try await ManagementCanister(agent: controller).installCode(
                            canister: canister, module: module, arg: try Candid.encode(UInt64(50), UInt64(300_000)), mode: .upgrade)
                    }
                    guard replica.lastExecution(of: canister)?.export == "canister_post_upgrade" else {
                        throw BenchFailure("the last execution is not canister_post_upgrade")
                    }
                    // "pre_upgrade: saved <bytes> bytes of sessions in <instructions> instructions"
                    guard let line = replica.log(of: canister, after: cursor).lines.last(where: { $0.contains("pre_upgrade: saved") })
                    else {
                        throw BenchFailure("the test canister logged no pre_upgrade line")
                    }
                    let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                    guard numbers.count >= 2 else { throw BenchFailure("unreadable pre_upgrade line: \(line)") }
                    savedBytes = numbers[numbers.count - 2]
                    saves.instructions.append(Double(numbers[numbers.count - 1]))
                    saves.wasmMicroseconds.append(0)
                    saves.callMicroseconds.append(0)
                }
                let extra = ", \"clients\": \(clients), \"queued\": \(clients * perClient), \"saved_bytes\": \(savedBytes)"
                saves.report("canister.pre_upgrade_\(clients)_clients_\(clients * perClient)_queued", extra: extra)
                restores.report("canister.post_upgrade_\(clients)_clients_\(clients * perClient)_queued", extra: extra)
            }
        }
    }

}
