import ICCore

/// A canister's state in the replica: settings, code, and what survives between messages.
///
/// A value inside ``ReplicaState``; only `runtime` (the WasmKit instance with the heap) is a
/// reference, and it is replaced, never shared, when code is installed.
struct HostedCanister {
    enum Status: Equatable { case running, stopping, stopped }

    let id: Principal
    var controllers: [Principal]
    var status: Status = .running
    var runtime: CanisterRuntime?
    var moduleBytes: [UInt8]?
    var moduleHash: [UInt8]?
    /// The module's `icp:` custom sections, served as `/canister/<id>/metadata/<name>`.
    var metadata: [String: CanisterMetadata] = [:]
    var certifiedData: [UInt8] = []
    var globalTimer: UInt64 = 0
    var stableMemory: [UInt8] = []
    var version: UInt64 = 0
    let creationTime: UInt64
    var lastInstallTime: UInt64?
    var debugLog: [String] = []
    /// Lines logged since creation (the sequence number of the next line), for followers.
    var loggedLines = 0

    init(id: Principal, controllers: [Principal], creationTime: UInt64) {
        self.id = id
        self.controllers = controllers
        self.creationTime = creationTime
    }

    /// Records the installed module's bytes, hash and metadata (not its runtime).
    mutating func setModule(_ bytes: [UInt8], _ validated: ModuleValidator.Validated) {
        moduleBytes = bytes
        moduleHash = SHA256.hash(bytes)
        metadata = validated.metadata
    }

    /// Forgets the module (`uninstall_code`).
    mutating func removeModule() {
        runtime = nil
        moduleBytes = nil
        moduleHash = nil
        metadata = [:]
    }

    /// Keeps the last lines of the canister log (debug prints, traps) bounded.
    mutating func log(_ lines: [String]) {
        debugLog += lines
        loggedLines += lines.count
        if debugLog.count > 1_000 { debugLog.removeFirst(debugLog.count - 1_000) }
    }
}
