import ICCore
import ICWebSocketCanisterCore
import ICWebSocketProtocol
import Testing

@Suite("ICWebSocketCanisterCore: broadcast, groups and the direct reply encoding")
struct BroadcastTests {
    @Test("broadcast queues one message per connected recipient, each with its own sequence number")
    func broadcastToClients() {
        var h = Harness()
        h.open(clientA, via: gateway1)
        h.open(clientB, via: gateway2)
        h.open(clientC, via: gateway1)
        let stranger = principal(99)
        let queued = h.core.broadcast([7, 7, 7], to: [clientA, stranger, clientB, clientC], now: h.now)
        h.endOfMessage()
        #expect(queued == 3, "the principal without a connection is skipped")
        // Per client: the open message (sequence 1), then the broadcast (sequence 2).
        for (client, gateway) in [(clientA, gateway1), (clientB, gateway2), (clientC, gateway1)] {
            let mine = h.poll(gateway).messages.filter { $0.clientKey.clientPrincipal == client }
            #expect(mine.count == 2)
            #expect(decoded(mine[1]).sequenceNum == 2)
            #expect(decoded(mine[1]).content == [7, 7, 7])
            #expect(!decoded(mine[1]).isServiceMessage)
        }
        #expect(h.certifiedData == h.core.certifiedDataFromScratch())
    }

    @Test("a broadcast is the same as sending to each recipient in turn")
    func broadcastEqualsSends() {
        var a = Harness()
        var b = Harness()
        let clients = (0..<20).map { principal(UInt8(60 + $0)) }
        for (index, client) in clients.enumerated() {
            a.open(client, via: index % 3 == 0 ? gateway2 : gateway1)
            b.open(client, via: index % 3 == 0 ? gateway2 : gateway1)
        }
        a.core.broadcast([1, 2], to: clients, now: a.now)
        a.endOfMessage()
        for client in clients { _ = b.core.send(to: client, [1, 2], now: b.now) }
        b.endOfMessage()
        #expect(a.certifiedData == b.certifiedData)
        #expect(a.core.queue(of: gateway1).map(\.clientKey) == b.core.queue(of: gateway1).map(\.clientKey))
        #expect(a.core.queue(of: gateway1).map(\.content) == b.core.queue(of: gateway1).map(\.content))
        #expect(a.core.queue(of: gateway2).map(\.clientKey) == b.core.queue(of: gateway2).map(\.clientKey))
        #expect(a.core.queue(of: gateway2).map(\.content) == b.core.queue(of: gateway2).map(\.content))
    }

    @Test("groups: join, leave, broadcast to a group; a closed client leaves its groups")
    func groups() {
        var h = Harness()
        h.open(clientA)
        h.open(clientB)
        h.open(clientC)
        let joins = [
            h.core.join(clientA, group: "room"), h.core.join(clientB, group: "room"), h.core.join(clientB, group: "other"),
        ]
        #expect(joins == [.ok, .ok, .ok])
        let strangerJoin = h.core.join(principal(99), group: "room")
        #expect(strangerJoin != .ok, "only connected clients can join")
        #expect(h.core.members(of: "room") == [clientA, clientB].sorted())
        #expect(h.core.groups(of: clientB) == ["other", "room"])

        let queued = h.core.broadcast([5], toGroup: "room", now: h.now)
        #expect(queued == 2)
        h.endOfMessage()
        let recipients = Set(h.poll().messages.filter { !decoded($0).isServiceMessage }.map { $0.clientKey.clientPrincipal })
        #expect(recipients == [clientA, clientB])

        h.core.leave(clientA, group: "room")
        #expect(h.core.members(of: "room") == [clientB])
        _ = h.core.close(clientB, now: h.now)
        h.endOfMessage()
        #expect(h.core.members(of: "room").isEmpty)
        #expect(h.core.members(of: "other").isEmpty)
        #expect(h.core.groups(of: clientB).isEmpty)
        let none = h.core.broadcast([6], toGroup: "room", now: h.now)
        #expect(none == 0)
        // A reconnecting client starts in no group.
        h.open(clientB, nonce: 2)
        #expect(h.core.groups(of: clientB).isEmpty)
    }

    @Test("the direct ws_get_messages reply is byte for byte the generic Candid encoding")
    func replyEncoding() throws {
        var random = SplitMix(seed: 42)
        for count in [0, 1, 2, 7, 50] {
            var messages = [QueuedMessage]()
            for index in 0..<count {
                let client = ClientKey(clientPrincipal: principal(UInt8(index % 200)), clientNonce: random.next())
                let content = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                // Nonces of 1 to 20 digits.
                let nonce = index == count - 1 ? UInt64.max : UInt64(index) * 977
                messages.append(
                    QueuedMessage(clientKey: client, content: content, nonce: nonce, timestamp: 0, contentHash: SHA256.hash(content)))
            }
            for isEnd in [true, false] {
                let batch = PolledBatch(
                    messages: messages, keyPrefix: Array("\(gateway1)_".utf8),
                    cert: (0..<Int.random(in: 0...2_000, using: &random)).map { UInt8(truncatingIfNeeded: $0) },
                    tree: [0xd9, 0xd9, 0xf7, 0x83], isEndOfQueue: isEnd)
                #expect(batch.output.messages.map(\.key) == messages.map { MessageKey.format(gateway: gateway1, nonce: $0.nonce) })
                let direct = GetMessagesReply.encode(batch)
                #expect(direct == (try Candid.encode(CanisterWsGetMessagesResult.ok(batch.output))))
                #expect(try Candid.decode(CanisterWsGetMessagesResult.self, from: direct) == .ok(batch.output))
            }
        }
    }

    @Test("the empty ws_get_messages reply is the generic encoding of Ok with no messages")
    func emptyReply() throws {
        #expect(GetMessagesReply.empty == (try Candid.encode(CanisterWsGetMessagesResult.ok(.empty))))
    }
}

@Suite("ICWebSocketCanisterCore: ws_message's argument read at its wire types")
struct MessageArgumentsDecodingTests {
    @Test("decodes what the generic decoder decodes: random messages, with and without the second argument")
    func sameAsGeneric() throws {
        var random = SplitMix(seed: 7)
        for index in 0..<40 {
            let message = WebsocketMessage(
                clientKey: ClientKey(clientPrincipal: principal(UInt8(index)), clientNonce: random.next()),
                sequenceNum: random.next() % 1_000, timestamp: random.next(), isServiceMessage: index % 2 == 0,
                content: (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            let args = CanisterWsMessageArguments(msg: message)
            for bytes in [
                try Candid.encode(args), try Candid.encode(args, CandidNull?.none), ProtocolCandid.encodeWsMessage(message),
                try CandidEncoder.encode(
                    [args.candidValue(), .opt(.record([.field("text", "hi")]))],
                    types: [CanisterWsMessageArguments.candidType, .opt(.record([.field("text", String.self)]))]),
            ] {
                let direct = try ProtocolCandid.decodeWsMessageArguments(bytes)
                #expect(direct == args)
                #expect(direct == (try Candid.decode(CanisterWsMessageArguments.self, from: bytes)))
            }
        }
    }

    @Test("a subtype with an extra field is read; truncations, other types and garbage throw")
    func subtypesAndGarbage() throws {
        let message = WebsocketMessage(
            clientKey: ClientKey(clientPrincipal: clientA, clientNonce: 5), sequenceNum: 1, timestamp: 2,
            isServiceMessage: false, content: [1, 2, 3])
        let exact = try Candid.encode(CanisterWsMessageArguments(msg: message))
        for cut in 0..<exact.count {
            #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsMessageArguments(Array(exact[..<cut])) }
        }
        let extended = try CandidEncoder.encode(
            [
                .record([
                    .field(
                        "msg",
                        .record(sorting: [
                            .field("client_key", message.clientKey), .field("sequence_num", UInt64(1)), .field("timestamp", UInt64(2)),
                            .field("is_service_message", false), .field("content", CandidBlob([1, 2, 3])), .field("extra", "x"),
                        ]))
                ])
            ],
            types: [
                .record([
                    .field(
                        "msg",
                        .record([
                            .field("client_key", ClientKey.self), .field("sequence_num", UInt64.self), .field("timestamp", UInt64.self),
                            .field("is_service_message", Bool.self), .field("content", CandidBlob.self), .field("extra", String.self),
                        ]))
                ])
            ])
        #expect(try ProtocolCandid.decodeWsMessageArguments(extended).msg == message)
        #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsMessageArguments(try Candid.encode(UInt64(3))) }
        #expect(throws: CandidError.self) { try ProtocolCandid.decodeWsMessageArguments(Array("DIDL garbage".utf8)) }
    }
}

@Suite("ICWebSocketCanisterCore: the queued message's CBOR content")
struct MessageContentEncodingTests {
    @Test("byte for byte WebsocketMessage.cborEncoded(), across every CBOR head size")
    func sameAsCBOREncoder() {
        var random = SplitMix(seed: 11)
        let numbers: [UInt64] = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 0xffff_ffff, 0x1_0000_0000, .max]
        for index in 0..<60 {
            let message = WebsocketMessage(
                clientKey: ClientKey(
                    clientPrincipal: index % 7 == 0 ? Principal.anonymous : principal(UInt8(index)),
                    clientNonce: numbers[index % numbers.count]),
                sequenceNum: numbers[(index / 3) % numbers.count],
                timestamp: index % 2 == 0 ? random.next() : numbers[index % numbers.count],
                isServiceMessage: index % 3 == 0,
                content: (0..<[0, 1, 23, 24, 255, 256, 70_000][index % 7]).map { _ in UInt8.random(in: 0...255, using: &random) })
            #expect(
                MessageContentEncoding.encode(
                    clientKey: message.clientKey, sequenceNum: message.sequenceNum, timestamp: message.timestamp,
                    isServiceMessage: message.isServiceMessage, content: message.content) == message.cborEncoded())
        }
    }

    /// A client's cached hash prefix gives the hash of each of its messages: principals of 0
    /// to 29 bytes (key parts shorter than, equal to and longer than one 64-byte block),
    /// nonces of every CBOR head size, contents from empty to several blocks.
    @Test("ContentHashPrefix.hash equals SHA-256 of the whole message")
    func contentHashPrefix() throws {
        var random = SplitMix(seed: 12)
        let nonces: [UInt64] = [0, 23, 24, 300, 70_000, 0x1_0000_0000, .max]
        for principalLength in [0, 1, 10, 27, 28, 29] {
            let bytes = (0..<principalLength).map { _ in UInt8.random(in: 0...255, using: &random) }
            for nonce in nonces {
                let key = ClientKey(clientPrincipal: try Principal(bytes: bytes), clientNonce: nonce)
                let prefix = ContentHashPrefix(key)
                for size in [0, 1, 40, 63, 64, 65, 200, 1_000] {
                    let content = MessageContentEncoding.encode(
                        clientKey: key, sequenceNum: random.next() >> (random.next() % 64), timestamp: random.next(),
                        isServiceMessage: size % 2 == 0, content: (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) })
                    #expect(
                        prefix.hash(content) == SHA256.hash(content), "principal \(principalLength) B, nonce \(nonce), content \(size) B")
                }
            }
        }
    }
}
