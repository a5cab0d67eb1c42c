import ICCore
import ICTestSupport
import ICWebSocketCanisterCore
import Testing

/// `post_upgrade`'s argument read at its wire types gives what the generic decoder gives at
/// `opt record { clear_sessions : bool }`.
@Suite("ICWebSocketCanisterCore: the upgrade options argument")
struct UpgradeOptionsTests {
    static func generic(_ bytes: [UInt8]) throws -> SessionUpgradeOptions? {
        try Candid.decode(SessionUpgradeOptions?.self, from: bytes)
    }

    @Test("every wire form: Candid's opt rule, extra fields and arguments, as the generic decoder")
    func wireForms() throws {
        let type = "opt record { clear_sessions : bool }"
        let cases: [(String, String, Bool?)] = [
            ("()", "()", nil),
            ("(opt record { clear_sessions = true })", "(\(type))", true),
            ("(opt record { clear_sessions = false })", "(\(type))", false),
            ("(null)", "(\(type))", nil),
            ("(record { clear_sessions = true })", "(record { clear_sessions : bool })", true),
            ("(opt record { clear_sessions = true; note = \"x\" })", "(opt record { clear_sessions : bool; note : text })", true),
            ("(opt record { clear_sessions = true }, 5 : nat)", "(\(type), nat)", true),
            ("(opt record { other = true })", "(opt record { other : bool })", nil),
            ("(opt record { clear_sessions = 1 : nat })", "(opt record { clear_sessions : nat })", nil),
            ("(opt record { clear_sessions = opt true })", "(opt record { clear_sessions : opt bool })", nil),
            ("(null)", "(null)", nil), ("(null)", "(reserved)", nil), ("(opt \"x\")", "(opt text)", nil),
            ("(true)", "(bool)", nil),
        ]
        for (values, types, expected) in cases {
            let bytes = try CandidTestInputs.bytes(values, types)
            let direct = try SessionUpgradeOptions.decodeArgument(bytes)
            #expect(direct?.clearSessions == expected, "\(values) : \(types)")
            #expect(direct == (try Self.generic(bytes)), "\(values) : \(types)")
        }
    }

    @Test("no argument bytes at all keep the sessions; malformed bytes throw where the generic decoder throws")
    func malformed() throws {
        // Not a Candid message: the generic decoder refuses it (a trap in post_upgrade); an
        // install or upgrade without an argument may send exactly this, so it keeps the sessions.
        #expect(try SessionUpgradeOptions.decodeArgument([]) == nil)
        #expect(throws: CandidError(.badMagic, offset: 0)) { try Self.generic([]) }
        #expect(throws: CandidError.self) { try SessionUpgradeOptions.decodeArgument(Array("DIDX".utf8) + [0, 0]) }
        let valid = try Candid.encode(SessionUpgradeOptions?.some(SessionUpgradeOptions(clearSessions: true)))
        for truncated in CandidTestInputs.truncations(of: valid).dropFirst() {
            #expect(throws: CandidError.self, "\(truncated.count) bytes") { try SessionUpgradeOptions.decodeArgument(truncated) }
        }
        for change in CandidTestInputs.singleByteChanges(of: valid) {
            #expect(
                (try? SessionUpgradeOptions.decodeArgument(change.bytes)) == (try? Self.generic(change.bytes)), "\(change.name)")
        }
    }
}
