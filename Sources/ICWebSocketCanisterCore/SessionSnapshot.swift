import ICCore
import ICWebSocketProtocol

/// The saved form of a `WebSocketCanisterCore`'s sessions, written to stable memory in
/// `canister_pre_upgrade` and read back in `canister_post_upgrade`, so that clients keep their
/// sessions across a canister upgrade (the reference libraries drop them all).
///
/// Layout, version 2 (all integers little-endian; docs/CANISTER-UPGRADES.md has the table):
///
/// ```
/// header (32 bytes)
///   0  magic "ICWSSESS"          8 bytes
///   8  layout version            u32 = 2 (1 is read too)
///  12  header size               u32 = 32
///  16  payload length            u64
///  24  CRC-32 of the payload     u32
///  28  reserved                  u32 = 0
/// payload
///   ack tick:     u8 present, u64 ns
///   keep-alive checks:           u32 n, n × u64 ns
///   gateways:     u32 n, each: principal, u64 next nonce, u64 client count,
///                 u32 m queued messages (nonces next − m ..< next), each:
///                 u64 timestamp, principal + u64 client nonce, 32-byte content hash, blob content
///   gateways to remove:          u32 n, each: principal, u64 since (ns)
///   clients:      u32 n, each: principal + u64 client nonce, gateway principal,
///                 u64 last keep-alive, u64 expected incoming, u64 last outgoing, u8 awaiting keep-alive,
///                 (version 2) u8 resumable; if 1: u64 replay floor, u64 last resume counter,
///                 u8 detached, u64 detached since, u64 grace deadline (ns), u8 expects stale close,
///                 u32 m kept messages, each: u64 sequence number, 32-byte content hash, blob content
///   groups:       u32 n, each: blob name, u32 m, m × principal (members, sorted)
/// principal: u8 length (≤ 29) + bytes; blob: u32 length + bytes
/// ```
///
/// Saved is exactly the state that outlives one IC message; the certified tree is not saved
/// but rebuilt from the queues on restore (its root is a function of them), so a restore can
/// never certify something else than what is queued. Pending handler events and the
/// parameters are not saved: events are empty between messages, and the new module passes its
/// parameters to `resume(parameters:now:)`.
public enum SessionSnapshot {
    /// The first 8 bytes of every snapshot: `ICWSSESS`.
    public static let magic: [UInt8] = [0x49, 0x43, 0x57, 0x53, 0x53, 0x45, 0x53, 0x53]
    /// The layout this code writes; it reads this one and version 1 (before resumable sessions).
    public static let version: UInt32 = 2
    static let oldestReadableVersion: UInt32 = 1
    /// Bytes before the payload.
    public static let headerSize = 32

    /// The total size (header included) of the snapshot that starts with `header` (its first
    /// `headerSize` bytes), or `nil` when `header` does not start with the magic (nothing was
    /// saved). Throws for a snapshot of another layout version or an impossible length.
    public static func totalSize(header: [UInt8]) throws(SessionSnapshotError) -> Int? {
        guard header.count >= headerSize else {
            throw SessionSnapshotError(
                .truncated, "saved sessions: the header is \(header.count) bytes, \(headerSize) are needed")
        }
        // A loop, not `elementsEqual`: its specialisation alone is 2 KB of canister code.
        for index in 0..<magic.count where header[index] != magic[index] { return nil }
        var reader = SnapshotReader(header)
        reader.position = 8
        let version = try reader.u32()
        guard version >= oldestReadableVersion && version <= SessionSnapshot.version else {
            throw SessionSnapshotError(
                .unsupportedVersion(version),
                "saved sessions have layout version \(version) but this module reads versions \(oldestReadableVersion) to \(SessionSnapshot.version): install a module that reads it, or upgrade with the option that clears the sessions"
            )
        }
        let declaredHeader = try reader.u32()
        guard declaredHeader == UInt32(headerSize) else {
            throw SessionSnapshotError(.malformed, "saved sessions: header size \(declaredHeader), expected \(headerSize)")
        }
        let payload = try reader.u64()
        // Wasm32 memory is 4 GiB: anything larger is garbage, and `Int` must not overflow.
        guard payload <= UInt64(UInt32.max) - UInt64(headerSize) else {
            throw SessionSnapshotError(.malformed, "saved sessions: payload length \(payload) is impossible")
        }
        return headerSize + Int(payload)
    }
}

/// Why saved sessions cannot be restored. `message` says what was found and what to do; the
/// CDK traps with it (so the upgrade is rolled back and the old module keeps running).
public struct SessionSnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The bytes end before the layout says they should.
        case truncated
        /// The bytes do not start with `SessionSnapshot.magic`.
        case badMagic
        /// A layout version this code does not read.
        case unsupportedVersion(UInt32)
        /// The payload's CRC-32 does not match: the bytes were damaged.
        case checksumMismatch
        /// The bytes pass the checksum but describe an impossible state.
        case malformed
    }

    public var kind: Kind
    public var message: UTF8Text
    public var description: String { message.description }

    public init(_ kind: Kind, _ message: UTF8Text) {
        self.kind = kind
        self.message = message
    }
}

extension WebSocketCanisterCore {
    /// The sessions as bytes (`SessionSnapshot` layout): call in `canister_pre_upgrade` and
    /// write the result to stable memory. Size: see docs/CANISTER-UPGRADES.md (about the queued
    /// messages' contents plus ~90 bytes per message and ~100 per client).
    public func snapshot() -> [UInt8] { snapshot(layoutVersion: SessionSnapshot.version) }

    /// `snapshot()` in an older layout (tests of reading it): version 1 has no resumable sessions.
    public func snapshot(layoutVersion: UInt32) -> [UInt8] {
        var writer = SnapshotWriter()
        writer.bytes.reserveCapacity(estimatedSnapshotSize())
        writer.bytes.append(contentsOf: SessionSnapshot.magic)
        writer.u32(layoutVersion)
        writer.u32(UInt32(SessionSnapshot.headerSize))
        writer.u64(0)  // payload length, patched below
        writer.u32(0)  // CRC-32, patched below
        writer.u32(0)

        writer.u8(nextAckTick == nil ? 0 : 1)
        writer.u64(nextAckTick ?? 0)
        writer.u32(UInt32(keepAliveChecks.count))
        for check in keepAliveChecks { writer.u64(check) }

        // Sorted, so that equal states give equal bytes (dictionary order is per instance).
        let gatewayOrder = WebSocketCanisterCore.sortedPrincipals(gateways.keys)
        writer.u32(UInt32(gatewayOrder.count))
        for principal in gatewayOrder {
            let gateway = gateways[principal]!
            writer.principal(principal)
            writer.u64(gateway.nextNonce)
            writer.u64(gateway.clientCount)
            writer.u32(UInt32(gateway.queue.count))
            for message in gateway.queue.all {
                writer.u64(message.timestamp)
                writer.principal(message.clientKey.clientPrincipal)
                writer.u64(message.clientKey.clientNonce)
                writer.bytes.append(contentsOf: message.contentHash)
                writer.blob(message.content)
            }
        }

        let removals = gatewayOrder.filter { gateways[$0]!.emptySince != nil }
        writer.u32(UInt32(removals.count))
        for principal in removals {
            writer.principal(principal)
            writer.u64(gateways[principal]!.emptySince!)
        }

        let principals = clientPrincipals
        writer.u32(UInt32(principals.count))
        for principal in principals {
            let client = clients[principal]!
            let key = client.key
            writer.principal(key.clientPrincipal)
            writer.u64(key.clientNonce)
            writer.principal(client.gateway)
            writer.u64(client.lastKeepAlive)
            writer.u64(client.expectedIncoming)
            writer.u64(client.outgoing)
            writer.u8(client.awaitingKeepAlive ? 1 : 0)
            if layoutVersion >= 2 {
                writer.resumableSession(client.resumption, deadline: resumeDeadlines.first { $0.key == key }?.deadline ?? 0)
            }
        }

        writer.u32(UInt32(groups.count))
        for group in groups {
            writer.blob(group.name)
            writer.u32(UInt32(group.members.count))
            for member in group.members { writer.principal(member) }
        }

        let payloadLength = writer.bytes.count - SessionSnapshot.headerSize
        writer.patch(u64: UInt64(payloadLength), at: 16)
        writer.patch(u32: CRC32.checksum(writer.bytes[SessionSnapshot.headerSize...]), at: 24)
        return writer.bytes
    }

    /// Principals in byte order: the order of saved gateways and clients and of the timers'
    /// walks over the clients. Every sort in the library is of `[Principal]` (one
    /// specialisation of the standard library's sort in the module, not one per element type).
    static func sortedPrincipals<S: Sequence>(_ principals: S) -> [Principal] where S.Element == Principal {
        var sorted = Array(principals)
        sort(&sorted, by: <)
        return sorted
    }

    /// The one place the library sorts; outlined so the standard library's sort is specialised
    /// once for `Principal`, not once per comparison closure.
    @inline(never)
    static func sort(_ principals: inout [Principal], by areInIncreasingOrder: (Principal, Principal) -> Bool) {
        principals.sort(by: areInIncreasingOrder)
    }

    /// An upper estimate of `snapshot().count` (to size the buffer once).
    func estimatedSnapshotSize() -> Int {
        var size = SessionSnapshot.headerSize + 64 + 8 * keepAliveChecks.count
        for gateway in gateways.values {
            size += 64
            for message in gateway.queue.all { size += 90 + message.content.count }
        }
        size += 40 * gateways.count + 110 * clients.count
        for client in clients.values {
            guard let session = client.resumption else { continue }
            size += 48
            for entry in session.replay { size += 44 + entry.content.count }
        }
        for group in groups { size += 8 + group.name.count + 30 * group.members.count }
        return size
    }

    /// Restores the sessions saved by `snapshot()`: clients, sequence numbers, queues (their
    /// nonces and certified tree), keep-alive and ack state, groups. Then call
    /// `resume(parameters:now:)`. Every byte is checked first (length, version, CRC-32, then
    /// the structure and the cross references), so damaged input throws instead of trapping
    /// later in the middle of a client's message.
    public init(restoringSnapshot bytes: [UInt8]) throws(SessionSnapshotError) {
        guard let total = try SessionSnapshot.totalSize(header: Array(bytes.prefix(SessionSnapshot.headerSize))) else {
            throw SessionSnapshotError(.badMagic, "saved sessions do not start with the magic ICWSSESS")
        }
        guard bytes.count >= total else {
            throw SessionSnapshotError(.truncated, "saved sessions are \(bytes.count) bytes, the header says \(total)")
        }
        guard bytes.count == total else {
            throw SessionSnapshotError(.malformed, "saved sessions are \(bytes.count) bytes, the header says \(total)")
        }
        var header = SnapshotReader(bytes)
        header.position = 8
        let version = try header.u32()
        header.position = 24
        let checksum = try header.u32()
        guard CRC32.checksum(bytes[SessionSnapshot.headerSize...]) == checksum else {
            throw SessionSnapshotError(.checksumMismatch, "saved sessions: the payload's CRC-32 does not match; the bytes are damaged")
        }

        self.init()
        var reader = SnapshotReader(bytes)
        reader.position = SessionSnapshot.headerSize
        try restoreTimers(&reader)
        let savedCounts = try restoreGateways(&reader)
        try restoreClients(&reader, savedCounts: savedCounts, version: version)
        try restoreGroups(&reader)
        guard reader.position == bytes.count else { throw reader.malformed("bytes after the last group") }
        certificationDirty = true
    }

    // The sections, one function each (`@inline(never)`: inlined into one initialiser they
    // cost more canister code, and the profile is easier to read).

    @inline(never)
    private mutating func restoreTimers(_ reader: inout SnapshotReader) throws(SessionSnapshotError) {
        let hasTick = try reader.u8()
        let tick = try reader.u64()
        guard hasTick <= 1 else { throw reader.malformed("the ack tick flag is not 0 or 1") }
        nextAckTick = hasTick == 1 ? tick : nil
        let checkCount = try reader.count(elementBytes: 8)
        var checks = [UInt64]()
        for _ in 0..<checkCount {
            let check = try reader.u64()
            guard checks.last.map({ $0 <= check }) ?? true else { throw reader.malformed("keep-alive checks out of order") }
            checks.append(check)
        }
        keepAliveChecks = checks
    }

    /// Gateways with their queues, then the gateways waiting for removal; returns the saved
    /// client count of each gateway (checked by `restoreClients`).
    @inline(never)
    private mutating func restoreGateways(_ reader: inout SnapshotReader) throws(SessionSnapshotError) -> [(Principal, UInt64)] {
        let gatewayCount = try reader.count(elementBytes: 21)
        // The saved client counts, checked against the clients below (recounted in place: a
        // separate `[Principal: UInt64]` would be one more hash-table specialisation).
        var savedCounts = [(Principal, UInt64)]()
        for _ in 0..<gatewayCount {
            let principal = try reader.principal()
            guard gateways[principal] == nil else { throw reader.malformed("a gateway is saved twice") }
            var gateway = RegisteredGateway(principal)
            gateway.nextNonce = try reader.u64()
            savedCounts.append((principal, try reader.u64()))
            let messageCount = try reader.count(elementBytes: 53)
            guard UInt64(messageCount) <= gateway.nextNonce else {
                throw reader.malformed("a gateway has more messages than nonces")
            }
            var nonce = gateway.nextNonce - UInt64(messageCount)
            for _ in 0..<messageCount {
                let timestamp = try reader.u64()
                let client = ClientKey(clientPrincipal: try reader.principal(), clientNonce: try reader.u64())
                let contentHash = try reader.bytes(32)
                let content = try reader.blob()
                gateway.append(clientKey: client, content: content, contentHash: contentHash, nonce: nonce, timestamp: timestamp)
                nonce += 1
            }
            gateways[principal] = gateway
        }

        let removalCount = try reader.count(elementBytes: 9)
        for _ in 0..<removalCount {
            let principal = try reader.principal()
            guard gateways[principal] != nil, gateways[principal]!.emptySince == nil else {
                throw reader.malformed("a gateway to remove is not registered, or is saved twice")
            }
            gateways[principal]!.emptySince = try reader.u64()
        }
        return savedCounts
    }

    @inline(never)
    private mutating func restoreClients(
        _ reader: inout SnapshotReader, savedCounts: [(Principal, UInt64)], version: UInt32
    ) throws(SessionSnapshotError) {
        let clientCount = try reader.count(elementBytes: 35)
        for _ in 0..<clientCount {
            let key = ClientKey(clientPrincipal: try reader.principal(), clientNonce: try reader.u64())
            let gateway = try reader.principal()
            let lastKeepAlive = try reader.u64()
            let expectedIncoming = try reader.u64()
            let outgoing = try reader.u64()
            let waiting = try reader.u8()
            guard waiting <= 1 else { throw reader.malformed("a keep-alive flag is not 0 or 1") }
            // One connection per principal (§3.3): `clients` is filed by principal.
            guard clients[key.clientPrincipal] == nil else {
                throw reader.malformed("a client principal has two connections")
            }
            guard expectedIncoming >= 1 else { throw reader.malformed("a client expects incoming sequence number 0") }
            let resumption = version >= 2 ? try restoreResumableSession(&reader, key: key, outgoing: outgoing) : nil
            // A detached client no longer counts for its last gateway, which may be gone.
            let detached = resumption?.detachedSince != nil
            guard detached || gateways[gateway] != nil else { throw reader.malformed("a client is on an unknown gateway") }
            clients[key.clientPrincipal] = RegisteredClient(
                key: key, gateway: gateway, lastKeepAlive: lastKeepAlive, expectedIncoming: expectedIncoming, outgoing: outgoing,
                awaitingKeepAlive: waiting == 1, resumption: resumption, contentHashPrefix: ContentHashPrefix(key))
            if !detached { gateways[gateway]!.clientCount += 1 }
        }
        // `removeClient` decrements the count: a wrong one would underflow (trap) later.
        for (principal, count) in savedCounts where gateways[principal]!.clientCount != count {
            throw reader.malformed("a gateway counts \(count) clients, \(gateways[principal]!.clientCount) are saved")
        }
    }

    /// A client's resumable-session fields (version 2); its grace deadline joins
    /// `resumeDeadlines` when it is detached.
    @inline(never)
    private mutating func restoreResumableSession(
        _ reader: inout SnapshotReader, key: ClientKey, outgoing: UInt64
    ) throws(SessionSnapshotError) -> ResumableSession? {
        let flag = try reader.u8()
        guard flag <= 1 else { throw reader.malformed("a resumable flag is not 0 or 1") }
        guard flag == 1 else { return nil }
        var session = ResumableSession()
        session.replayFloor = try reader.u64()
        session.lastResumeCounter = try reader.u64()
        let detached = try reader.u8()
        let since = try reader.u64()
        let deadline = try reader.u64()
        let staleClose = try reader.u8()
        guard detached <= 1, staleClose <= 1 else { throw reader.malformed("a detached or stale-close flag is not 0 or 1") }
        session.expectsStaleClose = staleClose == 1
        let entryCount = try reader.count(elementBytes: 44)
        var previous = session.replayFloor
        for _ in 0..<entryCount {
            let sequenceNum = try reader.u64()
            let contentHash = try reader.bytes(32)
            let content = try reader.blob()
            guard sequenceNum > previous, sequenceNum <= outgoing else {
                throw reader.malformed("a kept message's sequence number is out of order or beyond the last sent")
            }
            previous = sequenceNum
            session.replay.append(.init(sequenceNum: sequenceNum, content: content, contentHash: contentHash))
            session.replayBytes += content.count
        }
        if detached == 1 {
            session.detachedSince = since
            insertResumeDeadline(deadline, key)
        }
        return session
    }

    @inline(never)
    private mutating func restoreGroups(_ reader: inout SnapshotReader) throws(SessionSnapshotError) {
        let groupCount = try reader.count(elementBytes: 8)
        for _ in 0..<groupCount {
            let name = try reader.blob()
            guard groups.last.map({ $0.name.lexicographicallyPrecedes(name) }) ?? true else {
                throw reader.malformed("groups out of order")
            }
            let memberCount = try reader.count(elementBytes: 1)
            var members = [Principal]()
            for _ in 0..<memberCount {
                let member = try reader.principal()
                guard members.last.map({ $0 < member }) ?? true else { throw reader.malformed("group members out of order") }
                guard clients[member] != nil else { throw reader.malformed("a group member has no connection") }
                members.append(member)
            }
            guard !members.isEmpty else { throw reader.malformed("an empty group") }
            groups.append(Group(name: name, members: members))
        }
    }
}

/// Appends little-endian integers and length-prefixed byte strings. (`@inline(never)` on the
/// helpers: inlined at each of their call sites they made the restore 17 KB of canister code.)
struct SnapshotWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    @inline(never)
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    @inline(never)
    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    @inline(never)
    mutating func principal(_ principal: Principal) {
        bytes.append(UInt8(principal.bytes.count))
        bytes.append(contentsOf: principal.bytes)
    }

    @inline(never)
    mutating func blob(_ blob: [UInt8]) {
        u32(UInt32(blob.count))
        bytes.append(contentsOf: blob)
    }

    /// A client's resumable-session fields: a flag, then (if resumable) its state and kept messages.
    @inline(never)
    mutating func resumableSession(_ session: ResumableSession?, deadline: UInt64) {
        guard let session else { return u8(0) }
        u8(1)
        u64(session.replayFloor)
        u64(session.lastResumeCounter)
        u8(session.detachedSince == nil ? 0 : 1)
        u64(session.detachedSince ?? 0)
        u64(deadline)
        u8(session.expectsStaleClose ? 1 : 0)
        u32(UInt32(session.replay.count))
        for entry in session.replay {
            u64(entry.sequenceNum)
            bytes.append(contentsOf: entry.contentHash)
            blob(entry.content)
        }
    }

    mutating func patch(u32 value: UInt32, at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt32(8 * index)) }
    }

    mutating func patch(u64 value: UInt64, at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
    }
}

/// Reads what `SnapshotWriter` wrote; every read is bounds-checked and throws at the end.
struct SnapshotReader {
    let source: [UInt8]
    var position = 0

    init(_ source: [UInt8]) { self.source = source }

    var remaining: Int { source.count - position }

    @inline(never)
    func malformed(_ what: UTF8Text) -> SessionSnapshotError {
        SessionSnapshotError(.malformed, "saved sessions are malformed at byte \(position): \(what)")
    }

    private func need(_ count: Int) throws(SessionSnapshotError) {
        guard count <= remaining else {
            throw SessionSnapshotError(
                .truncated, "saved sessions end at byte \(source.count), \(count) more bytes were expected at byte \(position)")
        }
    }

    @inline(never)
    mutating func u8() throws(SessionSnapshotError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return source[position]
    }

    mutating func u32() throws(SessionSnapshotError) -> UInt32 {
        UInt32(truncatingIfNeeded: try littleEndian(byteCount: 4))
    }

    mutating func u64() throws(SessionSnapshotError) -> UInt64 {
        try littleEndian(byteCount: 8)
    }

    /// An unsigned little-endian integer of `byteCount` (≤ 8) bytes.
    @inline(never)
    private mutating func littleEndian(byteCount: Int) throws(SessionSnapshotError) -> UInt64 {
        try need(byteCount)
        var value: UInt64 = 0
        for index in 0..<byteCount { value |= UInt64(source[position + index]) << UInt64(8 * index) }
        position += byteCount
        return value
    }

    /// A u32 element count, checked against the bytes left (each element takes at least
    /// `elementBytes`), so a damaged count cannot make the decoder loop or allocate for long.
    @inline(never)
    mutating func count(elementBytes: Int) throws(SessionSnapshotError) -> Int {
        let count = Int(try u32())
        guard count <= remaining / elementBytes else {
            throw SessionSnapshotError(
                .truncated, "saved sessions announce \(count) items at byte \(position - 4), more than the \(remaining) bytes left can hold"
            )
        }
        return count
    }

    @inline(never)
    mutating func bytes(_ count: Int) throws(SessionSnapshotError) -> [UInt8] {
        try need(count)
        defer { position += count }
        return Array(source[position..<position + count])
    }

    @inline(never)
    mutating func blob() throws(SessionSnapshotError) -> [UInt8] {
        let count = Int(try u32())
        return try bytes(count)
    }

    @inline(never)
    mutating func principal() throws(SessionSnapshotError) -> Principal {
        let count = Int(try u8())
        guard count <= Principal.maxByteCount else { throw malformed("a principal longer than 29 bytes") }
        let raw = try bytes(count)
        do {
            return try Principal(bytes: raw)
        } catch {
            throw malformed("a principal longer than 29 bytes")
        }
    }
}

/// The upgrade option of the example canisters' `post_upgrade` argument,
/// `opt record { clear_sessions : bool }`: absent or `false` keeps the saved sessions,
/// `true` drops them as the reference libraries do (every client must open a new session).
public struct SessionUpgradeOptions: CandidCodable, Equatable, Sendable {
    /// Drop the saved sessions instead of restoring them.
    public var clearSessions: Bool

    public init(clearSessions: Bool) { self.clearSessions = clearSessions }

    public static var candidType: CandidType { .record([.field("clear_sessions", Bool.self)]) }
    public func candidValue() -> CandidValue { .record([.field("clear_sessions", clearSessions)]) }
    public init(candid value: CandidValue) throws(CandidError) {
        clearSessions = try value.record().field("clear_sessions")
    }
}

extension SessionUpgradeOptions {
    static let clearSessionsID: UInt32 = 0xf544_c08f  // clear_sessions

    /// `post_upgrade`'s argument, `opt record { clear_sessions : bool }`, read at its wire types
    /// (so a canister links no generic Candid decoder for it), with the generic decoder's
    /// answers: no argument, `null`, `reserved`, or an `opt` or value of another type (a record
    /// without a `clear_sessions : bool` field) is `nil`, by Candid's `opt` rule; a bare record
    /// is its value. An empty argument (no `DIDL` at all, what an install without an argument
    /// may send) is `nil` too. Malformed bytes throw.
    public static func decodeArgument(_ bytes: [UInt8]) throws(CandidError) -> SessionUpgradeOptions? {
        if bytes.isEmpty { return nil }
        var reader = try CandidWireReader(bytes)
        guard !reader.argumentTypes.isEmpty else { return nil }
        let table = reader.table
        let options: SessionUpgradeOptions?
        if let type = try reader.optional(
            try reader.nextArgument(),
            accepts: { CandidWireReader.recordField($0, id: clearSessionsID, in: table).map { table.kind($0) == .bool } ?? false })
        {
            var clear = false
            for field in try reader.beginRecord(type) {
                if field.id == clearSessionsID { clear = try reader.bool(field.type) } else { try reader.skip(field.type) }
            }
            reader.endRecord()
            options = SessionUpgradeOptions(clearSessions: clear)
        } else {
            options = nil
        }
        try reader.finish()
        return options
    }
}
