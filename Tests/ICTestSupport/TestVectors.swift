import Foundation

/// Locates and loads the shared IC test vectors (`../shared/testdata` beside the checkout).
///
/// CI lays `shared/` next to the clone. A user's clone may not have it: suites that need
/// vectors use `.enabled(if: TestVectors.isAvailable)` so they show up as skipped while the
/// project's own tests still run. `ICWS_TESTDATA` overrides the location.
public enum TestVectors {
    /// The testdata directory, if it exists.
    public static let directory: URL? = {
        if let override = ProcessInfo.processInfo.environment["ICWS_TESTDATA"] {
            let url = URL(fileURLWithPath: override, isDirectory: true)
            return FileManager.default.fileExists(atPath: url.path) ? url : nil
        }
        // Tests/ICTestSupport/TestVectors.swift → package root → ../shared/testdata
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata", isDirectory: true)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()

    /// Whether the shared vectors are present.
    public static var isAvailable: Bool { directory != nil }

    /// Raw bytes of a vector file, e.g. `data("principal/principals.json")`.
    public static func data(_ relativePath: String) throws -> Data {
        guard let directory else { throw MissingVectors(path: relativePath) }
        return try Data(contentsOf: directory.appendingPathComponent(relativePath))
    }

    /// A vector file parsed as JSON (dictionaries, arrays, strings, numbers, bools, NSNull).
    public static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: data(relativePath))
    }

    /// A vector file decoded into a `Decodable` type.
    public static func decode<T: Decodable>(_ type: T.Type, from relativePath: String) throws -> T {
        try JSONDecoder().decode(type, from: data(relativePath))
    }

    /// Loads a vector list for `@Test(arguments:)`; returns `[]` when the vectors are absent
    /// (the suite is then skipped through its `.enabled(if:)` trait).
    public static func cases<T>(_ load: () throws -> [T]) -> [T] {
        guard isAvailable else { return [] }
        do { return try load() } catch {
            fatalError("test vectors present but unreadable: \(error)")
        }
    }

    public struct MissingVectors: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "shared test vectors not found (looked for \(path)); set ICWS_TESTDATA" }
    }
}

/// Hex helpers for tests (Foundation-based, independent of ICCore's own `Hex`).
public func bytes(hex: String) -> [UInt8] {
    var result = [UInt8]()
    var iterator = hex.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        result.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
    }
    return result
}

public func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    bytes.map { String(format: "%02x", $0) }.joined()
}
