import ICAgent
import ICCore
import ICWebSocketProtocol
import Testing

/// Checks a relayed G2 frame as a client must (protocol §5.1–5.2) and returns its message.
func verifiedMessage(
    _ bytes: [UInt8]?, canister: Principal, rootKey: RootKey,
    freshness: CertificateFreshness = .default
) throws -> WebsocketMessage {
    let frame = try CanisterMessageFrame(decoding: try #require(bytes, "no canister message frame arrived"))
    let certificate = try CertificateVerifier(rootKey: rootKey, freshness: freshness).verify(frame.cert, for: .canister(canister))
    let tree = try HashTree(cborBytes: frame.tree)
    #expect(certificate.certifiedData(of: canister).value == tree.reconstruct(), "tree root is not the certified data")
    #expect(
        tree.lookup(path: [MessageKey.certificationLabel, Array(frame.key.utf8)]).value == SHA256.hash(frame.content),
        "message \(frame.key) is not certified by the tree")
    return try WebsocketMessage(cbor: frame.content)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(15), _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return false
}
