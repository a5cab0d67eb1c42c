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
    /// Checks a certificate's `/time` (`nil`: not revealed) against `now` (ns since 1970).
    public func check(time: UInt64?, now: UInt64) throws(CertificateError) {
        guard let maxAge else { return }
        guard let time else { throw .timeMissing }
        let maxAgeNanoseconds = maxAge.icNanoseconds
        if time < now, now - time > maxAgeNanoseconds {
            throw .stale(certificateTime: time, now: now, maxAgeNanoseconds: maxAgeNanoseconds)
        }
        if time > now, time - now > maxFutureSkew.icNanoseconds {
            throw .fromTheFuture(certificateTime: time, now: now)
        }
    }

    /// No time check at all.
    public static let disabled = CertificateFreshness(maxAge: nil, maxFutureSkew: .seconds(Int64.max / 2_000_000_000))
}

/// A subnet's BLS key and canister ranges, as a delegation certificate reveals them.
public struct DelegatedSubnetKey: Sendable {
    /// The raw 96-byte BLS public key of the subnet.
    public var key: [UInt8]
    /// The canister id ranges of the subnet; `nil` if the delegation reveals none.
    public var ranges: [ClosedRange<Principal>]?
}

/// The checks of an IC certificate (essentials §8) as plain functions of their inputs: BLS
/// signature, subnet delegation (one level), canister-range or subnet scope, and freshness.
///
/// No caches, locks or clocks: ``CertificateVerifier`` wraps it with caches for agents, and the
/// browser client (Embedded Swift, single-threaded) uses it as it is.
public struct CertificateValidator: Sendable {
    /// The key certificates must chain to.
    public let rootKey: RootKey
    /// The freshness policy.
    public let freshness: CertificateFreshness

    public init(rootKey: RootKey, freshness: CertificateFreshness = .default) {
        self.rootKey = rootKey
        self.freshness = freshness
    }

    /// All checks, in order: delegation and scope, signature, freshness against `now` (ns since 1970).
    public func validate(
        _ certificate: Certificate, for scope: CertificateScope, now: UInt64
    ) throws(CertificateError) -> VerifiedCertificate {
        var key = rootKey.raw
        var signingSubnet: Principal?
        if let delegation = certificate.delegation {
            let subnet = try subnetKey(of: delegation)
            try Self.checkScope(scope, of: delegation.subnetID, ranges: subnet.ranges)
            key = subnet.key
            signingSubnet = delegation.subnetID
        }
        try Self.checkSignature(of: certificate, key: key, isDelegation: false)
        try checkFreshness(of: certificate, now: now)
        return VerifiedCertificate(certificate: certificate, signingSubnet: signingSubnet)
    }

    /// The subnet key a delegation vouches for: the delegation must not itself be delegated,
    /// must be signed by the root key (checked with `checkSignature`, which a caller with a
    /// signature cache replaces), and must reveal the subnet's public key.
    ///
    /// Delegation certificates are deliberately not subject to the freshness window: the root
    /// subnet re-issues them rarely (agent-rs does not check their time at all).
    public func subnetKey(
        of delegation: Certificate.Delegation,
        checkSignature: (_ certificate: Certificate, _ key: [UInt8]) throws(CertificateError) -> Void = {
            certificate, key throws(CertificateError) in
            try CertificateValidator.checkSignature(of: certificate, key: key, isDelegation: true)
        }
    ) throws(CertificateError) -> DelegatedSubnetKey {
        let inner = delegation.certificate
        guard inner.delegation == nil else { throw .nestedDelegation }
        try checkSignature(inner, rootKey.raw)
        let subnet = delegation.subnetID
        guard let keyDER = inner.tree.lookup(path: [Array("subnet".utf8), subnet.bytes, Array("public_key".utf8)]).value else {
            throw .subnetKeyMissing(subnet: subnet)
        }
        guard let key = try? BLS.rawPublicKey(fromDER: keyDER) else { throw .invalidSubnetKey(subnet: subnet) }
        return DelegatedSubnetKey(key: key, ranges: try CanisterRanges.revealed(in: inner.tree, for: subnet))
    }

    /// Whether a certificate signed by `subnet` (with `ranges`) may be used for `scope`.
    public static func checkScope(
        _ scope: CertificateScope, of subnet: Principal, ranges: [ClosedRange<Principal>]?
    ) throws(CertificateError) {
        switch scope {
        case .canister(let canister):
            guard let ranges else { throw .canisterRangesUnavailable(subnet: subnet) }
            guard ranges.contains(where: { $0.contains(canister) }) else {
                throw .canisterNotInRanges(canister: canister, subnet: subnet)
            }
        case .subnet(let expected):
            guard expected == subnet else { throw .subnetMismatch(expected: expected, found: subnet) }
        case .unscoped:
            break
        }
    }

    /// The BLS signature over the certificate's root hash (domain `ic-state-root`).
    public static func checkSignature(of certificate: Certificate, key: [UInt8], isDelegation: Bool) throws(CertificateError) {
        do {
            try BLS.check(signature: certificate.signature, message: DomainSeparator.stateRoot + certificate.rootHash, publicKey: key)
        } catch {
            throw .invalidSignature(error.description, delegation: isDelegation)
        }
    }

    /// The certificate's `/time` against `now` and the freshness policy.
    public func checkFreshness(of certificate: Certificate, now: UInt64) throws(CertificateError) {
        try freshness.check(time: certificate.time, now: now)
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
