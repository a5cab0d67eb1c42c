#if !ICWS_SINGLE_MODULE
import BLS12381
import ICCore
#endif

/// Signs state trees into certificates: what a replica does after each round, and what
/// tests and benchmarks use to make certificates of their own.
public struct CertificateIssuer: Sendable {
    /// The signing key (a root key, or a subnet key under a delegation).
    public let secretKey: BLS.SecretKey
    /// The matching public key.
    public let publicKey: RootKey
    /// The delegation attached to every certificate, when this key is a subnet's.
    public let delegation: (subnetID: Principal, certificate: [UInt8])?

    /// Creates an issuer for `secretKey`, attaching `delegation` to each certificate.
    public init(secretKey: BLS.SecretKey, delegation: (subnetID: Principal, certificate: [UInt8])? = nil) {
        self.secretKey = secretKey
        self.delegation = delegation
        guard let key = try? RootKey(raw: BLS.publicKey(for: secretKey).compressed) else {
            preconditionFailure("a BLS public key is always 96 bytes")
        }
        publicKey = key
    }

    /// The certificate (CBOR with the self-describe tag) over `tree`.
    public func certificate(for tree: HashTree) -> [UInt8] {
        let signature = BLS.sign(message: DomainSeparator.stateRoot + tree.reconstruct(), secretKey: secretKey).compressed
        var entries: [(key: CBORValue, value: CBORValue)] = [
            (.text("tree"), tree.cbor),
            (.text("signature"), .bytes(signature)),
        ]
        if let delegation {
            entries.append(
                (
                    .text("delegation"),
                    .map([
                        (.text("subnet_id"), .bytes(delegation.subnetID.bytes)),
                        (.text("certificate"), .bytes(delegation.certificate)),
                    ])
                ))
        }
        return CBOREncoder.encode(.map(entries), selfDescribe: true)
    }

    /// A delegation certificate by this (root) key for `subnet`: it reveals the subnet's
    /// public key and its canister ranges (sharded layout), at `time`.
    public func delegationCertificate(for subnet: Principal, subnetKey: RootKey, ranges: [ClosedRange<Principal>], time: UInt64) -> [UInt8]
    {
        let entries: [(path: [[UInt8]], value: [UInt8])] = [
            ([Array("time".utf8)], LEB128.encode(time)),
            ([Array("subnet".utf8), subnet.bytes, Array("public_key".utf8)], subnetKey.der),
            ([Array("canister_ranges".utf8), subnet.bytes, ranges.first?.lowerBound.bytes ?? []], CanisterRanges.encode(ranges)),
        ]
        guard let tree = try? HashTree(paths: entries) else { preconditionFailure("distinct paths always build a tree") }
        return certificate(for: tree)
    }
}
