import ICAgent
import ICCore
import ICWebSocketGateway
import ICWebSocketProtocol
import Testing

/// One test per row of the session table (protocol §6.3), on the pure value.
@Suite struct SessionStateMachineTests {
    let gateway = Ed25519Identity().principal
    let canister = try! Principal(text: "bnz7o-iuaaa-aaaaa-qaaaa-cai")
    let requests: ClientRequests

    init() {
        requests = ClientRequests(canister: canister)
    }

    func machine() -> SessionStateMachine { SessionStateMachine(gatewayPrincipal: gateway, maxEnvelopeBytes: 2 << 20) }

    /// A machine in SETUP, and its target.
    func inSetup() throws -> SessionStateMachine {
        var machine = machine()
        guard case .registerAndForward = machine.handle(.binaryFrame(try requests.open(gateway: gateway))) else {
            Issue.record("ws_open not accepted")
            return machine
        }
        return machine
    }

    func inOpen() throws -> SessionStateMachine {
        var machine = try inSetup()
        _ = machine.handle(.canisterMessage([0xa0]))
        return machine
    }

    func ending(_ action: SessionStateMachine.Action) -> SessionStateMachine.Ending? {
        if case .end(let ending) = action { return ending }
        return nil
    }

    @Test func initValidOpenRegistersThenForwardsTheOriginalBytes() throws {
        var machine = machine()
        let frame = try requests.open(gateway: gateway)
        let action = machine.handle(.binaryFrame(frame))
        guard case .registerAndForward(let target, let envelope) = action else {
            Issue.record("expected registerAndForward, got \(action)")
            return
        }
        #expect(target == .init(canister: canister, clientKey: requests.clientKey))
        #expect(envelope.methodName == "ws_open")
        // Byte for byte: the body is the envelope item of the frame under the self-describe tag.
        let original = try ClientRequestFrame(decoding: frame).envelopeBytes
        #expect(envelope.body == [0xd9, 0xd9, 0xf7] + original)
        #expect(machine.state == .setup(target))
    }

    @Test func initResumeRegistersLikeAnOpenAndNamingAnotherGatewayIsRejected() throws {
        var machine = machine()
        let action = machine.handle(.binaryFrame(try requests.resume(gateway: gateway, lastReceived: 7, counter: 2)))
        guard case .registerAndForward(let target, let envelope) = action else {
            Issue.record("expected registerAndForward, got \(action)")
            return
        }
        #expect(target == .init(canister: canister, clientKey: requests.clientKey))
        #expect(envelope.isResume)
        #expect(try envelope.resumeArguments().lastReceivedSequenceNum == 7)

        var other = self.machine()
        let refused = ending(other.handle(.binaryFrame(try requests.resume(gateway: Ed25519Identity().principal))))
        #expect(refused?.closeFrame?.code == .policyViolation)
        #expect(refused?.closeFrame?.reason.hasPrefix("ws_resume names gateway") == true)
        #expect(refused?.unregisters == false)
    }

    @Test func aRefusedResumeClosesWith4002WithoutWsCloseAndASupersededSessionCallsIt() throws {
        var setup = try inSetup()
        let refused = try #require(ending(setup.handle(.resumeRefused(reason: "No session to resume for client x"))))
        #expect(refused.closeFrame?.code == .resumeRefused)
        #expect(refused.closeFrame?.code.rawValue == CanisterWsResumeArguments.refusedCloseCode)
        #expect(refused.closeFrame?.reason == "ws_resume refused: No session to resume for client x")
        #expect(refused.unregisters && !refused.callsWsClose)

        var open = try inOpen()
        let superseded = try #require(ending(open.handle(.superseded)))
        #expect(superseded.closeFrame?.code == .policyViolation)
        #expect(superseded.unregisters && superseded.callsWsClose)
        var fresh = machine()
        #expect(fresh.handle(.superseded) == .ignore(reason: "not registered yet"))
    }

    @Test(arguments: [
        ("text", SessionStateMachine.Event.textFrame, GatewayCloseCode.unsupportedData),
        ("not CBOR", .binaryFrame([0xff, 0x00, 0x13]), .invalidFrame),
        ("CBOR but not C1", .binaryFrame([0xa1, 0x61, 0x61, 0x01]), .invalidFrame),
        ("oversized", .invalidMessage(code: .messageTooBig, reason: "big"), .messageTooBig),
    ])
    func initBadFirstFrameClosesWithoutRegistering(name: String, event: SessionStateMachine.Event, code: GatewayCloseCode) {
        var machine = machine()
        let ending = ending(machine.handle(event))
        #expect(ending?.closeFrame?.code == code, "\(name)")
        #expect(ending?.unregisters == false)
        #expect(ending?.callsWsClose == false)
        #expect(machine.state == .closed)
    }

    @Test func initQueryEnvelopeIsRejected() throws {
        var machine = machine()
        let frame = try requests.frame(
            method: "ws_open", arg: [], requestType: .query(canisterID: canister, methodName: "ws_open", arg: []))
        #expect(ending(machine.handle(.binaryFrame(frame)))?.closeFrame?.code == .policyViolation)
    }

    @Test func initArgThatIsNotOpenArgumentsIsRejected() throws {
        var machine = machine()
        let frame = try requests.frame(method: "ws_open", arg: Candid.encode(UInt64(7)))
        #expect(ending(machine.handle(.binaryFrame(frame)))?.closeFrame?.code == .policyViolation)
    }

    @Test func initOpenNamingAnotherGatewayIsRejected() throws {
        var machine = machine()
        let frame = try requests.open(gateway: Ed25519Identity().principal)
        let ending = ending(machine.handle(.binaryFrame(frame)))
        #expect(ending?.closeFrame?.code == .policyViolation)
        #expect(ending?.reason.contains("names gateway") == true)
    }

    @Test func initOversizedEnvelopeIsRejected() throws {
        var machine = SessionStateMachine(gatewayPrincipal: gateway, maxEnvelopeBytes: 64)
        #expect(ending(machine.handle(.binaryFrame(try requests.open(gateway: gateway))))?.closeFrame?.code == .messageTooBig)
    }

    @Test func initClientGoneJustEnds() {
        var machine = machine()
        let ending = ending(machine.handle(.clientGone(reason: "closed")))
        #expect(ending?.closeFrame == nil)
        #expect(ending?.callsWsClose == false)
    }

    @Test func initHandshakeTimeoutCloses() {
        var machine = machine()
        #expect(ending(machine.handle(.handshakeTimeout))?.closeFrame?.code == .policyViolation)
    }

    @Test func setupDropsClientFrames() throws {
        var machine = try inSetup()
        let state = machine.state
        for event in [
            SessionStateMachine.Event.binaryFrame(try requests.open(gateway: gateway)), .textFrame,
            .binaryFrame(try requests.message(sequenceNumber: 1, content: [1])),
        ] {
            guard case .ignore = machine.handle(event) else {
                Issue.record("expected the frame to be dropped in SETUP")
                return
            }
        }
        #expect(machine.state == state)
    }

    @Test func setupFirstCanisterMessageIsSentAndOpens() throws {
        var machine = try inSetup()
        let target = try #require(machine.target)
        #expect(machine.handle(.canisterMessage([1, 2, 3])) == .send([1, 2, 3]))
        #expect(machine.state == .open(target))
    }

    @Test func openForwardsCallEnvelopesInOrder() throws {
        var machine = try inOpen()
        let first = try requests.message(sequenceNumber: 1, content: [1])
        let second = try requests.message(sequenceNumber: 2, content: [2])
        guard case .forward(let a) = machine.handle(.binaryFrame(first)), case .forward(let b) = machine.handle(.binaryFrame(second)) else {
            Issue.record("expected forwards")
            return
        }
        #expect(a.body == [0xd9, 0xd9, 0xf7] + (try ClientRequestFrame(decoding: first).envelopeBytes))
        #expect(b.body == [0xd9, 0xd9, 0xf7] + (try ClientRequestFrame(decoding: second).envelopeBytes))
    }

    @Test(arguments: [
        ("text", SessionStateMachine.Event.textFrame, GatewayCloseCode.unsupportedData),
        ("not CBOR", .binaryFrame([0x1c]), .invalidFrame),
    ])
    func openProtocolErrorUnregistersAndCallsWsClose(name: String, event: SessionStateMachine.Event, code: GatewayCloseCode) throws {
        var machine = try inOpen()
        let ending = ending(machine.handle(event))
        #expect(ending?.closeFrame?.code == code, "\(name)")
        #expect(ending?.unregisters == true)
        #expect(ending?.callsWsClose == true)
    }

    @Test func openNonCallEnvelopeIsAProtocolError() throws {
        var machine = try inOpen()
        let frame = try requests.frame(method: "ws_message", arg: [], requestType: .readState(paths: []))
        let ending = ending(machine.handle(.binaryFrame(frame)))
        #expect(ending?.closeFrame?.code == .policyViolation)
        #expect(ending?.callsWsClose == true)
    }

    @Test func openEnvelopeForAnotherCanisterOrSenderIsDropped() throws {
        var machine = try inOpen()
        let other = ClientRequests(canister: try Principal(text: "aaaaa-aa"))
        guard case .ignore = machine.handle(.binaryFrame(try other.message(sequenceNumber: 1, content: []))) else {
            Issue.record("expected drop")
            return
        }
        let stranger = ClientRequests(canister: canister)
        guard case .ignore = machine.handle(.binaryFrame(try stranger.message(sequenceNumber: 1, content: []))) else {
            Issue.record("expected drop")
            return
        }
    }

    @Test func openCanisterMessagesAreSent() throws {
        var machine = try inOpen()
        #expect(machine.handle(.canisterMessage([9])) == .send([9]))
    }

    @Test(arguments: [SessionStateMachine.Event.clientGone(reason: "bye"), .writeFailed(reason: "broken pipe")])
    func clientGoneOrWriteFailureInSetupAndOpenCallsWsClose(event: SessionStateMachine.Event) throws {
        for var machine in [try inSetup(), try inOpen()] {
            let ending = ending(machine.handle(event))
            #expect(ending?.closeFrame == nil)
            #expect(ending?.unregisters == true)
            #expect(ending?.callsWsClose == true)
        }
    }

    @Test func pollerFailureClosesWithoutWsClose() throws {
        for var machine in [try inSetup(), try inOpen()] {
            let ending = ending(machine.handle(.pollerFailed(code: .canisterUnavailable, reason: "stopped")))
            #expect(ending?.closeFrame?.code == .canisterUnavailable)
            #expect(ending?.closeFrame?.reason == "stopped")
            #expect(ending?.unregisters == false)
            #expect(ending?.callsWsClose == false)
        }
    }

    @Test func setupTimeoutClosesAndCallsWsClose() throws {
        var machine = try inSetup()
        let ending = ending(machine.handle(.setupTimeout))
        #expect(ending?.closeFrame?.code == .policyViolation)
        #expect(ending?.callsWsClose == true)
        var open = try inOpen()
        guard case .ignore = open.handle(.setupTimeout) else {
            Issue.record("an open session ignores the SETUP timer")
            return
        }
    }

    @Test func slowClientIsClosed() throws {
        var machine = try inOpen()
        let ending = ending(machine.handle(.outboundOverflow(reason: "client reads too slowly: 100 messages waiting")))
        #expect(ending?.closeFrame?.code == .policyViolation)
        #expect(ending?.closeFrame?.reason == "client reads too slowly: 100 messages waiting")
        #expect(ending?.callsWsClose == true)
    }

    @Test func clientFloodingPastItsBudgetIsClosedWithTheLimitNamed() throws {
        var machine = try inOpen()
        let ending = ending(machine.handle(.callBacklogExceeded(reason: "budget of 4 MiB exceeded")))
        #expect(ending?.closeFrame?.code == .policyViolation)
        #expect(ending?.closeFrame?.reason == "budget of 4 MiB exceeded")
        #expect(ending?.callsWsClose == true)
    }

    @Test func shutdownClosesWithGoingAway() throws {
        for (var machine, registered) in [(machine(), false), (try inSetup(), true), (try inOpen(), true)] {
            let ending = ending(machine.handle(.shutdown))
            #expect(ending?.closeFrame?.code == .goingAway)
            #expect(ending?.callsWsClose == registered)
        }
    }

    @Test func closedIgnoresEverything() throws {
        var machine = try inOpen()
        _ = machine.handle(.clientGone(reason: "bye"))
        #expect(machine.handle(.canisterMessage([1])) == .none)
        #expect(machine.handle(.shutdown) == .none)
    }
}
