import Foundation
import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketGateway
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// The gateway's frames on the wire against `sdk-js-frames.json` (protocol Appendix A): the
/// fixture's messages are replayed by a scripted IC endpoint and must reach the client as the
/// exact map the reference gateway writes (no tag; key, content, cert, tree; definite lengths).
@Suite(.enabled(if: TestVectors.isAvailable)) struct FrameCompatibilityTests {
    struct Fixture {
        let json: [String: Any]
        var frames: [[String: Any]] { json["canister_to_client_frames"] as! [[String: Any]] }
        func hexField(_ frame: [String: Any], _ name: String) -> [UInt8] { bytes(hex: frame[name] as! String) }

        init() throws {
            json = try TestVectors.json("ic-websocket/sdk-js-frames.json") as! [String: Any]
        }
    }

    /// CBOR head: major type and length, shortest form.
    static func head(_ major: UInt8, _ length: Int) -> [UInt8] {
        let type = major << 5
        switch length {
        case ..<24: return [type | UInt8(length)]
        case ..<0x100: return [type | 24, UInt8(length)]
        case ..<0x10000: return [type | 25, UInt8(length >> 8), UInt8(length & 0xff)]
        default: return [type | 26] + (0..<4).reversed().map { UInt8((length >> ($0 * 8)) & 0xff) }
        }
    }

    static func text(_ string: String) -> [UInt8] { head(3, string.utf8.count) + Array(string.utf8) }
    static func blob(_ bytes: [UInt8]) -> [UInt8] { head(2, bytes.count) + bytes }

    @Test func handshakeMatchesTheReferenceBytes() throws {
        let fixture = try Fixture()
        let principal = try Principal(bytes: bytes(hex: fixture.json["gateway_principal_hex"] as! String))
        #expect(
            GatewayHandshakeFrame(gatewayPrincipal: principal).encoded() == bytes(hex: fixture.json["handshake_frame_derived"] as! String))
    }

    @Test func relayedFramesAreByteCompatible() async throws {
        let fixture = try Fixture()
        let key = fixture.json["client_key"] as! [String: Any]
        let client = ClientKey(
            clientPrincipal: try Principal(bytes: bytes(hex: key["client_principal_hex"] as! String)),
            clientNonce: UInt64(key["client_nonce"] as! String)!)
        let canister = try Principal(bytes: bytes(hex: fixture.json["canister_id_hex"] as! String))
        // The poller hands out each poll's cert and tree with every message of that poll; the
        // fixture's last two messages came from one poll.
        var batches: [CanisterOutputCertifiedMessages] = []
        for frame in fixture.frames {
            let message = CanisterOutputMessage(
                clientKey: client, key: frame["key"] as! String, content: fixture.hexField(frame, "content"))
            let cert = fixture.hexField(frame, "cert")
            let tree = fixture.hexField(frame, "tree")
            if let last = batches.last, last.cert == cert, last.tree == tree {
                batches[batches.count - 1].messages.append(message)
            } else {
                batches.append(CanisterOutputCertifiedMessages(messages: [message], cert: cert, tree: tree, isEndOfQueue: true))
            }
        }
        #expect(batches.count == 3)
        let expected = fixture.frames.map { frame in
            Self.head(5, 4) + Self.text("key") + Self.text(frame["key"] as! String)
                + Self.text("content") + Self.blob(fixture.hexField(frame, "content"))
                + Self.text("cert") + Self.blob(fixture.hexField(frame, "cert"))
                + Self.text("tree") + Self.blob(fixture.hexField(frame, "tree"))
        }
        let rootKey = try RootKey(der: bytes(hex: fixture.json["root_key_der"] as! String))
        let ic = try FakeIC(pollScript: batches)
        try await ic.run { url in
            try await withGateway(testConfiguration(icURL: url, rootKey: .explicit(rootKey))) { gateway in
                let requests = ClientRequests(
                    identity: ImpersonatingIdentity(principal: client.clientPrincipal),
                    canister: canister, clientNonce: client.clientNonce)
                let socket = TestWebSocket(url: gateway.url)
                #expect(await socket.nextBinary() == GatewayHandshakeFrame(gatewayPrincipal: gateway.principal).encoded())
                socket.send(try requests.open(gateway: gateway.principal))
                for (index, frame) in expected.enumerated() {
                    let received = await socket.nextBinary()
                    #expect(received == frame, "frame \(index) differs from the reference encoding")
                    let message = try verifiedMessage(received, canister: canister, rootKey: rootKey, freshness: .disabled)
                    #expect(message.sequenceNum == UInt64(index + 1))
                }
                socket.close()
                _ = await socket.closed()
            }
        }
    }
}
