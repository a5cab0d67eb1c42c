import ICCore

/// Installing code (called from the management canister, inside a round).
extension Replica {
    /// `install_code`: atomic — a reject leaves the canister as it was (but for its log, which
    /// keeps what `canister_pre_upgrade`, `canister_init` or `canister_post_upgrade` printed).
    func installCode(
        _ id: Principal, in state: inout ReplicaState, mode: VirtualManagementCanister.InstallMode, module raw: [UInt8],
        argument: [UInt8], sender: Principal
    ) throws(Reject) {
        guard let canister = state.canisters[id] else { throw Reject.destinationInvalid("Canister \(id) not found") }
        var printed: [String] = []
        defer { state.canisters[id]?.log(printed) }
        let installed = try canisterWithCode(
            canister, time: state.time, mode: mode, module: raw, argument: argument, sender: sender, printed: &printed)
        state.canisters[id] = installed
        state.needsPersisting = true
    }

    /// `canister` with the module installed, or the reason it cannot be.
    private func canisterWithCode(
        _ current: HostedCanister, time: UInt64, mode: VirtualManagementCanister.InstallMode, module raw: [UInt8],
        argument: [UInt8], sender: Principal, printed: inout [String]
    ) throws(Reject) -> HostedCanister {
        var canister = current
        let moduleBytes: [UInt8]
        if raw.starts(with: [0x1F, 0x8B, 0x08]) {
            do { moduleBytes = try Gzip.decompress(raw, limit: ModuleValidator.maxModuleBytes) } catch {
                throw Reject(code: 5, message: "Wasm module of canister \(canister.id) is not a valid gzip: \(error)", errorCode: "IC0505")
            }
        } else {
            moduleBytes = raw
        }
        let validated: ModuleValidator.Validated
        do { validated = try ModuleValidator.validate(moduleBytes) } catch {
            throw Reject(code: 5, message: "Wasm module of canister \(canister.id) is not valid: \(error)", errorCode: "IC0505")
        }
        switch mode {
        case .install where canister.runtime != nil:
            throw Reject(
                code: 5,
                message:
                    "Canister \(canister.id) cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.",
                errorCode: "IC0538")
        case .upgrade where canister.runtime == nil:
            throw Reject(code: 5, message: "Canister \(canister.id) is empty: it has no Wasm module to upgrade", errorCode: "IC0537")
        default: break
        }
        var stable: [UInt8] = []
        if case .upgrade(let skip) = mode, let old = canister.runtime, !skip, old.hasEntryPoint("canister_pre_upgrade") {
            // Not committed to the old instance: it is discarded on success and must stay as it was on failure.
            let context = makeContext(canister, time: time, kind: .preUpgrade, caller: sender)
            let outcome = old.run(
                "canister_pre_upgrade", context: context, fuel: configuration.installInstructionLimit, commitOnSuccess: false)
            printed += context.debugPrints
            if case .trapped(let trap) = outcome {
                throw Reject(
                    code: 5, message: "Error from Canister \(canister.id): Canister trapped in pre_upgrade: \(trap.message)",
                    errorCode: "IC0503")
            }
            stable = context.stableMemory
        } else if case .upgrade = mode {
            stable = canister.stableMemory
        }
        let runtime: CanisterRuntime
        do { try CanisterRuntime.validateCode(of: validated, engine: validationEngine, canisterID: canister.id) } catch {
            throw Reject(code: 5, message: "Wasm module of canister \(canister.id) is not valid: \(error)", errorCode: "IC0505")
        }
        do { runtime = try CanisterRuntime(module: validated, engine: engine, canisterID: canister.id) } catch {
            throw Reject(code: 5, message: "Wasm module of canister \(canister.id) cannot be instantiated: \(error)", errorCode: "IC0505")
        }
        let isUpgrade: Bool = if case .upgrade = mode { true } else { false }
        let kind: EntryKind = isUpgrade ? .postUpgrade : .install
        let context = ExecutionContext(
            kind: kind, canisterID: canister.id, caller: sender, argument: argument, time: time,
            controllers: canister.controllers, rootKeyDER: rootKey.der,
            cycleBalance: configuration.cycleBalance, canisterVersion: canister.version + 1,
            certifiedData: isUpgrade ? canister.certifiedData : [], globalTimer: 0,
            stableMemory: stable, maxStablePages: configuration.maxStableMemoryPages)
        if let export = kind.exportName, runtime.hasEntryPoint(export) {
            let outcome = runtime.run(export, context: context, fuel: configuration.installInstructionLimit, commitOnSuccess: true)
            printed += context.debugPrints
            if case .trapped(let trap) = outcome {
                let phase = isUpgrade ? "post_upgrade" : "init"
                throw Reject(
                    code: 5, message: "Error from Canister \(canister.id): Canister trapped in \(phase): \(trap.message)",
                    errorCode: "IC0503")
            }
        }
        canister.runtime = runtime
        canister.setModule(moduleBytes, validated)
        canister.certifiedData = context.certifiedData
        canister.globalTimer = context.globalTimer
        canister.stableMemory = context.stableMemory
        canister.version += 1
        canister.lastInstallTime = time
        return canister
    }
}

extension Replica {
    /// Validates `module` (raw or gzipped) as `install_code` does and instantiates it once without
    /// installing it: what a deploy tool can check before sending, and what the benchmark times.
    /// - Parameter compileAllCode: also translate every function body (install does this once).
    public func checkModule(_ module: [UInt8], compileAllCode: Bool = true) throws(ReplicaError) {
        var bytes = module
        if module.starts(with: [0x1F, 0x8B, 0x08]) {
            do { bytes = try Gzip.decompress(module, limit: ModuleValidator.maxModuleBytes) } catch {
                throw .invalidModule("not a valid gzip: \(error)")
            }
        }
        let validated: ModuleValidator.Validated
        do { validated = try ModuleValidator.validate(bytes) } catch { throw .invalidModule(error.reason) }
        let id = Principal.canister(index: 0)
        if compileAllCode { try CanisterRuntime.validateCode(of: validated, engine: validationEngine, canisterID: id) }
        _ = try CanisterRuntime(module: validated, engine: engine, canisterID: id)
    }
}
