import Foundation
import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import Testing

@testable import ICWebSocketClient

/// The connection (reconnects, resumes, sends held over a drop) against a ``ScriptedGateway``:
/// certified canister frames (``CertifiedFrameFactory``) at exactly the point of the exchange a
/// test needs, which a real gateway and socket cannot be made to hit on cue.
@Suite struct ScriptedConnectionTests {
    static let time: UInt64 = 1_800_000_000_000_000_000
    let canister = Principal.canister(index: 7)
    let gateway = Principal.selfAuthenticating(derPublicKey: Ed25519Identity().publicKeyDER!)
    let identity = Ed25519Identity()

    /// What a `send` ended with, once it ended; read without waiting on the send itself (a
    /// send that never completes must fail the test, not hang it).
    final class SendOutcome: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<UInt64, ICWebSocketClientError>?

        var result: Result<UInt64, ICWebSocketClientError>? { lock.withLock { value } }

        func record(_ send: () async throws -> UInt64) async {
            let result: Result<UInt64, ICWebSocketClientError>
            do { result = .success(try await send()) } catch {
                result = .failure(error as? ICWebSocketClientError ?? .internalInconsistency("\(error)"))
            }
            lock.withLock { value = result }
        }
    }

    /// Waits (real time) until `condition` holds; `false` if it did not within `timeout`. The
    /// bounds are generous (60 s): they only end a failing test, and the full suite on 2 cores
    /// can starve a passing one for many seconds.
    private func waitUntil(_ timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    private func factory(_ clientKey: ClientKey) -> CertifiedFrameFactory {
        CertifiedFrameFactory(canister: canister, gateway: gateway, clientKey: clientKey, time: Self.time)
    }

    /// Reads the client's `ws_open` on `connection` and answers it with the OpenMessage; returns
    /// the new client key and the canister's side of the session.
    private func open(_ connection: ScriptedConnection) async throws -> (ClientKey, CertifiedFrameFactory) {
        connection.sendHandshake(gateway)
        let request = try #require(try await connection.nextRequest(), "the client's ws_open")
        #expect(request.methodName == "ws_open")
        let arguments = try Candid.decode(CanisterWsOpenArguments.self, from: try #require(request.arg))
        let key = ClientKey(clientPrincipal: identity.principal, clientNonce: arguments.clientNonce)
        var canisterSide = factory(key)
        connection.deliver(canisterSide.service(.openMessage(clientKey: key)))
        return (key, canisterSide)
    }

    /// Collects what a connection delivers, readable without waiting on the stream.
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var texts: [String] = []
        var all: [String] { lock.withLock { texts } }
        func append(_ text: String) { lock.withLock { texts.append(text) } }
    }

    /// An open connection through a new ``ScriptedGateway`` (quick retries, at most 3 attempts;
    /// the connection's logs off): the gateway, the connection, its first scripted WebSocket, the
    /// session's client key and the canister's side of it.
    private func openConnection(
        resumeTimeout: Duration, leaveTimeout: Duration = .zero
    ) async throws -> (
        scripted: ScriptedGateway, connection: ICWebSocketConnection<TextMessage>, first: ScriptedConnection,
        key: ClientKey, canisterSide: CertifiedFrameFactory
    ) {
        let scripted = ScriptedGateway()
        var logger = Logger(label: "scripted-connection-test")
        logger.logLevel = .critical
        let configuration = ICWebSocketClientConfiguration(
            openTimeout: .seconds(20), timerResolution: .milliseconds(20),
            reconnect: ReconnectPolicy(
                maxAttempts: 3, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), resumeTimeout: resumeTimeout,
                leaveTimeout: leaveTimeout),
            clock: { Self.time })
        let (canister, identity) = (canister, identity)
        let rootKey = factory(ClientKey(clientPrincipal: identity.principal, clientNonce: 0)).rootKey
        let opening = Task {
            try await ICWebSocketConnection<TextMessage>.connect(
                gatewayURL: "ws://scripted.invalid", canister: canister, identity: identity, rootKey: rootKey,
                configuration: configuration, logger: logger, transport: scripted)
        }
        let first = try #require(await scripted.nextConnection(), "the first connection")
        let (key, canisterSide) = try await open(first)
        let connection = try await opening.value
        #expect(connection.clientKey == key)
        return (scripted, connection, first, key, canisterSide)
    }

    /// The client's leave: `close()` on an open resumable session sends the next `ws_message`, a
    /// `CloseMessage` from the client, and returns once the canister's own `CloseMessage` ended
    /// the connection: an ordinary close, and nothing can be sent meanwhile or after.
    @Test func closeAsksTheCanisterToEndAResumableSessionAndReturnsOnItsAnswer() async throws {
        let opened = try await openConnection(resumeTimeout: .seconds(20), leaveTimeout: .seconds(60))
        let (connection, first, key) = (opened.connection, opened.first, opened.key)
        var canisterSide = opened.canisterSide
        try await connection.send(TextMessage(text: "last"))
        let sent = try #require(try await first.nextRequest(), "the application message")
        #expect(sent.methodName == "ws_message")

        let closed = SendOutcome()
        let closing = Task {
            await closed.record {
                await connection.close(); return 0
            }
        }
        let request = try #require(try await first.nextRequest(), "the client's leave")
        #expect(request.methodName == "ws_message")
        let leave = try Candid.decode(CanisterWsMessageArguments.self, CandidNull?.self, from: try #require(request.arg)).0.msg
        #expect(leave.clientKey == key)
        #expect(leave.sequenceNum == 2, "the session's next number")
        #expect(leave.isServiceMessage)
        #expect(try WebsocketServiceMessageContent.decode(leave.content) == .closeMessage(reason: .closedByApplication))
        #expect(closed.result == nil, "close() waits for the canister")
        await #expect(throws: ICWebSocketClientError.self) { try await connection.send(TextMessage(text: "too late")) }

        // What the canister sent before it ended the session is still delivered.
        first.deliver(canisterSide.application(try Candid.encode(TextMessage(text: "goodbye"))))
        first.deliver(canisterSide.service(.closeMessage(reason: .closedByApplication)))
        #expect(await waitUntil(.seconds(60)) { closed.result != nil }, "close() returns on the canister's answer")
        await closing.value
        #expect(first.clientCloseCode == 4001, "closed as for any application close")
        var delivered: [String] = []
        for try await message in connection.messages { delivered.append(message.text) }
        #expect(delivered == ["goodbye"])
        var last: ICWebSocketConnectionState?
        for await state in connection.states { last = state }
        guard case .closed(let error)? = last else {
            Issue.record("expected closed, got \(String(describing: last))")
            return
        }
        #expect(error == nil, "an ordinary close")
        #expect(await connection.statistics().reconnects == 0)
    }

    /// A canister that does not answer the leave (a reference one refuses it): `close()` gives
    /// up after `leaveTimeout` and closes the connection itself.
    @Test func closeGivesUpOnASilentCanisterAfterTheLeaveTimeout() async throws {
        let opened = try await openConnection(resumeTimeout: .seconds(20), leaveTimeout: .milliseconds(300))
        let (connection, first) = (opened.connection, opened.first)
        let closed = SendOutcome()
        let closing = Task {
            await closed.record {
                await connection.close(); return 0
            }
        }
        let request = try #require(try await first.nextRequest(), "the client's leave")
        let leave = try Candid.decode(CanisterWsMessageArguments.self, CandidNull?.self, from: try #require(request.arg)).0.msg
        #expect(try WebsocketServiceMessageContent.decode(leave.content) == .closeMessage(reason: .closedByApplication))
        #expect(await waitUntil(.seconds(60)) { closed.result != nil }, "close() does not wait for ever")
        await closing.value
        #expect(first.clientCloseCode == 1000, "the client closed the WebSocket itself, normally")
        var last: ICWebSocketConnectionState?
        for await state in connection.states { last = state }
        guard case .closed(let error)? = last else {
            Issue.record("expected closed, got \(String(describing: last))")
            return
        }
        #expect(error == nil)
    }

    /// A send numbered and queued but not yet written when the connection fails is held for the
    /// resume. If the resume attempt then ends the session (here the canister's CloseMessage
    /// arrives before any ResumeMessage), the next attempt opens a new session: the held send
    /// must fail with the error that ended the session (its message is among the unacknowledged
    /// ones reported), and the replaced session is counted. It used to wait forever.
    @Test func aSendHeldForAResumeFailsWhenTheResumeEndsTheSession() async throws {
        // Connection 1: a resumable session opens; a send's write is stuck when the gateway goes.
        let opened = try await openConnection(resumeTimeout: .seconds(20))
        let (scripted, connection, first, firstKey) = (opened.scripted, opened.connection, opened.first, opened.key)
        var firstSession = opened.canisterSide
        first.holdWrites()
        let held = SendOutcome()
        let heldSend = Task { await held.record { try await connection.send(TextMessage(text: "held")) } }
        #expect(await waitUntil(.seconds(60)) { first.heldWriteCount == 1 }, "the send's frame is being written")
        first.drop(code: 1011, reason: "scripted gateway failure")

        // Connection 2: the client resumes; the send waits for it. The canister's next message
        // (number 2) closes the session instead of resuming it.
        let second = try #require(await scripted.nextConnection(), "the resume's connection")
        second.sendHandshake(gateway)
        let resume = try #require(try await second.nextRequest(), "the client's ws_resume")
        #expect(resume.methodName == "ws_resume")
        let resumeArguments = try Candid.decode(CanisterWsResumeArguments.self, from: try #require(resume.arg))
        #expect(resumeArguments.clientNonce == firstKey.clientNonce)
        #expect(resumeArguments.lastReceivedSequenceNum == 1)
        #expect(held.result == nil, "the send is held for the resume")
        second.deliver(firstSession.service(.closeMessage(reason: .wrongSequenceNumber)))

        // The held send fails with the error that ended the session (it used to hang).
        let completed = await waitUntil(.seconds(60)) { held.result != nil }
        #expect(completed, "the send held for the resume completes once the session is given up")
        if completed {
            guard case .failure(.closedByCanister(.wrongSequenceNumber))? = held.result else {
                Issue.record("expected the held send to fail with the CloseMessage's error, got \(String(describing: held.result))")
                return
            }
        }

        // Connection 3: a new session (new nonce), which works.
        let third = try #require(await scripted.nextConnection(), "the new session's connection")
        let (newKey, _) = try await open(third)
        #expect(newKey != firstKey)
        #expect(await waitUntil(.seconds(60)) { connection.clientKey == newKey }, "the new session is open")
        let after = SendOutcome()
        let afterSend = Task { await after.record { try await connection.send(TextMessage(text: "after")) } }
        let message = try #require(try await third.nextRequest(), "the new session's first ws_message")
        let relayed = try Candid.decode(CanisterWsMessageArguments.self, CandidNull?.self, from: try #require(message.arg)).0.msg
        #expect(relayed.clientKey == newKey)
        #expect(relayed.sequenceNum == 1)
        #expect(await waitUntil(.seconds(60)) { after.result != nil }, "a send on the new session completes")

        let statistics = await connection.statistics()
        #expect(statistics.reconnects == 2)
        #expect(statistics.resumes == 0)
        #expect(statistics.sessionsReplaced == 1, "the resumable session given up is counted")

        await connection.close()
        await heldSend.value
        await afterSend.value
        var states: [ICWebSocketConnectionState] = []
        for await state in connection.states { states.append(state) }
        let reconnecting = states.compactMap { state -> (ICWebSocketClientError, [UnacknowledgedMessage])? in
            if case .reconnecting(_, let cause, let unacknowledged) = state { return (cause, unacknowledged) } else { return nil }
        }
        #expect(reconnecting.count == 1, "one new session: \(states)")
        if let (cause, unacknowledged) = reconnecting.first {
            guard case .closedByCanister(.wrongSequenceNumber) = cause else {
                Issue.record("expected the CloseMessage as the cause, got \(cause)")
                return
            }
            // The held send's message may be lost: it is reported.
            #expect(unacknowledged.map(\.sequenceNumber) == [1])
            #expect(try unacknowledged.map { try Candid.decode(TextMessage.self, from: $0.content) } == [TextMessage(text: "held")])
        }
    }

    /// A resume through a gateway used before: its queue still holds this session's messages
    /// from the old connection (here number 4, never delivered, and a copy of 2), ahead of the
    /// resume's replay. The client skips them and resumes; the application gets every message
    /// once, in order. (Under load, each such leftover used to end the resume attempt with a
    /// "sequence gap", so the next attempt met the same leftovers: clients resumed over and over.)
    @Test func aResumeSkipsTheGatewaysLeftoversFromAnEarlierConnection() async throws {
        let opened = try await openConnection(resumeTimeout: .seconds(20))
        let (scripted, connection, first, key) = (opened.scripted, opened.connection, opened.first, opened.key)
        var canisterSide = opened.canisterSide
        let received = Received()
        let reader = Task { for try await message in connection.messages { received.append(message.text) } }
        first.deliver(canisterSide.application(try Candid.encode(TextMessage(text: "m2"))))
        #expect(await waitUntil(.seconds(60)) { received.all == ["m2"] })
        first.drop(code: 1011, reason: "scripted gateway failure")

        let second = try #require(await scripted.nextConnection(), "the resume's connection")
        second.sendHandshake(gateway)
        let resume = try #require(try await second.nextRequest(), "the client's ws_resume")
        #expect(resume.methodName == "ws_resume")
        #expect(try Candid.decode(CanisterWsResumeArguments.self, from: try #require(resume.arg)).lastReceivedSequenceNum == 2)
        // The leftovers, then the replay (3, 4) and the ResumeMessage.
        var leftovers = factory(key)
        leftovers.lastSequenceNumber = 3
        second.deliver(leftovers.application(try Candid.encode(TextMessage(text: "m4"))))
        leftovers.lastSequenceNumber = 1
        second.deliver(leftovers.application(try Candid.encode(TextMessage(text: "m2"))))
        canisterSide.lastSequenceNumber = 2
        second.deliver(canisterSide.application(try Candid.encode(TextMessage(text: "m3"))))
        second.deliver(canisterSide.application(try Candid.encode(TextMessage(text: "m4"))))
        second.deliver(canisterSide.service(.resumeMessage(clientKey: key, nextIncomingSequenceNum: 1)))
        second.deliver(canisterSide.application(try Candid.encode(TextMessage(text: "m6"))))

        #expect(await waitUntil(.seconds(60)) { received.all.count == 4 }, "delivered: \(received.all)")
        #expect(received.all == ["m2", "m3", "m4", "m6"])
        let statistics = await connection.statistics()
        #expect(statistics.resumes == 1)
        #expect(statistics.reconnects == 1, "the leftovers did not end the resume attempt")
        #expect(connection.clientKey == key)
        await connection.close()
        _ = await reader.result
    }

    /// Skipped leftovers are not progress: a gateway that relays only those (here one every
    /// 50 ms) does not keep the resume from timing out.
    @Test func leftoversAloneDoNotKeepAResumeAlive() async throws {
        let opened = try await openConnection(resumeTimeout: .milliseconds(600))
        let (scripted, connection, first, key) = (opened.scripted, opened.connection, opened.first, opened.key)
        first.drop(code: 1011, reason: "scripted gateway failure")

        let second = try #require(await scripted.nextConnection(), "the resume's connection")
        second.sendHandshake(gateway)
        _ = try #require(try await second.nextRequest(), "the client's ws_resume")
        let feeding = Task {
            var leftovers = factory(key)
            while !Task.isCancelled {
                leftovers.lastSequenceNumber = 4
                second.deliver(leftovers.application(try Candid.encode(TextMessage(text: "old"))))
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // The resume times out and the client moves on (a third connection).
        let third = await scripted.nextConnection()
        feeding.cancel()
        #expect(third != nil, "the client gave up the silent resume")
        await connection.close()
        var states: [ICWebSocketConnectionState] = []
        for await state in connection.states { states.append(state) }
        let timedOut = states.contains { state in
            switch state {
            case .resuming(_, .resumeFailed, _), .reconnecting(_, .resumeFailed, _): return true
            default: return false
            }
        }
        #expect(timedOut, "the attempt ended with the resume timeout: \(states)")
    }
}
