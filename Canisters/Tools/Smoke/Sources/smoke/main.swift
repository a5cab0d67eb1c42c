// Smoke test of the canister modules on WasmKit; see Package.swift.
import Foundation
import ICCore
import ICWebSocketProtocol
import WasmKit

struct CanisterTrapped: Error, CustomStringConvertible { var description: String }

final class Host {
    var arg: [UInt8] = []
    var caller: [UInt8] = []
    var reply: [UInt8] = []
    var replied = false
    var rejected: String? = nil
    var now: UInt64 = 1_700_000_000_000_000_000
    var timer: UInt64 = 0
    var certifiedData: [UInt8] = []
    var certificate: [UInt8]? = nil
    var log: [String] = []
    var stable: [UInt8] = []
    var instance: Instance!
    let store: Store

    init(path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let module = try parseWasm(bytes: bytes)
        store = Store(engine: Engine())
        var imports = Imports()
        func mem(_ caller: borrowing Caller) -> Memory { caller.instance!.exports[memory: "memory"]! }
        func read(_ caller: borrowing Caller, _ ptr: UInt32, _ len: UInt32) -> [UInt8] {
            mem(caller).withUnsafeMutableBufferPointer(offset: UInt(ptr), count: Int(len)) { Array($0) }
        }
        func write(_ caller: borrowing Caller, _ dst: UInt32, _ src: ArraySlice<UInt8>) {
            mem(caller).withUnsafeMutableBufferPointer(offset: UInt(dst), count: src.count) { buf in
                for (i, b) in src.enumerated() { buf[i] = b }
            }
        }
        func def(_ name: String, _ p: [WasmTypes.ValueType], _ r: [WasmTypes.ValueType], _ body: @escaping (borrowing Caller, [Value]) throws -> [Value]) {
            imports.define(module: "ic0", name: name, Function(store: store, parameters: p, results: r, body: body))
        }
        def("msg_arg_data_size", [], [.i32]) { [unowned self] _, _ in [.i32(UInt32(self.arg.count))] }
        def("msg_arg_data_copy", [.i32, .i32, .i32], []) { [unowned self] c, a in
            write(c, a[0].i32, self.arg[Int(a[1].i32)..<Int(a[1].i32 + a[2].i32)]); return [] }
        def("msg_caller_size", [], [.i32]) { [unowned self] _, _ in [.i32(UInt32(self.caller.count))] }
        def("msg_caller_copy", [.i32, .i32, .i32], []) { [unowned self] c, a in
            write(c, a[0].i32, self.caller[Int(a[1].i32)..<Int(a[1].i32 + a[2].i32)]); return [] }
        def("msg_reply_data_append", [.i32, .i32], []) { [unowned self] c, a in self.reply += read(c, a[0].i32, a[1].i32); return [] }
        def("msg_reply", [], []) { [unowned self] _, _ in self.replied = true; return [] }
        def("msg_reject", [.i32, .i32], []) { [unowned self] c, a in self.rejected = String(decoding: read(c, a[0].i32, a[1].i32), as: UTF8.self); return [] }
        def("trap", [.i32, .i32], []) { c, a in throw CanisterTrapped(description: String(decoding: read(c, a[0].i32, a[1].i32), as: UTF8.self)) }
        def("debug_print", [.i32, .i32], []) { [unowned self] c, a in self.log.append(String(decoding: read(c, a[0].i32, a[1].i32), as: UTF8.self)); return [] }
        def("time", [], [.i64]) { [unowned self] _, _ in [.i64(self.now)] }
        def("global_timer_set", [.i64], [.i64]) { [unowned self] _, a in let old = self.timer; self.timer = a[0].i64; return [.i64(old)] }
        def("certified_data_set", [.i32, .i32], []) { [unowned self] c, a in self.certifiedData = read(c, a[0].i32, a[1].i32); return [] }
        def("data_certificate_present", [], [.i32]) { [unowned self] _, _ in [.i32(self.certificate == nil ? 0 : 1)] }
        def("data_certificate_size", [], [.i32]) { [unowned self] _, _ in [.i32(UInt32(self.certificate!.count))] }
        def("data_certificate_copy", [.i32, .i32, .i32], []) { [unowned self] c, a in
            write(c, a[0].i32, self.certificate![Int(a[1].i32)..<Int(a[1].i32 + a[2].i32)]); return [] }
        def("stable64_size", [], [.i64]) { [unowned self] _, _ in [.i64(UInt64(self.stable.count / 65536))] }
        def("stable64_grow", [.i64], [.i64]) { [unowned self] _, a in
            let old = self.stable.count / 65536; self.stable += [UInt8](repeating: 0, count: Int(a[0].i64) * 65536); return [.i64(UInt64(old))] }
        def("stable64_write", [.i64, .i64, .i64], []) { [unowned self] c, a in
            let data = read(c, UInt32(a[1].i64), UInt32(a[2].i64)); for (i, b) in data.enumerated() { self.stable[Int(a[0].i64) + i] = b }; return [] }
        def("stable64_read", [.i64, .i64, .i64], []) { [unowned self] c, a in
            write(c, UInt32(a[0].i64), self.stable[Int(a[1].i64)..<Int(a[1].i64 + a[2].i64)]); return [] }
        instance = try module.instantiate(store: store, imports: imports)
    }

    @discardableResult
    func call(_ export: String, arg: [UInt8] = Candid.encode(), caller: Principal = .anonymous, query: Bool = false) throws -> [UInt8] {
        self.arg = arg
        self.caller = caller.bytes
        reply = []
        replied = false
        rejected = nil
        certificate = query ? Array("CERT".utf8) : nil
        guard let fn = instance.exports[function: export] else { throw CanisterTrapped(description: "no export \(export)") }
        _ = try fn.invoke([])
        return reply
    }

    func fireTimerIfDue() throws {
        if timer != 0 && timer <= now {
            timer = 0
            try call("canister_global_timer")
        }
    }
}

func check(_ condition: Bool, _ what: String) {
    print((condition ? "ok   " : "FAIL ") + what)
    if !condition { failures += 1 }
}
nonisolated(unsafe) var failures = 0

let dir = CommandLine.arguments[1]
let gateway = Principal.selfAuthenticating(derPublicKey: [1])
let client = Principal.selfAuthenticating(derPublicKey: [2])

// Minimal canister
do {
    let h = try Host(path: dir + "/MinimalCanister.wasm")
    try h.call("canister_init")
    check(h.timer == h.now + 1_000_000_000, "minimal: init arms a 1 s timer")
    check(try Candid.decode(UInt64.self, from: h.call("canister_update inc")) == 1, "minimal: inc → 1")
    check(try Candid.decode(UInt64.self, from: h.call("canister_update inc")) == 2, "minimal: inc → 2")
    check(try Candid.decode(UInt64.self, from: h.call("canister_query get", query: true)) == 2, "minimal: get → 2")
    check(try Candid.decode(String.self, from: h.call("canister_update echo", arg: Candid.encode("hi"), caller: client)) == "\(client): hi", "minimal: echo with caller")
    h.now += 1_000_000_000
    try h.fireTimerIfDue()
    h.now += 1_000_000_000
    try h.fireTimerIfDue()
    check(try Candid.decode(UInt64.self, from: h.call("canister_query ticks", query: true)) == 2, "minimal: two timer ticks")
    let blob = CandidBlob([UInt8](repeating: 7, count: 70_000))
    check(try Candid.decode(CandidBlob.self, from: h.call("canister_update stable_roundtrip", arg: Candid.encode(blob))) == blob, "minimal: stable round trip 70 KB")
    do {
        try h.call("canister_update trap", arg: Candid.encode("boom"))
        check(false, "minimal: trap")
    } catch let e as CanisterTrapped {
        check(e.description == "boom", "minimal: trap carries its message (\(e))")
    }
    do {
        try h.call("canister_update inc", arg: [1, 2, 3])
        check(true, "minimal: inc ignores arg")
    } catch { check(true, "minimal: bad arg traps: \(error)") }
}

// Test canister
do {
    let h = try Host(path: dir + "/TestCanister.wasm")
    do {
        try h.call("canister_init", arg: Candid.encode(UInt64(50), UInt64(60_000)))
        check(false, "test: init with 60 000 traps")
    } catch let e as CanisterTrapped {
        check(e.description == "send_ack_interval_ms must be greater than CLIENT_KEEP_ALIVE_TIMEOUT_MS", "test: init check text")
    }
    let h2 = try Host(path: dir + "/TestCanister.wasm")
    try h2.call("canister_init", arg: Candid.encode(UInt64(50), UInt64(300_000)))
    check(h2.timer == h2.now + 300_000_000_000, "test: ack timer armed")
    let open = try Candid.decode(CanisterWsResult.self, from: h2.call("canister_update ws_open",
        arg: Candid.encode(CanisterWsOpenArguments(clientNonce: 5, gatewayPrincipal: gateway)), caller: client))
    check(open == .ok, "test: ws_open ok")
    check(h2.certifiedData.count == 32, "test: certified data set")
    let anon = try Candid.decode(CanisterWsResult.self, from: h2.call("canister_update ws_open",
        arg: Candid.encode(CanisterWsOpenArguments(clientNonce: 5, gatewayPrincipal: gateway))))
    check(anon == .err("Anonymous principal is not allowed"), "test: anonymous rejected")
    func poll(_ nonce: UInt64) throws -> CanisterOutputCertifiedMessages {
        let r = try Candid.decode(CanisterWsGetMessagesResult.self, from: h2.call("canister_query ws_get_messages",
            arg: Candid.encode(CanisterWsGetMessagesArguments(nonce: nonce)), caller: gateway, query: true))
        guard case .ok(let batch) = r else { return .empty }
        if !batch.messages.isEmpty {
            let tree = try HashTree(cborBytes: batch.tree)
            check(tree.reconstruct() == h2.certifiedData, "test: h(tree) == certified data")
            for m in batch.messages {
                check(tree.lookup(path: [Array("websocket".utf8), Array(m.key.utf8)]) == .found(SHA256.hash(m.content)), "test: leaf = sha256(content) for \(m.key.suffix(3))")
            }
        }
        return batch
    }
    let b = try poll(0)
    check(b.messages.count == 1, "test: one open message")
    let key = ClientKey(clientPrincipal: client, clientNonce: 5)
    let msg = try WebsocketMessage(cbor: b.messages[0].content)
    check(try WebsocketServiceMessageContent.decode(msg.content) == .openMessage(clientKey: key), "test: OpenMessage content")
    // The test canister's AppMessage (it refuses anything else with Err since issue 15).
    let app = try CandidEncoder.encode([CandidTextParser.parseValue("record { text = \"hello\" }")],
                                       types: [CandidTextParser.parseType("record { text : text }")])
    let wm = WebsocketMessage(clientKey: key, sequenceNum: 1, timestamp: h2.now, isServiceMessage: false, content: app)
    let r1 = try Candid.decode(CanisterWsResult.self, from: h2.call("canister_update ws_message",
        arg: Candid.encode(CanisterWsMessageArguments(msg: wm), CandidNull?.none), caller: client))
    check(r1 == .ok, "test: ws_message ok")
    let sendResult = try Candid.decode(CanisterWsResult.self, from: h2.call("canister_update send",
        arg: Candid.encode(client, [CandidBlob([1]), CandidBlob([2]), CandidBlob([3])])))
    check(sendResult == .ok, "test: send ok")
    check(try poll(1).messages.count == 3, "test: three sent messages")
    h2.now += 300_000_000_000
    try h2.fireTimerIfDue()
    let ack = try poll(4)
    check(ack.messages.count == 1, "test: ack after interval")
    if let m = ack.messages.first {
        let inner = try WebsocketMessage(cbor: m.content)
        check(try WebsocketServiceMessageContent.decode(inner.content) == .ackMessage(lastIncomingSequenceNum: 1), "test: ack content")
    }
    check(h2.timer == h2.now + 60_000_000_000, "test: keep-alive check armed")
    h2.now += 60_000_000_000
    try h2.fireTimerIfDue()
    let close = try poll(5)
    check(close.messages.count == 1, "test: close after keep-alive timeout")
    if let m = close.messages.first {
        let inner = try WebsocketMessage(cbor: m.content)
        check(try WebsocketServiceMessageContent.decode(inner.content) == .closeMessage(reason: .keepAliveTimeout), "test: KeepAliveTimeout")
    }
    check(h2.timer == h2.now + 240_000_000_000, "test: next ack tick armed")
    let wsClose = try Candid.decode(CanisterWsResult.self, from: h2.call("canister_update ws_close",
        arg: Candid.encode(CanisterWsCloseArguments(clientKey: key)), caller: gateway))
    check(wsClose == .err("Client with key \(key) doesn't have an open connection"), "test: ws_close after removal")
    try h2.call("canister_update wipe", arg: Candid.encode(UInt64(50), UInt64(300_000)))
    check(try poll(0).messages.isEmpty, "test: wipe")
    print("log:", h2.log.prefix(6))
}

// Ping-pong and chat
do {
    let h = try Host(path: dir + "/PingPongCanister.wasm")
    try h.call("canister_init")
    try h.call("canister_update ws_open", arg: Candid.encode(CanisterWsOpenArguments(clientNonce: 1, gatewayPrincipal: gateway)), caller: client)
    let key = ClientKey(clientPrincipal: client, clientNonce: 1)
    let text = try CandidTextParser.parseValue("record { text = \"ping-pong\" }")
    let type = try CandidTextParser.parseType("record { text : text }")
    let content = try CandidEncoder.encode([text], types: [type])
    try h.call("canister_update ws_message", arg: Candid.encode(CanisterWsMessageArguments(msg: WebsocketMessage(
        clientKey: key, sequenceNum: 1, timestamp: 0, isServiceMessage: false, content: content))), caller: client)
    let r = try Candid.decode(CanisterWsGetMessagesResult.self, from: h.call("canister_query ws_get_messages",
        arg: Candid.encode(CanisterWsGetMessagesArguments(nonce: 0)), caller: gateway, query: true))
    if case .ok(let batch) = r {
        let texts = batch.messages.compactMap { m -> String? in
            let inner = try! WebsocketMessage(cbor: m.content)
            if inner.isServiceMessage { return "service" }
            return try? Candid.decodeValues(from: inner.content)[0].record().value("text").flatMap { if case .text(let t) = $0 { return t } else { return nil } }
        }
        check(texts == ["service", "ping", "ping-pong ping"], "pingpong: \(texts)")
    }
    check(try Candid.decode(UInt64.self, from: h.call("canister_query pings", query: true)) == 1, "pingpong: pings")

    let c = try Host(path: dir + "/ChatCanister.wasm")
    try c.call("canister_init")
    try c.call("canister_update ws_open", arg: Candid.encode(CanisterWsOpenArguments(clientNonce: 1, gatewayPrincipal: gateway)), caller: client)
    let other = Principal.selfAuthenticating(derPublicKey: [3])
    try c.call("canister_update ws_open", arg: Candid.encode(CanisterWsOpenArguments(clientNonce: 1, gatewayPrincipal: gateway)), caller: other)
    let members = try Candid.decode([Principal].self, from: c.call("canister_query members", query: true))
    check(Set(members) == [client, other], "chat: members")
    let r2 = try Candid.decode(CanisterWsGetMessagesResult.self, from: c.call("canister_query ws_get_messages",
        arg: Candid.encode(CanisterWsGetMessagesArguments(nonce: 0)), caller: gateway, query: true))
    if case .ok(let batch) = r2 { check(batch.messages.count == 5, "chat: open, join(A), open, join(B)×2 = \(batch.messages.count)") }
}
print(failures == 0 ? "ALL OK" : "\(failures) FAILURES")
exit(failures == 0 ? 0 : 1)
