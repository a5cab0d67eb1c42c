#if !ICWS_SINGLE_MODULE
import ICCore
#endif

/// A decoded, NOT yet verified IC certificate (essentials §8):
/// `{tree, signature, delegation?}` under the self-describe tag.
///
/// Decoding checks only the shape. To trust anything in it, pass it through a
/// ``CertificateVerifier``, which returns a ``VerifiedCertificate``.
public struct Certificate: Sendable, Equatable {
    /// A subnet delegation: the root subnet vouching for the key of the signing subnet.
    /// (A class because a certificate nests inside it.)
    public final class Delegation: Sendable, Equatable {
        /// The subnet whose key signed the outer certificate.
        public let subnetID: Principal
        /// The root subnet's certificate revealing that subnet's key and canister ranges.
        public let certificate: Certificate
        /// The exact bytes of `certificate`, for caching.
        public let certificateBytes: [UInt8]

        public init(subnetID: Principal, certificate: Certificate, certificateBytes: [UInt8]) {
            self.subnetID = subnetID
            self.certificate = certificate
            self.certificateBytes = certificateBytes
        }

        public static func == (lhs: Delegation, rhs: Delegation) -> Bool {
            lhs.subnetID == rhs.subnetID && lhs.certificateBytes == rhs.certificateBytes
        }
    }

    /// The certified state tree (possibly pruned).
    public var tree: HashTree
    /// The 48-byte BLS signature over `"\x0Dic-state-root" · reconstruct(tree)`.
    public var signature: [UInt8]
    /// The delegation, when a non-root subnet signed.
    public var delegation: Delegation?

    public init(tree: HashTree, signature: [UInt8], delegation: Delegation? = nil) {
        self.tree = tree
        self.signature = signature
        self.delegation = delegation
    }

    /// Decodes certificate bytes (CBOR, with or without the self-describe tag).
    public init(cborBytes bytes: [UInt8]) throws(CertificateError) {
        let value: CBORValue
        do { value = try CBORDecoder().decode(bytes) } catch {
            throw .malformed("certificate is not valid CBOR: \(error)")
        }
        try self.init(cbor: value)
    }

    /// Decodes a certificate map.
    public init(cbor value: CBORValue) throws(CertificateError) {
        let value = value.removingSelfDescribeTag
        guard value.mapEntries != nil else { throw .malformed("certificate is not a map") }
        guard let treeValue = value["tree"] else { throw .malformed("certificate has no 'tree'") }
        do { tree = try HashTree(cbor: treeValue) } catch {
            throw .malformed("certificate tree: \(error)")
        }
        guard let signature = value["signature"]?.bytes else {
            throw .malformed("certificate 'signature' must be a byte string")
        }
        self.signature = signature
        if let delegationValue = value["delegation"] {
            guard let subnetBytes = delegationValue["subnet_id"]?.bytes,
                let subnetID = try? Principal(bytes: subnetBytes)
            else { throw .malformed("delegation 'subnet_id' must be a principal") }
            guard let inner = delegationValue["certificate"]?.bytes else {
                throw .malformed("delegation 'certificate' must be a byte string")
            }
            let certificate = try Certificate(cborBytes: inner)
            delegation = Delegation(subnetID: subnetID, certificate: certificate, certificateBytes: inner)
        } else {
            delegation = nil
        }
    }

    /// The root hash of the tree: what the signature covers.
    public var rootHash: [UInt8] { tree.reconstruct() }

    /// `/time` in ns since 1970, if the tree reveals it.
    public var time: UInt64? {
        guard let bytes = tree.lookup(textPath: ["time"]).value else { return nil }
        var offset = 0
        guard let value = try? LEB128.decodeUInt64(bytes, offset: &offset), offset == bytes.count else { return nil }
        return value
    }
}

/// A certificate whose signature, delegation and scope have been checked. Only verified
/// certificates answer lookups, so nothing unverified is read by accident.
public struct VerifiedCertificate: Sendable {
    /// The certificate that was verified.
    public let certificate: Certificate
    /// The subnet that signed it (the delegation's subnet, or `nil` for the root key itself).
    public let signingSubnet: Principal?

    /// Looks up a path in the certified tree.
    public func lookup(_ path: [[UInt8]]) -> LookupResult { certificate.tree.lookup(path: path) }

    /// Looks up a path given as text labels.
    public func lookup(textPath: [String]) -> LookupResult { certificate.tree.lookup(textPath: textPath) }

    /// `/time` in ns since 1970.
    public var time: UInt64? { certificate.time }

    /// `/canister/<id>/certified_data`.
    public func certifiedData(of canister: Principal) -> LookupResult {
        lookup([Array("canister".utf8), canister.bytes, Array("certified_data".utf8)])
    }

    /// The certified tree.
    public var tree: HashTree { certificate.tree }
}

/// Why a certificate could not be decoded or trusted. Each case names the failed check.
public enum CertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes do not have the shape of a certificate.
    case malformed(String)
    /// A delegation certificate itself has a delegation (at most one level is allowed).
    case nestedDelegation
    /// The delegation certificate does not reveal `/subnet/<id>/public_key`.
    case subnetKeyMissing(subnet: Principal)
    /// The subnet key is not a DER BLS12-381 key.
    case invalidSubnetKey(subnet: Principal)
    /// The delegation does not reveal the subnet's canister ranges (absent or pruned).
    case canisterRangesUnavailable(subnet: Principal)
    /// The canister is outside the ranges of the delegating subnet.
    case canisterNotInRanges(canister: Principal, subnet: Principal)
    /// The delegation is for another subnet than the one addressed.
    case subnetMismatch(expected: Principal, found: Principal)
    /// The BLS signature does not verify (the message says which part failed).
    case invalidSignature(String, delegation: Bool)
    /// The certificate has no `/time`, or an unreadable one.
    case timeMissing
    /// `/time` is older than the allowed age.
    case stale(certificateTime: UInt64, now: UInt64, maxAgeNanoseconds: UInt64)
    /// `/time` is further in the future than the allowed skew.
    case fromTheFuture(certificateTime: UInt64, now: UInt64)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed certificate: \(why)"
        case .nestedDelegation: return "certificate delegation is itself delegated; at most one level is allowed"
        case .subnetKeyMissing(let subnet): return "delegation certificate does not reveal /subnet/\(subnet)/public_key"
        case .invalidSubnetKey(let subnet): return "public key of subnet \(subnet) is not a DER BLS12-381 key"
        case .canisterRangesUnavailable(let subnet): return "delegation does not reveal the canister ranges of subnet \(subnet)"
        case .canisterNotInRanges(let canister, let subnet):
            return "canister \(canister) is not in the canister ranges of subnet \(subnet) (certificate not authorized)"
        case .subnetMismatch(let expected, let found): return "delegation is for subnet \(found), expected \(expected)"
        case .invalidSignature(let why, let delegation):
            return "\(delegation ? "delegation " : "")certificate signature does not verify: \(why)"
        case .timeMissing: return "certificate has no readable /time"
        case .stale(let time, let now, let maxAge):
            return "certificate is stale: /time \(time) is \((now - time) / 1_000_000) ms old, allowed \(maxAge / 1_000_000) ms"
        case .fromTheFuture(let time, let now):
            return "certificate /time \(time) is \((time - now) / 1_000_000) ms in the future"
        }
    }
}
