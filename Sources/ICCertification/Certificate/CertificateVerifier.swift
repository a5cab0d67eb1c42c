import Foundation

#if !ICWS_SINGLE_MODULE
import BLS12381
import ICCore
#endif

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
    /// The checks themselves; this class adds the caches and the lock around them.
    private let validator: CertificateValidator

    private let lock = NSLock()
    /// Verified (signature + delegation + scope) certificates by (hash of bytes, scope).
    private var verified: BoundedCache<VerifiedKey, VerifiedCertificate>
    /// Verified delegations by hash of the delegation certificate bytes.
    private var delegations: BoundedCache<[UInt8], DelegatedSubnetKey>
    /// Valid BLS signatures, keyed by the hash of key, signature and root hash: certificates
    /// of one state that reveal different paths (e.g. every call's reply in one round) share
    /// the signed root, so the pairing check runs once per state rather than once per witness.
    private var signatures: BoundedCache<[UInt8], Bool>

    private struct VerifiedKey: Hashable {
        let certificateHash: [UInt8]
        let scope: CertificateScope
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
        validator = CertificateValidator(rootKey: rootKey, freshness: freshness)
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
            try validator.checkFreshness(of: cached.certificate, now: clock())
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
            let subnet = try delegatedKey(delegation)
            try CertificateValidator.checkScope(scope, of: delegation.subnetID, ranges: subnet.ranges)
            key = subnet.key
            signingSubnet = delegation.subnetID
        } else {
            key = rootKey.raw
        }
        try checkSignature(of: certificate, key: key, isDelegation: false)
        try validator.checkFreshness(of: certificate, now: clock())
        return VerifiedCertificate(certificate: certificate, signingSubnet: signingSubnet)
    }

    private func delegatedKey(_ delegation: Certificate.Delegation) throws(CertificateError) -> DelegatedSubnetKey {
        let cacheKey = SHA256.hash(delegation.certificateBytes) + delegation.subnetID.bytes
        if let cached = lock.withLock({ delegations[cacheKey] }) { return cached }
        let result = try validator.subnetKey(of: delegation) { certificate, key throws(CertificateError) in
            try checkSignature(of: certificate, key: key, isDelegation: true)
        }
        lock.withLock { delegations[cacheKey] = result }
        return result
    }

    private func checkSignature(of certificate: Certificate, key: [UInt8], isDelegation: Bool) throws(CertificateError) {
        let cacheKey = SHA256.hash(key + certificate.signature + certificate.rootHash)
        if lock.withLock({ signatures[cacheKey] }) == true { return }
        try CertificateValidator.checkSignature(of: certificate, key: key, isDelegation: isDelegation)
        lock.withLock { signatures[cacheKey] = true }
    }
}
