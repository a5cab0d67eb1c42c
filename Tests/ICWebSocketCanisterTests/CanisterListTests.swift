import CanisterToolchain
import Foundation
import ICWebSocketTesting
import Testing

/// The canisters are listed once, as products of `Canisters/Package.swift` (which
/// `scripts/build-canisters.sh` reads); the Swift constant the CLI and builder use must agree,
/// and each canister ships its Candid interface.
@Suite("Canister list")
struct CanisterListTests {
    @Test("CanisterBuilder.knownCanisters = the products of Canisters/Package.swift, each with a .did")
    func oneList() throws {
        let root = ICWSExecutable.root
        let manifest = try String(contentsOf: root.appendingPathComponent("Canisters/Package.swift"), encoding: .utf8)
        let products = manifest.split(separator: "\n").compactMap { line -> String? in
            guard let start = line.range(of: ".executable(name: \"") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != "\"" })
        }
        #expect(Set(products) == Set(CanisterBuilder.knownCanisters))
        #expect(products.count == CanisterBuilder.knownCanisters.count)
        for name in products {
            let did = root.appendingPathComponent("Canisters/Candid/\(name).did")
            #expect(FileManager.default.fileExists(atPath: did.path), "no Candid interface for \(name)")
        }
    }
}
