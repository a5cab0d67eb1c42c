import BLS12381
import ICAgent
import ICCore

/// A root key delegating to a subnet key, as mainnet certificates are signed, made from fixed
/// seeds: what the `agent` and `client` suites verify, with no test vectors needed.
struct DelegatedSubnet {
    /// The time in every certificate (and the verifiers' clock).
    static let now: UInt64 = 1_800_000_000_000_000_000

    let root: CertificateIssuer
    let subnetKey: RootKey
    /// Signs with the subnet key and attaches the root's delegation.
    let issuer: CertificateIssuer

    /// - Parameter name: names the seeds (`"<name> root"`, `"<name> subnet"`), so each suite keeps its keys.
    init(_ name: String) {
        guard let rootSecret = try? BLS.SecretKey(seed: SHA256.hash(Array("\(name) root".utf8))),
            let subnetSecret = try? BLS.SecretKey(seed: SHA256.hash(Array("\(name) subnet".utf8)))
        else { fatalError("benchmark keys are fixed and valid") }
        root = CertificateIssuer(secretKey: rootSecret)
        subnetKey = CertificateIssuer(secretKey: subnetSecret).publicKey
        let subnet = Principal.selfAuthenticating(derPublicKey: subnetKey.der)
        let delegation = root.delegationCertificate(
            for: subnet, subnetKey: subnetKey, ranges: [Principal.canister(index: 0)...Principal.canister(index: 1 << 20)],
            time: Self.now)
        issuer = CertificateIssuer(secretKey: subnetSecret, delegation: (subnet, delegation))
    }

    /// A certificate revealing `/time` and `canister`'s certified data.
    func certificate(certifiedData: [UInt8], of canister: Principal) -> [UInt8] {
        guard
            let tree = try? HashTree(paths: [
                ([Array("time".utf8)], LEB128.encode(Self.now)),
                ([Array("canister".utf8), canister.bytes, Array("certified_data".utf8)], certifiedData),
            ])
        else { fatalError("fixed tree") }
        return issuer.certificate(for: tree)
    }
}
