import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

@testable import ICWebSocketClient

/// The client state table of protocol §1.4.1 and the service-message rules of §5.5, on frames
/// alone (§8.3 scenarios 49–61).
struct ClientSessionTests {
    static let time: UInt64 = 1_800_000_000_000_000_000
    let canister = Principal.canister(index: 7)
    let gateway = Principal.selfAuthenticating(derPublicKey: Ed25519Identity().publicKeyDER!)
    let clientKey = ClientKey(clientPrincipal: Ed25519Identity().principal, clientNonce: 42)

    private func makeFactory(delegated: Bool = false) -> CertifiedFrameFactory {
        CertifiedFrameFactory(canister: canister, gateway: gateway, clientKey: clientKey, time: Self.time, delegated: delegated)
    }

    private func makeSession(_ factory: CertifiedFrameFactory) -> ClientStateMachine {
        ClientStateMachine(
            canister: canister, clientKey: clientKey, rootKey: factory.rootKey, maxCertificateAge: .seconds(300),
            ackTimeout: .seconds(330), clock: { Self.time })
    }

    /// A session that has received the handshake and the OpenMessage.
    private func openSession(_ factory: inout CertifiedFrameFactory) throws -> ClientStateMachine {
        var session = makeSession(factory)
        #expect(try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded()) == gateway)
        #expect(
            try session.receiveCanisterMessage(factory.service(.openMessage(clientKey: clientKey)).encoded()) == .opened(gateway: gateway))
        return session
    }

    private func error(_ body: () throws(ICWebSocketClientError) -> Void) -> ICWebSocketClientError? {
        do { try body() } catch { return error }
        return nil
    }

    @Test(.enabled(if: TestVectors.isAvailable))
    func theRecordedSessionOpensDeliversAndCloses() throws {
        let fixtures = try SDKFixtures.load()
        var session = ClientStateMachine(
            canister: fixtures.canister, clientKey: fixtures.clientKey, rootKey: fixtures.rootKey,
            maxCertificateAge: .seconds(300), ackTimeout: .seconds(330), clock: { fixtures.freshTime })
        #expect(try session.receiveHandshake(fixtures.handshake) == fixtures.gateway)
        let frames = fixtures.frames.map { $0.frame.encoded() }
        #expect(try session.receiveCanisterMessage(frames[0]) == .opened(gateway: fixtures.gateway))
        guard case .sendKeepAlive(let keepAlive) = try session.receiveCanisterMessage(frames[1]) else {
            Issue.record("an ack must be answered with a keep-alive")
            return
        }
        // §8.3 scenario 61: the keep-alive names the ack's own sequence number (2).
        #expect(keepAlive.sequenceNum == 1)
        #expect(keepAlive.isServiceMessage)
        #expect(try WebsocketServiceMessageContent.decode(keepAlive.content) == .keepAliveMessage(lastIncomingSequenceNum: 2))
        guard case .deliver(let content) = try session.receiveCanisterMessage(frames[2]) else {
            Issue.record("an application message must be delivered")
            return
        }
        #expect(try Candid.decode(TextMessage.self, from: content) == TextMessage(text: "Hello"))
        #expect(try session.receiveCanisterMessage(frames[3]) == .closedByApplication)
        #expect(session.phase == .closed)
    }

    @Test func invalidHandshakesAreRejected() {
        let candidates: [[UInt8]] = [
            CBOREncoder.encode(.map([(.text("gateway_principal"), .text(gateway.description))]), selfDescribe: true),
            CBOREncoder.encode(.map([]), selfDescribe: true),
            CBOREncoder.encode(.null),
            [],
        ]
        for bytes in candidates {
            var session = makeSession(makeFactory())
            guard case .invalidHandshake? = error({ () throws(ICWebSocketClientError) in _ = try session.receiveHandshake(bytes) }) else {
                Issue.record("handshake \(bytes) must be rejected")
                continue
            }
            #expect(session.phase == .closed)
        }
    }

    @Test func sendingBeforeOpenAndAfterCloseFails() throws {
        var factory = makeFactory()
        var session = makeSession(factory)
        guard
            case .notOpen? = error({ () throws(ICWebSocketClientError) in _ = try session.nextMessage(content: [1], isServiceMessage: false)
            })
        else {
            Issue.record("send before the handshake must fail with notOpen")
            return
        }
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded())
        guard
            case .notOpen? = error({ () throws(ICWebSocketClientError) in _ = try session.nextMessage(content: [1], isServiceMessage: false)
            })
        else {
            Issue.record("send before the open message must fail with notOpen")
            return
        }
        _ = try session.receiveCanisterMessage(factory.service(.openMessage(clientKey: clientKey)).encoded())
        #expect(try session.nextMessage(content: [1], isServiceMessage: false).sequenceNum == 1)
        session.close()
        guard
            case .closed? = error({ () throws(ICWebSocketClientError) in _ = try session.nextMessage(content: [1], isServiceMessage: false)
            })
        else {
            Issue.record("send after close must fail with closed")
            return
        }
    }

    /// §8.3 scenarios 56 and 61: application message 1, then an ack; the keep-alive is number 2.
    @Test func keepAlivesTakeTheNextClientSequenceNumber() throws {
        var factory = makeFactory()
        var session = try openSession(&factory)
        let sent = try session.nextMessage(content: try Candid.encode(TextMessage(text: "test")), isServiceMessage: false)
        #expect(sent.sequenceNum == 1)
        #expect(!sent.isServiceMessage)
        #expect(session.unacknowledgedContent.map(\.sequenceNumber) == [1])
        guard
            case .sendKeepAlive(let keepAlive) = try session.receiveCanisterMessage(
                factory.service(.ackMessage(lastIncomingSequenceNum: 1)).encoded())
        else {
            Issue.record("expected a keep-alive")
            return
        }
        #expect(keepAlive.sequenceNum == 2)
        #expect(try WebsocketServiceMessageContent.decode(keepAlive.content) == .keepAliveMessage(lastIncomingSequenceNum: 2))
        #expect(session.acknowledgements.unacknowledged == [2])
        #expect(session.unacknowledgedContent.isEmpty, "the application message was acknowledged")
    }

    @Test func aSkippedCanisterMessageClosesWithBothNumbers() throws {
        var factory = makeFactory()
        var session = try openSession(&factory)
        _ = factory.service(.ackMessage(lastIncomingSequenceNum: 0))  // number 2, never delivered
        let third = factory.application(try Candid.encode(TextMessage(text: "x")))
        guard
            case .verification(.unexpectedSequenceNumber(2, 3))? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(third.encoded())
            })
        else {
            Issue.record("expected a sequence number error naming 2 and 3")
            return
        }
    }

    @Test func anOpenMessageForAnotherKeyIsRejected() throws {
        var factory = makeFactory()
        var session = makeSession(factory)
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded())
        let other = ClientKey(clientPrincipal: clientKey.clientPrincipal, clientNonce: 43)
        let frame = factory.service(.openMessage(clientKey: other))
        guard
            case .openMessageForAnotherClient(clientKey, other)? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(frame.encoded())
            })
        else {
            Issue.record("expected the open message to be refused")
            return
        }
    }

    @Test func aCloseMessageWithAnotherReasonIsAnError() throws {
        var factory = makeFactory()
        var session = try openSession(&factory)
        guard
            case .closedByCanister(.keepAliveTimeout)? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(factory.service(.closeMessage(reason: .keepAliveTimeout)).encoded())
            })
        else {
            Issue.record("expected closedByCanister(KeepAliveTimeout)")
            return
        }
        #expect(session.phase == .closed)
    }

    @Test func serviceMessagesOnlyClientsSendAreRejected() throws {
        var factory = makeFactory()
        var session = try openSession(&factory)
        guard
            case .invalidServiceMessage? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(factory.service(.keepAliveMessage(lastIncomingSequenceNum: 1)).encoded())
            })
        else {
            Issue.record("a KeepAliveMessage from the canister must be refused")
            return
        }
        var garbage = makeFactory()
        var other = try openSession(&garbage)
        guard
            case .invalidServiceMessage? = error({ () throws(ICWebSocketClientError) in
                _ = try other.receiveCanisterMessage(garbage.batch([(true, [0x44, 0x49, 0x44, 0x4c, 0xff])])[0].encoded())
            })
        else {
            Issue.record("an undecodable service message must be refused")
            return
        }
    }

    @Test func anApplicationMessageBeforeOpenIsRejected() throws {
        var factory = makeFactory()
        var session = makeSession(factory)
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded())
        guard
            case .invalidServiceMessage? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(factory.application([1]).encoded())
            })
        else {
            Issue.record("expected the early application message to be refused")
            return
        }
    }

    @Test func anAckAboveTheLastSentNumberClosesTheSession() throws {
        var factory = makeFactory()
        var session = try openSession(&factory)
        _ = try session.nextMessage(content: [1], isServiceMessage: false)
        guard
            case .acknowledgementForUnsentMessage(5, 1)? = error({ () throws(ICWebSocketClientError) in
                _ = try session.receiveCanisterMessage(factory.service(.ackMessage(lastIncomingSequenceNum: 5)).encoded())
            })
        else {
            Issue.record("expected an ack error")
            return
        }
    }

    @Test func aDelegatedCertificateMustCoverTheCanister() throws {
        var factory = makeFactory(delegated: true)
        let frame = factory.service(.openMessage(clientKey: clientKey))
        var verifier = CanisterMessageVerifier(
            canister: canister, rootKey: factory.rootKey, clientKey: clientKey,
            gateway: gateway, clock: { Self.time })
        #expect(try verifier.verify(frame).sequenceNum == 1)
        let other = Principal.canister(index: 8)
        var foreign = CanisterMessageVerifier(
            canister: other, rootKey: factory.rootKey, clientKey: clientKey,
            gateway: gateway, clock: { Self.time })
        #expect(
            throws: CanisterMessageVerificationError.certificate(
                .canisterNotInRanges(canister: other, subnet: factory.issuer.delegation!.subnetID))
        ) {
            _ = try foreign.verify(frame)
        }
    }

    @Test func aKeyOfAnotherGatewayIsRejected() throws {
        var factory = CertifiedFrameFactory(
            canister: canister, gateway: Principal.canister(index: 99), clientKey: clientKey,
            time: Self.time)
        var verifier = CanisterMessageVerifier(
            canister: canister, rootKey: factory.rootKey, clientKey: clientKey,
            gateway: gateway, clock: { Self.time })
        let frame = factory.service(.openMessage(clientKey: clientKey))
        #expect(throws: CanisterMessageVerificationError.keyOfAnotherGateway(key: frame.key, gateway: gateway)) {
            _ = try verifier.verify(frame)
        }
    }
}

/// Resumable sessions on the client (docs/SESSION-RESUMPTION.md), on frames alone.
struct ClientResumptionTests {
    static let time: UInt64 = 1_800_000_000_000_000_000
    let canister = Principal.canister(index: 7)
    let gateway1 = Principal.selfAuthenticating(derPublicKey: Ed25519Identity().publicKeyDER!)
    let gateway2 = Principal.selfAuthenticating(derPublicKey: Ed25519Identity().publicKeyDER!)
    let clientKey = ClientKey(clientPrincipal: Ed25519Identity().principal, clientNonce: 42)

    func factory(_ gateway: Principal) -> CertifiedFrameFactory {
        CertifiedFrameFactory(canister: canister, gateway: gateway, clientKey: clientKey, time: Self.time)
    }

    /// What a `.resumed` action sends again; records an issue (and gives `nil`) for any other action.
    func resent(by action: ClientStateMachine.Action) -> [WebsocketMessage]? {
        guard case .resumed(_, let resend) = action else {
            Issue.record("expected .resumed, got \(action)")
            return nil
        }
        return resend
    }

    func openSession(resumable: Bool, _ factory: inout CertifiedFrameFactory) throws -> ClientStateMachine {
        var session = ClientStateMachine(
            canister: canister, clientKey: clientKey, rootKey: factory.rootKey, maxCertificateAge: .seconds(300),
            ackTimeout: .seconds(330), resumable: resumable, clock: { Self.time })
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: factory.gateway).encoded())
        #expect(
            try session.receiveCanisterMessage(factory.service(.openMessage(clientKey: clientKey)).encoded()) == .opened(gateway: gateway1))
        return session
    }

    @Test func aResumableSessionContinuesThroughAnotherGatewayAndSendsAgainWhatWasNotExecuted() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        _ = try session.nextMessage(content: [1], isServiceMessage: false)
        _ = try session.nextMessage(content: [2], isServiceMessage: false)
        #expect(try session.receiveCanisterMessage(first.application([9]).encoded()) == .deliver([9]))
        #expect(session.canResume)

        session.prepareForNextConnection()
        #expect(try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway2).encoded()) == gateway2)
        #expect(session.phase == .awaitingResume(gateway: gateway2))
        let arguments = try session.resumeArguments()
        #expect(
            arguments
                == CanisterWsResumeArguments(clientNonce: 42, gatewayPrincipal: gateway2, lastReceivedSequenceNum: 2, resumeCounter: 1))
        #expect(throws: ICWebSocketClientError.self) { try session.nextMessage(content: [3], isServiceMessage: false) }

        var second = factory(gateway2)
        second.lastSequenceNumber = 2
        // The canister's replay comes first and is delivered; an ack in it waits for the ResumeMessage.
        #expect(try session.receiveCanisterMessage(second.application([10]).encoded()) == .deliver([10]))
        #expect(try session.receiveCanisterMessage(second.service(.ackMessage(lastIncomingSequenceNum: 1)).encoded()) == .none)
        // The canister executed message 1, not 2: 2 goes again, same number and content.
        let action = try session.receiveCanisterMessage(
            second.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 2)).encoded())
        guard case .resumed(let gateway, let resend) = action else {
            Issue.record("expected .resumed, got \(action)")
            return
        }
        #expect(gateway == gateway2)
        #expect(resend.map(\.sequenceNum) == [2])
        #expect(resend.map(\.content) == [[2]])
        #expect(session.isOpen)
        #expect(try session.nextMessage(content: [3], isServiceMessage: false).sequenceNum == 3)
        #expect(session.unacknowledgedContent.map(\.sequenceNumber) == [2, 3])
        // A second resume uses a larger counter.
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway1).encoded())
        #expect(try session.resumeArguments().resumeCounter == 2)
    }

    @Test func aResumedSessionRefusesTheOldGatewaysKeysAndAGap() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway2).encoded())
        // Gateway 2 relaying a message certified under gateway 1's key: refused (§5.1 hardening).
        var stale = factory(gateway1)
        stale.lastSequenceNumber = 1
        #expect(throws: ICWebSocketClientError.self) { try session.receiveCanisterMessage(stale.application([1]).encoded()) }
    }

    @Test func aResumableSessionConfirmsEvery256MessagesOnItsOwn() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        var reference = factory(gateway1)
        var other = try openSession(resumable: false, &reference)
        let interval = Int(ClientStateMachine.confirmationInterval)
        let frames = first.batch(Array(repeating: (isService: false, content: [7]), count: interval - 2))
        for frame in frames { _ = try session.receiveCanisterMessage(frame.encoded()) }
        #expect(try session.confirmationIfDue() == nil, "255 verified: not yet")
        _ = try session.receiveCanisterMessage(first.application([8]).encoded())
        let confirmation = try #require(try session.confirmationIfDue())
        #expect(confirmation.isServiceMessage)
        #expect(
            try WebsocketServiceMessageContent.decode(confirmation.content) == .keepAliveMessage(lastIncomingSequenceNum: UInt64(interval)))
        #expect(try session.confirmationIfDue() == nil, "confirmed")
        // A reference session never sends unasked keep-alives (a reference canister would not expect them).
        for frame in reference.batch(Array(repeating: (isService: false, content: [7]), count: interval)) {
            _ = try other.receiveCanisterMessage(frame.encoded())
        }
        #expect(try other.confirmationIfDue() == nil)
    }

    /// Resuming through a gateway that was used before: its queue may still hold this session's
    /// messages from that connection (polled late, or an unfinished resume's replay), ahead of
    /// this resume's replay. Those are skipped — not delivered, not an error — until the
    /// expected number comes; once open, a mismatch is an error again. A message that fails
    /// verification is an error even while resuming.
    @Test func leftoversOfAnEarlierConnectionAreSkippedWhileResuming() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        #expect(try session.receiveCanisterMessage(first.application([2]).encoded()) == .deliver([2]))
        #expect(session.lastVerifiedSequenceNumber == 2)
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway1).encoded())
        #expect(try session.resumeArguments().lastReceivedSequenceNum == 2)

        // Left over in gateway 1's queue: number 5 (the old connection never got 3 and 4) and a
        // copy of 2 (already verified).
        var leftover = factory(gateway1)
        leftover.lastSequenceNumber = 4
        #expect(
            try session.receiveCanisterMessage(leftover.application([5]).encoded()) == .skippedDuringResume(expected: 3, received: 5))
        leftover.lastSequenceNumber = 1
        #expect(
            try session.receiveCanisterMessage(leftover.application([2]).encoded()) == .skippedDuringResume(expected: 3, received: 2))
        #expect(session.lastVerifiedSequenceNumber == 2)
        #expect(session.phase == .awaitingResume(gateway: gateway1))
        // A leftover that does not verify (its content changed) is still refused.
        leftover.lastSequenceNumber = 5
        var tampered = leftover.application([6])
        tampered.content[tampered.content.count - 1] ^= 1
        var copy = session
        #expect(throws: ICWebSocketClientError.self) { try copy.receiveCanisterMessage(tampered.encoded()) }

        // This resume's replay, in order, then its ResumeMessage.
        var replay = factory(gateway1)
        replay.lastSequenceNumber = 2
        #expect(try session.receiveCanisterMessage(replay.application([3]).encoded()) == .deliver([3]))
        #expect(try session.receiveCanisterMessage(replay.application([4]).encoded()) == .deliver([4]))
        let action = try session.receiveCanisterMessage(
            replay.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 1)).encoded())
        guard case .resumed = action else {
            Issue.record("expected .resumed, got \(action)")
            return
        }
        #expect(session.lastVerifiedSequenceNumber == 5)
        // Open again: a gap is an error, as always.
        replay.lastSequenceNumber = 6
        do {
            _ = try session.receiveCanisterMessage(replay.application([7]).encoded())
            Issue.record("a gap in an open session was accepted")
        } catch .verification(.unexpectedSequenceNumber(6, 7)) {
        } catch {
            Issue.record("expected a sequence number error naming 6 and 7, got \(error)")
        }
    }

    /// A first `ws_resume` times out, a second goes out, and both execute: the first
    /// ResumeMessage (in the second's replay) resumes the session, the second then arrives while
    /// it is open. It is ignored, not a protocol error; one for another key, or one more than
    /// `ws_resume`s sent, still is.
    @Test func aLateResumeMessageFromAnEarlierResumeIsIgnored() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        _ = try session.nextMessage(content: [1], isServiceMessage: false)
        _ = try session.nextMessage(content: [2], isServiceMessage: false)
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway2).encoded())
        #expect(try session.resumeArguments().resumeCounter == 1)
        // No ResumeMessage in time: the next attempt, through gateway 2 again.
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway2).encoded())
        #expect(try session.resumeArguments().resumeCounter == 2)

        var second = factory(gateway2)
        second.lastSequenceNumber = 1
        // The first ws_resume's answer (number 2): message 1 was executed, 2 goes again.
        let resend = try #require(
            resent(
                by: try session.receiveCanisterMessage(
                    second.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 2)).encoded())))
        #expect(resend.map(\.sequenceNum) == [2])
        // One for another key is refused.
        var copy = session
        let other = ClientKey(clientPrincipal: clientKey.clientPrincipal, clientNonce: 43)
        #expect(throws: ICWebSocketClientError.self) {
            try copy.receiveCanisterMessage(second.service(.resumeMessage(clientKey: other, nextIncomingSequenceNum: 3)).encoded())
        }
        second.lastSequenceNumber = 2
        // The second's answer (number 3): the canister had executed 2 meanwhile (the copy sent
        // again is refused as a duplicate). Nothing to do; the session stays open.
        #expect(
            try session.receiveCanisterMessage(second.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 3)).encoded())
                == .lateResumeMessage(nextIncomingSequenceNum: 3))
        #expect(session.isOpen)
        #expect(session.lastVerifiedSequenceNumber == 3)
        #expect(try session.nextMessage(content: [3], isServiceMessage: false).sequenceNum == 3)
        #expect(try session.receiveCanisterMessage(second.application([9]).encoded()) == .deliver([9]))
        // A third ResumeMessage after two ws_resume: refused.
        #expect(throws: ICWebSocketClientError.self) {
            try session.receiveCanisterMessage(second.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 4)).encoded())
        }
    }

    @Test func resumeMessagesOutsideAResumeAndReferenceSessionsDoNotResume() throws {
        var first = factory(gateway1)
        var resumable = try openSession(resumable: true, &first)
        #expect(throws: ICWebSocketClientError.self) {
            try resumable.receiveCanisterMessage(first.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 1)).encoded())
        }
        var other = factory(gateway1)
        var reference = try openSession(resumable: false, &other)
        #expect(!reference.canResume)
        reference.prepareForNextConnection()
        #expect(reference.isOpen, "a reference session is not prepared for a resume")
    }

    @Test func aResumableSessionLeavesWithANumberedCloseMessageAndEndsOnTheCanistersAnswer() throws {
        var first = factory(gateway1)
        var session = try openSession(resumable: true, &first)
        _ = try session.nextMessage(content: [1], isServiceMessage: false)
        let leave = try #require(try session.leaveMessage())
        #expect(leave.sequenceNum == 2, "the next client sequence number")
        #expect(leave.isServiceMessage)
        #expect(leave.clientKey == clientKey)
        #expect(try WebsocketServiceMessageContent.decode(leave.content) == .closeMessage(reason: .closedByApplication))
        // Kept like every numbered message of a resumable session: a resume sends it again.
        session.prepareForNextConnection()
        _ = try session.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway2).encoded())
        _ = try session.resumeArguments()
        var second = factory(gateway2)
        second.lastSequenceNumber = 1
        let resend = try #require(
            resent(
                by: try session.receiveCanisterMessage(
                    second.service(.resumeMessage(clientKey: clientKey, nextIncomingSequenceNum: 1)).encoded())))
        #expect(resend.map(\.sequenceNum) == [1, 2])
        #expect(resend.last?.content == leave.content)
        // The canister's CloseMessage ends the session without an error.
        #expect(
            try session.receiveCanisterMessage(second.service(.closeMessage(reason: .closedByApplication)).encoded())
                == .closedByApplication)
        #expect(session.phase == .closed)
        #expect(try session.leaveMessage() == nil, "nothing to leave once closed")
    }

    @Test func aReferenceSessionOrOneNotOpenHasNoLeaveMessage() throws {
        var other = factory(gateway1)
        var reference = try openSession(resumable: false, &other)
        #expect(try reference.leaveMessage() == nil, "its gateway's ws_close ends a reference session")
        var notOpen = ClientStateMachine(
            canister: canister, clientKey: clientKey, rootKey: other.rootKey, maxCertificateAge: .seconds(300),
            ackTimeout: .seconds(330), resumable: true, clock: { Self.time })
        #expect(try notOpen.leaveMessage() == nil)
        _ = try notOpen.receiveHandshake(GatewayHandshakeFrame(gatewayPrincipal: gateway1).encoded())
        #expect(try notOpen.leaveMessage() == nil, "not before the open message")
    }
}
