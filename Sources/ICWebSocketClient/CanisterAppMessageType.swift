import Foundation
import ICAgent
import ICCore

/// The application message type of an IC WebSocket canister, read from its Candid interface:
/// the `T` of the second `ws_message` parameter, `opt T` (protocol §3.3), with type names
/// resolved.
///
/// Only what a generic client needs to pick a message shape is understood: a `record` of named
/// fields, or a primitive such as `text`. Anything else is kept as ``other(_:)`` with its text.
public enum CanisterAppMessageType: Sendable, Equatable {
    /// `record { name : type; … }`, fields in the order written, types as written (resolved
    /// one level: a field whose type is a type name shows the name).
    case record([Field])
    /// A primitive or other type, e.g. `text`, normalised to single spaces.
    case other(String)

    public struct Field: Sendable, Equatable {
        public var name: String
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Reads the type from a `.did` service description (as embedded in the `candid:service`
    /// metadata). Throws when there is no `ws_message` with two parameters, the second an `opt`.
    public init(candidInterface did: String) throws(ICWebSocketClientError) {
        let source = Self.strippingComments(did)
        let definitions = Self.typeDefinitions(source)
        guard let parameters = Self.parameters(of: "ws_message", in: source) else {
            throw .invalidConfiguration("the canister's Candid interface has no ws_message method")
        }
        guard parameters.count == 2 else {
            throw .invalidConfiguration(
                "ws_message takes \(parameters.count) parameters in the canister's Candid interface; an IC WebSocket canister's takes two")
        }
        guard let second = Self.words(parameters[1]), second.first == "opt" else {
            throw .invalidConfiguration("the second ws_message parameter is '\(parameters[1])', not an opt type")
        }
        var type = Self.normalised(String(parameters[1].drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" }).dropFirst(3)))
        var seen: Set<String> = []
        // Follows type names to their definition (`AppMessage` → `record { … }`), at most once each.
        while let definition = definitions[type], seen.insert(type).inserted { type = definition }
        self = Self.parse(type)
    }

    // MARK: Lexing, just enough for type definitions and a method signature

    static func strippingComments(_ text: String) -> String {
        var output = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var kept = Substring(line)
            if let range = line.range(of: "//") { kept = line[..<range.lowerBound] }
            output += kept + "\n"
        }
        // Block comments are rare in service descriptions; remove them anyway.
        while let start = output.range(of: "/*"), let end = output.range(of: "*/", range: start.upperBound..<output.endIndex) {
            output.removeSubrange(start.lowerBound..<end.upperBound)
        }
        return output
    }

    static func normalised(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    static func words(_ text: String) -> [String]? {
        let parts = normalised(text).split(separator: " ").map(String.init)
        return parts.isEmpty ? nil : parts
    }

    /// `type Name = definition;` at nesting depth 0.
    static func typeDefinitions(_ source: String) -> [String: String] {
        var definitions: [String: String] = [:]
        for statement in splitTopLevel(source, on: ";") {
            let text = normalised(statement)
            guard text.hasPrefix("type "), let equals = text.firstIndex(of: "=") else { continue }
            let name = text[text.index(text.startIndex, offsetBy: 5)..<equals].trimmingCharacters(in: .whitespaces)
            let definition = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            definitions[unquoted(name)] = normalised(definition)
        }
        return definitions
    }

    /// The parameter list of `method` (quoted or not) in the service, split at top-level commas.
    static func parameters(of method: String, in source: String) -> [String]? {
        for candidate in ["\"\(method)\"", method] {
            var searchStart = source.startIndex
            while let found = source.range(of: candidate, range: searchStart..<source.endIndex) {
                searchStart = found.upperBound
                // A whole name: not part of a longer identifier.
                if found.lowerBound > source.startIndex, isIdentifier(source[source.index(before: found.lowerBound)]) { continue }
                var index = found.upperBound
                if index < source.endIndex, isIdentifier(source[index]) { continue }
                skipSpace(source, &index)
                guard index < source.endIndex, source[index] == ":" else { continue }
                index = source.index(after: index)
                skipSpace(source, &index)
                guard index < source.endIndex, source[index] == "(" else { continue }
                guard let close = matchingParenthesis(source, from: index) else { return nil }
                let inside = String(source[source.index(after: index)..<close])
                return splitTopLevel(inside, on: ",").map { normalised($0) }.filter { !$0.isEmpty }
            }
        }
        return nil
    }

    static func parse(_ type: String) -> CanisterAppMessageType {
        guard type.hasPrefix("record"), let open = type.firstIndex(of: "{"), type.hasSuffix("}"),
            type[type.startIndex..<open].trimmingCharacters(in: .whitespaces) == "record"
        else {
            return .other(type)
        }
        let body = String(type[type.index(after: open)..<type.index(before: type.endIndex)])
        var fields: [Field] = []
        for part in splitTopLevel(body, on: ";") {
            let text = normalised(part)
            guard !text.isEmpty else { continue }
            guard let colon = text.firstIndex(of: ":") else { return .other(type) }
            fields.append(
                Field(
                    name: unquoted(text[..<colon].trimmingCharacters(in: .whitespaces)),
                    type: normalised(String(text[text.index(after: colon)...]))))
        }
        return .record(fields)
    }

    private static func isIdentifier(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }

    private static func skipSpace(_ text: String, _ index: inout String.Index) {
        while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
    }

    private static func unquoted(_ name: String) -> String {
        name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\"") ? String(name.dropFirst().dropLast()) : name
    }

    private static func matchingParenthesis(_ text: String, from open: String.Index) -> String.Index? {
        var depth = 0
        var index = open
        while index < text.endIndex {
            switch text[index] {
            case "(", "{": depth += 1
            case ")", "}":
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// Splits at `separator` outside parentheses, braces and quotes.
    static func splitTopLevel(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if !quoted {
                if character == "(" || character == "{" { depth += 1 }
                if character == ")" || character == "}" { depth -= 1 }
                if character == separator, depth == 0 {
                    parts.append(current)
                    current = ""
                    continue
                }
            }
            current.append(character)
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { parts.append(current) }
        return parts
    }
}

extension CanisterAppMessageType {
    /// The canister's Candid interface from its certified `candid:service` metadata
    /// (`read_state` of `/canister/<id>/metadata/candid:service`, certificate verified against
    /// `network`'s root key). Returns `nil` when the certificate proves the canister has no such
    /// metadata; throws when it cannot be read (e.g. a replica that does not serve the path).
    public static func fetchCandidInterface(canister: Principal, network: ICNetwork) async throws(ICWebSocketClientError) -> String? {
        let rootKey = try await network.resolveRootKey()
        let agent = HTTPAgent(configuration: .init(url: network.url, rootKey: .explicit(rootKey)))
        let path: [[UInt8]] = [Array("canister".utf8), canister.bytes, Array("metadata".utf8), Array("candid:service".utf8)]
        let certificate: VerifiedCertificate
        do { certificate = try await agent.readState(canister: canister, paths: [path]) } catch {
            throw .transport("read_state of /canister/\(canister)/metadata/candid:service at \(network.url) failed: \(error)")
        }
        switch certificate.lookup(path) {
        case .found(let bytes):
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw .messageDecoding("the canister's candid:service metadata is not UTF-8 text")
            }
            return text
        case .absent:
            return nil
        case .unknown, .error:
            throw .messageDecoding("the certificate neither contains nor excludes /canister/\(canister)/metadata/candid:service")
        }
    }
}
