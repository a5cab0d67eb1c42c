import AsyncHTTPClient
import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketProtocol
import ICWebSocketTesting
import NIOCore
import Testing

/// Every replica-backed suite of this target, one after the other: each test runs a replica
/// whose rounds execute Wasm on the cooperative pool, and two at once starve each other on a
/// two-core machine.
@Suite("Swift canisters in the replica", .serialized)
struct CanisterReplicaTests {}

/// One WebSocket canister deployed in a loopback replica with frozen time, driven the way a
/// gateway and its clients drive it: clients sign their `ws_open`/`ws_message` envelopes, a
/// gateway relays them byte for byte and polls `ws_get_messages` with its own identity, and every
/// polled batch is verified like a client verifies it (certificate under the replica's root key,
/// witness hash = certified data, leaf = SHA-256 of the content).
struct WebSocketTestbed: Sendable {
    let local: LocalReplica
    let canister: Principal
    /// Calls the test canister's own methods (`send`, `close`, `wipe`) anonymously, as the
    /// reference integration tests do.
    let anonymous: HTTPAgent
    /// The identity that deployed the canister (its controller).
    let controller: HTTPAgent
    let verifier: CertificateVerifier

    /// The reference test defaults: 50 messages per poll, an ack every 5 minutes.
    static let defaultInitArguments: (UInt64, UInt64) = (50, 300_000)
    static let ackIntervalMs: UInt64 = 300_000
    static let keepAliveTimeoutMs: UInt64 = 60_000

    /// Runs `body` with the test canister installed with `init(max, interval)`.
    static func withTestCanister(
        maxReturned: UInt64 = defaultInitArguments.0, ackIntervalMs: UInt64 = defaultInitArguments.1,
        _ body: @Sendable (WebSocketTestbed) async throws -> Void
    ) async throws {
        let module = try CanisterModules.testCanister()
        try await with(module: module, arg: try Candid.encode(maxReturned, ackIntervalMs), body)
    }

    /// Runs `body` with `module` installed with `arg`, in a manual-time replica.
    static func with(
        module: [UInt8], arg: [UInt8] = Candid.encode(),
        _ body: @Sendable (WebSocketTestbed) async throws -> Void
    ) async throws {
        try await LocalReplica.run(manual: true) { local in
            let controller = agent(local, Ed25519Identity())
            let canister = try await local.deploy(module: module, arg: arg, agent: controller)
            let testbed = WebSocketTestbed(
                local: local, canister: canister, anonymous: agent(local, AnonymousIdentity()), controller: controller,
                verifier: CertificateVerifier(rootKey: local.rootKey, clock: local.clock))
            try await body(testbed)
        }
    }

    // MARK: Participants

    /// An agent like `LocalReplica.agent`, with deadlines long enough for debug-built WasmKit
    /// executing megabyte messages on a busy machine (the shared HTTP client gives up reading
    /// after 90 s).
    static func agent(_ local: LocalReplica, _ identity: any Identity) -> HTTPAgent {
        HTTPAgent(
            configuration: .init(
                url: local.url, rootKey: .fetchFromReplica, requestTimeout: .seconds(300),
                verifiesQuerySignatures: true, pollingInterval: (.milliseconds(5), .milliseconds(50)),
                clock: local.clock),
            identity: identity, httpClient: patientHTTPClient)
    }

    /// Lives as long as the test process (an HTTPClient must be shut down before it is released).
    static let patientHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(300))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A new gateway with its own Ed25519 identity.
    func gateway() -> TestGateway {
        let identity = Ed25519Identity()
        return TestGateway(testbed: self, identity: identity, agent: Self.agent(local, identity))
    }

    /// A new client with its own Ed25519 identity (or the anonymous one) and nonce.
    func client(nonce: UInt64 = UInt64.random(in: 0...UInt64.max), anonymous: Bool = false) -> TestClient {
        TestClient(testbed: self, identity: anonymous ? AnonymousIdentity() : Ed25519Identity(), nonce: nonce)
    }

    // MARK: The test canister's own methods

    /// `send : (principal, vec blob) -> (variant { Ok; Err : text })` with `AppMessage`s.
    func send(to principal: Principal, _ texts: [String]) async throws -> CanisterWsResult {
        let blobs = try texts.map { CandidBlob(try Candid.encode(AppMessage(text: $0))) }
        return try await anonymous.call(
            canister, "send", arguments: try Candid.encode(principal, blobs),
            returning: CanisterWsResult.self)
    }

    /// `close : (principal) -> (variant { Ok; Err : text })`.
    func closeByApplication(_ principal: Principal) async throws -> CanisterWsResult {
        try await anonymous.call(canister, "close", principal, returning: CanisterWsResult.self)
    }

    /// `wipe : (nat64, nat64) -> ()`.
    func wipe(maxReturned: UInt64 = defaultInitArguments.0, ackIntervalMs: UInt64 = defaultInitArguments.1) async throws {
        _ = try await anonymous.call(canister: canister, method: "wipe", arg: try Candid.encode(maxReturned, ackIntervalMs))
    }

    /// `set_handlers_trap : (bool) -> ()` (ours only): every handler traps while set.
    func setHandlersTrap(_ enabled: Bool) async throws {
        _ = try await anonymous.call(canister: canister, method: "set_handlers_trap", arg: try Candid.encode(enabled))
    }

    /// Upgrades the canister to `module` with the post-upgrade argument `arg`.
    func upgrade(to module: [UInt8], arg: [UInt8]) async throws {
        try await ManagementCanister(agent: controller).installCode(canister: canister, module: module, arg: arg, mode: .upgrade)
    }

    // MARK: Time

    /// Moves the replica's time forward and waits for two rounds, so that due timers have run
    /// and their effects are certified.
    func advance(milliseconds: UInt64) async throws {
        local.replica.advanceTime(by: .milliseconds(milliseconds))
        try await rounds(2)
    }

    /// Waits until `count` more rounds have completed.
    func rounds(_ count: UInt64) async throws {
        let target = local.replica.certifiedHeight + count
        while local.replica.certifiedHeight < target { try await Task.sleep(for: .milliseconds(2)) }
    }

    /// The canister's current certified data.
    var certifiedData: [UInt8]? { local.replica.certifiedData(of: canister) }

    /// The canister's debug log (handlers print one line per event).
    var log: [String] { local.replica.log(of: canister) }
}

/// `type AppMessage = record { text : text }`, the test canister's application message.
struct AppMessage: CandidCodable, Equatable {
    var text: String
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// A verification or protocol expectation that did not hold.
struct TestbedFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A WebSocket client: signs its own `ws_open` and `ws_message` envelopes (a gateway relays them).
struct TestClient: Sendable {
    let testbed: WebSocketTestbed
    let identity: any Identity
    let nonce: UInt64

    var principal: Principal { identity.principal }
    var key: ClientKey { ClientKey(clientPrincipal: principal, clientNonce: nonce) }

    /// A signed call envelope to the canister, as the client SDK builds it.
    func envelope(_ method: String, _ arg: [UInt8]) throws -> SignedCall {
        let content = RequestContent(
            kind: .call(canisterID: testbed.canister, methodName: method, arg: arg), sender: principal,
            ingressExpiry: IngressExpiry.value(nowNanoseconds: testbed.local.clock()),
            nonce: (0..<8).map { _ in UInt8.random(in: 0...255) })
        return SignedCall(
            bytes: try Envelope.signed(content, by: identity).encoded(), requestID: content.requestID,
            ingressExpiry: content.ingressExpiry)
    }

    /// The `ws_open` envelope naming `gateway`.
    func openEnvelope(via gateway: Principal, nonce: UInt64? = nil) throws -> SignedCall {
        try envelope("ws_open", try Candid.encode(CanisterWsOpenArguments(clientNonce: nonce ?? self.nonce, gatewayPrincipal: gateway)))
    }

    /// A `ws_message` envelope with an application message (`AppMessage`) or raw content.
    func messageEnvelope(sequence: UInt64, content: [UInt8], isService: Bool = false, key: ClientKey? = nil) throws -> SignedCall {
        let message = WebsocketMessage(
            clientKey: key ?? self.key, sequenceNum: sequence, timestamp: testbed.local.clock(),
            isServiceMessage: isService, content: content)
        // The second argument (`opt AppMessage`) is sent as `null`, as the SDK does.
        return try envelope("ws_message", try Candid.encode(CanisterWsMessageArguments(msg: message), CandidNull?.none))
    }

    func appMessage(sequence: UInt64, _ text: String) throws -> SignedCall {
        try messageEnvelope(sequence: sequence, content: try Candid.encode(AppMessage(text: text)))
    }

    func keepAlive(sequence: UInt64, lastIncoming: UInt64) throws -> SignedCall {
        try messageEnvelope(
            sequence: sequence,
            content: WebsocketServiceMessageContent.keepAliveMessage(
                lastIncomingSequenceNum: lastIncoming
            ).encoded(), isService: true)
    }
}

/// A client's signed call, ready to be relayed.
struct SignedCall: Sendable {
    let bytes: [UInt8]
    let requestID: RequestID
    let ingressExpiry: UInt64
}

/// A gateway: relays client envelopes unchanged, calls `ws_close` and polls `ws_get_messages`
/// as itself.
struct TestGateway: Sendable {
    let testbed: WebSocketTestbed
    let identity: Ed25519Identity
    let agent: HTTPAgent

    var principal: Principal { identity.principal }

    /// Submits a client's envelope byte for byte and decodes the `variant { Ok; Err }` reply.
    func relay(_ call: SignedCall) async throws -> CanisterWsResult {
        let reply = try await agent.submitCall(
            call.bytes, requestID: call.requestID, effectiveCanisterID: testbed.canister,
            ingressExpiry: call.ingressExpiry)
        return try Candid.decode(CanisterWsResult.self, from: reply)
    }

    /// `ws_open` of `client` through this gateway.
    func open(_ client: TestClient) async throws -> CanisterWsResult {
        try await relay(try client.openEnvelope(via: principal))
    }

    /// `ws_close` as this gateway.
    func close(_ key: ClientKey) async throws -> CanisterWsResult {
        try await agent.call(testbed.canister, "ws_close", CanisterWsCloseArguments(clientKey: key), returning: CanisterWsResult.self)
    }

    /// `ws_get_messages` from `nonce`, verified as a client verifies each message.
    func poll(from nonce: UInt64) async throws -> PolledBatch {
        let result = try await agent.query(
            testbed.canister, "ws_get_messages", CanisterWsGetMessagesArguments(nonce: nonce),
            returning: CanisterWsGetMessagesResult.self)
        guard case .ok(let batch) = result else { throw TestbedFailure("ws_get_messages returned \(result)") }
        return try PolledBatch(verifying: batch, gateway: principal, testbed: testbed)
    }

    /// Polls from `nonce` until the end of the queue.
    func pollAll(from nonce: UInt64 = 0) async throws -> [PolledMessage] {
        var messages = [PolledMessage]()
        var next = nonce
        while true {
            let batch = try await poll(from: next)
            messages += batch.messages
            guard let last = batch.messages.last, !batch.isEndOfQueue else { return messages }
            next = last.nonce + 1
        }
    }
}

/// One message of a verified batch.
struct PolledMessage: Sendable {
    let key: String
    let nonce: UInt64
    /// The `content` bytes (the certified CBOR document).
    let content: [UInt8]
    let message: WebsocketMessage

    var clientKey: ClientKey { message.clientKey }
    var sequence: UInt64 { message.sequenceNum }

    /// The service message, if this is one.
    var service: WebsocketServiceMessageContent? {
        message.isServiceMessage ? try? WebsocketServiceMessageContent.decode(message.content) : nil
    }

    /// The application message's text, if this is an `AppMessage`.
    var appText: String? {
        message.isServiceMessage ? nil : (try? Candid.decode(AppMessage.self, from: message.content))?.text
    }
}

/// A `ws_get_messages` reply checked like the client SDK checks each message (protocol §5.1–5.2).
struct PolledBatch: Sendable {
    let messages: [PolledMessage]
    let isEndOfQueue: Bool
    let raw: CanisterOutputCertifiedMessages
    /// The certificate's time (nil for the empty reply).
    let certificateTime: UInt64?

    init(verifying batch: CanisterOutputCertifiedMessages, gateway: Principal, testbed: WebSocketTestbed) throws {
        raw = batch
        isEndOfQueue = batch.isEndOfQueue
        guard !batch.messages.isEmpty else {
            // The empty reply carries no certificate and no tree (§3.3 step 1 and 3).
            guard batch.cert.isEmpty, batch.tree.isEmpty, batch.isEndOfQueue else {
                throw TestbedFailure("an empty batch must have empty cert and tree and is_end_of_queue = true")
            }
            messages = []
            certificateTime = nil
            return
        }
        let certificate = try testbed.verifier.verify(batch.cert, for: .canister(testbed.canister))
        let tree = try HashTree(cborBytes: batch.tree)
        guard tree.isWellFormed else { throw TestbedFailure("the witness tree is not well formed (labels unsorted)") }
        guard let certified = certificate.certifiedData(of: testbed.canister).value else {
            throw TestbedFailure("the certificate does not reveal the canister's certified_data")
        }
        guard tree.reconstruct() == certified else {
            throw TestbedFailure("the witness's root hash is not the certified data")
        }
        let time = certificate.time ?? 0
        var messages = [PolledMessage]()
        for output in batch.messages {
            guard let nonce = MessageKey.nonce(of: output.key), MessageKey.format(gateway: gateway, nonce: nonce) == output.key else {
                throw TestbedFailure("key \(output.key) is not <gateway>_<20-digit nonce> of gateway \(gateway)")
            }
            guard tree.lookup(path: [MessageKey.certificationLabel, Array(output.key.utf8)]) == .found(SHA256.hash(output.content)) else {
                throw TestbedFailure("the leaf of \(output.key) is not SHA-256 of its content")
            }
            let message = try WebsocketMessage(cbor: output.content)
            guard message.clientKey == output.clientKey else {
                throw TestbedFailure("message \(output.key) names \(message.clientKey) but is addressed to \(output.clientKey)")
            }
            guard message.timestamp <= time else {
                throw TestbedFailure("message \(output.key) has a timestamp after its certificate's time")
            }
            messages.append(PolledMessage(key: output.key, nonce: nonce, content: output.content, message: message))
        }
        for (previous, next) in zip(messages, messages.dropFirst()) where next.nonce != previous.nonce + 1 {
            throw TestbedFailure("nonces \(previous.nonce) and \(next.nonce) are not consecutive")
        }
        self.messages = messages
        certificateTime = time
    }
}
