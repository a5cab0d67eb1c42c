import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import NIOConcurrencyHelpers
import Testing

/// Sessions that outlive a connection (docs/SESSION-RESUMPTION.md), end to end: Swift clients,
/// real gateways (in process, and one as an `icws gateway` process killed with SIGKILL), the
/// real replica and the chat canister. Every canister message is verified by the client SDK
/// (certificate, witness, sequence number), so a lost, repeated or reordered message ends the
/// session with an error these tests see; on top, each test checks what every client received.
@Suite("End to end: sessions resume after a drop and fail over to another gateway", .serialized)
struct SessionResumptionEndToEndTests {
    static func policy() -> ReconnectPolicy {
        ReconnectPolicy(maxAttempts: 30, initialDelay: .milliseconds(200), maximumDelay: .seconds(1), resumeTimeout: .seconds(30))
    }

    /// The chat messages a client received, by sender, and a reader that fills it.
    final class Inbox: Sendable {
        private let received = NIOLockedValueBox<[String: [String]]>([:])
        let owner: String

        init(owner: String) { self.owner = owner }

        func texts(from sender: String) -> [String] { received.withLockedValue { $0[sender] ?? [] } }

        /// Reads `connection` until `count` messages from `senders` arrived (system notices aside).
        func read(_ connection: ICWebSocketConnection<ChatMessage>, until count: Int, from senders: Set<String>) async throws {
            var iterator = connection.messages.makeAsyncIterator()
            while received.withLockedValue({ state in senders.reduce(0) { $0 + (state[$1]?.count ?? 0) } }) < count {
                guard let message = try await iterator.next() else { throw TimedOut(what: "\(owner)'s messages (stream ended)") }
                guard senders.contains(message.from) else { continue }
                received.withLockedValue { $0[message.from, default: []].append(message.text) }
            }
        }
    }

    /// Two clients chat, `perClient` messages each, both ways at once; `fault` runs once Alice
    /// has sent `faultAfter` of hers. Returns when each has received all `2 × perClient`; checks
    /// that each got every message of each sender exactly once and in order.
    static func exchange(
        alice: ICWebSocketConnection<ChatMessage>, bob: ICWebSocketConnection<ChatMessage>, names: (String, String),
        perClient: Int, faultAfter: Int, fault: @escaping @Sendable () async throws -> Void
    ) async throws {
        let inboxes = (Inbox(owner: "alice"), Inbox(owner: "bob"))
        let senders: Set<String> = [names.0, names.1]
        try await within(.seconds(600), "the exchange") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await inboxes.0.read(alice, until: 2 * perClient, from: senders) }
                group.addTask { try await inboxes.1.read(bob, until: 2 * perClient, from: senders) }
                group.addTask {
                    for index in 0..<perClient {
                        if index == faultAfter { try await fault() }
                        try await alice.send(ChatMessage(text: "a-\(index)"))
                    }
                }
                group.addTask {
                    for index in 0..<perClient { try await bob.send(ChatMessage(text: "b-\(index)")) }
                }
                try await group.waitForAll()
            }
        }
        let expectedA = (0..<perClient).map { "a-\($0)" }
        let expectedB = (0..<perClient).map { "b-\($0)" }
        for inbox in [inboxes.0, inboxes.1] {
            #expect(inbox.texts(from: names.0) == expectedA, "\(inbox.owner) got Alice's messages exactly once, in order")
            #expect(inbox.texts(from: names.1) == expectedB, "\(inbox.owner) got Bob's messages exactly once, in order")
        }
    }

    /// Opens Alice (through `aliceURLs`, resuming) and Bob (through `bobURL`) to the chat.
    static func chatters(
        _ stack: Stack, aliceURLs: [String], bobURL: String
    ) async throws -> (ICWebSocketConnection<ChatMessage>, ICWebSocketConnection<ChatMessage>, (String, String)) {
        let (aliceID, bobID) = (Ed25519Identity(), Ed25519Identity())
        let alice = try await connect(aliceURLs, stack.canister, stack.local, as: ChatMessage.self, identity: aliceID) {
            $0.reconnect = policy()
            $0.maxBufferedMessages = 10_000
        }
        let bob = try await connect([bobURL], stack.canister, stack.local, as: ChatMessage.self, identity: bobID) {
            $0.reconnect = policy()
            $0.maxBufferedMessages = 10_000
        }
        return (alice, bob, (aliceID.principal.description, bobID.principal.description))
    }

    @Test(
        "(a) the connection is cut in the middle of a 500-message exchange: the session resumes through the other gateway, nothing lost or repeated"
    )
    func cutConnectionResumes() async throws {
        try await withStack(module: try CanisterModules.chatCanister(), gateways: 2) { stack in
            let proxy = FaultInjectingProxy(upstream: stack.gateways[0].url)
            try await proxy.run { proxied in
                let (alice, bob, names) = try await Self.chatters(
                    stack, aliceURLs: [proxied, stack.gateways[1].url], bobURL: stack.gateways[1].url)
                let key = alice.clientKey
                try await Self.exchange(alice: alice, bob: bob, names: names, perClient: 250, faultAfter: 100) {
                    proxy.cutConnections()
                }
                #expect(alice.clientKey == key, "the same session: same client key")
                let stats = await alice.statistics()
                #expect(stats.resumes >= 1)
                #expect(stats.sessionsReplaced == 0)
                print(
                    "resumption e2e (a): Alice resumed \(stats.resumes)×, re-sent \(stats.messagesResent) message(s), \(stats.reconnects) reconnect(s)"
                )
                await alice.close()
                await bob.close()
            }
        }
    }

    @Test("(b) gateway A is killed with SIGKILL: the client resumes through gateway B; every message exactly once, in order")
    func killedGatewayFailsOver() async throws {
        try await withStack(module: try CanisterModules.chatCanister(), gateways: 1) { stack in
            let port = try await LoopbackPorts.unused(1)[0]
            let identityPath = FileManager.default.temporaryDirectory.appendingPathComponent("icws-resume-\(UUID()).pem").path
            defer { try? FileManager.default.removeItem(atPath: identityPath) }
            let process = try ICWSProcess([
                "gateway", "--gateway-address", "127.0.0.1:\(port)", "--ic-network-url", stack.local.url,
                "--prometheus-endpoint", "none", "--identity-pem-path", identityPath,
                "--root-key", Hex.encode(stack.local.rootKey.der), "--polling-interval", "20",
                "--max-idle-polling-interval", "100", "--log-level", "info",
            ])
            defer { process.terminate() }
            try await process.waitFor("the gateway to listen") { out, err in (out + err).contains("gateway listening") }
            let gatewayA = "ws://127.0.0.1:\(port)"
            let (alice, bob, names) = try await Self.chatters(
                stack, aliceURLs: [gatewayA, stack.gateways[0].url], bobURL: stack.gateways[0].url)
            let key = alice.clientKey
            try await Self.exchange(alice: alice, bob: bob, names: names, perClient: 100, faultAfter: 40) {
                await process.kill()
            }
            #expect(alice.clientKey == key)
            let stats = await alice.statistics()
            #expect(stats.resumes >= 1)
            #expect(stats.sessionsReplaced == 0)
            print("resumption e2e (b): Alice resumed \(stats.resumes)×, re-sent \(stats.messagesResent) message(s) after SIGKILL")
            await alice.close()
            await bob.close()
        }
    }

    @Test("(c) a gateway that silently drops a canister message is caught by the sequence gap; the client moves on and gets it once")
    func withholdingGatewayIsLeft() async throws {
        try await withStack(module: try CanisterModules.chatCanister(), gateways: 2) { stack in
            let proxy = FaultInjectingProxy(upstream: stack.gateways[0].url)
            try await proxy.run { proxied in
                let (alice, bob, names) = try await Self.chatters(
                    stack, aliceURLs: [proxied, stack.gateways[1].url], bobURL: stack.gateways[1].url)
                let alicePrincipal = alice.clientKey.clientPrincipal
                let dropped = NIOLockedValueBox(false)
                try await Self.exchange(alice: alice, bob: bob, names: names, perClient: 60, faultAfter: 10) {
                    // From now on the proxied gateway withholds one application message to Alice.
                    proxy.inject { faults in
                        faults.dropToClient = { message in
                            guard message.clientKey.clientPrincipal == alicePrincipal, !message.isServiceMessage else { return false }
                            return dropped.withLockedValue { done in
                                defer { done = true }
                                return !done
                            }
                        }
                    }
                }
                #expect(proxy.dropped == 1)
                let stats = await alice.statistics()
                #expect(stats.resumes >= 1, "the gap made the client leave the withholding gateway")
                await alice.close()
                await bob.close()
            }
        }
    }

    @Test("(e) a resume that makes no progress through any gateway: after each was tried, a new session, counted as replaced")
    func resumeTimeoutOnEveryGateway() async throws {
        try await withStack(module: try CanisterModules.chatCanister(), gateways: 2) { stack in
            let proxies = stack.gateways.map { FaultInjectingProxy(upstream: $0.url) }
            try await proxies[0].run { url1 in
                try await proxies[1].run { url2 in
                    let client = try await connect([url1, url2], stack.canister, stack.local, as: ChatMessage.self) {
                        $0.reconnect = ReconnectPolicy(
                            maxAttempts: 30, initialDelay: .milliseconds(200), maximumDelay: .seconds(1), resumeTimeout: .seconds(3))
                    }
                    let firstKey = client.clientKey
                    // Both gateways withhold everything for the first session (its ResumeMessage
                    // too), so no resume makes progress; a new session's messages pass.
                    for proxy in proxies { proxy.inject { $0.dropToClient = { $0.clientKey == firstKey } } }
                    proxies[0].cutConnections()
                    let replaced = try await client.waitForState(.seconds(60), "a new session after the resume timeouts") {
                        if case .reconnecting = $0 { return true } else { return false }
                    }
                    guard case .reconnecting(_, .resumeFailed, _) = replaced else {
                        Issue.record("expected a reconnect after resume timeouts, got \(replaced)")
                        return
                    }
                    _ = try await client.waitForState(.seconds(60), "the new session open") {
                        if case .open = $0 { return true } else { return false }
                    }
                    #expect(client.clientKey != firstKey)
                    let stats = await client.statistics()
                    #expect(stats.sessionsReplaced == 1)
                    #expect(stats.resumes == 0)
                    await client.close()
                }
            }
        }
    }

    @Test("(d) a canister that does not resume: the client falls back to a new session at once and says so")
    func fallbackToANewSession() async throws {
        let module = try CanisterModules.testCanister()
        let arg = try CanisterModules.testCanisterArgument(sessionResumption: false)
        try await withStack(module: module, arg: arg, gateways: 2) { stack in
            let proxy = FaultInjectingProxy(upstream: stack.gateways[0].url)
            try await proxy.run { proxied in
                let client = try await connect([proxied, stack.gateways[1].url], stack.canister, stack.local, as: TextMessage.self) {
                    $0.reconnect = Self.policy()
                    $0.reconnect.leaveTimeout = .seconds(2)
                }
                let firstKey = client.clientKey
                try await client.send(TextMessage(text: "before"))
                proxy.cutConnections()
                let refused = try await client.waitForState(.seconds(60), "the refusal") {
                    if case .reconnecting = $0 { return true } else { return false }
                }
                guard case .reconnecting(_, .connectionClosed(let code, let reason), let unacknowledged) = refused else {
                    Issue.record("expected a reconnect after a refused resume, got \(refused)")
                    return
                }
                #expect(code == CanisterWsResumeArguments.refusedCloseCode)
                #expect(reason?.contains("No session to resume") == true)
                #expect(unacknowledged.map(\.sequenceNumber) == [1], "the message that may be lost is reported")
                _ = try await client.waitForState(.seconds(60), "a new session") {
                    if case .open = $0 { return true } else { return false }
                }
                #expect(client.clientKey != firstKey)
                #expect(client.clientKey.clientPrincipal == firstKey.clientPrincipal)
                #expect(await client.statistics().sessionsReplaced == 1)
                // The new session works.
                let anonymous = stack.local.agent()
                let blobs = [CandidBlob(try Candid.encode(TextMessage(text: "after")))]
                _ = try await anonymous.call(
                    canister: stack.canister, method: "send", arg: try Candid.encode(client.clientKey.clientPrincipal, blobs))
                #expect(try await client.next(.seconds(60)) == TextMessage(text: "after"))
                // This canister refuses the client's leave message (reference behaviour): close()
                // gives up after leaveTimeout and closes the connection; ws_close removes the client.
                try await within(.seconds(60), "close() with a canister that does not take the leave") { await client.close() }
                let closed = try await client.waitForState(.seconds(10), "closed") { if case .closed = $0 { true } else { false } }
                if case .closed(let error) = closed { #expect(error == nil, "an ordinary close, not a failure") }
            }
        }
    }

    @Test("(f) a client that closes ends its session at once: the others see it leave now, not after the 120 s grace period")
    func closingEndsTheSessionAtOnce() async throws {
        try await withStack(module: try CanisterModules.chatCanister()) { stack in
            let url = stack.gateways[0].url
            let (alice, bob, names) = try await Self.chatters(stack, aliceURLs: [url], bobURL: url)
            let aliceKey = alice.clientKey
            try await alice.send(ChatMessage(text: "bye"))
            let bobMessages = bob.messages
            try await within(.seconds(60), "Bob reads Alice's last message") {
                for try await message in bobMessages where message.from == names.0 && message.text == "bye" { return }
                throw TimedOut(what: "Alice's message (Bob's stream ended)")
            }
            try await within(.seconds(60), "Alice's close()") { await alice.close() }
            // Well inside the grace period a detached session would get: on_close ran at once.
            try await within(.seconds(60), "Bob hears that Alice left") {
                for try await message in bobMessages where message.from == "system" && message.text == "\(names.0) left" { return }
                throw TimedOut(what: "the notice that Alice left (Bob's stream ended)")
            }
            let states = alice.states
            var ended: ICWebSocketConnectionState?
            for await state in states { ended = state }
            guard case .closed(let error)? = ended else {
                Issue.record("Alice's connection did not report closed: \(String(describing: ended))")
                return
            }
            #expect(error == nil, "leaving is an ordinary close")
            #expect(alice.clientKey == aliceKey)
            await bob.close()
        }
    }
}
