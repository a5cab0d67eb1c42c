import ICCertification
import ICCore
import ICWebSocketProtocol

/// Checks canister message frames (G2) in the order of protocol §5.1/§5.2 and tracks the
/// expected canister sequence number of one connection.
///
/// All messages of one `ws_get_messages` poll share one certificate and one tree, so the
/// expensive part (BLS signature and subnet delegation) runs once per distinct certificate; the
/// result is cached by the certificate's bytes and reused for the rest of the batch. Freshness,
/// the tree, the key and the content hash are checked for every message.
///
/// ```swift
/// var verifier = CanisterMessageVerifier(canister: id, rootKey: key, clientKey: key, gateway: gateway)
/// let message = try verifier.verify(frameBytes)   // WebsocketMessage with the expected sequence number
/// ```
public struct CanisterMessageVerifier: Sendable {
    /// How many verification results are kept, per kind. A poll batch shares one certificate,
    /// so a handful covers batches that overlap in flight.
    public static let cacheCapacity = 8

    /// The canister messages must come from (configured by the application, never taken from a frame).
    public let canister: Principal
    /// This connection's client key (§5.1 hardening: messages for other clients are rejected).
    public let clientKey: ClientKey
    /// The gateway principal from the handshake (§5.1 hardening: keys must be this gateway's).
    public let gateway: Principal
    /// The maximum certificate age; `nil` disables the check (only for recorded fixtures).
    public let maxCertificateAge: Duration?
    /// How far a certificate's `/time` may be ahead of the clock.
    public let maxFutureSkew: Duration
    /// The sequence number the next message must carry (starts at 1, §1.2).
    public private(set) var expectedSequenceNumber: UInt64 = 1
    /// Certificates whose signature and delegation were verified (cache misses).
    public private(set) var certificatesVerified = 0
    /// Messages whose certificate was found in the cache (verified earlier in the batch).
    public private(set) var certificateCacheHits = 0

    private let certificateValidator: CertificateValidator
    /// `maxCertificateAge` and `maxFutureSkew` as a policy (no age means no check).
    private let freshness: CertificateFreshness
    private let clock: @Sendable () -> UInt64
    private let keyPrefix: [UInt8]
    private var certificates = BoundedCache<[UInt8], CertifiedState>(capacity: cacheCapacity)
    private var trees = BoundedCache<[UInt8], DecodedTree>(capacity: cacheCapacity)

    /// A decoded tree and its root hash (what is compared with the certified data).
    private struct DecodedTree: Sendable {
        let tree: HashTree
        let rootHash: [UInt8]
    }

    /// What a verified certificate tells about the canister.
    private struct CertifiedState: Sendable {
        let certifiedData: [UInt8]?
        let time: UInt64?
    }

    /// Creates a verifier for one connection.
    /// - Parameters:
    ///   - canister: the canister the application talks to.
    ///   - rootKey: the IC root key certificates must chain to.
    ///   - clientKey: this connection's key.
    ///   - gateway: the gateway principal from the handshake.
    ///   - maxCertificateAge: oldest acceptable certificate (default 5 min, as the reference); `nil` disables.
    ///   - maxFutureSkew: how far ahead of `clock` a certificate may be (default 5 min).
    ///   - expectedSequenceNumber: the first sequence number to accept (1 for a new session; the
    ///     one after the last verified for a resumed session).
    ///   - clock: current time in ns since 1970 (`CertificateVerifier.systemClock` on a host).
    public init(
        canister: Principal, rootKey: RootKey, clientKey: ClientKey, gateway: Principal,
        maxCertificateAge: Duration? = .seconds(300), maxFutureSkew: Duration = .seconds(300),
        expectedSequenceNumber: UInt64 = 1, clock: @escaping @Sendable () -> UInt64
    ) {
        self.expectedSequenceNumber = expectedSequenceNumber
        self.canister = canister
        self.clientKey = clientKey
        self.gateway = gateway
        self.maxCertificateAge = maxCertificateAge
        self.maxFutureSkew = maxFutureSkew
        self.clock = clock
        // Freshness is judged here (per message, also on cache hits), so the validator checks
        // only signature, delegation and scope. It has no cache: `certificates` below is one.
        certificateValidator = CertificateValidator(rootKey: rootKey, freshness: .disabled)
        freshness = maxCertificateAge.map { CertificateFreshness(maxAge: $0, maxFutureSkew: maxFutureSkew) } ?? .disabled
        keyPrefix = gateway.textBytes + [UInt8(ascii: "_")]
    }

    /// Decodes and verifies one G2 frame; on success the expected sequence number advances.
    public mutating func verify(_ frameBytes: [UInt8]) throws(CanisterMessageVerificationError) -> WebsocketMessage {
        let frame: CanisterMessageFrame
        do { frame = try CanisterMessageFrame(decoding: frameBytes) } catch {
            throw .malformedFrame(error.description)
        }
        return try verify(frame)
    }

    /// Verifies one decoded frame; on success the expected sequence number advances.
    public mutating func verify(_ frame: CanisterMessageFrame) throws(CanisterMessageVerificationError) -> WebsocketMessage {
        let message: WebsocketMessage
        do { message = try WebsocketMessage(cbor: frame.content) } catch {
            throw .malformedFrame("content is not a WebsocketMessage: \(error.description)")
        }
        try verifyCertification(of: frame)
        guard frame.key.utf8.starts(with: keyPrefix) else {
            throw .keyOfAnotherGateway(key: frame.key, gateway: gateway)
        }
        guard message.clientKey == clientKey else {
            throw .messageForAnotherClient(expected: clientKey, found: message.clientKey)
        }
        guard message.sequenceNum == expectedSequenceNumber else {
            throw .unexpectedSequenceNumber(expected: expectedSequenceNumber, received: message.sequenceNum)
        }
        expectedSequenceNumber += 1
        return message
    }

    /// §5.2: certificate (cached by bytes), freshness, certified data = tree hash, leaf = SHA-256(content).
    private mutating func verifyCertification(of frame: CanisterMessageFrame) throws(CanisterMessageVerificationError) {
        let state: CertifiedState
        if let cached = certificates[frame.cert] {
            certificateCacheHits += 1
            state = cached
        } else {
            let verified: VerifiedCertificate
            do {
                verified = try certificateValidator.validate(Certificate(cborBytes: frame.cert), for: .canister(canister), now: clock())
            } catch {
                throw .certificate(error)
            }
            certificatesVerified += 1
            state = CertifiedState(certifiedData: verified.certifiedData(of: canister).value, time: verified.time)
            certificates[frame.cert] = state
        }
        try checkFreshness(state.time)
        guard let certifiedData = state.certifiedData else { throw .certifiedDataMissing(canister: canister) }

        let tree: DecodedTree
        if let cached = trees[frame.tree] {
            tree = cached
        } else {
            do {
                let decoded = try HashTree(cborBytes: frame.tree)
                tree = DecodedTree(tree: decoded, rootHash: decoded.reconstruct())
            } catch {
                throw .malformedTree(error.description)
            }
            trees[frame.tree] = tree
        }
        guard tree.rootHash == certifiedData else {
            throw .treeHashMismatch(certifiedData: certifiedData, treeHash: tree.rootHash)
        }
        guard case .found(let leaf) = tree.tree.lookup(path: [MessageKey.certificationLabel, Array(frame.key.utf8)]) else {
            throw .messageKeyNotInTree(key: frame.key)
        }
        let computed = SHA256.hash(frame.content)
        guard leaf == computed else { throw .contentHashMismatch(key: frame.key, certified: leaf, computed: computed) }
    }

    private func checkFreshness(_ time: UInt64?) throws(CanisterMessageVerificationError) {
        do { try freshness.check(time: time, now: clock()) } catch { throw .freshness(error) }
    }

}
