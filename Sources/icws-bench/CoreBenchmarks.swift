import Crypto
import ICCore
import ICWebSocketProtocol

/// Suite `core`: the codecs every message goes through.
enum CoreBenchmarks {
    static func run(_ harness: BenchmarkHarness) {
        // CBOR: an envelope-shaped map of about 1 KiB.
        let envelope: CBORValue = .map([
            (
                .text("content"),
                .map([
                    (.text("request_type"), .text("call")),
                    (.text("sender"), .bytes([UInt8](repeating: 7, count: 29))),
                    (.text("ingress_expiry"), .unsigned(1_800_000_000_000_000_000)),
                    (.text("nonce"), .bytes([UInt8](repeating: 1, count: 16))),
                    (.text("canister_id"), .bytes(Principal.canister(index: 9).bytes)),
                    (.text("method_name"), .text("ws_message")),
                    (.text("arg"), .bytes([UInt8](repeating: 0x2a, count: 700))),
                ])
            ),
            (.text("sender_pubkey"), .bytes([UInt8](repeating: 3, count: 44))),
            (.text("sender_sig"), .bytes([UInt8](repeating: 5, count: 64))),
        ])
        let encoded = CBOREncoder.encode(envelope, selfDescribe: true)
        harness.measureThroughput("core.cbor_encode_1k_envelope", bytes: encoded.count) {
            CBOREncoder.encode(envelope, selfDescribe: true)
        }
        harness.measureThroughput("core.cbor_decode_1k_envelope", bytes: encoded.count) {
            try? CBORDecoder().decode(encoded)
        }

        // Candid: one ws_message argument (the protocol's own type) with a 100-byte payload.
        let message = CanisterWsMessageArguments(
            msg: WebsocketMessage(
                clientKey: ClientKey(clientPrincipal: Principal.selfAuthenticating(derPublicKey: [1, 2, 3]), clientNonce: 0x1234_5678),
                sequenceNum: 42, timestamp: 1_800_000_000_000_000_000, isServiceMessage: false,
                content: [UInt8](repeating: 9, count: 100)))
        guard let candid = try? Candid.encode(message) else { fatalError("benchmark message encodes") }
        harness.measureThroughput("core.candid_encode_ws_message", bytes: candid.count) { try? Candid.encode(message) }
        harness.measureThroughput("core.candid_decode_ws_message", bytes: candid.count) {
            try? Candid.decode(CanisterWsMessageArguments.self, from: candid)
        }
        guard let types = try? CandidArgumentTypes(CanisterWsMessageArguments.self) else { fatalError("the benchmark type compiles") }
        harness.measureThroughput("core.candid_decode_ws_message_precompiled", bytes: candid.count) {
            try? Candid.decode(CanisterWsMessageArguments.self, from: candid, as: types)
        }

        // Request id of a call content map.
        let content = envelope["content"]!
        harness.measureThroughput("core.request_id", bytes: CBOREncoder.encode(content).count) { try? RequestID(content: content) }

        // SHA-256 of 1 KiB: ours (portable, used by canisters) and swift-crypto (host).
        let kilobyte = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        harness.measureThroughput("core.sha256_1k", bytes: 1024) { SHA256.hash(kilobyte) }
        harness.measureThroughput("core.sha256_1k_swift_crypto", bytes: 1024) { Array(Crypto.SHA256.hash(data: kilobyte)) }

        // Principal text round trip (29-byte self-authenticating id).
        let principal = Principal.selfAuthenticating(derPublicKey: kilobyte)
        let text = principal.description
        harness.measureThroughput("core.principal_text_round_trip", bytes: text.utf8.count) {
            (try? Principal(text: principal.description)) == principal
        }

        // A replica round with n request statuses certified: rebuilding the subtree from scratch
        // (what the replica did before) vs. updating a MerkleLabelMap (16 changed statuses).
        for count in [1_000, 10_000, 100_000] {
            let status = Array("status".utf8)
            let ids = (0..<count).map { SHA256.hash(withUnsafeBytes(of: UInt64($0), Array.init)) }
            let replied =
                (try? CertifiedTree(paths: [([status], Array("replied".utf8)), ([Array("reply".utf8)], [0x44, 0x49, 0x44, 0x4c, 0, 0])]))!
            var map = MerkleLabelMap()
            for id in ids { map.set(id, replied) }
            let reply: [UInt8] = [0x44, 0x49, 0x44, 0x4c, 0, 0]
            let entries: [(path: [[UInt8]], value: [UInt8])] = ids.flatMap { id -> [(path: [[UInt8]], value: [UInt8])] in
                [(path: [id, status], value: Array("replied".utf8)), (path: [id, Array("reply".utf8)], value: reply)]
            }
            harness.measure("core.request_status_round_full_rebuild_n\(count)", iterations: count >= 100_000 ? 5 : 20) {
                (try? CertifiedTree(paths: entries))?.rootHash
            }
            var next = count
            harness.measure("core.request_status_round_incremental_16_of_n\(count)", iterations: 200) {
                for _ in 0..<16 {
                    map.set(SHA256.hash(withUnsafeBytes(of: UInt64(next), Array.init)), replied)
                    next += 1
                }
                return map.rootHash
            }
        }
    }
}
