import BLS12381
import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketClient
import ICWebSocketProtocol
import ICWebSocketTesting
import Testing

/// The reference SDK's recorded frames (protocol §8.4 scenario 67) through the verification
/// core, and one test per way of tampering with them (§5.1, §5.2, §8.3 scenarios 53–55).
@Suite(.enabled(if: TestVectors.isAvailable))
struct FixtureVerificationTests {
    let fixtures: SDKFixtures

    init() throws { fixtures = try SDKFixtures.load() }

    /// Runs `frames` through one verifier and returns the error of the first rejected frame.
    private func firstError(_ frames: [CanisterMessageFrame], verifier: CanisterMessageVerifier? = nil) -> CanisterMessageVerificationError?
    {
        var verifier = verifier ?? fixtures.verifier()
        for frame in frames {
            do { _ = try verifier.verify(frame) } catch { return error }
        }
        return nil
    }

    private var valid: [CanisterMessageFrame] { fixtures.frames.map(\.frame) }

    @Test func theFourRecordedFramesVerifyInOrder() throws {
        var verifier = fixtures.verifier()
        var messages = [WebsocketMessage]()
        for recorded in fixtures.frames {
            #expect(SHA256.hash(recorded.frame.content) == recorded.contentSHA256)
            let message = try verifier.verify(recorded.frame.encoded())
            #expect(message.sequenceNum == recorded.sequenceNumber, "\(recorded.name)")
            #expect(message.timestamp == recorded.timestamp)
            #expect(message.isServiceMessage == recorded.isServiceMessage)
            #expect(message.clientKey == fixtures.clientKey)
            messages.append(message)
        }
        #expect(try WebsocketServiceMessageContent.decode(messages[0].content) == .openMessage(clientKey: fixtures.clientKey))
        #expect(try WebsocketServiceMessageContent.decode(messages[1].content) == .ackMessage(lastIncomingSequenceNum: 0))
        #expect(try Candid.decode(TextMessage.self, from: messages[2].content) == TextMessage(text: "Hello"))
        #expect(try WebsocketServiceMessageContent.decode(messages[3].content) == .closeMessage(reason: .closedByApplication))
        #expect(verifier.expectedSequenceNumber == 5)
    }

    @Test func framesOfOnePollShareOneCertificateVerification() throws {
        var verifier = fixtures.verifier()
        for recorded in fixtures.frames { _ = try verifier.verify(recorded.frame) }
        // Frames 3 and 4 came from one poll: four frames, three distinct certificates.
        #expect(verifier.certificatesVerified == 3)
        #expect(verifier.certificateCacheHits == 1)
    }

    @Test func theFrameWithAWrongKeyIsRejected() {
        let error = firstError([valid[0], fixtures.invalidKeyFrame])
        #expect(error == .messageKeyNotInTree(key: "wrong-key"))
    }

    @Test func aFlippedContentByteIsRejected() {
        var frame = valid[0]
        // The last byte lies inside the inner Candid blob, so the CBOR still decodes.
        frame.content[frame.content.count - 1] ^= 0x01
        guard case .contentHashMismatch(let key, let certified, let computed)? = firstError([frame]) else {
            Issue.record("expected a content hash mismatch")
            return
        }
        #expect(key == frame.key)
        #expect(certified == fixtures.frames[0].contentSHA256)
        #expect(computed == SHA256.hash(frame.content))
    }

    @Test func theTreeOfAnotherMessageIsRejected() {
        var frame = valid[1]
        frame.tree = valid[0].tree
        guard case .treeHashMismatch? = firstError([valid[0], frame]) else {
            Issue.record("expected the tree hash not to match the certified data")
            return
        }
    }

    @Test func aCertificateOfAnotherCanisterIsRejected() throws {
        let other = try Principal(text: "ryjl3-tyaaa-aaaaa-aaaba-cai")
        let error = firstError([valid[0]], verifier: fixtures.verifier(canister: other))
        #expect(error == .certifiedDataMissing(canister: other))
    }

    @Test func aWrongSequenceNumberIsRejected() {
        // The ack (sequence number 2) without the open message before it.
        #expect(firstError([valid[1]]) == .unexpectedSequenceNumber(expected: 1, received: 2))
        // A gap: open, then the application message.
        #expect(firstError([valid[0], valid[2]]) == .unexpectedSequenceNumber(expected: 2, received: 3))
    }

    @Test func aReplayedFrameIsRejected() {
        #expect(firstError([valid[0], valid[1], valid[1]]) == .unexpectedSequenceNumber(expected: 3, received: 2))
    }

    @Test func aStaleCertificateIsRejected() {
        let late = fixtures.frames[0].timestamp + 301_000_000_000
        guard case .freshness(.stale)? = firstError([valid[0]], verifier: fixtures.verifier(time: late)) else {
            Issue.record("expected a stale certificate")
            return
        }
        // With a larger allowed age the same frame is fine.
        #expect(firstError([valid[0]], verifier: fixtures.verifier(time: late, maxAge: .seconds(3600))) == nil)
    }

    @Test func aCertificateFromTheFutureIsRejected() {
        let early = fixtures.frames[0].timestamp - 400_000_000_000
        guard case .freshness(.fromTheFuture)? = firstError([valid[0]], verifier: fixtures.verifier(time: early)) else {
            Issue.record("expected a certificate from the future")
            return
        }
    }

    @Test func aWrongRootKeyIsRejected() throws {
        let secret = try BLS.SecretKey(seed: SHA256.hash(Array("another root".utf8)))
        let otherKey = CertificateIssuer(secretKey: secret).publicKey
        for key in [otherKey, RootKey.mainnet] {
            guard case .certificate(.invalidSignature)? = firstError([valid[0]], verifier: fixtures.verifier(rootKey: key)) else {
                Issue.record("expected an invalid signature under another root key")
                return
            }
        }
    }

    @Test func aCorruptedSignatureIsRejected() throws {
        var frame = valid[0]
        // Re-encode the certificate with one signature bit flipped.
        var certificate = try CBORDecoder().decode(frame.cert).removingSelfDescribeTag
        guard case .map(var entries) = certificate else { Issue.record("certificate is not a map"); return }
        for index in entries.indices {
            guard case .textString("signature") = entries[index].key else { continue }
            var signature = entries[index].value.bytes!
            signature[10] ^= 0x01
            entries[index].value = .bytes(signature)
        }
        certificate = .map(entries)
        frame.cert = CBOREncoder.encode(certificate, selfDescribe: true)
        guard case .certificate? = firstError([frame]) else {
            Issue.record("expected the certificate check to fail")
            return
        }
    }

    @Test func aMessageForAnotherClientIsRejected() {
        let other = ClientKey(clientPrincipal: fixtures.clientKey.clientPrincipal, clientNonce: fixtures.clientKey.clientNonce + 1)
        let error = firstError([valid[0]], verifier: fixtures.verifier(clientKey: other))
        #expect(error == .messageForAnotherClient(expected: other, found: fixtures.clientKey))
    }

    @Test func malformedFramesAreRejected() {
        var verifier = fixtures.verifier()
        for bytes: [UInt8] in [[], [0xa0], CBOREncoder.encode(.map([(.text("key"), .bytes([1]))])), [0xff, 0x00]] {
            #expect(throws: CanisterMessageVerificationError.self) { _ = try verifier.verify(bytes) }
        }
        // `key` as bytes instead of text (§8.3 scenario 63).
        let frame = valid[0]
        let wrongKeyType = CBOREncoder.encode(
            .map([
                (.text("key"), .bytes(Array(frame.key.utf8))), (.text("content"), .bytes(frame.content)),
                (.text("cert"), .bytes(frame.cert)), (.text("tree"), .bytes(frame.tree)),
            ]))
        guard case .malformedFrame? = firstErrorBytes(wrongKeyType) else {
            Issue.record("expected a malformed frame")
            return
        }
        #expect(verifier.expectedSequenceNumber == 1)
    }

    private func firstErrorBytes(_ bytes: [UInt8]) -> CanisterMessageVerificationError? {
        var verifier = fixtures.verifier()
        do { _ = try verifier.verify(bytes) } catch { return error }
        return nil
    }
}
