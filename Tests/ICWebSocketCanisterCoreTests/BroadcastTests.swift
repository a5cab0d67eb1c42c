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
        #expect(a.core.queue(of: gateway1).map(\.output) == b.core.queue(of: gateway1).map(\.output))
        #expect(a.core.queue(of: gateway2).map(\.output) == b.core.queue(of: gateway2).map(\.output))
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
            var messages = [CanisterOutputMessage]()
            for index in 0..<count {
                let client = ClientKey(clientPrincipal: principal(UInt8(index % 200)), clientNonce: random.next())
                let content = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                messages.append(CanisterOutputMessage(
                    clientKey: client, key: MessageKey.format(gateway: gateway1, nonce: UInt64(index) * 977), content: content))
            }
            for isEnd in [true, false] {
                let batch = CanisterOutputCertifiedMessages(
                    messages: messages, cert: (0..<Int.random(in: 0...2_000, using: &random)).map { UInt8(truncatingIfNeeded: $0) },
                    tree: [0xd9, 0xd9, 0xf7, 0x83], isEndOfQueue: isEnd)
                let direct = GetMessagesReply.encode(batch)
                #expect(direct == (try Candid.encode(CanisterWsGetMessagesResult.ok(batch))))
                #expect(try Candid.decode(CanisterWsGetMessagesResult.self, from: direct) == .ok(batch))
            }
        }
    }

    @Test("the direct variant { Ok; Err : text } reply is the generic encoding")
    func resultReply() throws {
        for result in [CanisterWsResult.ok, .err(""), .err("Client with principal x doesn't have an open connection")] {
            #expect(WsResultReply.encode(result) == (try Candid.encode(result)))
        }
    }
}
