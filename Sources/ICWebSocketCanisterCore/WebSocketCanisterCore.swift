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
    /// Whether `ws_open` may ask for a resumable session (docs/SESSION-RESUMPTION.md). `false`
    /// gives the reference behaviour: `resumable` is ignored and `ws_resume` refused.
    public var allowsSessionResumption: Bool
    /// How long a resumable client's session is kept after its connection dropped (default
    /// 120 s; a `ws_resume` envelope is valid for at most 5 minutes anyway).
    public var resumeGracePeriodMs: UInt64
    /// At most this many unconfirmed messages are kept per resumable client (default 1 000)…
    public var maxReplayMessages: Int
    /// …and at most this many bytes of them (default 256 KiB). The oldest go first: a client
    /// that had not verified them can no longer resume (its `ws_resume` is refused, and it opens
    /// a new session).
    public var maxReplayBytes: Int

    public init(
        maxNumberOfReturnedMessages: Int = 50, sendAckIntervalMs: UInt64 = 300_000,
        maxReplyBytes: Int = 3 * 1024 * 1024 - 64 * 1024, allowsSessionResumption: Bool = true,
        resumeGracePeriodMs: UInt64 = 120_000, maxReplayMessages: Int = 1_000, maxReplayBytes: Int = 256 * 1024
    ) {
        self.maxNumberOfReturnedMessages = maxNumberOfReturnedMessages
        self.sendAckIntervalMs = sendAckIntervalMs
        self.maxReplyBytes = maxReplyBytes
        self.allowsSessionResumption = allowsSessionResumption
        self.resumeGracePeriodMs = resumeGracePeriodMs
        self.maxReplayMessages = maxReplayMessages
        self.maxReplayBytes = maxReplayBytes
    }
}

/// A failure that must trap the current message (the text becomes the reject message).
public struct CanisterTrap: Error, Equatable, Sendable {
    public var message: UTF8Text
    public init(_ message: UTF8Text) { self.message = message }
}

/// What the application's handlers are told. The core queues events instead of calling
/// handlers in the middle of a state change, so a handler may call `send`/`close` again.
public enum WebSocketEvent: Equatable, Sendable {
    case open(clientPrincipal: Principal)
    case message(clientPrincipal: Principal, content: [UInt8])
    case close(clientPrincipal: Principal)
    /// A resumable client continued its session through a gateway (`ws_resume`).
    case resume(clientPrincipal: Principal)
    /// A line for the canister's log (`debug_print`): resumable sessions detached, resumed,
    /// expired.
    case log(UTF8Text)
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
        /// The connection's key (its principal is the one `clients` files it under).
        let key: ClientKey
        var gateway: Principal
        var lastKeepAlive: UInt64
        /// Next client → canister sequence number expected (starts at 1).
        var expectedIncoming: UInt64
        /// Last canister → client sequence number used (starts at 0).
        var outgoing: UInt64
        /// Has been sent an ack, so the keep-alive check looks at it (a flag here rather than a
        /// `Set<ClientKey>` beside: that set's code was ~8 KB of every canister module).
        var awaitingKeepAlive = false
        /// Set for a client that opened with `resumable = opt true` (SessionResumption.swift).
        var resumption: ResumableSession?
        /// Derived from the key (made when the client is registered; not saved on upgrade).
        var contentHashPrefix: ContentHashPrefix
    }

    struct RegisteredGateway: Sendable {
        var queue = MessageQueue()
        var nextNonce: UInt64 = 0
        var clientCount: UInt64 = 0
        /// `<gateway principal text>_`: the prefix of its message keys, and its sort key in `T`.
        var keyPrefix: [UInt8]
        /// The certified tree of the queued messages, hashed incrementally.
        var tree = NonceTree()
        /// A SHA-256 state that has absorbed `ds("ic-hashtree-labeled") · keyPrefix`: every
        /// message's labeled hash continues from it (for most gateways its first block is
        /// compressed once here instead of once per message).
        var labeledHashPrefix: SHA256
        /// When its last client went (ns): it is removed, with its queue, one ack interval later
        /// unless a client opens through it again. (A field rather than a `[Principal: UInt64]`
        /// beside: one hash-table specialisation less in every module.)
        var emptySince: UInt64?

        init(_ principal: Principal) {
            keyPrefix = MessageCertification.gatewayOrderKey(principal)
            labeledHashPrefix = SHA256()
            labeledHashPrefix.update(MessageCertification.labeledDomain)
            labeledHashPrefix.update(keyPrefix)
        }

        /// Queues and certifies one message at `nonce` (the tree's tail): the one place that
        /// builds a message's key and certified leaf, for `send` and for the upgrade restore.
        /// Not inlined: one copy serves both (a call costs nothing next to its two hashes).
        @inline(never)
        mutating func append(clientKey: ClientKey, content: [UInt8], contentHash: [UInt8], nonce: UInt64, timestamp: UInt64) {
            var labeled = labeledHashPrefix
            labeled.update(MessageKey.paddedDigits(nonce))
            labeled.update(MessageCertification.leafHash(contentHash))
            let labeledHash = labeled.finalize()
            queue.append(
                QueuedMessage(clientKey: clientKey, content: content, nonce: nonce, timestamp: timestamp, contentHash: contentHash))
            tree.append(nonce: nonce, labeledHash: labeledHash)
        }
    }

    // `internal(set)`: the saved-sessions restore (SessionSnapshot.swift) sets them too.
    public internal(set) var parameters: WebSocketParameters
    /// By principal: a principal has at most one connection (§3.3; `ws_open` replaces the old
    /// one), so one table answers both "the client with this key" (``registered(_:)``) and "the
    /// key of this principal" — and links one hash-table specialisation, not two.
    var clients: [Principal: RegisteredClient] = Dictionary()
    var gateways: [Principal: RegisteredGateway] = Dictionary()
    /// Named groups of connected clients (`join`/`leave`), sorted by the UTF-8 bytes of the
    /// name, each with its members sorted: no `String` keys (they would link the Unicode
    /// normalisation tables) and no new hash-table specialisations (module size). A client
    /// leaves all of them when its connection goes.
    var groups: [Group] = []

    struct Group: Sendable {
        var name: [UInt8]
        var members: [Principal]
    }

    /// Next ack tick (ns), if the ack timer runs.
    public internal(set) var nextAckTick: UInt64?
    /// Pending keep-alive checks (ns), earliest first.
    public internal(set) var keepAliveChecks: [UInt64] = []
    /// When each detached resumable client's grace period ends (ns), earliest first.
    var resumeDeadlines: [(deadline: UInt64, key: ClientKey)] = []

    var certifiedRoot: [UInt8]
    var certificationDirty = false
    var events: [WebSocketEvent] = []

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

    /// After a restore from saved sessions (`init(restoringSnapshot:)`): sets the new module's
    /// parameters and keeps the saved ack tick and keep-alive checks, so the ack schedule the
    /// clients see goes on as if there had been no upgrade (a tick missed during the upgrade
    /// runs as soon as the timer fires). Starts the ack timer only if none was saved.
    public mutating func resume(parameters: WebSocketParameters, now: UInt64) throws(CanisterTrap) {
        let checks = keepAliveChecks
        let tick = nextAckTick
        try start(parameters: parameters, now: now)
        keepAliveChecks = checks
        if let tick { nextAckTick = tick }
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
    public func clientKey(of principal: Principal) -> ClientKey? { clients[principal]?.key }

    /// Whether a key is registered.
    public func isRegistered(_ key: ClientKey) -> Bool { registered(key) != nil }

    /// All registered client keys, sorted (by principal: each has one).
    public var registeredClients: [ClientKey] { clientPrincipals.map { clients[$0]!.key } }

    /// The principals of all registered clients, sorted: whom a broadcast to everyone goes to.
    public var clientPrincipals: [Principal] { WebSocketCanisterCore.sortedPrincipals(clients.keys) }

    /// The client registered with exactly this key.
    func registered(_ key: ClientKey) -> RegisteredClient? {
        guard let client = clients[key.clientPrincipal], client.key.clientNonce == key.clientNonce else { return nil }
        return client
    }

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
        if let expiry = resumeDeadlines.first?.deadline { deadline = min(deadline ?? expiry, expiry) }
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
        var list = [Principal]()
        for (gateway, registered) in gateways where !registered.tree.isEmpty { list.append(gateway) }
        WebSocketCanisterCore.sort(&list) { gateways[$0]!.keyPrefix.lexicographicallyPrecedes(gateways[$1]!.keyPrefix) }
        return list
    }

    /// The digest of `T`: a balanced fork tree over the gateways' trees, each brought up to
    /// date (only the paths touched since the last time are re-hashed).
    private mutating func gatewaysDigest() -> [UInt8] {
        let ordered = certifiedGateways()
        var digests = [[UInt8]]()
        digests.reserveCapacity(ordered.count)
        for principal in ordered {
            gateways[principal]!.tree.update()
            digests.append(gateways[principal]!.tree.rootHash!)
        }
        return MessageCertification.forkDigest(0..<digests.count) { digests[$0] }
    }

    /// The witness `Labeled("websocket", W)` for messages of one gateway (queue indices,
    /// sorted). Every tree is up to date (`certifiedData()` ran after the last change).
    private func witness(gateway principal: Principal, queueIndices: [Int]) -> HashTree {
        let ordered = certifiedGateways()
        guard let position = ordered.firstIndex(of: principal), let target = gateways[principal] else {
            return .labeled(MessageKey.certificationLabel, .pruned(HashTree.emptyHash))
        }
        let queue = target.queue
        let head = queue[0].nonce
        var nonces = [UInt64]()
        nonces.reserveCapacity(queueIndices.count)
        for index in queueIndices { nonces.append(queue[index].nonce) }
        let revealGateway: (Int, ArraySlice<Int>) -> HashTree = { _, _ in
            target.tree.witness(requested: nonces[...]) { nonce in
                let message = queue[Int(nonce - head)]
                return .labeled(message.keyBytes(prefix: target.keyPrefix), .leaf(message.contentHash))
            }
        }
        let top = MessageCertification.forkWitness(
            0..<ordered.count, requested: [position][...],
            digest: { self.gateways[ordered[$0]]!.tree.rootHash! }, reveal: revealGateway)
        return .labeled(MessageKey.certificationLabel, top)
    }

    /// The certified data recomputed without any cached hash (for tests of the caches).
    public func certifiedDataFromScratch() -> [UInt8] { certifiedTreeFromScratch().reconstruct() }

    /// The whole certified tree `Labeled("websocket", T)` with every message revealed, built
    /// from the queues alone (for tests: its root must be the certified data, and its
    /// `witness(for:)` the witness `ws_get_messages` returns).
    public func certifiedTreeFromScratch() -> HashTree {
        var subtrees = [HashTree]()
        for principal in certifiedGateways() {
            let queue = gateways[principal]!.queue
            let head = queue[0].nonce
            // The key from the gateway's principal, not from the cached prefix the tree uses.
            subtrees.append(
                NonceTree.treeFromScratch(head: head, tail: head + UInt64(queue.count)) { nonce in
                    let message = queue[Int(nonce - head)]
                    return .labeled(Array(MessageKey.format(gateway: principal, nonce: nonce).utf8), .leaf(message.contentHash))
                }!)
        }
        func balanced(_ items: ArraySlice<HashTree>) -> HashTree {
            switch items.count {
            case 0: return .empty
            case 1: return items[items.startIndex]
            default:
                let middle = items.startIndex + items.count / 2
                return .fork(balanced(items[..<middle]), balanced(items[middle...]))
            }
        }
        return .labeled(MessageKey.certificationLabel, balanced(subtrees[...]))
    }

    // MARK: - Methods of the Candid interface (§3.3)

    /// `ws_open`.
    public mutating func wsOpen(caller: Principal, _ args: CanisterWsOpenArguments, now: UInt64) -> WebSocketResult {
        if caller.isAnonymous { return .err("Anonymous principal is not allowed") }
        let key = ClientKey(clientPrincipal: caller, clientNonce: args.clientNonce)
        if registered(key) != nil { return .err("Client with key \(key) already has an open connection") }
        // One connection per principal: the old one goes silently (§3.3 step 3).
        if let old = clients[caller]?.key { removeClient(old, reason: nil, now: now) }

        clients[caller] = RegisteredClient(
            key: key, gateway: args.gatewayPrincipal, lastKeepAlive: now, expectedIncoming: 1, outgoing: 0,
            resumption: args.resumable == true && parameters.allowsSessionResumption ? ResumableSession() : nil,
            contentHashPrefix: ContentHashPrefix(key))
        countClient(on: args.gatewayPrincipal)

        _ = sendServiceMessage(.openMessage(clientKey: key), to: key, now: now)
        events.append(.open(clientPrincipal: caller))
        return .ok
    }

    /// `ws_message`; the second (`opt AppMessage`) argument is ignored.
    public mutating func wsMessage(caller: Principal, _ args: CanisterWsMessageArguments, now: UInt64) -> WebSocketResult {
        let message = args.msg
        guard var client = clients[caller] else {
            return .err("Client with principal \(caller) doesn't have an open connection")
        }
        let key = client.key
        if message.clientKey != key {
            return .err("Client with principal \(message.clientKey.clientPrincipal) has a different key than the one used in the message")
        }
        let expected = client.expectedIncoming
        if message.sequenceNum < expected && client.resumption != nil {
            // A copy relayed by the previous gateway executing after a resume re-sent it, or
            // the other way round: whichever came first counted (docs/SESSION-RESUMPTION.md).
            return .err(
                "\(CanisterWsResumeArguments.duplicateRefusalPrefix) \(message.sequenceNum) (expected \(expected)); ignored")
        }
        if message.sequenceNum != expected {
            removeClient(key, reason: .wrongSequenceNumber, now: now)
            return .err("Expected incoming sequence number \(expected) but got \(message.sequenceNum)")
        }
        client.expectedIncoming += 1
        clients[caller] = client
        if message.isServiceMessage {
            let content: WebsocketServiceMessageContent
            do {
                content = try WebsocketServiceMessageContent.decode(message.content)
            } catch {
                return .err("Error decoding service message content: \(error)")
            }
            switch content {
            case .keepAliveMessage(let confirmed):
                clients[caller]?.lastKeepAlive = now
                confirmReceived(key, upTo: confirmed)
                return .ok
            case .closeMessage where client.resumption != nil:
                // icws: a resumable client leaving for good (docs/SESSION-RESUMPTION.md). Without
                // it the gateway's ws_close would only detach the session for the grace period.
                // The CloseMessage back tells the client the canister has ended the session.
                events.append(.log("client \(key) left: it ended its session"))
                removeClient(key, reason: .closedByApplication, now: now)
                return .ok
            default:
                return .err("Invalid service message")
            }
        }
        events.append(.message(clientPrincipal: caller, content: message.content))
        return .ok
    }

    /// `ws_close`, called by a gateway.
    public mutating func wsClose(caller: Principal, _ args: CanisterWsCloseArguments, now: UInt64) -> WebSocketResult {
        guard gateways[caller] != nil else { return .err("Gateway with principal \(caller) is not registered") }
        let key = args.clientKey
        guard let client = registered(key) else { return .err("Client with key \(key) doesn't have an open connection") }
        guard client.gateway == caller else { return .err("Client with key \(key) was not registered to gateway \(caller)") }
        if var session = client.resumption {
            guard session.detachedSince == nil else { return .err("Client with key \(key) is already disconnected") }
            if session.expectsStaleClose {
                // The end of the connection the client resumed from, through this same gateway.
                session.expectsStaleClose = false
                clients[key.clientPrincipal]!.resumption = session
                return .ok
            }
            detach(key, now: now)
        } else {
            removeClient(key, reason: nil, now: now)
        }
        return .ok
    }

    /// `ws_get_messages` (a query). `certificate` is `ic0.data_certificate`, present only in a
    /// non-replicated query; like the references, it traps without one when there is something
    /// to return.
    public mutating func wsGetMessages(
        caller: Principal, _ args: CanisterWsGetMessagesArguments, certificate: [UInt8]?
    ) throws(CanisterTrap) -> CanisterWsGetMessagesResult {
        .ok(try poll(caller: caller, args, certificate: certificate)?.output ?? .empty)
    }

    /// The batch `ws_get_messages` returns (`nil`: the empty answer), before its keys are
    /// made text: the canister writes the reply from it directly (`GetMessagesReply`).
    public mutating func poll(
        caller: Principal, _ args: CanisterWsGetMessagesArguments, certificate: [UInt8]?
    ) throws(CanisterTrap) -> PolledBatch? {
        // The trees are up to date after every update; this only matters to callers that
        // poll before taking the certified data (tests).
        if certificationDirty { _ = certifiedData() }
        guard let gateway = gateways[caller] else { return nil }
        let queue = gateway.queue
        let start = queue.firstIndex(nonceAtLeast: args.nonce)
        let remaining = queue.count - start
        if remaining <= 0 { return nil }
        guard let certificate else { throw CanisterTrap("No data certificate available.") }

        // Count bound, then byte bound: stop before the reply could pass maxReplyBytes, but
        // always return at least one message so that the gateway makes progress.
        let countLimit = max(1, parameters.maxNumberOfReturnedMessages)
        var end = start
        var bytes = certificate.count + 256
        while end < queue.count && end - start < countLimit {
            let message = queue[end]
            // Candid record + witness path (label, leaf hash and ~log2 n pruned siblings).
            let cost =
                message.content.count + 2 * (gateway.keyPrefix.count + MessageKey.nonceDigits)
                + message.clientKey.clientPrincipal.bytes.count + 64 + 40 * depth(queue.count)
            if end > start && bytes + cost > parameters.maxReplyBytes { break }
            bytes += cost
            end += 1
        }
        var messages = [QueuedMessage]()
        messages.reserveCapacity(end - start)
        for index in start..<end { messages.append(queue[index]) }
        let witness = WitnessEncoding.encode(witness(gateway: caller, queueIndices: Array(start..<end)))
        return PolledBatch(
            messages: messages, keyPrefix: gateway.keyPrefix, cert: certificate, tree: witness, isEndOfQueue: end == queue.count)
    }

    private func depth(_ count: Int) -> Int {
        var depth = 1
        var n = count
        while n > 1 { n = (n + 1) / 2; depth += 1 }
        return depth + 8
    }

    // MARK: - Library API (§3.4)

    /// `send(client_principal, candid_bytes)`: queues an application message.
    public mutating func send(to principal: Principal, _ content: [UInt8], now: UInt64) -> WebSocketResult {
        guard let key = clients[principal]?.key else {
            return .err("Client with principal \(principal) doesn't have an open connection")
        }
        return queueMessage(to: key, content: content, isServiceMessage: false, now: now)
    }

    /// Queues one application message for several clients: the content is encoded once by
    /// the caller, every recipient gets its own sequence number and key, and all the new
    /// leaves are certified together at the end of the IC message (one pass over the tree).
    /// Principals without an open connection are skipped; returns how many were queued.
    @discardableResult
    public mutating func broadcast(_ content: [UInt8], to principals: [Principal], now: UInt64) -> Int {
        var queued = 0
        for principal in principals {
            guard let key = clients[principal]?.key else { continue }
            if case .ok = queueMessage(to: key, content: content, isServiceMessage: false, now: now) { queued += 1 }
        }
        return queued
    }

    /// Adds a connected client to a named group.
    public mutating func join(_ principal: Principal, group: UTF8Text) -> WebSocketResult {
        guard clients[principal] != nil else {
            return .err("Client with principal \(principal) doesn't have an open connection")
        }
        let name = group.utf8
        let index = groupIndex(name)
        if index == groups.count || groups[index].name != name {
            groups.insert(Group(name: name, members: []), at: index)
        }
        let position = WebSocketCanisterCore.insertionIndex(of: principal, in: groups[index].members)
        if position == groups[index].members.count || groups[index].members[position] != principal {
            groups[index].members.insert(principal, at: position)
        }
        return .ok
    }

    /// Removes a client from a named group (no effect if it is not a member).
    public mutating func leave(_ principal: Principal, group: UTF8Text) { leave(principal, group: group.utf8) }

    private mutating func leave(_ principal: Principal, group name: [UInt8]) {
        let index = groupIndex(name)
        guard index < groups.count, groups[index].name == name else { return }
        let position = WebSocketCanisterCore.insertionIndex(of: principal, in: groups[index].members)
        guard position < groups[index].members.count, groups[index].members[position] == principal else { return }
        groups[index].members.remove(at: position)
        if groups[index].members.isEmpty { groups.remove(at: index) }
    }

    /// The members of a group, sorted.
    public func members(of group: UTF8Text) -> [Principal] {
        let name = group.utf8
        let index = groupIndex(name)
        return index < groups.count && groups[index].name == name ? groups[index].members : []
    }

    /// The groups a client belongs to, sorted by their UTF-8 bytes.
    public func groups(of principal: Principal) -> [UTF8Text] {
        groupNames(of: principal).map { UTF8Text(utf8: $0) }
    }

    private func groupNames(of principal: Principal) -> [[UInt8]] {
        var names = [[UInt8]]()
        for group in groups {
            let position = WebSocketCanisterCore.insertionIndex(of: principal, in: group.members)
            if position < group.members.count && group.members[position] == principal { names.append(group.name) }
        }
        return names
    }

    /// The index of the group named `name`, or where it would be inserted.
    private func groupIndex(_ name: [UInt8]) -> Int {
        var low = 0
        var high = groups.count
        while low < high {
            let middle = (low + high) / 2
            if groups[middle].name.lexicographicallyPrecedes(name) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func insertionIndex(of principal: Principal, in members: [Principal]) -> Int {
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            if members[middle] < principal { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// `broadcast` to every member of a group (in principal order); returns how many were queued.
    @discardableResult
    public mutating func broadcast(_ content: [UInt8], toGroup group: UTF8Text, now: UInt64) -> Int {
        broadcast(content, to: members(of: group), now: now)
    }

    private mutating func leaveAllGroups(_ principal: Principal) {
        for name in groupNames(of: principal) { leave(principal, group: name) }
    }

    /// `close(client_principal)`: queues `CloseMessage { ClosedByApplication }` and removes the
    /// client.
    public mutating func close(_ principal: Principal, now: UInt64) -> WebSocketResult {
        guard let key = clients[principal]?.key else {
            return .err("Client with principal \(principal) doesn't have an open connection")
        }
        removeClient(key, reason: .closedByApplication, now: now)
        return .ok
    }

    /// `wipe()` (tests): removes every client (with `on_close` events) and clears all state;
    /// parameters and timers stay.
    public mutating func wipe(now: UInt64) {
        for key in registeredClients { removeClient(key, reason: nil, now: now) }
        clients = Dictionary()
        gateways = Dictionary()
        groups = []
        resumeDeadlines = []
        certificationDirty = true
    }

    // MARK: - Timers (§4.8)

    /// Runs every timer event due at `now` (the global timer fired). Afterwards re-arm the
    /// global timer with `nextTimerDeadline`.
    public mutating func runTimers(now: UInt64) {
        while true {
            let ackDue = nextAckTick.map { $0 <= now } ?? false
            let checkDue = keepAliveChecks.first.map { $0 <= now } ?? false
            if !ackDue && !checkDue {
                expireDetachedSessions(now: now)
                return
            }
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
        for principal in WebSocketCanisterCore.sortedPrincipals(clients.keys) {
            guard let client = clients[principal], client.resumption?.detachedSince == nil else { continue }
            let ack = WebsocketServiceMessageContent.ackMessage(lastIncomingSequenceNum: client.expectedIncoming - 1)
            if case .ok = sendServiceMessage(ack, to: client.key, now: now) { clients[principal]?.awaitingKeepAlive = true }
        }
        let check = now &+ milliseconds(WebSocketCanisterCore.clientKeepAliveTimeoutMs)
        var index = keepAliveChecks.count
        while index > 0 && keepAliveChecks[index - 1] > check { index -= 1 }
        keepAliveChecks.insert(check, at: index)
    }

    mutating func checkKeepAlive(now: UInt64) {
        // 1. Gateways empty for more than one interval go, with their queues and keys.
        var expired = [Principal]()
        for (gateway, registered) in gateways {
            if let since = registered.emptySince, now > since, now - since > ackIntervalNs { expired.append(gateway) }
        }
        for gateway in expired {
            if let removed = gateways.removeValue(forKey: gateway), !removed.queue.isEmpty { certificationDirty = true }
        }
        // 2. Clients that did not answer the last ack within the timeout are closed.
        let timeout = milliseconds(WebSocketCanisterCore.clientKeepAliveTimeoutMs)
        for principal in WebSocketCanisterCore.sortedPrincipals(clients.keys) {
            guard let client = clients[principal], client.awaitingKeepAlive else { continue }
            let key = client.key
            if now > client.lastKeepAlive && now - client.lastKeepAlive > timeout {
                // A resumable client may be behind a gateway that withholds its acks: it keeps
                // its session for a `ws_resume` through another one.
                if client.resumption != nil {
                    detach(key, now: now)
                    continue
                }
                removeClient(key, reason: .keepAliveTimeout, now: now)
            }
        }
    }

    // MARK: - Internals

    /// Removes a client; with a reason, first queues the `CloseMessage` (§1.4.4).
    mutating func removeClient(_ key: ClientKey, reason: CloseMessageReason?, now: UInt64) {
        if let reason { _ = sendServiceMessage(.closeMessage(reason: reason), to: key, now: now) }
        if let client = registered(key) {
            clients[key.clientPrincipal] = nil
            if !groups.isEmpty { leaveAllGroups(key.clientPrincipal) }
            if client.resumption?.detachedSince != nil {
                removeResumeDeadline(key)
            } else {
                releaseGateway(of: client, now: now)
            }
        }
        events.append(.close(clientPrincipal: key.clientPrincipal))
    }

    mutating func sendServiceMessage(_ content: WebsocketServiceMessageContent, to key: ClientKey, now: UInt64) -> WebSocketResult {
        queueMessage(to: key, content: content.encoded(), isServiceMessage: true, now: now)
    }

    /// `_ws_send` (§4.3).
    mutating func queueMessage(to key: ClientKey, content: [UInt8], isServiceMessage: Bool, now: UInt64) -> WebSocketResult {
        // One dictionary access (in place) instead of a read and a write.
        guard
            let (gatewayPrincipal, sequenceNum, resumable, detached, hashPrefix) = WebSocketCanisterCore.nextOutgoing(
                &clients[key.clientPrincipal], key)
        else {
            return .err("Client with key \(key) doesn't have an open connection")
        }
        let bytes = MessageContentEncoding.encode(
            clientKey: key, sequenceNum: sequenceNum, timestamp: now, isServiceMessage: isServiceMessage, content: content)
        let contentHash = hashPrefix.hash(bytes)
        if resumable {
            recordForReplay(key, sequenceNum: sequenceNum, content: bytes, contentHash: contentHash)
            // A disconnected client's messages wait in its replay for a `ws_resume`.
            if detached { return .ok }
        }
        enqueue(content: bytes, contentHash: contentHash, for: key, at: gatewayPrincipal, now: now)
        return .ok
    }

    /// Queues certified bytes for a gateway (the §4.7 cleanup first): `send`'s path, and a
    /// resume's re-queue of kept messages.
    mutating func enqueue(content bytes: [UInt8], contentHash: [UInt8], for key: ClientKey, at gatewayPrincipal: Principal, now: UInt64) {
        let expiry = ackIntervalNs
        // In place: a copy of the gateway would make its queue copy itself on append.
        WebSocketCanisterCore.withGateway(&gateways, gatewayPrincipal) { gateway in
            let nonce = gateway.nextNonce
            gateway.nextNonce += 1
            // Cleanup (§4.7): at most 5 of the oldest, while strictly older than one interval.
            for _ in 0..<WebSocketCanisterCore.messagesToDeletePerSend {
                guard let first = gateway.queue.first, now > first.timestamp, now - first.timestamp > expiry else { break }
                gateway.queue.removeFirst()
                gateway.tree.removeFirst()
            }
            gateway.append(clientKey: key, content: bytes, contentHash: contentHash, nonce: nonce, timestamp: now)
        }
        certificationDirty = true
    }

    /// Counts one more outgoing message of a client: its gateway, the new sequence number,
    /// whether it is resumable and detached, and its content-hash prefix.
    private static func nextOutgoing(
        _ client: inout RegisteredClient?, _ key: ClientKey
    ) -> (Principal, UInt64, Bool, Bool, ContentHashPrefix)? {
        guard client?.key.clientNonce == key.clientNonce else { return nil }
        client!.outgoing += 1
        let session = client!.resumption
        return (client!.gateway, client!.outgoing, session != nil, session?.detachedSince != nil, client!.contentHashPrefix)
    }

    /// One more client on `gateway` (registered on its first), which is no longer due to go.
    mutating func countClient(on gateway: Principal) {
        WebSocketCanisterCore.withGateway(&gateways, gateway) { registered in
            registered.clientCount += 1
            registered.emptySince = nil
        }
    }

    /// In place: a copy of the gateway would make its queue copy itself on write.
    private static func withGateway(
        _ gateways: inout [Principal: RegisteredGateway], _ principal: Principal, _ body: (inout RegisteredGateway) -> Void
    ) {
        body(&gateways[principal, default: RegisteredGateway(principal)])
    }
}
