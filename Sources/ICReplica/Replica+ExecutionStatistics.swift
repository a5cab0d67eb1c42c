import ICCore

/// What the last message a canister executed cost: for benchmarks and tests that measure
/// canister code, not the replica.
public struct ExecutionStatistics: Sendable, Equatable {
    /// The entry point, e.g. `canister_update ws_message` or `canister_global_timer`.
    public var export: String
    /// Wasm instructions (WasmKit fuel units, about one per instruction) it used.
    public var instructions: UInt64
    /// Host time of the Wasm execution alone (no ingress handling, commit or certification).
    public var duration: Duration
}

extension Replica {
    /// The cost of the last message `canister` executed (update, query, timer, heartbeat or
    /// install hook, trapped or not); `nil` for an unknown or empty canister.
    public func lastExecution(of canister: Principal) -> ExecutionStatistics? {
        withState { state in
            guard let runtime = state.canisters[canister]?.runtime else { return nil }
            return ExecutionStatistics(
                export: runtime.lastExport, instructions: runtime.lastInstructions,
                duration: runtime.lastDuration)
        }
    }
}
