import ICCore
import ICTestSupport
import Testing
import WAT

@testable import ICReplica

/// Module validation like the IC's (essentials §10), and gzip decoding of modules.
@Suite("Replica module validation")
struct ModuleValidatorTests {
    static func module(_ body: String) throws -> [UInt8] {
        try wat2wasm("(module \(body))")
    }

    @Test func acceptsTheTestCanister() throws {
        let validated = try ModuleValidator.validate(TestCanisters.counter)
        #expect(validated.updateMethods.contains("inc"))
        #expect(validated.queryMethods.contains("get"))
    }

    @Test(arguments: [
        ("(import \"env\" \"f\" (func))", "only functions from module 'ic0'"),
        ("(import \"ic0\" \"time\" (func (result i32)))", "expected"),
        ("(import \"ic0\" \"no_such_call\" (func))", "not part of the System API"),
        ("(func (export \"canister_update f\") (param i32))", "entry points must be () -> ()"),
        ("(func (export \"canister_query f\") (result i32) (i32.const 1))", "entry points must be () -> ()"),
        ("(func (export \"canister_bogus\"))", "not a valid canister entry point"),
        ("(func $f) (export \"canister_update f\" (func $f)) (export \"canister_query f\" (func $f))", "more than once"),
    ])
    func refusesWhatTheICRefuses(_ wat: String, _ reason: String) throws {
        let bytes = try Self.module(wat)
        #expect {
            _ = try ModuleValidator.validate(bytes)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func refusesGarbage() {
        #expect(throws: ModuleValidationError.self) { _ = try ModuleValidator.validate([0, 0x61, 0x73]) }
        #expect(throws: ModuleValidationError.self) { _ = try ModuleValidator.validate(Array("not wasm at all".utf8)) }
    }

    @Test func instrumentationExportsMutableGlobalsAndKeepsTheModuleValid() throws {
        let bytes = try Self.module(
            "(memory 1) (global $g (mut i64) (i64.const 5)) (global i32 (i32.const 1)) (func (export \"canister_update f\"))")
        let binary = try WasmBinary(bytes: bytes)
        let (instrumented, globals) = binary.instrumented(minimumPages: 3)
        #expect(globals == [0])
        let again = try WasmBinary(bytes: instrumented)
        #expect(again.exports.contains { $0.name == WasmBinary.globalExportName(0) && $0.kind == 3 })
        #expect(again.exports.contains { $0.name == WasmBinary.memoryExportName && $0.kind == 2 })
        #expect(again.memories.first?.min == 3)
    }

    @Test func gzipDecodesFixedDynamicAndStoredBlocks() throws {
        let text = Array(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40).utf8) + (0...255).map { UInt8($0) }
        let dynamic = bytes(
            hex:
                "1f8b0800e2600c6b02ff0bc94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228014ae72456552aa4e4a7eb29848c2a1e553caa7854f1a8e251c5c34b31032313330b2b1b3b072717370f2f1fbf80a090b088a898b884a494b48cac9cbc82a292b28aaa9aba86a696b68eae9ebe81a191b189a999b985a595b58dad9dbd83a393b38bab9bbb87a797b78faf9f7f4060507048685878446454744c6c5c7c426252724a6a5a7a466656764e6e5e7e4161517149695979456555754d6d5d7d436353734b6b5b7b476757774f6f5fff848993264f993a6dfa8c99b366cf993b6ffe82858b162f59ba6cf98a95ab56af59bb6efd868d9b366fd9ba6dfb8e9dbb76efd9bb6fff8183870e1f397aecf88993a74e9f397beefc858b972e5fb97aedfa8d9bb76edfb97beffe83878f1e3f79faecf98b97af5ebf79fbeefd878f9f3e7ff9faedfb8f9fbf7efff9fbef3f00e99399ff08080000"
        )
        #expect(try Gzip.decompress(dynamic, limit: 1 << 20) == text)
        #expect(try Gzip.decompress(bytes(hex: "1f8b0800e2600c6b02ff4b4c4a0600c241243503000000"), limit: 100) == Array("abc".utf8))
        #expect(throws: Gzip.Error.self) { _ = try Gzip.decompress(dynamic, limit: 100) }
        #expect(throws: Gzip.Error.self) { _ = try Gzip.decompress(Array(dynamic.prefix(40)), limit: 1 << 20) }
    }
}
