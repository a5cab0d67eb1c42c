import Crypto
import ICCore

/// Suite `core`: the codecs every message goes through.
enum CoreBenchmarks {
    /// A `ws_message`-like argument: `record { client_key; sequence_num; timestamp; is_service_message; content }`.
    struct WebSocketMessage: CandidCodable, Equatable {
        var principal: Principal
        var nonce: UInt64
        var sequenceNumber: UInt64
        var timestamp: UInt64
        var isServiceMessage: Bool
        var content: CandidBlob

        static var candidType: CandidType {
            .record([
                .field("client_key", .record([.field("client_principal", Principal.self), .field("client_nonce", UInt64.self)])),
                .field("sequence_num", UInt64.self),
                .field("timestamp", UInt64.self),
                .field("is_service_message", Bool.self),
                .field("content", CandidBlob.self),
            ])
        }

        func candidValue() -> CandidValue {
            .record([
                .field("client_key", CandidValue.record([.field("client_principal", principal), .field("client_nonce", nonce)])),
                .field("sequence_num", sequenceNumber),
                .field("timestamp", timestamp),
                .field("is_service_message", isServiceMessage),
                .field("content", content),
            ])
        }

        init(principal: Principal, nonce: UInt64, sequenceNumber: UInt64, timestamp: UInt64, isServiceMessage: Bool, content: CandidBlob) {
            self.principal = principal
            self.nonce = nonce
            self.sequenceNumber = sequenceNumber
            self.timestamp = timestamp
            self.isServiceMessage = isServiceMessage
            self.content = content
        }

        init(candid value: CandidValue) throws(CandidError) {
            let record = try value.record()
            guard let keyValue = record.value("client_key") else { throw CandidError(.missingField(id: CandidFieldID.hash("client_key"))) }
            let key = try keyValue.record()
            principal = try key.field("client_principal")
            nonce = try key.field("client_nonce")
            sequenceNumber = try record.field("sequence_num")
            timestamp = try record.field("timestamp")
            isServiceMessage = try record.field("is_service_message")
            content = try record.field("content")
        }
    }

    static func run(_ harness: BenchmarkHarness) {
        // CBOR: an envelope-shaped map of about 1 KiB.
        let envelope: CBORValue = .map([
            (.text("content"), .map([
                (.text("request_type"), .text("call")),
                (.text("sender"), .bytes([UInt8](repeating: 7, count: 29))),
                (.text("ingress_expiry"), .unsigned(1_800_000_000_000_000_000)),
                (.text("nonce"), .bytes([UInt8](repeating: 1, count: 16))),
                (.text("canister_id"), .bytes(Principal.canister(index: 9).bytes)),
                (.text("method_name"), .text("ws_message")),
                (.text("arg"), .bytes([UInt8](repeating: 0x2a, count: 700))),
            ])),
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

        // Candid: one ws_message argument with a 100-byte payload.
        let message = WebSocketMessage(principal: Principal.selfAuthenticating(derPublicKey: [1, 2, 3]), nonce: 0x1234_5678,
                                       sequenceNumber: 42, timestamp: 1_800_000_000_000_000_000, isServiceMessage: false,
                                       content: CandidBlob([UInt8](repeating: 9, count: 100)))
        guard let candid = try? Candid.encode(message) else { fatalError("benchmark message encodes") }
        harness.measureThroughput("core.candid_encode_ws_message", bytes: candid.count) { try? Candid.encode(message) }
        harness.measureThroughput("core.candid_decode_ws_message", bytes: candid.count) {
            try? Candid.decode(WebSocketMessage.self, from: candid)
        }
        guard let types = try? CandidArgumentTypes(WebSocketMessage.self) else { fatalError("the benchmark type compiles") }
        harness.measureThroughput("core.candid_decode_ws_message_precompiled", bytes: candid.count) {
            try? Candid.decode(WebSocketMessage.self, from: candid, as: types)
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
    }
}
