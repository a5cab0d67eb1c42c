import Foundation

#if !ICWS_SINGLE_MODULE
import BLS12381
import ICCore
#endif

/// What a certificate is used for, which decides the delegation's scope check (essentials §8).
public enum CertificateScope: Sendable, Hashable {
    /// Canister-scoped use (calls, queries, read_state via a canister URL, canister messages):
    /// the canister must lie in the delegating subnet's canister ranges.
    case canister(Principal)
    /// Subnet-scoped use (read_state via a subnet URL): the delegation must be for this subnet.
    case subnet(Principal)
    /// Signature and delegation only, no scope check. Only for inspecting certificates.
    case unscoped
}

/// How old (or how far in the future) a certificate's `/time` may be.
public struct CertificateFreshness: Sendable {
    /// Maximum age; `nil` disables the check (e.g. for recorded test vectors).
    public var maxAge: Duration?
    /// Tolerated clock skew into the future.
    public var maxFutureSkew: Duration

    public init(maxAge: Duration? = .seconds(300), maxFutureSkew: Duration = .seconds(300)) {
        self.maxAge = maxAge
        self.maxFutureSkew = maxFutureSkew
    }

    /// agent-js' policy: at most 5 minutes old, at most 5 minutes ahead.
    public static let `default` = CertificateFreshness()
    /// No time check at all.
    public static let disabled = CertificateFreshness(maxAge: nil, maxFutureSkew: .seconds(Int64.max / 2_000_000_000))
}

/// Verifies IC certificates against a root key: BLS signature, subnet delegation (one level),
/// canister-range or subnet scope, and freshness, in that order.
///
/// Successful signature and delegation checks are cached by the SHA-256 of the certificate
/// bytes, so verifying the same certificate again (as a client does for every message of a
/// poll batch) costs a hash and a dictionary lookup. Freshness is checked on every call.
///
/// ```swift
/// let verifier = CertificateVerifier(rootKey: .mainnet)
/// let verified = try verifier.verify(certificateBytes, for: .canister(canisterID))
/// let data = verified.certifiedData(of: canisterID)
/// ```
public final class CertificateVerifier: @unchecked Sendable {
    /// The key certificates must chain to.
    public let rootKey: RootKey
    /// The freshness policy.
    public let freshness: CertificateFreshness
    /// The clock, in ns since 1970.
    public let clock: @Sendable () -> UInt64

    private let lock = NSLock()
    /// Verified (signature + delegation + scope) certificates by (hash of bytes, scope).
    private var verified: BoundedCache<VerifiedKey, VerifiedCertificate>
    /// Verified delegations by hash of the delegation certificate bytes.
    private var delegations: BoundedCache<[UInt8], VerifiedDelegation>
    /// Valid BLS signatures, keyed by the hash of key, signature and root hash: certificates
    /// of one state that reveal different paths (e.g. every call's reply in one round) share
    /// the signed root, so the pairing check runs once per state rather than once per witness.
    private var signatures: BoundedCache<[UInt8], Bool>

    private struct VerifiedKey: Hashable {
        let certificateHash: [UInt8]
        let scope: CertificateScope
    }

    private struct VerifiedDelegation {
        let subnetKey: [UInt8]
        let ranges: [ClosedRange<Principal>]?
    }

    /// Creates a verifier.
    /// - Parameters:
    ///   - rootKey: the IC root key (``RootKey/mainnet`` or a local replica's).
    ///   - freshness: the allowed age and skew of `/time`.
    ///   - cacheCapacity: how many verified certificates and delegations to remember.
    ///   - clock: current time in ns since 1970 (inject one in tests).
    public init(
        rootKey: RootKey, freshness: CertificateFreshness = .default, cacheCapacity: Int = 1024,
        clock: @escaping @Sendable () -> UInt64 = CertificateVerifier.systemClock
    ) {
        self.rootKey = rootKey
        self.freshness = freshness
        self.clock = clock
        verified = BoundedCache(capacity: cacheCapacity)
        delegations = BoundedCache(capacity: max(16, cacheCapacity / 16))
        signatures = BoundedCache(capacity: cacheCapacity)
    }

    /// Wall-clock time in ns since 1970.
    public static let systemClock: @Sendable () -> UInt64 = {
        UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }

    /// Decodes and verifies certificate bytes.
    public func verify(_ bytes: [UInt8], for scope: CertificateScope) throws(CertificateError) -> VerifiedCertificate {
        let key = VerifiedKey(certificateHash: SHA256.hash(bytes), scope: scope)
        if let cached = lock.withLock({ verified[key] }) {
            try checkFreshness(cached.certificate)
            return cached
        }
        let result = try verifyUncached(try Certificate(cborBytes: bytes), for: scope)
        lock.withLock { verified[key] = result }
        return result
    }

    /// Verifies an already decoded certificate (not cached: there are no bytes to key on).
    public func verify(_ certificate: Certificate, for scope: CertificateScope) throws(CertificateError) -> VerifiedCertificate {
        try verifyUncached(certificate, for: scope)
    }

    private func verifyUncached(_ certificate: Certificate, for scope: CertificateScope) throws(CertificateError) -> VerifiedCertificate {
        let key: [UInt8]
        var signingSubnet: Principal?
        if let delegation = certificate.delegation {
            let checked = try verifyDelegation(delegation)
            key = checked.subnetKey
            signingSubnet = delegation.subnetID
            switch scope {
            case .canister(let canister):
                guard let ranges = checked.ranges else {
                    throw .canisterRangesUnavailable(subnet: delegation.subnetID)
                }
                guard ranges.contains(where: { $0.contains(canister) }) else {
                    throw .canisterNotInRanges(canister: canister, subnet: delegation.subnetID)
                }
            case .subnet(let subnet):
                guard subnet == delegation.subnetID else {
                    throw .subnetMismatch(expected: subnet, found: delegation.subnetID)
                }
            case .unscoped:
                break
            }
        } else {
            key = rootKey.raw
        }
        try checkSignature(of: certificate, key: key, isDelegation: false)
        try checkFreshness(certificate)
        return VerifiedCertificate(certificate: certificate, signingSubnet: signingSubnet)
    }

    private func verifyDelegation(_ delegation: Certificate.Delegation) throws(CertificateError) -> VerifiedDelegation {
        let cacheKey = SHA256.hash(delegation.certificateBytes) + delegation.subnetID.bytes
        if let cached = lock.withLock({ delegations[cacheKey] }) { return cached }

        let inner = delegation.certificate
        guard inner.delegation == nil else { throw .nestedDelegation }
        try checkSignature(of: inner, key: rootKey.raw, isDelegation: true)
        let subnet = delegation.subnetID
        guard let keyDER = inner.tree.lookup(path: [Array("subnet".utf8), subnet.bytes, Array("public_key".utf8)]).value else {
            throw .subnetKeyMissing(subnet: subnet)
        }
        guard let key = try? BLS.rawPublicKey(fromDER: keyDER) else { throw .invalidSubnetKey(subnet: subnet) }
        // Delegation certificates are deliberately not subject to the freshness window: the
        // root subnet re-issues them rarely (agent-rs does not check their time at all).
        let result = VerifiedDelegation(subnetKey: key, ranges: try CanisterRanges.revealed(in: inner.tree, for: subnet))
        lock.withLock { delegations[cacheKey] = result }
        return result
    }

    private func checkSignature(of certificate: Certificate, key: [UInt8], isDelegation: Bool) throws(CertificateError) {
        let rootHash = certificate.rootHash
        let cacheKey = SHA256.hash(key + certificate.signature + rootHash)
        if lock.withLock({ signatures[cacheKey] }) == true { return }
        do {
            try BLS.check(signature: certificate.signature, message: DomainSeparator.stateRoot + rootHash, publicKey: key)
        } catch {
            throw .invalidSignature(error.description, delegation: isDelegation)
        }
        lock.withLock { signatures[cacheKey] = true }
    }

    private func checkFreshness(_ certificate: Certificate) throws(CertificateError) {
        guard let maxAge = freshness.maxAge else { return }
        guard let time = certificate.time else { throw .timeMissing }
        let now = clock()
        let maxAgeNanoseconds = maxAge.icNanoseconds
        if time < now, now - time > maxAgeNanoseconds {
            throw .stale(certificateTime: time, now: now, maxAgeNanoseconds: maxAgeNanoseconds)
        }
        if time > now, time - now > freshness.maxFutureSkew.icNanoseconds {
            throw .fromTheFuture(certificateTime: time, now: now)
        }
    }

}

/// Canister id ranges revealed by a (delegation) certificate.
public enum CanisterRanges {
    /// The ranges of `subnet` visible in `tree`: from the sharded
    /// `/canister_ranges/<subnet>/<shard>` layout when present, else from the older
    /// `/subnet/<subnet>/canister_ranges`. `nil` when neither is revealed.
    public static func revealed(in tree: HashTree, for subnet: Principal) throws(CertificateError) -> [ClosedRange<Principal>]? {
        let sharded = tree.values(under: [Array("canister_ranges".utf8), subnet.bytes])
        if !sharded.isEmpty {
            var ranges = [ClosedRange<Principal>]()
            for shard in sharded { ranges += try decode(shard.value) }
            return ranges
        }
        if let value = tree.lookup(path: [Array("subnet".utf8), subnet.bytes, Array("canister_ranges".utf8)]).value {
            return try decode(value)
        }
        return nil
    }

    /// Decodes a CBOR array of `[low, high]` principal pairs.
    public static func decode(_ bytes: [UInt8]) throws(CertificateError) -> [ClosedRange<Principal>] {
        guard let value = try? CBORDecoder().decode(bytes), let items = value.removingSelfDescribeTag.arrayItems else {
            throw .malformed("canister ranges are not a CBOR array")
        }
        var ranges = [ClosedRange<Principal>]()
        for item in items {
            guard let pair = item.arrayItems, pair.count == 2,
                let lowBytes = pair[0].bytes, let highBytes = pair[1].bytes,
                let low = try? Principal(bytes: lowBytes), let high = try? Principal(bytes: highBytes),
                low <= high
            else { throw .malformed("a canister range must be [low, high] principals with low <= high") }
            ranges.append(low...high)
        }
        return ranges
    }

    /// Encodes ranges as the state tree stores them (self-describing CBOR).
    public static func encode(_ ranges: [ClosedRange<Principal>]) -> [UInt8] {
        CBOREncoder.encode(.array(ranges.map { .array([.bytes($0.lowerBound.bytes), .bytes($0.upperBound.bytes)]) }), selfDescribe: true)
    }
}
