import Foundation
import ICAgent
import ICCore
import ICReplica
import ICTestSupport
import ICWebSocketTesting

/// The replica tests run against the shared loopback harness.
typealias ReplicaHarness = LocalReplica

extension LocalReplica {
    func createCanister(_ agent: HTTPAgent) async throws -> Principal {
        try await ManagementCanister(agent: agent).provisionalCreateCanister(effectiveCanisterID: replica.canisterRange.lowerBound)
    }

    func install(_ agent: HTTPAgent, canister: Principal, module: [UInt8], mode: String = "install", arg: [UInt8] = []) async throws {
        guard let installMode = ManagementCanister.InstallMode(rawValue: mode) else { throw TestFailure("unknown install mode \(mode)") }
        try await ManagementCanister(agent: agent).installCode(canister: canister, module: module, arg: arg, mode: installMode)
    }

    func deploy(_ agent: HTTPAgent, module: [UInt8] = TestCanisters.counter) async throws -> Principal {
        try await deploy(module: module, agent: agent)
    }
}

func uint64(_ bytes: [UInt8], at offset: Int = 0) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 where offset + i < bytes.count { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    return value
}
