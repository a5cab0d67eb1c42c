import Foundation
import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketClient
import ICWebSocketProtocol

/// `sdk-js-frames.json`: four certified canister messages recorded from the reference stack
/// (open, ack, application "Hello", close) for one client, and the replica root key.
struct SDKFixtures: @unchecked Sendable {
    struct Frame {
        let name: String
        let frame: CanisterMessageFrame
        let sequenceNumber: UInt64
        let timestamp: UInt64
        let isServiceMessage: Bool
        let contentSHA256: [UInt8]
    }

    let canister: Principal
    let gateway: Principal
    let clientKey: ClientKey
    let rootKey: RootKey
    let frames: [Frame]
    let invalidKeyFrame: CanisterMessageFrame
    let handshake: [UInt8]

    /// A time at which every fixture certificate is fresh (the newest message + 10 s).
    var freshTime: UInt64 { frames.map(\.timestamp).max()! + 10_000_000_000 }

    static func load() throws -> SDKFixtures {
        let json = try TestVectors.json("ic-websocket/sdk-js-frames.json") as! [String: Any]
        func frame(_ entry: [String: Any]) -> CanisterMessageFrame {
            CanisterMessageFrame(key: entry["key"] as! String, content: bytes(hex: entry["content"] as! String),
                                 cert: bytes(hex: entry["cert"] as! String), tree: bytes(hex: entry["tree"] as! String))
        }
        let key = json["client_key"] as! [String: Any]
        let nonce = (key["client_nonce"] as! NSNumber).uint64Value
        return SDKFixtures(
            canister: try Principal(text: json["canister_id_text"] as! String),
            gateway: try Principal(text: json["gateway_principal_text"] as! String),
            clientKey: ClientKey(clientPrincipal: try Principal(text: key["client_principal_text"] as! String), clientNonce: nonce),
            rootKey: try RootKey(der: bytes(hex: json["root_key_der"] as! String)),
            frames: (json["canister_to_client_frames"] as! [[String: Any]]).map { entry in
                let expected = entry["expected"] as! [String: Any]
                return Frame(name: entry["name"] as! String, frame: frame(entry),
                             sequenceNumber: (expected["sequence_num"] as! NSNumber).uint64Value,
                             timestamp: (expected["timestamp_ns"] as! NSNumber).uint64Value,
                             isServiceMessage: expected["is_service_message"] as! Bool,
                             contentSHA256: bytes(hex: expected["sha256_content"] as! String))
            },
            invalidKeyFrame: frame(json["invalid_key_frame"] as! [String: Any]),
            handshake: bytes(hex: json["handshake_frame_derived"] as! String))
    }

    /// A verifier for the fixtures' client at `time` (default: when the certificates are fresh).
    func verifier(time: UInt64? = nil, canister: Principal? = nil, rootKey: RootKey? = nil,
                  clientKey: ClientKey? = nil, maxAge: Duration? = .seconds(300)) -> CanisterMessageVerifier {
        let now = time ?? freshTime
        return CanisterMessageVerifier(canister: canister ?? self.canister, rootKey: rootKey ?? self.rootKey,
                                       clientKey: clientKey ?? self.clientKey, gateway: gateway,
                                       maxCertificateAge: maxAge, clock: { now })
    }
}

/// The fixtures' application message type, `record { text : text }`.
struct TextMessage: CandidCodable, Sendable, Equatable {
    var text: String
    init(text: String) { self.text = text }
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// A test precondition that did not hold.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
