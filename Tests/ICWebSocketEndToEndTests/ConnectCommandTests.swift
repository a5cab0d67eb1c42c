import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// The real `icws connect` binary as a child process, with no `--message-format`, against each
/// example canister on the replica + gateway stack: it must pick the format from the canister's
/// certified `candid:service` metadata, print each verified reply on its piped standard output
/// while it still runs (line-buffered), and report a refused message on standard error.
///
@Suite(
    "icws connect (CLI) end to end", .serialized,
    .enabled(if: ICWSExecutable.url != nil, "needs .build/debug/icws (swift build)"))
struct ConnectCommandTests {
    static func arguments(_ stack: Stack, _ extra: [String] = []) -> [String] {
        [
            "connect", stack.gateways[0].url, "--canister", stack.canister.description, "--ic-url", stack.local.url,
            "--root-key", Hex.encode(stack.local.rootKey.der),
        ] + extra
    }

    /// The principal `icws connect` reports on its "connecting … as <principal>" line.
    static func principal(in stderr: String) -> String? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("connecting to") }),
            let range = line.range(of: " as ")
        else { return nil }
        return String(line[range.upperBound...])
    }

    @Test("chat canister: the format is read from its interface; a typed line comes back through the pipe")
    func chat() async throws {
        try await withStack(module: try CanisterModules.chatCanister()) { stack in
            let connect = try ICWSProcess(Self.arguments(stack))
            defer { connect.terminate() }
            try await connect.waitFor("the chat format from the interface") { _, err in
                err.contains("message format chat (from the canister's Candid interface")
            }
            try await connect.waitFor("the join notice") { out, _ in out.contains(" joined\n") }
            connect.type("hello from the pipe")
            let (out, err) = try await connect.waitFor("the broadcast reply") { out, _ in out.contains(": hello from the pipe\n") }
            let me = try #require(Self.principal(in: err))
            #expect(out.contains("\(me): hello from the pipe\n"))
            #expect(!err.contains("! "))  // no refusal, no unconfirmed message
            #expect(connect.exitStatus == nil)  // still running: the line arrived before exit
            connect.endInput()
            #expect(await connect.waitForExit() == 0)
        }
    }

    @Test("ping-pong canister: text format from its interface; the answer arrives while running")
    func pingPong() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let connect = try ICWSProcess(Self.arguments(stack))
            defer { connect.terminate() }
            try await connect.waitFor("the text format from the interface") { _, err in
                err.contains("message format text (from the canister's Candid interface")
            }
            try await connect.waitFor("the ping on open") { out, _ in out.contains("ping\n") }
            connect.type("pong")
            try await connect.waitFor("the reply") { out, _ in out.contains("pong ping\n") }
            #expect(connect.exitStatus == nil)
            connect.endInput()
            #expect(await connect.waitForExit() == 0)
        }
    }

    @Test("test canister: text format from its interface; a message it sends arrives; a typed line is accepted")
    func testCanister() async throws {
        let arg = try Candid.encode(UInt64(50), UInt64(300_000))
        try await withStack(module: try CanisterModules.testCanister(), arg: arg) { stack in
            try await Self.talkToTestCanister(stack)
        }
    }

    @Test("--fetch-root-key with no replica running: one clear error and a failing exit, at once")
    func noReplicaToFetchTheRootKeyFrom() async throws {
        // Nothing listens on port 9. The key was fetched twice (interface, then connection), and
        // the second fetch waited out the HTTP client's retries: 30–60 s of silence.
        let connect = try ICWSProcess([
            "connect", "ws://127.0.0.1:9", "--canister", "rwlgt-iiaaa-aaaaa-aaaaa-cai", "--ic-url", "http://127.0.0.1:9",
            "--fetch-root-key",
        ])
        defer { connect.terminate() }
        connect.endInput()
        #expect(await connect.waitForExit(timeout: .seconds(60)) == 1)
        let errors = connect.stderr.split(separator: "\n").filter { $0.contains("cannot obtain the IC root key") }
        #expect(errors.count == 1, "\(connect.stderr)")
        #expect(errors.first?.contains("is a replica running at http://127.0.0.1:9?") == true, "\(connect.stderr)")
        #expect(!connect.stderr.contains("connecting to"), "no connection is attempted without a key: \(connect.stderr)")
    }

    @Test("piped input: connect sends every line, waits for the IC to execute them, then exits")
    func pipedBurstIsNotCutShort() async throws {
        let arg = try Candid.encode(UInt64(50), UInt64(300_000))
        try await withStack(module: try CanisterModules.testCanister(), arg: arg) { stack in
            let connect = try ICWSProcess(Self.arguments(stack))
            defer { connect.terminate() }
            let opened = try await connect.waitFor("the connection to open") { _, err in err.contains("open: client key") }
            guard let text = Self.principal(in: opened.stderr) else { throw ICWSProcessError("no principal in:\n\(opened.stderr)") }
            let me = try Principal(text: text)
            // As `seq 1 30 | icws connect …` does: all lines, then at once the end of the input.
            for index in 1...30 { connect.type("line \(index)") }
            connect.endInput()
            #expect(await connect.waitForExit(timeout: .seconds(120)) == 0)
            // Checked after the exit, not waited for: connect itself must have waited.
            let received = stack.local.replica.log(of: stack.canister).filter { $0.contains("Received message: \(me)") }
            #expect(received.count == 30, "\(connect.stderr)")
            #expect(!connect.stderr.contains("! "), "\(connect.stderr)")
        }
    }

    static func talkToTestCanister(_ stack: Stack) async throws {
        let connect = try ICWSProcess(arguments(stack))
        defer { connect.terminate() }
        let opened = try await connect.waitFor("the connection to open") { _, err in err.contains("open: client key") }
        #expect(opened.stderr.contains("message format text (from the canister's Candid interface"))
        guard let text = principal(in: opened.stderr) else { throw ICWSProcessError("no principal in:\n\(opened.stderr)") }
        let me = try Principal(text: text)
        // The test canister answers nothing itself; its `send` method queues a message for us.
        let message = try Candid.encode(TextMessage(text: "from the controller"))
        let arguments = try Candid.encode(me, [CandidBlob(message)])
        let sent = try await stack.controller.call(stack.canister, "send", arguments: arguments, returning: CanisterWsResult.self)
        #expect(sent == .ok)
        try await connect.waitFor("the sent message") { out, _ in out.contains("from the controller\n") }
        connect.type("accepted?")
        // Accepted messages print nothing (a refusal would print "! …"); the canister logs them.
        let received = { stack.local.replica.log(of: stack.canister).contains { $0.contains("Received message: \(me)") } }
        let deadline = ContinuousClock.now + .seconds(60)
        while !received(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(received())
        #expect(!connect.stderr.contains("! "))
        connect.endInput()
        let status = await connect.waitForExit()
        #expect(status == 0)
    }

    @Test("a refused message: the canister logs the refusal and icws connect prints it; the session goes on")
    func refusalIsReported() async throws {
        // The test canister refuses a message whose text starts with "refuse: ", with the rest as
        // the reason (the example canisters refuse only what they cannot decode, and every format
        // icws connect sends decodes as their record { text : text }).
        let arg = try Candid.encode(UInt64(50), UInt64(300_000))
        try await withStack(module: try CanisterModules.testCanister(), arg: arg) { stack in
            let connect = try ICWSProcess(Self.arguments(stack))
            defer { connect.terminate() }
            try await connect.waitFor("the connection to open") { _, err in err.contains("open: client key") }
            connect.type("refuse: not today")
            let (_, err) = try await connect.waitFor("the refusal notice") { _, err in
                err.contains("! the canister refused your message: not today\n")
            }
            let me = try #require(Self.principal(in: err))
            #expect(
                stack.local.replica.log(of: stack.canister).contains {
                    $0.contains("ws_message from client \(me) refused: not today")
                })
            #expect(connect.exitStatus == nil)  // a refusal never closes the connection
            connect.type("accepted after a refusal")
            let accepted = await eventuallyTrue(timeout: .seconds(60)) {
                stack.local.replica.log(of: stack.canister).filter { $0.contains("Received message: \(me)") }.count == 1
            }
            #expect(accepted, "canister log: \(stack.local.replica.log(of: stack.canister))")
            connect.endInput()
            #expect(await connect.waitForExit() == 0)
        }
    }
}

/// The SDK side of refusals, without the CLI.
@Suite("Call outcomes end to end", .serialized)
struct CallOutcomeTests {
    @Test("an undecodable message: the canister logs it, the client gets .refused, the session goes on")
    func refusedMessage() async throws {
        // The test canister: it sends nothing on open (ping-pong's "ping" would not decode as
        // WrongShape and end the connection), and expects record { text : text }.
        let arg = try Candid.encode(UInt64(50), UInt64(300_000))
        try await withStack(module: try CanisterModules.testCanister(), arg: arg) { stack in
            let identity = Ed25519Identity()
            let client = try await connect(
                stack.gateways[0].url, stack.canister, stack.local, as: WrongShape.self,
                identity: identity
            ) {
                $0.callOutcomeChecks = CallOutcomeChecks(reportsAccepted: true)
            }
            #expect(try await client.send(WrongShape(number: 7)) == 1)
            let outcome = try await within(.seconds(60), "the call outcome") {
                var iterator = client.callOutcomes.makeAsyncIterator()
                guard let outcome = await iterator.next() else { throw TimedOut(what: "an outcome (stream ended)") }
                return outcome
            }
            guard case .refused(let number, let reason) = outcome else {
                Issue.record("expected .refused, got \(outcome)")
                return
            }
            #expect(number == 1)
            #expect(reason.hasPrefix("cannot decode the message as AppMessage: "))
            #expect(
                stack.local.replica.log(of: stack.canister).contains {
                    $0.contains("ws_message from client \(identity.principal) refused: \(reason)")
                })
            // The session goes on: the next message (sequence number 2) is checked and refused too.
            #expect(try await client.send(WrongShape(number: 8)) == 2)
            let next = try await within(.seconds(60), "the second outcome") {
                var iterator = client.callOutcomes.makeAsyncIterator()
                guard let outcome = await iterator.next() else { throw TimedOut(what: "an outcome (stream ended)") }
                return outcome
            }
            #expect(next.sequenceNumber == 2)
            if case .refused = next {} else { Issue.record("expected .refused, got \(next)") }
            await client.close()
        }
    }

    @Test("a handler that traps: the client gets .rejected with the IC's reject and the trap message")
    func trappedMessage() async throws {
        let arg = try Candid.encode(UInt64(50), UInt64(300_000))
        try await withStack(module: try CanisterModules.testCanister(), arg: arg) { stack in
            let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: TextMessage.self) {
                $0.callOutcomeChecks = CallOutcomeChecks(reportsAccepted: true)
            }
            _ = try await stack.controller.callValues(stack.canister, "set_handlers_trap", arguments: try Candid.encode(true))
            #expect(try await client.send(TextMessage(text: "trap, please")) == 1)
            let outcome = try await within(.seconds(60), "the call outcome") {
                var iterator = client.callOutcomes.makeAsyncIterator()
                guard let outcome = await iterator.next() else { throw TimedOut(what: "an outcome (stream ended)") }
                return outcome
            }
            guard case .rejected(let number, let reject) = outcome else {
                Issue.record("expected .rejected, got \(outcome)")
                return
            }
            #expect(number == 1)
            #expect(reject.code == .canisterError)
            #expect(reject.message.contains("on_message trapped as requested by set_handlers_trap"), "\(reject)")
            await client.close()
        }
    }

    @Test("an accepted message is reported as accepted when asked")
    func acceptedMessage() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: TextMessage.self) {
                $0.callOutcomeChecks = CallOutcomeChecks(reportsAccepted: true)
            }
            #expect(try await client.next() == TextMessage(text: "ping"))
            try await client.send(TextMessage(text: "one"))
            #expect(try await client.next() == TextMessage(text: "one ping"))
            let outcome = try await within(.seconds(60), "the call outcome") {
                var iterator = client.callOutcomes.makeAsyncIterator()
                guard let outcome = await iterator.next() else { throw TimedOut(what: "an outcome (stream ended)") }
                return outcome
            }
            #expect(outcome == .accepted(sequenceNumber: 1))
            await client.close()
        }
    }
}

/// A message type no example canister uses: `record { number : nat64 }`.
struct WrongShape: CandidCodable, Sendable, Equatable {
    var number: UInt64
    static var candidType: CandidType { .record([.field("number", UInt64.self)]) }
    func candidValue() -> CandidValue { .record([.field("number", number)]) }
    init(number: UInt64) { self.number = number }
    init(candid value: CandidValue) throws(CandidError) { number = try value.record().field("number") }
}

/// Polls `condition` until it holds or the time is up.
func eventuallyTrue(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
