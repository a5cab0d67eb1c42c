import Foundation
import ICAgent
import ICCore
import ICStackTestSupport
import ICWebSocketClient
import ICWebSocketProtocol
import Testing

/// The `icws` executable `swift build` puts in the build directory.
enum BuiltICWS {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let url: URL? = {
        let candidate = root.appendingPathComponent(".build/debug/icws")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }()
}

/// `icws connect` as a newcomer runs it: the command `icws dev` prints (no format flag), its
/// output piped, a line typed on its input; the verified reply must show while it still runs.
@Suite("icws connect (CLI)", .serialized, .enabled(if: BuiltICWS.url != nil, "needs .build/debug/icws (swift build)"))
struct ConnectCommandTests {
    /// A running `icws connect` with piped standard streams.
    final class ConnectProcess: @unchecked Sendable {
        let process = Process()
        private let input = Pipe()
        private let output = Pipe()
        private let errors = Pipe()
        private let lock = NSLock()
        private var stdoutText = ""
        private var stderrText = ""

        init(arguments: [String]) throws {
            process.executableURL = BuiltICWS.url
            process.arguments = ["connect"] + arguments
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            output.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let text = String(decoding: handle.availableData, as: UTF8.self)
                self?.lock.withLock { self?.stdoutText += text }
            }
            errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let text = String(decoding: handle.availableData, as: UTF8.self)
                self?.lock.withLock { self?.stderrText += text }
            }
            try process.run()
        }

        var stdout: String { lock.withLock { stdoutText } }
        var stderr: String { lock.withLock { stderrText } }

        func type(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

        /// Waits until standard output has a line satisfying `matches`.
        func waitForLine(timeout: Duration = .seconds(60), _ matches: (Substring) -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if stdout.split(separator: "\n").contains(where: matches) { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    static func arguments(_ stack: Stack) -> [String] {
        [stack.gateways[0].url, "--canister", stack.canister.description, "--ic-url", stack.local.url,
         "--root-key", Hex.encode(stack.local.rootKey.der)]
    }

    @Test("chat: no --message-format, piped output, the typed line comes back from the canister")
    func chatWithoutFormatFlag() async throws {
        try await withStack(module: try CanisterModules.chatCanister()) { stack in
            let connect = try ConnectProcess(arguments: Self.arguments(stack))
            defer { connect.stop() }
            #expect(await connect.waitForLine { $0.hasPrefix("system: ") && $0.hasSuffix(" joined") }, "stderr: \(connect.stderr)")
            connect.type("hello from a pipe")
            let echoed = await connect.waitForLine { $0.hasSuffix(": hello from a pipe") && !$0.hasPrefix("system") }
            #expect(echoed, "stdout: \(connect.stdout) stderr: \(connect.stderr)")
            #expect(connect.process.isRunning, "the reply showed while the client runs")
        }
    }

    @Test("ping-pong: no --message-format, piped output, the typed line comes back answered")
    func pingPongWithoutFormatFlag() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let connect = try ConnectProcess(arguments: Self.arguments(stack))
            defer { connect.stop() }
            #expect(await connect.waitForLine { $0 == "ping" }, "stderr: \(connect.stderr)")
            connect.type("hello")
            #expect(await connect.waitForLine { $0 == "hello ping" }, "stdout: \(connect.stdout) stderr: \(connect.stderr)")
            #expect(connect.process.isRunning)
        }
    }

    @Test("a message the canister cannot decode leaves a line in the canister's log")
    func undecodableMessageIsLogged() async throws {
        try await withStack(module: try CanisterModules.pingPongCanister()) { stack in
            let client = try await connect(stack.gateways[0].url, stack.canister, stack.local, as: MaybeText.self)
            #expect(try await client.next().text == "ping")
            // `text = null`: not a record { text : text }.
            try await client.send(MaybeText(text: nil))
            let logged = await eventuallyTrue(timeout: .seconds(30)) {
                stack.local.replica.log(of: stack.canister).contains { $0.contains("dropped a message from \(client.clientKey.clientPrincipal)") }
            }
            #expect(logged, "canister log: \(stack.local.replica.log(of: stack.canister))")
            await client.close()
        }
    }
}

/// `record { text : opt text }`: reads the ping-pong canister's messages, and with `text = null`
/// sends one it cannot decode.
struct MaybeText: CandidCodable, Sendable {
    var text: String?
    static var candidType: CandidType { .record([.field("text", String?.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(text: String?) { self.text = text }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

/// Polls `condition` until it holds or the time is up.
func eventuallyTrue(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
