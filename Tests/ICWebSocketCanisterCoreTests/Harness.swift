import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

func principal(_ seed: UInt8) -> Principal { Principal.selfAuthenticating(derPublicKey: [seed, 1, 2, 3]) }

let gateway1 = principal(1)
let gateway2 = principal(2)
let clientA = principal(10)
let clientB = principal(11)
let clientC = principal(12)

/// A canister hosting the core, with a controllable clock and a fake data certificate.
struct Harness {
    static let start: UInt64 = 1_700_000_000_000_000_000
    static let certificate: [UInt8] = Array("certificate".utf8)

    var core: WebSocketCanisterCore
    var now: UInt64 = Harness.start
    /// The certified data the canister would have set, updated after every operation.
    var certifiedData: [UInt8]? = nil
    var events: [WebSocketEvent] = []

    init(maxReturned: Int = 50, ackIntervalMs: UInt64 = 300_000, maxReplyBytes: Int? = nil) {
        var parameters = WebSocketParameters(maxNumberOfReturnedMessages: maxReturned, sendAckIntervalMs: ackIntervalMs)
        if let maxReplyBytes { parameters.maxReplyBytes = maxReplyBytes }
        core = try! WebSocketCanisterCore(parameters: parameters, now: Harness.start)
    }

    /// What the glue does at the end of each message.
    mutating func endOfMessage() {
        events += core.takeEvents()
        if let change = core.takeCertifiedDataChange() { certifiedData = change }
    }

    mutating func advance(ms: UInt64) {
        now += ms * 1_000_000
        if let deadline = core.nextTimerDeadline, deadline <= now { core.runTimers(now: now) }
        endOfMessage()
    }

    @discardableResult
    mutating func open(_ client: Principal, nonce: UInt64 = 1, via gateway: Principal = gateway1) -> WebSocketResult {
        defer { endOfMessage() }
        return core.wsOpen(caller: client, CanisterWsOpenArguments(clientNonce: nonce, gatewayPrincipal: gateway), now: now)
    }

    @discardableResult
    mutating func message(
        _ client: Principal, key: ClientKey? = nil, seq: UInt64, service: WebsocketServiceMessageContent? = nil,
        content: [UInt8] = [1, 2, 3]
    ) -> WebSocketResult {
        defer { endOfMessage() }
        let key = key ?? core.clientKey(of: client) ?? ClientKey(clientPrincipal: client, clientNonce: 1)
        let message = WebsocketMessage(
            clientKey: key, sequenceNum: seq, timestamp: now, isServiceMessage: service != nil,
            content: service?.encoded() ?? content)
        return core.wsMessage(caller: client, CanisterWsMessageArguments(msg: message), now: now)
    }

    @discardableResult
    mutating func close(_ key: ClientKey, by gateway: Principal = gateway1) -> WebSocketResult {
        defer { endOfMessage() }
        return core.wsClose(caller: gateway, CanisterWsCloseArguments(clientKey: key), now: now)
    }

    @discardableResult
    mutating func send(_ client: Principal, _ content: [UInt8] = [0xab]) -> WebSocketResult {
        defer { endOfMessage() }
        return core.send(to: client, content, now: now)
    }

    /// `ws_get_messages` as `gateway`, checking the certification of the reply (scenario 14).
    mutating func poll(_ gateway: Principal = gateway1, from nonce: UInt64 = 0) -> CanisterOutputCertifiedMessages {
        let result = try! core.wsGetMessages(
            caller: gateway, CanisterWsGetMessagesArguments(nonce: nonce), certificate: Harness.certificate)
        guard case .ok(let batch) = result else {
            Issue.record("ws_get_messages returned Err")
            return .empty
        }
        if !batch.messages.isEmpty { verify(batch) }
        return batch
    }

    func verify(_ batch: CanisterOutputCertifiedMessages) {
        #expect(batch.cert == Harness.certificate)
        #expect(Array(batch.tree.prefix(3)) == [0xd9, 0xd9, 0xf7])
        guard let tree = try? HashTree(cborBytes: batch.tree) else {
            Issue.record("tree does not decode")
            return
        }
        #expect(tree.reconstruct() == certifiedData, "h(tree) must equal the certified data")
        #expect(tree.isWellFormed)
        for message in batch.messages {
            #expect(
                tree.lookup(path: [MessageKey.certificationLabel, Array(message.key.utf8)])
                    == .found(SHA256.hash(message.content)))
        }
    }
}

func decoded(_ message: CanisterOutputMessage) -> WebsocketMessage {
    try! WebsocketMessage(cbor: message.content)
}

func decoded(_ message: QueuedMessage) -> WebsocketMessage {
    try! WebsocketMessage(cbor: message.content)
}

func service(_ message: CanisterOutputMessage) -> WebsocketServiceMessageContent? {
    let inner = decoded(message)
    guard inner.isServiceMessage else { return nil }
    return try? WebsocketServiceMessageContent.decode(inner.content)
}
