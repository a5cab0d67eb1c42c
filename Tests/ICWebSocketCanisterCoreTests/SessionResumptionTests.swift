import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

/// Resumable sessions in the canister core (docs/SESSION-RESUMPTION.md): detach on `ws_close`,
/// `ws_resume` through another gateway, replay, confirmation, bounds, grace period, refusals.
@Suite struct SessionResumptionTests {
    static let keyA = ClientKey(clientPrincipal: clientA, clientNonce: 1)

    /// A harness whose client A opened a resumable session through gateway 1.
    static func resumableHarness(_ parameters: (inout WebSocketParameters) -> Void = { _ in }) -> Harness {
        var harness = Harness()
        var parameters2 = harness.core.parameters
        parameters(&parameters2)
        harness.core = try! WebSocketCanisterCore(parameters: parameters2, now: harness.now)
        #expect(harness.openResumable(clientA) == .ok)
        return harness
    }

    /// The canister → client messages of `batch` for `key`, decoded.
    static func messages(_ batch: CanisterOutputCertifiedMessages, for key: ClientKey = keyA) -> [WebsocketMessage] {
        batch.messages.filter { $0.clientKey == key }.map(decoded)
    }

    @Test func aDroppedConnectionDetachesAndAResumeThroughAnotherGatewayReplaysWhatWasNotConfirmed() {
        var harness = Self.resumableHarness()
        for byte in UInt8(1)...3 { harness.send(clientA, [byte]) }
        // The client verified the open message and the first application message only.
        #expect(harness.close(Self.keyA) == .ok)
        #expect(harness.core.isRegistered(Self.keyA), "a resumable client is kept")
        #expect(harness.core.isDetached(Self.keyA))
        #expect(!harness.events.contains(.close(clientPrincipal: clientA)), "no on_close for a detached client")
        // Sent while detached: kept for the resume, queued for no gateway.
        let queuedBefore = harness.core.queue(of: gateway1).count
        harness.send(clientA, [4])
        #expect(harness.core.queue(of: gateway1).count == queuedBefore)

        #expect(harness.resume(clientA, via: gateway2, lastReceived: 2, counter: 1) == .ok)
        #expect(!harness.core.isDetached(Self.keyA))
        #expect(harness.events.contains(.resume(clientPrincipal: clientA)))
        let replayed = Self.messages(harness.poll(gateway2))
        #expect(replayed.map(\.sequenceNum) == [3, 4, 5, 6], "two unverified, the one sent while detached, ResumeMessage")
        #expect(replayed.prefix(3).map(\.content) == [[2], [3], [4]])
        #expect(!replayed[0].isServiceMessage)
        let resume = try! WebsocketServiceMessageContent.decode(replayed[3].content)
        #expect(resume == .resumeMessage(clientKey: Self.keyA, nextIncomingSequenceNum: 1))
        // The replayed bytes are the originals: same timestamp and content hash as first certified.
        let original = Self.messages(harness.poll(gateway1)).first { $0.sequenceNum == 3 }
        #expect(original == replayed[0])
    }

    @Test func theResumeMessageNamesTheNextIncomingSequenceNumber() {
        var harness = Self.resumableHarness()
        #expect(harness.message(clientA, seq: 1) == .ok)
        #expect(harness.message(clientA, seq: 2) == .ok)
        harness.close(Self.keyA)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1) == .ok)
        let last = Self.messages(harness.poll(gateway2)).last!
        #expect(
            try! WebsocketServiceMessageContent.decode(last.content) == .resumeMessage(clientKey: Self.keyA, nextIncomingSequenceNum: 3))
        // The client re-sends from 3 on; a late copy of 2 is a duplicate, not a gap.
        #expect(harness.message(clientA, seq: 2) == .err("Duplicate sequence number 2 (expected 3); ignored"))
        #expect(harness.core.isRegistered(Self.keyA))
        #expect(harness.message(clientA, seq: 3) == .ok)
    }

    @Test func aResumeWithoutAPreviousCloseMovesTheClientFromItsOldGateway() {
        // The client abandoned gateway 1 (caught withholding) before gateway 1 noticed.
        var harness = Self.resumableHarness()
        harness.send(clientA, [7])
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1) == .ok)
        #expect(Self.messages(harness.poll(gateway2)).map(\.sequenceNum) == [2, 3])
        // Gateway 1's late ws_close no longer concerns the client.
        #expect(harness.close(Self.keyA, by: gateway1) == .err("Client with key \(Self.keyA) was not registered to gateway \(gateway1)"))
        #expect(!harness.core.isDetached(Self.keyA))
        // New messages go to gateway 2 only.
        let before = harness.core.queue(of: gateway1).count
        harness.send(clientA, [8])
        #expect(harness.core.queue(of: gateway1).count == before)
        #expect(Self.messages(harness.poll(gateway2)).last?.content == [8])
    }

    @Test func aResumeThroughTheSameGatewayIsNotUndoneByThatGatewaysLateCloseOfTheOldConnection() {
        var harness = Self.resumableHarness()
        // The client reconnected to gateway 1 and resumed before gateway 1's ws_close executed.
        #expect(harness.resume(clientA, via: gateway1, lastReceived: 1, counter: 1) == .ok)
        #expect(harness.close(Self.keyA, by: gateway1) == .ok)
        #expect(!harness.core.isDetached(Self.keyA), "the old connection's close is absorbed")
        // The resumed connection's own end detaches as usual.
        #expect(harness.close(Self.keyA, by: gateway1) == .ok)
        #expect(harness.core.isDetached(Self.keyA))
        // In the other order (the close first) the resume re-attaches a detached session.
        #expect(harness.resume(clientA, via: gateway1, lastReceived: 2, counter: 2) == .ok)
        #expect(!harness.core.isDetached(Self.keyA))
        #expect(harness.close(Self.keyA, by: gateway1) == .ok)
        #expect(harness.core.isDetached(Self.keyA))
    }

    @Test func onlyTheClientsOwnKeyWithAGreaterCounterCanResume() {
        var harness = Self.resumableHarness()
        harness.close(Self.keyA)
        // Another identity naming the victim's nonce names another client key.
        let stolen = harness.resume(clientB, via: gateway2, lastReceived: 0, counter: 1)
        #expect(stolen.isErr(containing: "No session to resume"))
        #expect(harness.core.isDetached(Self.keyA), "the victim's session is untouched")
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 5) == .ok)
        harness.close(Self.keyA, by: gateway2)
        // A replay of that call (or any older counter) cannot pull the session back.
        #expect(
            harness.resume(clientA, via: gateway1, lastReceived: 1, counter: 5).isErr(
                containing: "not greater than the last accepted, 5"))
        #expect(harness.resume(clientA, via: gateway1, lastReceived: 1, counter: 4).isErr(containing: "replayed ws_resume"))
        #expect(harness.core.isDetached(Self.keyA))
        #expect(harness.resume(clientA, via: gateway1, lastReceived: 1, counter: 6) == .ok)
        #expect(harness.resume(.anonymous, via: gateway1, lastReceived: 0, counter: 7) == .err("Anonymous principal is not allowed"))
    }

    @Test func aResumeThatClaimsMoreThanWasSentIsRefused() {
        var harness = Self.resumableHarness()
        harness.close(Self.keyA)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 2, counter: 1).isErr(containing: "beyond the last message sent, 1"))
        #expect(harness.core.isDetached(Self.keyA))
    }

    @Test func referenceClientsAreRemovedOnCloseAndCannotResume() {
        var harness = Harness()
        harness.open(clientA)
        #expect(
            harness.resume(clientA, via: gateway2, lastReceived: 0, counter: 1).isErr(containing: "did not ask for a resumable session"))
        harness.close(Self.keyA)
        #expect(!harness.core.isRegistered(Self.keyA))
        #expect(harness.events.contains(.close(clientPrincipal: clientA)))
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 0, counter: 1).isErr(containing: "No session to resume"))
        // A gap closes a reference client, as before.
        harness.open(clientB)
        #expect(harness.message(clientB, seq: 1) == .ok)
        #expect(harness.message(clientB, seq: 1) == .err("Expected incoming sequence number 2 but got 1"))
        #expect(harness.core.clientKey(of: clientB) == nil)
    }

    @Test func aResumableClientThatLeavesIsRemovedAtOnceWithACloseMessageBack() throws {
        var harness = Self.resumableHarness()
        harness.send(clientA, [1])
        #expect(harness.message(clientA, seq: 1, service: .closeMessage(reason: .closedByApplication)) == .ok)
        #expect(!harness.core.isRegistered(Self.keyA), "removed, not detached")
        #expect(harness.events.contains(.close(clientPrincipal: clientA)), "on_close runs now, not after the grace period")
        #expect(harness.events.contains(.log("client \(Self.keyA) left: it ended its session")))
        let messages = Self.messages(harness.poll(gateway1))
        try #require(messages.map(\.sequenceNum) == [1, 2, 3], "open, the application message, then the close")
        #expect(try WebsocketServiceMessageContent.decode(messages[2].content) == .closeMessage(reason: .closedByApplication))
        // The gateway's ws_close that follows finds nothing; no resume either.
        #expect(harness.close(Self.keyA).isErr(containing: "doesn't have an open connection"))
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 3, counter: 1).isErr(containing: "No session to resume"))
        #expect(harness.send(clientA, [2]).isErr(containing: "doesn't have an open connection"))
    }

    @Test func aLeaveStillNeedsTheNextSequenceNumber() {
        var harness = Self.resumableHarness()
        #expect(harness.message(clientA, seq: 1) == .ok)
        // A replayed copy of an executed number is refused as a duplicate and changes nothing.
        #expect(harness.message(clientA, seq: 1, service: .closeMessage(reason: .closedByApplication)).isErr(containing: "Duplicate"))
        #expect(harness.core.isRegistered(Self.keyA))
        #expect(harness.message(clientA, seq: 2, service: .closeMessage(reason: .closedByApplication)) == .ok)
        #expect(!harness.core.isRegistered(Self.keyA))
    }

    @Test func aReferenceClientCannotLeaveThisWayTheServiceMessageIsRefusedAsByTheReference() {
        // Reference behaviour (protocol §4): any service message but a keep-alive is refused and
        // the client stays registered; its gateway's ws_close removes it.
        var harness = Harness()
        harness.open(clientA)
        #expect(harness.message(clientA, seq: 1, service: .closeMessage(reason: .closedByApplication)) == .err("Invalid service message"))
        #expect(harness.core.isRegistered(Self.keyA))
        #expect(!harness.events.contains(.close(clientPrincipal: clientA)))
        var refusing = Self.resumableHarness { $0.allowsSessionResumption = false }
        #expect(refusing.message(clientA, seq: 1, service: .closeMessage(reason: .closedByApplication)) == .err("Invalid service message"))
        #expect(refusing.core.isRegistered(Self.keyA))
    }

    @Test func aCanisterThatDisallowsResumptionOpensReferenceSessions() {
        var harness = Self.resumableHarness { $0.allowsSessionResumption = false }
        #expect(harness.core.replayCount(of: Self.keyA) == nil)
        harness.close(Self.keyA)
        #expect(!harness.core.isRegistered(Self.keyA))
    }

    @Test func theGracePeriodEndsADetachedSession() {
        var harness = Self.resumableHarness { $0.resumeGracePeriodMs = 10_000 }
        harness.close(Self.keyA)
        #expect(harness.core.nextTimerDeadline! <= harness.now + 10_000 * 1_000_000)
        harness.advance(ms: 9_000)
        #expect(harness.core.isDetached(Self.keyA))
        harness.advance(ms: 2_000)
        #expect(!harness.core.isRegistered(Self.keyA))
        #expect(harness.events.contains(.close(clientPrincipal: clientA)))
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1).isErr(containing: "No session to resume"))
    }

    @Test func aResumedSessionIsNotExpiredByItsOldDeadline() {
        var harness = Self.resumableHarness { $0.resumeGracePeriodMs = 10_000 }
        harness.close(Self.keyA)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1) == .ok)
        harness.advance(ms: 20_000)
        #expect(harness.core.isRegistered(Self.keyA))
        #expect(!harness.core.isDetached(Self.keyA))
    }

    @Test func keepAlivesConfirmWhatTheClientVerified() {
        var harness = Self.resumableHarness()
        for byte in UInt8(1)...5 { harness.send(clientA, [byte]) }
        #expect(harness.core.replayCount(of: Self.keyA) == 6)
        #expect(harness.message(clientA, seq: 1, service: .keepAliveMessage(lastIncomingSequenceNum: 4)) == .ok)
        #expect(harness.core.replayCount(of: Self.keyA) == 2)
        // Confirmations beyond what was sent are capped, not trusted.
        #expect(harness.message(clientA, seq: 2, service: .keepAliveMessage(lastIncomingSequenceNum: 99)) == .ok)
        #expect(harness.core.replayCount(of: Self.keyA) == 0)
        harness.close(Self.keyA)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 5, counter: 1).isErr(containing: "no longer kept"))
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 6, counter: 2) == .ok)
    }

    @Test func theReplayKeepsItsNewestWithinItsBoundsConnectedOrNot() {
        var harness = Self.resumableHarness { $0.maxReplayMessages = 4 }
        for byte in UInt8(1)...5 { harness.send(clientA, [byte]) }
        #expect(harness.core.replayCount(of: Self.keyA) == 4, "the oldest two of six went")
        #expect(harness.core.isRegistered(Self.keyA))
        harness.close(Self.keyA)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1).isErr(containing: "no longer kept"))
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 2, counter: 2) == .ok)
        harness.close(Self.keyA, by: gateway2)
        // Disconnected, it keeps its newest too; it is not removed for it.
        for byte in UInt8(9)...12 { harness.send(clientA, [byte]) }
        #expect(harness.core.isRegistered(Self.keyA))
        #expect(harness.core.replayCount(of: Self.keyA) == 4)
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 9, counter: 3) == .ok)
        let contents = Self.messages(harness.poll(gateway2)).suffix(3).map(\.content)
        #expect(contents.prefix(2) == [[11], [12]])
    }

    @Test func aMissedKeepAliveDetachesAResumableClientInsteadOfClosingIt() {
        var harness = Self.resumableHarness { $0.sendAckIntervalMs = 70_000 }
        harness.advance(ms: 70_000)  // ack
        harness.advance(ms: 61_000)  // keep-alive check: no answer
        #expect(harness.core.isDetached(Self.keyA))
        let batch = Self.messages(harness.poll(gateway1))
        #expect(!batch.contains { (try? WebsocketServiceMessageContent.decode($0.content)) == .closeMessage(reason: .keepAliveTimeout) })
        #expect(harness.resume(clientA, via: gateway2, lastReceived: 1, counter: 1) == .ok)
    }

    @Test func detachedSessionsAndTheirReplaySurviveAnUpgrade() throws {
        var harness = Self.resumableHarness { $0.resumeGracePeriodMs = 30_000 }
        harness.open(clientB, nonce: 3)
        harness.send(clientA, [1])
        harness.close(Self.keyA)
        harness.send(clientA, [2])
        var restored = harness
        restored.core = try WebSocketCanisterCore(restoringSnapshot: harness.core.snapshot())
        try restored.core.resume(parameters: harness.core.parameters, now: harness.now)
        #expect(restored.core.snapshot() == harness.core.snapshot())
        #expect(restored.core.isDetached(Self.keyA))
        #expect(restored.core.replayCount(of: Self.keyA) == 3)
        #expect(restored.core.nextTimerDeadline == harness.core.nextTimerDeadline)
        // Both resume the same way.
        for var copy in [harness, restored] {
            #expect(copy.resume(clientA, via: gateway2, lastReceived: 1, counter: 1) == .ok)
            #expect(Self.messages(copy.poll(gateway2)).map(\.content).prefix(2) == [[1], [2]])
        }
    }

    @Test func theServiceMessagesOfTheReferenceKeepTheirBytesAndResumeMessageRoundTrips() throws {
        let resume = WebsocketServiceMessageContent.resumeMessage(clientKey: Self.keyA, nextIncomingSequenceNum: 42)
        #expect(try WebsocketServiceMessageContent.decode(resume.encoded()) == resume)
        let ack = WebsocketServiceMessageContent.ackMessage(lastIncomingSequenceNum: 3)
        #expect(ack.encoded() == (try Candid.encode(ack)), "reference messages are encoded at the reference type")
        #expect(try WebsocketServiceMessageContent.decode(ack.encoded()) == ack)
    }
}

extension Harness {
    @discardableResult
    mutating func openResumable(_ client: Principal, nonce: UInt64 = 1, via gateway: Principal = gateway1) -> WebSocketResult {
        defer { endOfMessage() }
        return core.wsOpen(
            caller: client, CanisterWsOpenArguments(clientNonce: nonce, gatewayPrincipal: gateway, resumable: true), now: now)
    }

    @discardableResult
    mutating func resume(
        _ client: Principal, nonce: UInt64 = 1, via gateway: Principal, lastReceived: UInt64, counter: UInt64
    ) -> WebSocketResult {
        defer { endOfMessage() }
        return core.wsResume(
            caller: client,
            CanisterWsResumeArguments(
                clientNonce: nonce, gatewayPrincipal: gateway, lastReceivedSequenceNum: lastReceived, resumeCounter: counter),
            now: now)
    }
}

extension WebSocketResult {
    func isErr(containing text: String) -> Bool {
        if case .err(let message) = self { return message.description.contains(text) }
        return false
    }
}
