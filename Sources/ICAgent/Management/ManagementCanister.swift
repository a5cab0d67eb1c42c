import ICCore

/// The management canister (`aaaaa-aa`): creating canisters and installing code, as `dfx
/// canister create` / `dfx canister install` do against a local replica.
///
/// ```swift
/// let management = ManagementCanister(agent: agent)
/// let id = try await management.provisionalCreateCanister(effectiveCanisterID: anyIDInTheSubnetRange)
/// try await management.installCode(canister: id, module: wasm, arg: try Candid.encode(UInt64(10), UInt64(300_000)))
/// ```
public struct ManagementCanister: Sendable {
    /// How `install_code` treats an existing module.
    public enum InstallMode: String, Sendable, CaseIterable {
        /// Install into an empty canister.
        case install
        /// Replace the module and wipe the canister's state.
        case reinstall
        /// Replace the module keeping stable memory (pre/post-upgrade hooks run).
        case upgrade
    }

    /// The agent whose identity becomes the controller of created canisters.
    public let agent: HTTPAgent

    public init(agent: HTTPAgent) {
        self.agent = agent
    }

    /// `provisional_create_canister_with_cycles` (local replicas only): creates an empty canister
    /// controlled by the agent's identity. `effectiveCanisterID` must lie in the subnet's range
    /// (any canister id of the target subnet; a local replica's range starts at its first id).
    public func provisionalCreateCanister(effectiveCanisterID: Principal) async throws(AgentError) -> Principal {
        let argument = Self.encode { () throws(CandidError) in try CandidEncoder.encode([.record([])], types: [.record([])]) }
        let reply = try await agent.call(
            canister: .managementCanister, method: "provisional_create_canister_with_cycles",
            arg: try argument(), effectiveCanisterID: effectiveCanisterID)
        let values: [CandidValue]
        do { values = try Candid.decodeValues(from: reply) } catch {
            throw .replyDecoding("create_canister reply is not valid Candid: \(error)")
        }
        guard let record = try? values.first?.record(), case .principal(let id)? = record.value("canister_id") else {
            throw .replyDecoding("create_canister reply has no canister_id")
        }
        return id
    }

    /// `install_code`: installs, reinstalls or upgrades `module` (raw or gzipped Wasm) with the
    /// init / post-upgrade argument `arg` (Candid bytes; empty means no argument).
    public func installCode(
        canister: Principal, module: [UInt8], arg: [UInt8] = Candid.encode(),
        mode: InstallMode = .install
    ) async throws(AgentError) {
        let modeType: CandidType = .variant([
            .init(name: "install", type: .null), .init(name: "reinstall", type: .null),
            .init(name: "upgrade", type: .opt(.record([.init(name: "skip_pre_upgrade", type: .opt(.bool))]))),
        ])
        let type: CandidType = .record([
            .init(name: "mode", type: modeType), .init(name: "canister_id", type: .principal),
            .init(name: "wasm_module", type: .blob), .init(name: "arg", type: .blob),
        ])
        let modeValue: CandidValue = mode == .upgrade ? .variant("upgrade", .opt(nil)) : .variant(mode.rawValue)
        let value: CandidValue = .record(sorting: [
            .field("mode", modeValue), .field("canister_id", .principal(canister)),
            .field("wasm_module", .blob(module)), .field("arg", .blob(arg)),
        ])
        let argument = Self.encode { () throws(CandidError) in try CandidEncoder.encode([value], types: [type]) }
        _ = try await agent.call(
            canister: .managementCanister, method: "install_code", arg: try argument(),
            effectiveCanisterID: canister)
    }

    /// `uninstall_code`: removes the canister's module and state (the canister itself stays).
    public func uninstallCode(canister: Principal) async throws(AgentError) {
        let type: CandidType = .record([.init(name: "canister_id", type: .principal)])
        let argument = Self.encode { () throws(CandidError) in
            try CandidEncoder.encode([.record([.field("canister_id", .principal(canister))])], types: [type])
        }
        _ = try await agent.call(
            canister: .managementCanister, method: "uninstall_code", arg: try argument(),
            effectiveCanisterID: canister)
    }

    /// Creates a canister and installs `module` into it; returns the new canister's id.
    public func deploy(
        module: [UInt8], arg: [UInt8] = Candid.encode(),
        effectiveCanisterID: Principal
    ) async throws(AgentError) -> Principal {
        let id = try await provisionalCreateCanister(effectiveCanisterID: effectiveCanisterID)
        try await installCode(canister: id, module: module, arg: arg)
        return id
    }

    private static func encode(_ body: @escaping () throws(CandidError) -> [UInt8]) -> () throws(AgentError) -> [UInt8] {
        { () throws(AgentError) in
            do { return try body() } catch { throw .replyDecoding("cannot encode the management call: \(error)") }
        }
    }
}
