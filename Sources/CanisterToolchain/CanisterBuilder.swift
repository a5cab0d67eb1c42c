import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds the Embedded Swift canisters of this repository (`Canisters/`) to IC Wasm modules,
/// reusing the previous build when no canister source changed.
///
/// The build itself is `scripts/build-canisters.sh` (one `swift build --triple
/// wasm32-unknown-none-wasm -c release` plus the module check); this type decides whether it
/// must run, serialises concurrent builders (threads of one process and other processes, through
/// a lock file) and returns the module bytes. Used by `icws canister build`, `icws dev` and tests.
public struct CanisterBuilder: Sendable {
    /// The canisters the repository ships, by SwiftPM product name.
    public static let knownCanisters = ["MinimalCanister", "TestCanister", "ChatCanister", "PingPongCanister"]

    /// The repository root (holds `Canisters/Package.swift` and `scripts/build-canisters.sh`).
    public let repositoryRoot: URL

    public init(repositoryRoot: URL) {
        self.repositoryRoot = repositoryRoot
    }

    /// Finds the repository root by walking up from `start` (default: the current directory).
    public static func locate(from start: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) -> CanisterBuilder? {
        var directory = start.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Canisters/Package.swift").path),
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("scripts/build-canisters.sh").path)
            {
                return CanisterBuilder(repositoryRoot: directory)
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }

    /// Where the module of `canister` lands.
    public func modulePath(_ canister: String) -> URL {
        repositoryRoot.appendingPathComponent("Canisters/.build/wasm/\(canister).wasm")
    }

    /// Where the Candid interface of `canister` lands, beside its module (what dfx's `candid` names).
    public func candidPath(_ canister: String) -> URL {
        repositoryRoot.appendingPathComponent("Canisters/.build/wasm/\(canister).did")
    }

    /// Where the gzipped module of `canister` lands, beside the module (what dfx's `wasm` names).
    public func gzippedModulePath(_ canister: String) -> URL {
        repositoryRoot.appendingPathComponent("Canisters/.build/wasm/\(canister).wasm.gz")
    }

    /// Whether `canister`'s module, interface or gzipped module is missing, or the module is
    /// older than any canister source.
    public func isStale(_ canister: String) -> Bool {
        guard let built = Self.modificationDate(modulePath(canister)),
            let gzipped = Self.modificationDate(gzippedModulePath(canister)), gzipped >= built,
            FileManager.default.fileExists(atPath: candidPath(canister).path)
        else { return true }
        return newestSourceDate() > built
    }

    /// Builds the given canisters if any is stale (all canisters when `canisters` is empty) and
    /// returns nothing; `output` receives the build's progress lines.
    public func build(
        _ canisters: [String] = [], force: Bool = false,
        output: @Sendable (String) -> Void = { _ in }
    ) throws(CanisterBuildError) {
        let requested = canisters.isEmpty ? Self.knownCanisters : canisters
        for name in requested where !Self.knownCanisters.contains(name) {
            throw .unknownCanister(name, known: Self.knownCanisters)
        }
        try withBuildLock { () throws(CanisterBuildError) in
            guard force || requested.contains(where: isStale) else { return }
            try runBuildScript(canisters.isEmpty ? [] : requested, output: output)
        }
    }

    /// The module bytes of `canister`, building it first when stale.
    public func module(_ canister: String, output: @Sendable (String) -> Void = { _ in }) throws(CanisterBuildError) -> [UInt8] {
        try build([canister], output: output)
        guard let data = FileManager.default.contents(atPath: modulePath(canister).path) else {
            throw .moduleMissing(modulePath(canister).path)
        }
        return [UInt8](data)
    }

    // MARK: Internals

    private func runBuildScript(_ canisters: [String], output: @Sendable (String) -> Void) throws(CanisterBuildError) {
        try Self.runScript("scripts/build-canisters.sh", arguments: canisters, in: repositoryRoot, output: output)
    }

    /// Runs `bash <script> <arguments>` in `root`, streaming its output lines.
    static func runScript(
        _ script: String, arguments: [String] = [], in root: URL, output: @Sendable (String) -> Void
    ) throws(CanisterBuildError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", root.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { throw .buildFailed(script: script, status: -1, log: "cannot start bash: \(error)") }
        var log = ""
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            let text = String(decoding: chunk, as: UTF8.self)
            log += text
            for line in text.split(separator: "\n") { output(String(line)) }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .buildFailed(script: script, status: process.terminationStatus, log: String(log.suffix(4000)))
        }
    }

    private func newestSourceDate() -> Date {
        Self.newestModification(
            of: [
                "Canisters/Sources", "Canisters/Package.swift", "Canisters/Candid", "Canisters/Tools/wasm-embed-candid.swift",
                "scripts/build-canisters.sh",
            ].map { repositoryRoot.appendingPathComponent($0) })
    }

    /// The newest modification date of the files at or below `roots`, following the symlinks
    /// into Sources/ that the Wasm packages use for shared portable code.
    static func newestModification(of roots: [URL]) -> Date {
        var newest = Date.distantPast
        for root in roots {
            let resolved = root.resolvingSymlinksInPath()
            if let date = Self.modificationDate(resolved), date > newest { newest = date }
            guard let entries = try? FileManager.default.contentsOfDirectory(at: resolved, includingPropertiesForKeys: nil) else {
                continue
            }
            for entry in entries {
                let target = entry.resolvingSymlinksInPath()
                guard let enumerator = FileManager.default.enumerator(at: target, includingPropertiesForKeys: [.contentModificationDateKey])
                else {
                    if let date = Self.modificationDate(target), date > newest { newest = date }
                    continue
                }
                if let date = Self.modificationDate(target), date > newest { newest = date }
                for case let file as URL in enumerator {
                    if let date = Self.modificationDate(file), date > newest { newest = date }
                }
            }
        }
        return newest
    }

    static func modificationDate(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    private func withBuildLock(_ body: () throws(CanisterBuildError) -> Void) throws(CanisterBuildError) {
        try Self.withLock(in: repositoryRoot.appendingPathComponent("Canisters/.build"), body)
    }

    private static let inProcessLock = NSLock()

    /// Holds a process-wide lock and an exclusive `flock` on `<directory>/build.lock`, so two
    /// test processes (or a test run and `icws dev`) never run a build script at the same time.
    static func withLock(in directory: URL, _ body: () throws(CanisterBuildError) -> Void) throws(CanisterBuildError) {
        Self.inProcessLock.lock()
        defer { Self.inProcessLock.unlock() }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let descriptor = open(directory.appendingPathComponent("build.lock").path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw .buildFailed(script: "", status: -1, log: "cannot open \(directory.path)/build.lock") }
        defer { close(descriptor) }
        _ = flock(descriptor, LOCK_EX)
        defer { _ = flock(descriptor, LOCK_UN) }
        try body()
    }
}

/// Why a canister could not be built.
public enum CanisterBuildError: Error, CustomStringConvertible {
    /// The name is not one of the repository's canisters.
    case unknownCanister(String, known: [String])
    /// The build script exited with `status`; `log` is the end of its output.
    case buildFailed(script: String, status: Int32, log: String)
    /// The build succeeded but the module file is absent.
    case moduleMissing(String)

    public var description: String {
        switch self {
        case .unknownCanister(let name, let known):
            return "unknown canister \(name); the repository builds \(known.joined(separator: ", "))"
        case .buildFailed(let script, let status, let log):
            return "\(script) failed (exit \(status)); it needs a Swift toolchain with Embedded Swift "
                + "for wasm32-unknown-none-wasm (the swift.org 6.x Linux toolchains have it). Output:\n\(log)"
        case .moduleMissing(let path):
            return "the canister build finished but \(path) is missing"
        }
    }
}
