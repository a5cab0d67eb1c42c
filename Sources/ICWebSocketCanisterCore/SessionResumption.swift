import ICCore
import ICWebSocketProtocol

/// What the canister keeps for a client that opened with `resumable = opt true`
/// (docs/SESSION-RESUMPTION.md): the messages it sent that the client has not confirmed, so that
/// a `ws_resume` through any gateway can send them again, and the state of a detached session.
struct ResumableSession: Sendable {
    /// One message as it was certified: its sequence number, the CBOR bytes of the
    /// `WebsocketMessage` and their SHA-256 (the bytes are shared with the gateway queue's copy).
    struct ReplayEntry: Sendable {
        var sequenceNum: UInt64
        var content: [UInt8]
        var contentHash: [UInt8]
    }

    /// Sent and not confirmed, in sequence order.
    var replay: [ReplayEntry] = []
    var replayBytes = 0
    /// The highest sequence number no longer in `replay` (confirmed, or dropped for room): a
    /// resume must start after it.
    var replayFloor: UInt64 = 0
    /// Set by `ws_close` (the connection dropped); cleared by `ws_resume`.
    var detachedSince: UInt64?
    /// The highest `resume_counter` accepted.
    var lastResumeCounter: UInt64 = 0
    /// The client resumed through the gateway it was still attached to: that gateway's
    /// `ws_close` for the connection the client left is still to come, and must not detach the
    /// resumed session (a `ws_close` names only the client key, not the connection).
    var expectsStaleClose = false

    /// Forgets every entry up to `sequenceNum` (the client confirmed it).
    mutating func confirm(upTo sequenceNum: UInt64) {
        var dropped = 0
        while dropped < replay.count && replay[dropped].sequenceNum <= sequenceNum {
            replayBytes -= replay[dropped].content.count
            dropped += 1
        }
        if dropped > 0 { replay.removeFirst(dropped) }
        replayFloor = max(replayFloor, sequenceNum)
    }

    /// Keeps a sent message, dropping the oldest entries beyond the bounds: a client confirms
    /// only now and then, and has most often verified them long ago; a resume from before what
    /// is kept is refused ("too far behind").
    mutating func record(_ entry: ReplayEntry, maxMessages: Int, maxBytes: Int) {
        replay.append(entry)
        replayBytes += entry.content.count
        if replay.count > maxMessages || replayBytes > maxBytes { trim(maxMessages: maxMessages, maxBytes: maxBytes) }
    }

    /// Drops the oldest entries until the replay is within its bounds.
    mutating func trim(maxMessages: Int, maxBytes: Int) {
        var dropped = 0
        while dropped < replay.count && (replay.count - dropped > maxMessages || replayBytes > maxBytes) {
            replayBytes -= replay[dropped].content.count
            replayFloor = replay[dropped].sequenceNum
            dropped += 1
        }
        if dropped > 0 { replay.removeFirst(dropped) }
    }
}

extension WebSocketCanisterCore {
    /// `ws_resume` (icws extension, docs/SESSION-RESUMPTION.md): continues the session of client
    /// key `{caller, client_nonce}` through `gateway_principal`. Re-queues for that gateway every
    /// kept message after `last_received_sequence_num` (same sequence numbers, new certified
    /// keys), then a `ResumeMessage` with the next incoming sequence number the canister expects.
    public mutating func wsResume(caller: Principal, _ args: CanisterWsResumeArguments, now: UInt64) -> WebSocketResult {
        if caller.isAnonymous { return .err("Anonymous principal is not allowed") }
        let key = ClientKey(clientPrincipal: caller, clientNonce: args.clientNonce)
        guard let client = registered(key) else {
            return .err("No session to resume for client \(key): it was closed, or its grace period ended")
        }
        guard var session = client.resumption else {
            return .err("Not resumable: the ws_open of client \(key) did not ask for a resumable session")
        }
        guard args.resumeCounter > session.lastResumeCounter else {
            return .err(
                "Stale resume_counter \(args.resumeCounter): not greater than the last accepted, \(session.lastResumeCounter) (a replayed ws_resume?), client \(key)"
            )
        }
        let last = args.lastReceivedSequenceNum
        guard last <= client.outgoing else {
            return .err("Impossible last_received_sequence_num \(last): beyond the last message sent, \(client.outgoing), client \(key)")
        }
        guard last >= session.replayFloor else {
            return .err(
                "Too far behind to resume from \(last): the messages after it are no longer kept (at most \(parameters.maxReplayMessages) messages or \(parameters.maxReplayBytes) bytes are), client \(key)"
            )
        }
        session.lastResumeCounter = args.resumeCounter
        session.confirm(upTo: last)
        let replayed = session.replay.count

        // Move the client to the new gateway (from the old one, if it never called ws_close).
        if session.detachedSince == nil {
            session.expectsStaleClose = client.gateway == args.gatewayPrincipal
            releaseGateway(of: client, now: now)
        } else {
            removeResumeDeadline(key)
        }
        session.detachedSince = nil
        let gateway = args.gatewayPrincipal
        countClient(on: gateway)
        var resumed = client
        resumed.gateway = gateway
        resumed.resumption = session
        resumed.lastKeepAlive = now
        resumed.awaitingKeepAlive = false
        clients[caller] = resumed

        for entry in session.replay {
            enqueue(content: entry.content, contentHash: entry.contentHash, for: key, at: gateway, now: now)
        }
        certificationDirty = true
        _ = sendServiceMessage(
            .resumeMessage(clientKey: key, nextIncomingSequenceNum: client.expectedIncoming), to: key, now: now)
        events.append(.resume(clientPrincipal: caller))
        events.append(
            .log(
                "client \(key) resumed through gateway \(gateway): \(replayed) message(s) sent again, next incoming \(client.expectedIncoming)"
            ))
        return .ok
    }

    /// `ws_close` for a resumable client: the session stays, detached, for the grace period.
    mutating func detach(_ key: ClientKey, now: UInt64) {
        guard let client = registered(key), var session = client.resumption, session.detachedSince == nil else { return }
        releaseGateway(of: client, now: now)
        session.detachedSince = now
        clients[key.clientPrincipal]!.resumption = session
        clients[key.clientPrincipal]!.awaitingKeepAlive = false
        insertResumeDeadline(now &+ parameters.resumeGracePeriodMs &* 1_000_000, key)
        events.append(
            .log("client \(key) disconnected; its session is kept for \(parameters.resumeGracePeriodMs / 1000) s for a ws_resume"))
    }

    /// The client no longer counts for its gateway (which goes one interval after its last).
    mutating func releaseGateway(of client: RegisteredClient, now: UInt64) {
        guard gateways[client.gateway] != nil else { return }
        gateways[client.gateway]!.clientCount -= 1
        if gateways[client.gateway]!.clientCount == 0 { gateways[client.gateway]!.emptySince = now }
    }

    /// Keeps `resumeDeadlines` sorted, earliest first.
    mutating func insertResumeDeadline(_ deadline: UInt64, _ key: ClientKey) {
        var index = resumeDeadlines.count
        while index > 0 && resumeDeadlines[index - 1].deadline > deadline { index -= 1 }
        resumeDeadlines.insert((deadline: deadline, key: key), at: index)
    }

    mutating func removeResumeDeadline(_ key: ClientKey) {
        if let index = resumeDeadlines.firstIndex(where: { $0.key == key }) { resumeDeadlines.remove(at: index) }
    }

    /// Removes detached clients whose grace period ended by `now`.
    mutating func expireDetachedSessions(now: UInt64) {
        while let first = resumeDeadlines.first, first.deadline <= now {
            resumeDeadlines.removeFirst()
            guard registered(first.key)?.resumption?.detachedSince != nil else { continue }
            events.append(.log("client \(first.key) was not resumed within \(parameters.resumeGracePeriodMs / 1000) s; removed"))
            removeClient(first.key, reason: nil, now: now)
        }
    }

    /// Keeps a message sent to a resumable client (the oldest go beyond the bounds).
    mutating func recordForReplay(_ key: ClientKey, sequenceNum: UInt64, content: [UInt8], contentHash: [UInt8]) {
        guard var session = registered(key)?.resumption else { return }
        // Out of the dictionary while it changes: an in-place edit through the optional
        // chain would copy the replay array.
        clients[key.clientPrincipal]!.resumption = nil
        session.record(
            ResumableSession.ReplayEntry(sequenceNum: sequenceNum, content: content, contentHash: contentHash),
            maxMessages: parameters.maxReplayMessages, maxBytes: parameters.maxReplayBytes)
        clients[key.clientPrincipal]!.resumption = session
    }

    /// The client confirmed canister messages up to `sequenceNum` (its keep-alive).
    mutating func confirmReceived(_ key: ClientKey, upTo sequenceNum: UInt64) {
        guard var session = registered(key)?.resumption else { return }
        clients[key.clientPrincipal]!.resumption = nil
        session.confirm(upTo: min(sequenceNum, clients[key.clientPrincipal]!.outgoing))
        clients[key.clientPrincipal]!.resumption = session
    }

    /// Whether a client is detached (its connection dropped and it was not resumed yet).
    public func isDetached(_ key: ClientKey) -> Bool { registered(key)?.resumption?.detachedSince != nil }

    /// How many messages are kept for a resumable client's next `ws_resume` (`nil`: not resumable).
    public func replayCount(of key: ClientKey) -> Int? { registered(key)?.resumption?.replay.count }
}
