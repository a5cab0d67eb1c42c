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
            CanisterMessageFrame(
                key: entry["key"] as! String, content: bytes(hex: entry["content"] as! String),
                cert: bytes(hex: entry["cert"] as! String), tree: bytes(hex: entry["tree"] as! String))
        }
        let key = json["client_key"] as! [String: Any]
        let nonce = try uint64(key["client_nonce"])
        return SDKFixtures(
            canister: try Principal(text: json["canister_id_text"] as! String),
            gateway: try Principal(text: json["gateway_principal_text"] as! String),
            clientKey: ClientKey(clientPrincipal: try Principal(text: key["client_principal_text"] as! String), clientNonce: nonce),
            rootKey: try RootKey(der: bytes(hex: json["root_key_der"] as! String)),
            frames: try (json["canister_to_client_frames"] as! [[String: Any]]).map { entry in
                let expected = entry["expected"] as! [String: Any]
                return Frame(
                    name: entry["name"] as! String, frame: frame(entry),
                    sequenceNumber: try uint64(expected["sequence_num"]),
                    timestamp: try uint64(expected["timestamp_ns"]),
                    isServiceMessage: expected["is_service_message"] as! Bool,
                    contentSHA256: bytes(hex: expected["sha256_content"] as! String))
            },
            invalidKeyFrame: frame(json["invalid_key_frame"] as! [String: Any]),
            handshake: bytes(hex: json["handshake_frame_derived"] as! String))
    }

    /// A u64 written as a JSON number or, beyond 2^53, as a decimal string.
    private static func uint64(_ value: Any?) throws -> UInt64 {
        if let text = value as? String, let number = UInt64(text) { return number }
        if let number = value as? NSNumber { return number.uint64Value }
        throw TestFailure("not a u64: \(String(describing: value))")
    }

    /// A verifier for the fixtures' client at `time` (default: when the certificates are fresh).
    func verifier(
        time: UInt64? = nil, canister: Principal? = nil, rootKey: RootKey? = nil,
        clientKey: ClientKey? = nil, maxAge: Duration? = .seconds(300)
    ) -> CanisterMessageVerifier {
        let now = time ?? freshTime
        return CanisterMessageVerifier(
            canister: canister ?? self.canister, rootKey: rootKey ?? self.rootKey,
            clientKey: clientKey ?? self.clientKey, gateway: gateway,
            maxCertificateAge: maxAge, clock: { now })
    }
}
