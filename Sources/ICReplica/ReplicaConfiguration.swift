/// Settings of a ``Replica``. Every limit has a default suited to local development.
public struct ReplicaConfiguration: Sendable {
    /// 32+ bytes from which the BLS root key (and node key) are derived; `nil`: a random key
    /// (or the one persisted in ``stateDirectory``).
    public var seed: [UInt8]?
    /// Where the root key, canisters and their memory are persisted; `nil`: in memory only.
    public var stateDirectory: String?
    /// Whether rounds run by themselves (when there is work: ingress, a due timer, heartbeats,
    /// and every ``idleRoundInterval``); off for tests that drive time with `tick`, `setTime`
    /// and `advanceTime`.
    public var autoProgress: Bool
    /// The period of rounds in auto-progress mode while some canister exports
    /// `canister_heartbeat` (the IC runs heartbeats every round, about once a second on mainnet).
    /// Without such a canister, rounds run only when there is work.
    public var roundInterval: Duration
    /// The longest pause between rounds in auto-progress mode when nothing happens: each round
    /// certifies the time, and agents refuse certificates older than 5 minutes, so an idle replica
    /// still answers `read_state` with a fresh one. It also expires old request statuses.
    public var idleRoundInterval: Duration = .seconds(30)
    /// Largest HTTP request body (the IC's ingress limit is 2 MiB of payload plus envelope).
    public var maxRequestBytes: Int
    /// Most canisters that may exist.
    public var maxCanisters: Int
    /// Most ingress messages waiting for a round.
    public var maxQueuedIngress: Int
    /// Most request statuses kept (oldest terminal ones are dropped first; all expire with their request).
    public var maxRequestStatuses: Int
    /// Instruction (fuel) limit of an update, init or timer message.
    public var updateInstructionLimit: UInt64
    /// Instruction limit of a query.
    public var queryInstructionLimit: UInt64
    /// Instruction limit of install_code (init, pre/post upgrade).
    public var installInstructionLimit: UInt64
    /// Largest stable memory, in 64 KiB pages.
    public var maxStableMemoryPages: UInt64
    /// The cycle balance every canister reports (cycles are not accounted).
    public var cycleBalance: UInt64
    /// How long a synchronous call waits for its round before answering 202.
    public var syncCallTimeout: Duration

    public init(
        seed: [UInt8]? = nil, stateDirectory: String? = nil, autoProgress: Bool = true,
        roundInterval: Duration = .milliseconds(100), maxRequestBytes: Int = (2 << 20) + (64 << 10),
        maxCanisters: Int = 10_000, maxQueuedIngress: Int = 10_000, maxRequestStatuses: Int = 100_000,
        updateInstructionLimit: UInt64 = 40_000_000_000, queryInstructionLimit: UInt64 = 5_000_000_000,
        installInstructionLimit: UInt64 = 300_000_000_000, maxStableMemoryPages: UInt64 = 4_096,
        cycleBalance: UInt64 = 100_000_000_000_000, syncCallTimeout: Duration = .seconds(10)
    ) {
        self.seed = seed
        self.stateDirectory = stateDirectory
        self.autoProgress = autoProgress
        self.roundInterval = roundInterval
        self.maxRequestBytes = maxRequestBytes
        self.maxCanisters = maxCanisters
        self.maxQueuedIngress = maxQueuedIngress
        self.maxRequestStatuses = maxRequestStatuses
        self.updateInstructionLimit = updateInstructionLimit
        self.queryInstructionLimit = queryInstructionLimit
        self.installInstructionLimit = installInstructionLimit
        self.maxStableMemoryPages = maxStableMemoryPages
        self.cycleBalance = cycleBalance
        self.syncCallTimeout = syncCallTimeout
    }
}
