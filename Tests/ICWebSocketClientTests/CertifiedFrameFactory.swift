import BLS12381
import ICAgent
import ICCore
import ICWebSocketProtocol

/// Certifies canister messages the way a canister and the IC do (protocol §4.5), under a
/// generated root key, optionally through a subnet delegation: for session tests that need
/// messages the recorded fixtures do not have.
struct CertifiedFrameFactory {
    let rootIssuer: CertificateIssuer
    let issuer: CertificateIssuer
    let canister: Principal
    let gateway: Principal
    var clientKey: ClientKey
    /// The certificate time of the next batch (ns).
    var time: UInt64
    private(set) var nextNonce: UInt64 = 0
    /// The last sequence number certified; a test of a resumed session sets it to continue there.
    var lastSequenceNumber: UInt64 = 0

    var rootKey: RootKey { rootIssuer.publicKey }

    init(canister: Principal, gateway: Principal, clientKey: ClientKey, time: UInt64, delegated: Bool = false) {
        guard let root = try? BLS.SecretKey(seed: SHA256.hash(Array("client test root".utf8))),
            let subnetSecret = try? BLS.SecretKey(seed: SHA256.hash(Array("client test subnet".utf8)))
        else { preconditionFailure("fixed seeds make valid keys") }
        rootIssuer = CertificateIssuer(secretKey: root)
        if delegated {
            let subnetKey = CertificateIssuer(secretKey: subnetSecret).publicKey
            let subnet = Principal.selfAuthenticating(derPublicKey: subnetKey.der)
            let delegation = rootIssuer.delegationCertificate(
                for: subnet, subnetKey: subnetKey, ranges: [canister...canister], time: time)
            issuer = CertificateIssuer(secretKey: subnetSecret, delegation: (subnet, delegation))
        } else {
            issuer = rootIssuer
        }
        self.canister = canister
        self.gateway = gateway
        self.clientKey = clientKey
        self.time = time
    }

    /// One poll's frames: consecutive sequence numbers and keys, one certificate and one tree.
    mutating func batch(_ messages: [(isService: Bool, content: [UInt8])]) -> [CanisterMessageFrame] {
        var entries = [(path: [[UInt8]], value: [UInt8])]()
        var pending = [(key: String, content: [UInt8])]()
        for message in messages {
            lastSequenceNumber += 1
            let key = MessageKey.format(gateway: gateway, nonce: nextNonce)
            nextNonce += 1
            let content = WebsocketMessage(
                clientKey: clientKey, sequenceNum: lastSequenceNumber, timestamp: time,
                isServiceMessage: message.isService, content: message.content
            ).cborEncoded()
            entries.append(([MessageKey.certificationLabel, Array(key.utf8)], SHA256.hash(content)))
            pending.append((key, content))
        }
        guard let tree = try? HashTree(paths: entries),
            let stateTree = try? HashTree(paths: [
                ([Array("time".utf8)], LEB128.encode(time)),
                ([Array("canister".utf8), canister.bytes, Array("certified_data".utf8)], tree.reconstruct()),
            ])
        else { preconditionFailure("distinct keys always build a tree") }
        let certificate = issuer.certificate(for: stateTree)
        let treeBytes = tree.encoded(selfDescribe: true)
        return pending.map { CanisterMessageFrame(key: $0.key, content: $0.content, cert: certificate, tree: treeBytes) }
    }

    /// A single service message in its own batch.
    mutating func service(_ content: WebsocketServiceMessageContent) -> CanisterMessageFrame {
        batch([(true, content.encoded())])[0]
    }

    /// A single application message in its own batch.
    mutating func application(_ candid: [UInt8]) -> CanisterMessageFrame {
        batch([(false, candid)])[0]
    }
}
