import ICCore
import ICTestSupport
import Testing

struct PrincipalVectors: Decodable {
    struct Pair: Decodable, CustomTestStringConvertible, Sendable {
        let id: String
        let bytes_hex: String
        let text: String
        var testDescription: String { id }
    }
    struct SelfAuthenticating: Decodable, CustomTestStringConvertible, Sendable {
        let id: String
        let der_public_key_hex: String
        let principal_bytes_hex: String
        let principal_text: String
        var testDescription: String { id }
    }
    struct CaseInsensitive: Decodable, Sendable {
        let text: String
        let bytes_hex: String
    }
    struct Invalid: Decodable, CustomTestStringConvertible, Sendable {
        let text: String
        let reason: String
        var testDescription: String { "\(text) (\(reason))" }
    }
    let text_bytes_pairs: [Pair]
    let self_authenticating: [SelfAuthenticating]
    let case_insensitive_parse: [CaseInsensitive]
    let invalid_text: [Invalid]

    static let loaded: PrincipalVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(PrincipalVectors.self, from: "principal/principals.json") : nil
}

@Suite("Principal vectors", .enabled(if: TestVectors.isAvailable))
struct PrincipalVectorTests {
    @Test("text ↔ bytes", arguments: PrincipalVectors.loaded?.text_bytes_pairs ?? [])
    func textBytes(pair: PrincipalVectors.Pair) throws {
        let principal = try Principal(bytes: bytes(hex: pair.bytes_hex))
        #expect(principal.description == pair.text)
        #expect(try Principal(text: pair.text) == principal)
    }

    @Test("self-authenticating ids", arguments: PrincipalVectors.loaded?.self_authenticating ?? [])
    func selfAuthenticating(vector: PrincipalVectors.SelfAuthenticating) throws {
        let principal = Principal.selfAuthenticating(derPublicKey: bytes(hex: vector.der_public_key_hex))
        #expect(hexString(principal.bytes) == vector.principal_bytes_hex)
        #expect(principal.description == vector.principal_text)
    }

    @Test("case-insensitive parsing")
    func caseInsensitive() throws {
        let vectors = try #require(PrincipalVectors.loaded).case_insensitive_parse
        #expect(!vectors.isEmpty)
        for vector in vectors {
            #expect(try Principal(text: vector.text).bytes == bytes(hex: vector.bytes_hex))
        }
    }

    @Test("invalid text is rejected", arguments: PrincipalVectors.loaded?.invalid_text ?? [])
    func invalid(vector: PrincipalVectors.Invalid) {
        #expect(throws: Principal.Error.self) { try Principal(text: vector.text) }
    }

    @Test("all vector groups are present")
    func counts() throws {
        let vectors = try #require(PrincipalVectors.loaded)
        #expect(vectors.text_bytes_pairs.count == 18)
        #expect(vectors.self_authenticating.count == 13)
        #expect(vectors.invalid_text.count == 12)
    }
}

@Suite("Principal")
struct PrincipalTests {
    @Test("well-known principals")
    func wellKnown() throws {
        #expect(Principal.managementCanister.description == "aaaaa-aa")
        #expect(Principal.anonymous.description == "2vxsx-fae")
        #expect(Principal.anonymous.isAnonymous)
        #expect(Principal.canister(index: 2).description == "ryjl3-tyaaa-aaaaa-aaaba-cai")
        #expect(try Principal(bytes: [0xab, 0xcd, 0x01]).description == "em77e-bvlzu-aq")
    }

    @Test("errors say what is wrong")
    func errors() {
        #expect(throws: Principal.Error.tooLong(byteCount: 30)) { try Principal(bytes: [UInt8](repeating: 1, count: 30)) }
        #expect(throws: Principal.Error.invalidCharacter(index: 5)) { try Principal(text: "aaaaa_aa") }
        #expect(throws: Principal.Error.misplacedDash(expected: "aaaaa-aa")) { try Principal(text: "aaaa-aaa") }
        #expect(throws: Principal.Error.tooShort(characterCount: 0)) { try Principal(text: "") }
        #expect(throws: Principal.Error.self) { try Principal(text: "aaaaa-ab") }
        #expect(throws: Principal.Error.self) { try Principal(text: "-aaaaa-aa") }
    }

    @Test("random round trips", arguments: 0..<30)
    func roundTrip(length: Int) throws {
        var state = UInt64(length) &* 0x9e37_79b9_7f4a_7c15 &+ 1
        let raw = (0..<length).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        guard length <= 29 else {
            #expect(throws: Principal.Error.self) { try Principal(bytes: raw) }
            return
        }
        let principal = try Principal(bytes: raw)
        #expect(try Principal(text: principal.description) == principal)
        #expect(try Principal(text: principal.description.uppercased()) == principal)
    }
}
