import ICCore
import ICTestSupport
import Testing

struct CandidDecodeVectors: Decodable {
    struct Input: Decodable, Sendable {
        let format: String
        let hex: String?
        let text: String?
    }
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let id: String
        let kind: String
        let type: String
        let input: Input
        let other_input: Input?
        let desc: String?
        let file: String
        var testDescription: String { "\(id) \(kind) \(desc ?? "")" }
    }
    let type_definitions_per_file: [String: [String]]
    let tests: [Case]

    static let loaded: CandidDecodeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(CandidDecodeVectors.self, from: "candid/candid_decode_tests.json") : nil
}

struct CandidEncodeVectors: Decodable {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let id: String
        let type: String
        let value: String
        let hex: String
        var testDescription: String { id }
    }
    let vectors: [Case]
    let canister_settings_used: String
    let canister_install_mode_used: String

    static let loaded: CandidEncodeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(CandidEncodeVectors.self, from: "candid/candid_encode.json") : nil
}

struct FieldHashVectors: Decodable {
    struct Case: Decodable, Sendable {
        let name: String
        let id_hash: UInt32
    }
    let hashes: [Case]

    static let loaded: FieldHashVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(FieldHashVectors.self, from: "candid/field_id_hashes.json") : nil
}

/// Reads one side of a vector: binary input is decoded at the types; textual input is parsed,
/// coerced to the types, and additionally round-tripped through our encoder and decoder.
private func read(
    _ input: CandidDecodeVectors.Input, at types: [CandidType],
    environment: CandidTypeEnvironment
) throws -> [CandidValue] {
    if input.format == "binary" {
        return try CandidDecoder().decode(bytes(hex: input.hex ?? ""), as: types)
    }
    let parsed = try CandidTextParser.parseArguments(input.text ?? "", environment: environment)
    let values = try CandidValue.coerce(parsed, to: types)
    let encoded = try CandidEncoder.encode(values, types: types)
    let decoded = try CandidDecoder().decode(encoded, as: types)
    #expect(decoded == values, "text value does not survive encode/decode: \(values) vs \(decoded)")
    return values
}

@Suite("Candid decode vectors", .enabled(if: TestVectors.isAvailable))
struct CandidDecodeVectorTests {
    @Test("conformance", arguments: CandidDecodeVectors.loaded?.tests ?? [])
    func conformance(test: CandidDecodeVectors.Case) throws {
        let vectors = try #require(CandidDecodeVectors.loaded)
        let fileKey = test.file.replacingOccurrences(of: "test/", with: "").replacingOccurrences(of: ".test.did", with: "")
        let definitions = (vectors.type_definitions_per_file[fileKey] ?? []).joined(separator: "\n")
        let environment = try CandidTypeEnvironment(parsing: definitions)
        let types = try CandidTextParser.parseArgumentTypes(test.type, environment: environment)
        switch test.kind {
        case "decode_ok":
            _ = try read(test.input, at: types, environment: environment)
        case "decode_fail":
            #expect(throws: (any Error).self) { try read(test.input, at: types, environment: environment) }
        case "equal", "not_equal":
            let left = try read(test.input, at: types, environment: environment)
            let right = try read(try #require(test.other_input), at: types, environment: environment)
            if test.kind == "equal" {
                #expect(left == right)
            } else {
                #expect(left != right)
            }
        default:
            Issue.record("unknown kind \(test.kind)")
        }
    }

    @Test("all 311 vectors are present")
    func count() throws {
        #expect(try #require(CandidDecodeVectors.loaded).tests.count == 311)
    }
}

@Suite("Candid encode vectors", .enabled(if: TestVectors.isAvailable))
struct CandidEncodeVectorTests {
    static func environment() throws -> CandidTypeEnvironment {
        let vectors = try #require(CandidEncodeVectors.loaded)
        var environment = CandidTypeEnvironment()
        // The settings string ends with a parenthesised note: keep the type only.
        let settings = String(vectors.canister_settings_used[...vectors.canister_settings_used.lastIndex(of: "}")!])
        environment.define("canister_settings", try CandidTextParser.parseType(settings))
        environment.define("canister_install_mode", try CandidTextParser.parseType(vectors.canister_install_mode_used))
        return environment
    }

    @Test("value at type → bytes", arguments: CandidEncodeVectors.loaded?.vectors ?? [])
    func encode(vector: CandidEncodeVectors.Case) throws {
        let environment = try Self.environment()
        let types = try CandidTextParser.parseArgumentTypes(vector.type, environment: environment)
        let values = try CandidTextParser.parseArguments(vector.value, environment: environment)
        let encoded = try CandidEncoder.encode(values, types: types)
        let expected = bytes(hex: vector.hex)
        // The type table count follows the magic; ≤ 1 entry means the encoding is unique.
        let header = try CandidDecoder().header(of: expected)
        if header.table.nodes.count <= 1 {
            #expect(hexString(encoded) == vector.hex)
        }
        // Either way, both decode to the same values at the type.
        let ours = try CandidDecoder().decode(encoded, as: types)
        let theirs = try CandidDecoder().decode(expected, as: types)
        #expect(ours == theirs)
        #expect(ours == (try CandidValue.coerce(values, to: types)))
    }

    @Test("all 30 vectors are present")
    func count() throws {
        #expect(try #require(CandidEncodeVectors.loaded).vectors.count == 30)
    }
}

@Suite("Candid field id hashes", .enabled(if: TestVectors.isAvailable))
struct CandidFieldHashTests {
    @Test("idHash matches every vector")
    func hashes() throws {
        let vectors = try #require(FieldHashVectors.loaded).hashes
        #expect(!vectors.isEmpty)
        for vector in vectors {
            #expect(idHash(vector.name) == vector.id_hash, "\(vector.name)")
        }
    }
}
