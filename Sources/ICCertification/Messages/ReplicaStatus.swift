import ICCore

/// The CBOR body of `GET /api/v2/status` (essentials §5.1). Unknown fields are ignored.
public struct ReplicaStatus: Sendable, Equatable {
    /// The DER root key; present on development instances only. Never trust it for mainnet.
    public var rootKey: [UInt8]?
    public var implementationVersion: String?
    /// `"healthy"` when the replica is ready.
    public var healthStatus: String?
    public var certifiedHeight: UInt64?

    public init(rootKey: [UInt8]? = nil, implementationVersion: String? = nil, healthStatus: String? = nil, certifiedHeight: UInt64? = nil)
    {
        self.rootKey = rootKey
        self.implementationVersion = implementationVersion
        self.healthStatus = healthStatus
        self.certifiedHeight = certifiedHeight
    }

    public var cbor: CBORValue {
        var entries: [(key: CBORValue, value: CBORValue)] = []
        if let rootKey { entries.append((.text("root_key"), .bytes(rootKey))) }
        if let implementationVersion { entries.append((.text("impl_version"), .text(implementationVersion))) }
        if let healthStatus { entries.append((.text("replica_health_status"), .text(healthStatus))) }
        if let certifiedHeight { entries.append((.text("certified_height"), .unsigned(certifiedHeight))) }
        return .map(entries)
    }
}
