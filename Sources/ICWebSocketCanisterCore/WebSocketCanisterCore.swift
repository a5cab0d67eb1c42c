import ICCore
import ICWebSocketProtocol

/// The library's parameters (protocol §3.4, §4.2).
public struct WebSocketParameters: Sendable {
    /// At most this many messages per `ws_get_messages` reply (reference default 50).
    public var maxNumberOfReturnedMessages: Int
    /// The ack interval; must be greater than the 60 s keep-alive timeout (default 300 000).
    public var sendAckIntervalMs: UInt64
    /// Upper bound on the encoded size of one `ws_get_messages` reply, certificate and tree
    /// included. The IC refuses replies over 3 MiB; the reference libraries only bound the
    /// count, so a burst of large messages could make every poll fail. The default keeps
    /// 64 KiB of slack under 3 MiB for the certificate and Candid overhead.
    public var maxReplyBytes: Int

    public init(
        maxNumberOfReturnedMessages: Int = 50, sendAckIntervalMs: UInt64 = 300_000,
        maxReplyBytes: Int = 3 * 1024 * 1024 - 64 * 1024
    ) {
        self.maxNumberOfReturnedMessages = maxNumberOfReturnedMessages
        self.sendAckIntervalMs = sendAckIntervalMs
        self.maxReplyBytes = maxReplyBytes
    }
}

/// A failure that must trap the current message (the text becomes the reject message).
public struct CanisterTrap: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// What the application's handlers are told. The core queues events instead of calling
/// handlers in the middle of a state change, so a handler may call `send`/`close` again.
public enum WebSocketEvent: Equatable, Sendable {
    case open(clientPrincipal: Principal)
    case message(clientPrincipal: Principal, content: [UInt8])
    case close(clientPrincipal: Principal)
}

/// The canister side of the IC WebSocket protocol as a value: registries, queues, sequence
/// numbers, certification and timer bookkeeping (protocol §3.3–§4.8). It performs no system
/// calls: the caller passes the IC time, the caller principal and the data certificate in,
/// and reads back the certified-data hash, the next timer deadline and the handler events.
/// `ICWebSocketCDK` wires it to `ic0`; host tests drive it directly.
public struct WebSocketCanisterCore: Sendable {
    /// §4.2: fixed, not configurable.
    public static let clientKeepAliveTimeoutMs: UInt64 = 60_000
    /// §4.7: oldest messages examined for deletion on each send.
    public static let messagesToDeletePerSend = 5

    struct RegisteredClient: Sendable {
        var gateway: Principal
        var lastKeepAlive: UInt64
        /// Next client → canister sequence number expected (starts at 1).
        var expectedIncoming: UInt64
        /// Last canister → client sequence number used (starts at 0).
        var outgoing: UInt64
    }

    struct RegisteredGateway: Sendable {
        var queue = MessageQueue()
        var nextNonce: UInt64 = 0
        var clientCount: UInt64 = 0
        /// Cached hashes of the chunks of 64 nonces (MessageCertification), by chunk number.
        var chunkHashes: [UInt64: [UInt8]] = [:]
    }

    public private(set) var parameters: WebSocketParameters
    var clients: [ClientKey: RegisteredClient] = [:]
    var currentKey: [Principal: ClientKey] = [:]
    var waitingForKeepAlive: Set<ClientKey> = []
    var gateways: [Principal: RegisteredGateway] = [:]
    var gatewaysToRemove: [Principal: UInt64] = [:]

    /// Next ack tick (ns), if the ack timer runs.
    public private(set) var nextAckTick: UInt64?
    /// Pending keep-alive checks (ns), earliest first.
    public private(set) var keepAliveChecks: [UInt64] = []

    private var certifiedRoot: [UInt8]
    private var certificationDirty = false
    private var events: [WebSocketEvent] = []

    /// An idle core; `init(parameters:now:)` starts it.
    public init() {
        parameters = WebSocketParameters()
        certifiedRoot = WebSocketCanisterCore.websocketRoot(HashTree.emptyHash)
    }

    /// The library's `init` (§3.4): checks the parameters, forgets any previous timers and
    /// starts the ack timer. Call it from the canister's `init` and `post_upgrade`.
    public init(parameters: WebSocketParameters, now: UInt64) throws(CanisterTrap) {
        self.init()
        try start(parameters: parameters, now: now)
    }

    /// Re-initialises the parameters and timers, keeping clients and queues.
    public mutating func start(parameters: WebSocketParameters, now: UInt64) throws(CanisterTrap) {
        guard parameters.sendAckIntervalMs > WebSocketCanisterCore.clientKeepAliveTimeoutMs else {
            throw CanisterTrap("send_ack_interval_ms must be greater than CLIENT_KEEP_ALIVE_TIMEOUT_MS")
        }
        self.parameters = parameters
        keepAliveChecks = []
        nextAckTick = now &+ milliseconds(parameters.sendAckIntervalMs)
    }

    private func milliseconds(_ ms: UInt64) -> UInt64 { ms &* 1_000_000 }

    private var ackIntervalNs: UInt64 { milliseconds(parameters.sendAckIntervalMs) }

    // MARK: - Reading state

    /// Handler events since the last call, in order.
    public mutating func takeEvents() -> [WebSocketEvent] {
        let taken = events
        events = []
        return taken
    }

    /// The registered key of a principal.
    public func clientKey(of principal: Principal) -> ClientKey? { currentKey[principal] }

    /// Whether a key is registered.
    public func isRegistered(_ key: ClientKey) -> Bool { clients[key] != nil }

    /// All registered client keys, sorted.
    public var registeredClients: [ClientKey] { sortedKeys(clients.keys) }

    /// Whether a gateway is registered (it has clients, or lost its last one recently).
    public func isGatewayRegistered(_ gateway: Principal) -> Bool { gateways[gateway] != nil }

    /// The queued messages of a gateway, oldest first.
    public func queue(of gateway: Principal) -> [QueuedMessage] {
        guard let registered = gateways[gateway] else { return [] }
        return Array(registered.queue.all)
    }

    /// The earliest time a timer event is due, to arm the global timer with.
    public var nextTimerDeadline: UInt64? {
        var deadline = nextAckTick
        if let check = keepAliveChecks.first { deadline = min(deadline ?? check, check) }
        return deadline
    }

    // MARK: - Certification (§4.5)

    /// The certified data (32 bytes) if it changed since the last call, else `nil`. Call after
    /// every update-type entry point and pass a non-nil result to `ic0.certified_data_set`.
    /// Several sends in one message are certified together.
    public mutating func takeCertifiedDataChange() -> [UInt8]? {
        guard certificationDirty else { return nil }
        return certifiedData()
    }

    /// The current certified data: `h(Labeled("websocket", T))`.
    public mutating func certifiedData() -> [UInt8] {
        if certificationDirty {
            certifiedRoot = WebSocketCanisterCore.websocketRoot(gatewaysDigest())
            certificationDirty = false
        }
        return certifiedRoot
    }

    static func websocketRoot(_ subtree: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(MessageCertification.labeledDomain)
        hasher.update(MessageKey.certificationLabel)
        hasher.update(subtree)
        return hasher.finalize()
    }

    /// Gateways with messages, in key order.
    private func certifiedGateways() -> [Principal] {
        var list = [(key: [UInt8], gateway: Principal)]()
        for (gateway, registered) in gateways where !registered.queue.isEmpty {
            list.append((key: MessageCertification.gatewayOrderKey(gateway), gateway: gateway))
        }
        list.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return list.map { $0.gateway }
    }

    /// Chunk numbers of a gateway's queue, first to last.
    private static func chunks(of gateway: RegisteredGateway) -> ClosedRange<UInt64> {
        let first = gateway.queue[0].nonce / MessageCertification.chunkSize
        let last = gateway.queue[gateway.queue.count - 1].nonce / MessageCertification.chunkSize
        return first...last
    }

    /// Queue indices of one chunk.
    private static func indices(of chunk: UInt64, in gateway: RegisteredGateway) -> Range<Int> {
        let head = gateway.queue[0].nonce
        let next = head + UInt64(gateway.queue.count)
        let low = max(chunk * MessageCertification.chunkSize, head)
        let high = min((chunk + 1) * MessageCertification.chunkSize, next)
        return Int(low - head)..<Int(high - head)
    }

    private static func chunkDigest(_ chunk: UInt64, of gateway: RegisteredGateway) -> [UInt8] {
        if let cached = gateway.chunkHashes[chunk] { return cached }
        let queue = gateway.queue
        return MessageCertification.forkDigest(indices(of: chunk, in: gateway)) { queue[$0].labeledHash }
    }

    /// The digest of `T`, filling the chunk caches.
    private mutating func gatewaysDigest() -> [UInt8] {
        let ordered = certifiedGateways()
        var gatewayDigests = [[UInt8]]()
        gatewayDigests.reserveCapacity(ordered.count)
        for principal in ordered {
            guard var gateway = gateways[principal] else { continue }
            var chunkDigests = [[UInt8]]()
            for chunk in WebSocketCanisterCore.chunks(of: gateway) {
                let digest = WebSocketCanisterCore.chunkDigest(chunk, of: gateway)
                gateway.chunkHashes[chunk] = digest
                chunkDigests.append(digest)
            }
            gateways[principal] = gateway
            gatewayDigests.append(MessageCertification.forkDigest(0..<chunkDigests.count) { chunkDigests[$0] })
        }
        return MessageCertification.forkDigest(0..<gatewayDigests.count) { gatewayDigests[$0] }
    }

    /// The witness tree revealing the given messages of `gateway` (queue indices, sorted):
    /// `Labeled("websocket", W)`, where `W` prunes everything else. Its hash is the certified
    /// data.
    public func witness(gateway principal: Principal, queueIndices: [Int]) -> HashTree {
        let ordered = certifiedGateways()
        guard let position = ordered.firstIndex(of: principal), let target = gateways[principal] else {
            return .labeled(MessageKey.certificationLabel, .pruned(gatewaysDigestWithoutCaching()))
        }
        let gatewayDigest: (Int) -> [UInt8] = { index in
            let gateway = self.gateways[ordered[index]]!
            let chunks = Array(WebSocketCanisterCore.chunks(of: gateway))
            return MessageCertification.forkDigest(0..<chunks.count) {
                WebSocketCanisterCore.chunkDigest(chunks[$0], of: gateway)
            }
        }
        let chunks = Array(WebSocketCanisterCore.chunks(of: target))
        let head = target.queue[0].nonce
        // Requested chunk positions, and per chunk the requested queue indices.
        var requestedChunks = [Int]()
        for index in queueIndices {
            let chunkPosition = Int((head + UInt64(index)) / MessageCertification.chunkSize - chunks[0])
            if requestedChunks.last != chunkPosition { requestedChunks.append(chunkPosition) }
        }
        let queue = target.queue
        let revealChunk: (Int, ArraySlice<Int>) -> HashTree = { chunkPosition, _ in
            let range = WebSocketCanisterCore.indices(of: chunks[chunkPosition], in: target)
            var inChunk = [Int]()
            for index in queueIndices where range.contains(index) { inChunk.append(index) }
            return MessageCertification.forkWitness(
                range, requested: inChunk[...], digest: { queue[$0].labeledHash },
                reveal: { index, _ in
                    .labeled(Array(queue[index].output.key.utf8), .leaf(queue[index].contentHash))
                })
        }
        let revealGateway: (Int, ArraySlice<Int>) -> HashTree = { _, _ in
            MessageCertification.forkWitness(
                0..<chunks.count, requested: requestedChunks[...],
                digest: { WebSocketCanisterCore.chunkDigest(chunks[$0], of: target) }, reveal: revealChunk)
        }
        let top = MessageCertification.forkWitness(
            0..<ordered.count, requested: [position][...], digest: gatewayDigest, reveal: revealGateway)
        return .labeled(MessageKey.certificationLabel, top)
    }

    private func gatewaysDigestWithoutCaching() -> [UInt8] {
        var copy = self
        return copy.gatewaysDigest()
    }

    /// The certified data recomputed without any cached hash (for tests of the caches).
    public func certifiedDataFromScratch() -> [UInt8] {
        var copy = self
        for principal in copy.gateways.keys { copy.gateways[principal]?.chunkHashes = [:] }
        return WebSocketCanisterCore.websocketRoot(copy.gatewaysDigest())
    }

    // MARK: - Methods of the Candid interface (§3.3)

    /// `ws_open`.
    public mutating func wsOpen(caller: Principal, _ args: CanisterWsOpenArguments, now: UInt64) -> CanisterWsOpenResult {
        if caller.isAnonymous { return .err("Anonymous principal is not allowed") }
        let key = ClientKey(clientPrincipal: caller, clientNonce: args.clientNonce)
        if clients[key] != nil { return .err("Client with key \(key) already has an open connection") }
        // One connection per principal: the old one goes silently (§3.3 step 3).
        if let old = currentKey[caller] { removeClient(old, reason: nil, now: now) }

        clients[key] = RegisteredClient(gateway: args.gatewayPrincipal, lastKeepAlive: now, expectedIncoming: 1, outgoing: 0)
        currentKey[caller] = key
        var gateway = gateways[args.gatewayPrincipal] ?? RegisteredGateway()
        gateway.clientCount += 1
        gateways[args.gatewayPrincipal] = gateway
        gatewaysToRemove[args.gatewayPrincipal] = nil

        _ = sendServiceMessage(.openMessage(clientKey: key), to: key, now: now)
        events.append(.open(clientPrincipal: caller))
        return .ok
    }

    /// `ws_message`; the second (`opt AppMessage`) argument is ignored.
    public mutating func wsMessage(caller: Principal, _ args: CanisterWsMessageArguments, now: UInt64) -> CanisterWsMessageResult {
        let message = args.msg
        guard let key = currentKey[caller], var client = clients[key] else {
            return .err("Client with principal \(caller) doesn't have an open connection")
        }
        if message.clientKey != key {
            return .err("Client with principal \(message.clientKey.clientPrincipal) has a different key than the one used in the message")
        }
        let expected = client.expectedIncoming
        if message.sequenceNum != expected {
            removeClient(key, reason: .wrongSequenceNumber, now: now)
            return .err("Expected incoming sequence number \(expected) but got \(message.sequenceNum)")
        }
        client.expectedIncoming += 1
        clients[key] = client
        if message.isServiceMessage {
            let content: WebsocketServiceMessageContent
            do {
                content = try WebsocketServiceMessageContent.decode(message.content)
            } catch {
                return .err("Error decoding service message content: \(error)")
            }
            guard case .keepAliveMessage = content else { return .err("Invalid service message") }
            clients[key]?.lastKeepAlive = now
            return .ok
        }
        events.append(.message(clientPrincipal: caller, content: message.content))
        return .ok
    }

    /// `ws_close`, called by a gateway.
    public mutating func wsClose(caller: Principal, _ args: CanisterWsCloseArguments, now: UInt64) -> CanisterWsCloseResult {
        guard gateways[caller] != nil else { return .err("Gateway with principal \(caller) is not registered") }
        let key = args.clientKey
        guard let client = clients[key] else { return .err("Client with key \(key) doesn't have an open connection") }
        guard client.gateway == caller else { return .err("Client with key \(key) was not registered to gateway \(caller)") }
        removeClient(key, reason: nil, now: now)
        return .ok
    }

    /// `ws_get_messages` (a query). `certificate` is `ic0.data_certificate`, present only in a
    /// non-replicated query; like the references, it traps without one when there is something
    /// to return.
    public mutating func wsGetMessages(
        caller: Principal, _ args: CanisterWsGetMessagesArguments, certificate: [UInt8]?
    ) throws(CanisterTrap) -> CanisterWsGetMessagesResult {
        guard let gateway = gateways[caller] else { return .ok(.empty) }
        let queue = gateway.queue
        let start = queue.firstIndex(nonceAtLeast: args.nonce)
        let remaining = queue.count - start
        if remaining <= 0 { return .ok(.empty) }
        guard let certificate else { throw CanisterTrap("No data certificate available.") }

        // Count bound, then byte bound: stop before the reply could pass maxReplyBytes, but
        // always return at least one message so that the gateway makes progress.
        let countLimit = max(1, parameters.maxNumberOfReturnedMessages)
        var end = start
        var bytes = certificate.count + 256
        while end < queue.count && end - start < countLimit {
            let message = queue[end]
            // Candid record + witness path (label, leaf hash and ~log2 n pruned siblings).
            let cost = message.output.content.count + 2 * message.output.key.utf8.count
                + message.output.clientKey.clientPrincipal.bytes.count + 64 + 40 * depth(queue.count)
            if end > start && bytes + cost > parameters.maxReplyBytes { break }
            bytes += cost
            end += 1
        }
        var messages = [CanisterOutputMessage]()
        messages.reserveCapacity(end - start)
        for index in start..<end { messages.append(queue[index].output) }
        let witness = witness(gateway: caller, queueIndices: Array(start..<end)).encoded(selfDescribe: true)
        return .ok(CanisterOutputCertifiedMessages(
            messages: messages, cert: certificate, tree: witness, isEndOfQueue: end == queue.count))
    }

    private func depth(_ count: Int) -> Int {
        var depth = 1
        var n = count
        while n > 1 { n = (n + 1) / 2; depth += 1 }
        return depth + 8
    }

    // MARK: - Library API (§3.4)

    /// `send(client_principal, candid_bytes)`: queues an application message.
    public mutating func send(to principal: Principal, _ content: [UInt8], now: UInt64) -> CanisterWsResult {
        guard let key = currentKey[principal] else {
            return .err("Client with principal \(principal) doesn't have an open connection")
        }
        return queueMessage(to: key, content: content, isServiceMessage: false, now: now)
    }

    /// `close(client_principal)`: queues `CloseMessage { ClosedByApplication }` and removes the
    /// client.
    public mutating func close(_ principal: Principal, now: UInt64) -> CanisterWsResult {
        guard let key = currentKey[principal] else {
            return .err("Client with principal \(principal) doesn't have an open connection")
        }
        removeClient(key, reason: .closedByApplication, now: now)
        return .ok
    }

    /// `wipe()` (tests): removes every client (with `on_close` events) and clears all state;
    /// parameters and timers stay.
    public mutating func wipe(now: UInt64) {
        for key in sortedKeys(clients.keys) { removeClient(key, reason: nil, now: now) }
        clients = [:]
        currentKey = [:]
        waitingForKeepAlive = []
        gateways = [:]
        gatewaysToRemove = [:]
        certificationDirty = true
    }

    // MARK: - Timers (§4.8)

    /// Runs every timer event due at `now` (the global timer fired). Afterwards re-arm the
    /// global timer with `nextTimerDeadline`.
    public mutating func runTimers(now: UInt64) {
        while true {
            let ackDue = nextAckTick.map { $0 <= now } ?? false
            let checkDue = keepAliveChecks.first.map { $0 <= now } ?? false
            if !ackDue && !checkDue { return }
            // Earliest event first; on a tie the check of the previous round goes first.
            if checkDue && (!ackDue || keepAliveChecks[0] <= nextAckTick!) {
                keepAliveChecks.removeFirst()
                checkKeepAlive(now: now)
            } else {
                // An interval timer: the next tick is one interval after this one fired.
                nextAckTick = now &+ ackIntervalNs
                ackTick(now: now)
            }
        }
    }

    mutating func ackTick(now: UInt64) {
        for key in sortedKeys(clients.keys) {
            guard let client = clients[key] else { continue }
            let ack = WebsocketServiceMessageContent.ackMessage(lastIncomingSequenceNum: client.expectedIncoming - 1)
            if case .ok = sendServiceMessage(ack, to: key, now: now) { waitingForKeepAlive.insert(key) }
        }
        let check = now &+ milliseconds(WebSocketCanisterCore.clientKeepAliveTimeoutMs)
        var index = keepAliveChecks.count
        while index > 0 && keepAliveChecks[index - 1] > check { index -= 1 }
        keepAliveChecks.insert(check, at: index)
    }

    mutating func checkKeepAlive(now: UInt64) {
        // 1. Gateways empty for more than one interval go, with their queues and keys.
        var expired = [Principal]()
        for (gateway, since) in gatewaysToRemove where now > since && now - since > ackIntervalNs {
            expired.append(gateway)
        }
        for gateway in expired {
            gatewaysToRemove[gateway] = nil
            if let removed = gateways.removeValue(forKey: gateway), !removed.queue.isEmpty { certificationDirty = true }
        }
        // 2. Clients that did not answer the last ack within the timeout are closed.
        let timeout = milliseconds(WebSocketCanisterCore.clientKeepAliveTimeoutMs)
        for key in sortedKeys(waitingForKeepAlive) {
            guard let client = clients[key] else { continue }
            if now > client.lastKeepAlive && now - client.lastKeepAlive > timeout {
                removeClient(key, reason: .keepAliveTimeout, now: now)
            }
        }
    }

    // MARK: - Internals

    private func sortedKeys<S: Sequence>(_ keys: S) -> [ClientKey] where S.Element == ClientKey {
        var sorted = Array(keys)
        sorted.sort { a, b in
            a.clientPrincipal == b.clientPrincipal ? a.clientNonce < b.clientNonce : a.clientPrincipal < b.clientPrincipal
        }
        return sorted
    }

    /// Removes a client; with a reason, first queues the `CloseMessage` (§1.4.4).
    mutating func removeClient(_ key: ClientKey, reason: CloseMessageReason?, now: UInt64) {
        if let reason { _ = sendServiceMessage(.closeMessage(reason: reason), to: key, now: now) }
        waitingForKeepAlive.remove(key)
        if currentKey[key.clientPrincipal] == key { currentKey[key.clientPrincipal] = nil }
        if let client = clients.removeValue(forKey: key), var gateway = gateways[client.gateway] {
            gateway.clientCount -= 1
            if gateway.clientCount == 0 { gatewaysToRemove[client.gateway] = now }
            gateways[client.gateway] = gateway
        }
        events.append(.close(clientPrincipal: key.clientPrincipal))
    }

    mutating func sendServiceMessage(_ content: WebsocketServiceMessageContent, to key: ClientKey, now: UInt64) -> CanisterWsResult {
        queueMessage(to: key, content: content.encoded(), isServiceMessage: true, now: now)
    }

    /// `_ws_send` (§4.3).
    mutating func queueMessage(to key: ClientKey, content: [UInt8], isServiceMessage: Bool, now: UInt64) -> CanisterWsResult {
        guard var client = clients[key] else { return .err("Client with key \(key) doesn't have an open connection") }
        var gateway = gateways[client.gateway] ?? RegisteredGateway()
        let nonce = gateway.nextNonce
        gateway.nextNonce += 1
        let messageKey = MessageKey.format(gateway: client.gateway, nonce: nonce)
        client.outgoing += 1
        clients[key] = client

        let bytes = WebsocketMessage(
            clientKey: key, sequenceNum: client.outgoing, timestamp: now, isServiceMessage: isServiceMessage,
            content: content
        ).cborEncoded()

        // Cleanup (§4.7): at most 5 of the oldest, while strictly older than one interval.
        for _ in 0..<WebSocketCanisterCore.messagesToDeletePerSend {
            guard let first = gateway.queue.first, now > first.timestamp, now - first.timestamp > ackIntervalNs else { break }
            gateway.queue.removeFirst()
            gateway.chunkHashes[first.nonce / MessageCertification.chunkSize] = nil
        }
        let contentHash = SHA256.hash(bytes)
        gateway.queue.append(QueuedMessage(
            output: CanisterOutputMessage(clientKey: key, key: messageKey, content: bytes),
            nonce: nonce, timestamp: now, contentHash: contentHash,
            labeledHash: MessageCertification.labeledHash(key: Array(messageKey.utf8), contentHash: contentHash)))
        gateway.chunkHashes[nonce / MessageCertification.chunkSize] = nil
        gateways[client.gateway] = gateway
        certificationDirty = true
        return .ok
    }
}
