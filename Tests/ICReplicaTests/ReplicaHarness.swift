import Foundation
import ICAgent
import ICCore
import ICReplica
import Logging

/// Runs a real replica over loopback HTTP for the duration of a test.
struct ReplicaHarness {
    let replica: Replica
    let url: String

    static let seed = [UInt8](repeating: 7, count: 32)

    /// Starts a replica (auto-progress unless `manual`) and its server on an ephemeral port.
    /// In manual mode a background ticker runs rounds (without moving time) so calls complete.
    static func run(manual: Bool = false, configure: (inout ReplicaConfiguration) -> Void = { _ in },
                    _ body: @Sendable (ReplicaHarness) async throws -> Void) async throws {
        var configuration = ReplicaConfiguration(seed: seed, autoProgress: !manual, roundInterval: .milliseconds(20))
        configure(&configuration)
        var logger = Logger(label: "test-replica")
        logger.logLevel = .critical
        let replica = try Replica(configuration: configuration, logger: logger)
        if manual { try replica.setTime(1_800_000_000_000_000_000) }
        let ready = AsyncStream<Int>.makeStream()
        let app = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: 0, logger: logger) { port in
            ready.continuation.yield(port)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            if manual {
                group.addTask {
                    while !Task.isCancelled {
                        replica.tick()
                        try? await Task.sleep(for: .milliseconds(2))
                    }
                }
            } else {
                group.addTask { await replica.runRounds() }
            }
            var iterator = ready.stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            try await body(ReplicaHarness(replica: replica, url: "http://127.0.0.1:\(port)"))
            group.cancelAll()
        }
    }

    /// An agent that trusts the root key served at /api/v2/status and follows the replica's clock.
    func agent(_ identity: any Identity = Ed25519Identity(), verifiesQuerySignatures: Bool = true) -> HTTPAgent {
        let replica = self.replica
        return HTTPAgent(configuration: .init(url: url, rootKey: .fetchFromReplica, verifiesQuerySignatures: verifiesQuerySignatures,
                                              pollingInterval: (.milliseconds(5), .milliseconds(50)),
                                              clock: { replica.configuration.autoProgress ? max(replica.currentTime, UInt64(Date().timeIntervalSince1970 * 1e9)) : replica.currentTime }),
                         identity: identity)
    }

    // MARK: Management canister helpers

    func createCanister(_ agent: HTTPAgent) async throws -> Principal {
        let arg = try CandidEncoder.encode([.record([])], types: [.record([])])
        let reply = try await agent.call(canister: .managementCanister, method: "provisional_create_canister_with_cycles", arg: arg,
                                         effectiveCanisterID: replica.canisterRange.lowerBound)
        guard case .principal(let id)? = try Candid.decodeValues(from: reply).first?.record().value("canister_id") else {
            throw TestFailure("create reply has no canister_id")
        }
        return id
    }

    func install(_ agent: HTTPAgent, canister: Principal, module: [UInt8], mode: String = "install", arg: [UInt8] = []) async throws {
        let modeType: CandidType = .variant([.init(name: "install", type: .null), .init(name: "reinstall", type: .null),
                                             .init(name: "upgrade", type: .opt(.record([.init(name: "skip_pre_upgrade", type: .opt(.bool))])))])
        let type: CandidType = .record([.init(name: "mode", type: modeType), .init(name: "canister_id", type: .principal),
                                        .init(name: "wasm_module", type: .blob), .init(name: "arg", type: .blob)])
        let modeValue: CandidValue = mode == "upgrade" ? .variant("upgrade", .opt(nil)) : .variant(mode)
        let value: CandidValue = .record(sorting: [.field("mode", modeValue), .field("canister_id", .principal(canister)),
                                                   .field("wasm_module", .blob(module)), .field("arg", .blob(arg))])
        _ = try await agent.call(canister: .managementCanister, method: "install_code",
                                 arg: try CandidEncoder.encode([value], types: [type]), effectiveCanisterID: canister)
    }

    func deploy(_ agent: HTTPAgent, module: [UInt8] = TestCanisters.counter) async throws -> Principal {
        let id = try await createCanister(agent)
        try await install(agent, canister: id, module: module)
        return id
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func uint64(_ bytes: [UInt8], at offset: Int = 0) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 where offset + i < bytes.count { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    return value
}
