import ICAgent
import ICCore
import Testing

@testable import ICReplica

/// A canister's `icp:public` / `icp:private` custom sections, served as
/// `/canister/<id>/metadata/<name>` in `read_state` (essentials §5.4): what `icws connect` reads
/// the canister's Candid interface from.
@Suite("Replica canister metadata")
struct MetadataTests {
    /// `module` with a custom section appended (valid anywhere after the header).
    static func withCustomSection(_ module: [UInt8], name: String, _ contents: [UInt8]) -> [UInt8] {
        (try! WasmBinary(bytes: module)).replacingCustomSection(named: name, with: contents)
    }

    static func path(_ canister: Principal, _ name: String) -> [[UInt8]] {
        [Array("canister".utf8), canister.bytes, Array("metadata".utf8), Array(name.utf8)]
    }

    static let interface = Array("service : { inc : () -> (nat64) }".utf8)

    static var moduleWithMetadata: [UInt8] {
        let withPublic = withCustomSection(TestCanisters.counter, name: "icp:public candid:service", interface)
        return withCustomSection(withPublic, name: "icp:private build_secret", [1, 2, 3])
    }

    @Test("a public section is readable by anyone, certified; a private one only by controllers")
    func publicAndPrivate() async throws {
        try await ReplicaHarness.run { harness in
            let controller = harness.agent()
            let id = try await harness.deploy(controller, module: Self.moduleWithMetadata)
            let stranger = harness.agent()

            let publicRead = try await stranger.readState(canister: id, paths: [Self.path(id, "candid:service")])
            #expect(publicRead.lookup(Self.path(id, "candid:service")).value == Self.interface)

            let privateRead = try await controller.readState(canister: id, paths: [Self.path(id, "build_secret")])
            #expect(privateRead.lookup(Self.path(id, "build_secret")).value == [1, 2, 3])

            do {
                _ = try await stranger.readState(canister: id, paths: [Self.path(id, "build_secret")])
                Issue.record("a non-controller read a private metadata section")
            } catch {
                #expect("\(error)".contains("private"), "\(error)")
            }
            // The whole subtree would reveal the private sections.
            await #expect(throws: AgentError.self) {
                _ = try await stranger.readState(canister: id, paths: [[Array("canister".utf8), id.bytes, Array("metadata".utf8)]])
            }
        }
    }

    @Test("a missing section is proven absent; an upgrade replaces the sections, uninstall removes them")
    func absentAndReplaced() async throws {
        try await ReplicaHarness.run { harness in
            let agent = harness.agent()
            let id = try await harness.deploy(agent, module: Self.moduleWithMetadata)
            let missing = try await agent.readState(canister: id, paths: [Self.path(id, "no_such_section")])
            #expect(missing.lookup(Self.path(id, "no_such_section")) == .absent)

            let newInterface = Array("service : {}".utf8)
            try await harness.install(
                agent, canister: id,
                module: Self.withCustomSection(TestCanisters.counter, name: "icp:public candid:service", newInterface),
                mode: "upgrade")
            let upgraded = try await agent.readState(canister: id, paths: [Self.path(id, "candid:service"), Self.path(id, "build_secret")])
            #expect(upgraded.lookup(Self.path(id, "candid:service")).value == newInterface)
            #expect(upgraded.lookup(Self.path(id, "build_secret")) == .absent)

            try await ManagementCanister(agent: agent).uninstallCode(canister: id)
            let uninstalled = try await agent.readState(canister: id, paths: [Self.path(id, "candid:service")])
            #expect(uninstalled.lookup(Self.path(id, "candid:service")) == .absent)
        }
    }

    @Test("the module limits on icp: sections: at most 16, at most 1 MiB in total, one per name")
    func limits() throws {
        var many = TestCanisters.counter
        for index in 0...ModuleValidator.maxMetadataSections {
            many = Self.withCustomSection(many, name: "icp:public s\(index)", [])
        }
        #expect { _ = try ModuleValidator.validate(many) } throws: { "\($0)".contains("at most 16 are allowed") }

        let large = Self.withCustomSection(
            TestCanisters.counter, name: "icp:public big", Array(repeating: 7, count: ModuleValidator.maxMetadataBytes))
        #expect { _ = try ModuleValidator.validate(large) } throws: { "\($0)".contains("at most \(ModuleValidator.maxMetadataBytes)") }

        let twice = Self.withCustomSection(
            Self.withCustomSection(TestCanisters.counter, name: "icp:public x", []), name: "icp:private x", [])
        #expect { _ = try ModuleValidator.validate(twice) } throws: { "\($0)".contains("declared twice") }

        let validated = try ModuleValidator.validate(Self.moduleWithMetadata)
        #expect(validated.metadata["candid:service"] == CanisterMetadata(isPublic: true, contents: Self.interface))
        #expect(validated.metadata["build_secret"] == CanisterMetadata(isPublic: false, contents: [1, 2, 3]))
    }
}
