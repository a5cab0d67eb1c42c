import CanisterToolchain
import Foundation
import ICAgent
import ICCore
import ICWebSocketTesting
import Testing

/// `examples/dfx/dfx.json` deploys what `icws canister build` writes: each canister's `candid`
/// and `wasm` (the gzipped module) exist where dfx will look, the gzipped module is the checked
/// module, and the replica (which, like the IC, takes gzipped modules) installs it and serves
/// the `.did` as the certified `candid:service` metadata.
extension CanisterReplicaTests {
    @Suite("dfx.json example")
    struct DfxExampleTests {
        struct DfxCanister {
            var name: String
            var type: String
            var candid: URL
            var wasm: URL
            var initArg: String?
            var metadata: [String]
        }

        static let example = ICWSExecutable.root.appendingPathComponent("examples/dfx")

        static func canisters() throws -> [DfxCanister] {
            let data = try Data(contentsOf: example.appendingPathComponent("dfx.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let entries = try #require(json["canisters"] as? [String: [String: Any]])
            return try entries.keys.sorted().map { name in
                let entry = entries[name]!
                return DfxCanister(
                    name: name, type: entry["type"] as? String ?? "",
                    candid: example.appendingPathComponent(try #require(entry["candid"] as? String)).standardizedFileURL,
                    wasm: example.appendingPathComponent(try #require(entry["wasm"] as? String)).standardizedFileURL,
                    initArg: entry["init_arg"] as? String,
                    metadata: (entry["metadata"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
            }
        }

        @Test("every canister of dfx.json is a custom canister naming the builder's .did and .wasm.gz")
        func pathsAreTheBuildersOutputs() throws {
            let canisters = try Self.canisters()
            #expect(canisters.count == 3)
            let builder = CanisterModules.builder
            for canister in canisters {
                #expect(canister.type == "custom", "\(canister.name)")
                #expect(canister.metadata.contains("candid:service"), "\(canister.name)")
                let product = canister.wasm.lastPathComponent.replacingOccurrences(of: ".wasm.gz", with: "")
                #expect(CanisterBuilder.knownCanisters.contains(product), "\(canister.name): \(canister.wasm.path)")
                #expect(canister.wasm.path == builder.gzippedModulePath(product).standardizedFileURL.path)
                #expect(canister.candid.path == builder.candidPath(product).standardizedFileURL.path)
            }
        }

        @Test("the .wasm.gz of each canister installs in the replica; its module hash and candid:service are the build's")
        func gzippedModulesInstall() async throws {
            let canisters = try Self.canisters()
            for canister in canisters {
                let product = canister.wasm.lastPathComponent.replacingOccurrences(of: ".wasm.gz", with: "")
                _ = try CanisterModules.module(product)  // builds (and gzips) when stale
            }
            try await LocalReplica.run { local in
                for canister in canisters {
                    let gzipped = [UInt8](try Data(contentsOf: canister.wasm))
                    #expect(gzipped.starts(with: [0x1f, 0x8b, 0x08]), "\(canister.wasm.lastPathComponent) is not gzip")
                    let product = canister.wasm.lastPathComponent.replacingOccurrences(of: ".wasm.gz", with: "")
                    let module = try CanisterModules.module(product)
                    #expect(gzipped.count < module.count, "gzip should make \(product) smaller")
                    let did = [UInt8](try Data(contentsOf: canister.candid))
                    var arg = Candid.encode()
                    if let text = canister.initArg {
                        let values = try CandidTextParser.parseArguments(text)
                        arg = try CandidEncoder.encode(values, types: values.map(CandidType.inferred(from:)))
                    }
                    let agent = local.agent()
                    let id = try await local.deploy(module: gzipped, arg: arg, agent: agent)
                    let hashPath = [Array("canister".utf8), id.bytes, Array("module_hash".utf8)]
                    let metadataPath = [Array("canister".utf8), id.bytes, Array("metadata".utf8), Array("candid:service".utf8)]
                    let certificate = try await agent.readState(canister: id, paths: [hashPath, metadataPath])
                    // The IC hashes the module it runs, i.e. after decompression.
                    #expect(certificate.lookup(hashPath).value == SHA256.hash(module), "\(product): module hash")
                    #expect(certificate.lookup(metadataPath).value == did, "\(product): candid:service is the .did dfx names")
                }
            }
        }
    }
}
