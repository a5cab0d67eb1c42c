import Foundation
import NIOConcurrencyHelpers

/// The `icws` executable that `swift build` puts in `.build/debug` of this checkout.
public enum ICWSExecutable {
    /// The repository root, from this file's location.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `.build/debug/icws` when it exists (tests needing it are skipped otherwise).
    public static let url: URL? = {
        let candidate = root.appendingPathComponent(".build/debug/icws")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }()
}

/// A running `icws` child process with piped standard input, output and error, read while it
/// runs (for interactive commands such as `icws connect`).
public final class ICWSProcess: Sendable {
    private let process: Process
    private let input: Pipe
    private let output = NIOLockedValueBox((stdout: "", stderr: ""))
    private let exited = NIOLockedValueBox<Int32?>(nil)

    /// Starts `icws` with `arguments` in the repository root.
    public init(_ arguments: [String]) throws {
        guard let binary = ICWSExecutable.url else { throw ICWSProcessError("no .build/debug/icws; run swift build first") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = ICWSExecutable.root
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        self.process = process
        self.input = input
        let output = self.output
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            output.withLockedValue { $0.stdout += String(decoding: data, as: UTF8.self) }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            output.withLockedValue { $0.stderr += String(decoding: data, as: UTF8.self) }
        }
        let exited = self.exited
        process.terminationHandler = { finished in exited.withLockedValue { $0 = finished.terminationStatus } }
        try process.run()
    }

    /// Everything written to standard output so far.
    public var stdout: String { output.withLockedValue { $0.stdout } }
    /// Everything written to standard error so far.
    public var stderr: String { output.withLockedValue { $0.stderr } }
    /// The exit status once the process has ended.
    public var exitStatus: Int32? { exited.withLockedValue { $0 } }

    /// Writes one line to the process's standard input.
    public func type(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Closes standard input (Ctrl-D).
    public func endInput() {
        try? input.fileHandleForWriting.close()
    }

    /// Waits until `predicate` holds for (stdout, stderr), polling; throws after `timeout` with both texts.
    @discardableResult
    public func waitFor(
        _ what: String, timeout: Duration = .seconds(60),
        _ predicate: (_ stdout: String, _ stderr: String) -> Bool
    ) async throws -> (stdout: String, stderr: String) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (out, err) = output.withLockedValue { ($0.stdout, $0.stderr) }
            if predicate(out, err) { return (out, err) }
            if ContinuousClock.now >= deadline || (exitStatus != nil && !process.isRunning) {
                throw ICWSProcessError(
                    "timed out or exited (status \(exitStatus.map(String.init) ?? "running")) waiting for \(what)\n"
                        + "--- stdout ---\n\(out)--- stderr ---\n\(err)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits for the process to exit (terminating it after `timeout`); returns its status.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    /// Stops the process if it still runs.
    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Kills the process with SIGKILL (a crash: no shutdown code runs) and waits until it is gone.
    public func kill() async {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// Why an `icws` child process did not do what a test waited for.
public struct ICWSProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
