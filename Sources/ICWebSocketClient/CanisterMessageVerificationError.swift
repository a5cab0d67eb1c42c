import ICCertification
import ICCore
import ICWebSocketProtocol

/// Why a canister message frame was not accepted. Each case names the check of protocol §5.1/§5.2
/// that failed, in the order the checks run.
public enum CanisterMessageVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame is not a `{key, content, cert, tree}` map, or `content` is not a `WebsocketMessage` (§5.1 steps 1–2).
    case malformedFrame(String)
    /// The certificate is malformed, its BLS signature or subnet delegation does not verify
    /// against the root key, or its delegation does not cover the canister (§5.2 step 1).
    case certificate(CertificateError)
    /// The certificate's `/time` is missing, older than the allowed age or too far in the future
    /// (§5.2 step 1, freshness).
    case freshness(CertificateError)
    /// The certificate has no `/canister/<id>/certified_data` for the configured canister (§5.2 step 2).
    case certifiedDataMissing(canister: Principal)
    /// The `tree` bytes are not a hash tree (§5.2 step 3).
    case malformedTree(String)
    /// The tree's root hash differs from the canister's certified data (§5.2 step 3).
    case treeHashMismatch(certifiedData: [UInt8], treeHash: [UInt8])
    /// `["websocket", key]` is not a leaf of the tree (§5.2 step 4).
    case messageKeyNotInTree(key: String)
    /// The leaf at the message key is not SHA-256 of the received `content` bytes (§5.2 step 5).
    case contentHashMismatch(key: String, certified: [UInt8], computed: [UInt8])
    /// The key does not start with the handshake's gateway principal and `_` (§5.1 hardening).
    case keyOfAnotherGateway(key: String, gateway: Principal)
    /// The certified message is addressed to another client key (§5.1 hardening).
    case messageForAnotherClient(expected: ClientKey, found: ClientKey)
    /// The sequence number is not the expected one (§5.1 step 4): lower means a replayed or
    /// duplicated message, higher means the gateway dropped messages.
    case unexpectedSequenceNumber(expected: UInt64, received: UInt64)

    public var description: String {
        switch self {
        case .malformedFrame(let why): return "malformed canister message frame: \(why)"
        case .certificate(let error): return "certificate verification failed: \(error)"
        case .freshness(let error): return "certificate freshness check failed: \(error)"
        case .certifiedDataMissing(let canister):
            return "the certificate has no certified data for canister \(canister)"
        case .malformedTree(let why): return "the message tree is malformed: \(why)"
        case .treeHashMismatch(let data, let hash):
            return "the tree's root hash \(Hex.encode(hash)) differs from the canister's certified data \(Hex.encode(data))"
        case .messageKeyNotInTree(let key): return "the message key \(key) is not a leaf of the certified tree"
        case .contentHashMismatch(let key, let certified, let computed):
            return "the content of \(key) hashes to \(Hex.encode(computed)), but \(Hex.encode(certified)) is certified"
        case .keyOfAnotherGateway(let key, let gateway):
            return "the message key \(key) does not belong to gateway \(gateway)"
        case .messageForAnotherClient(let expected, let found):
            return "the message is addressed to client \(found), not to this client \(expected)"
        case .unexpectedSequenceNumber(let expected, let received):
            let hint = received < expected ? "a replayed or duplicated message" : "the gateway dropped messages"
            return
                "received message sequence number does not match next expected value. Expected: \(expected), received: \(received) (\(hint))"
        }
    }
}
