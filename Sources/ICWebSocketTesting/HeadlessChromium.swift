import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WSClient

/// A headless Chromium driven over the DevTools protocol, for tests of the browser client: open
/// pages, evaluate JavaScript in them, read the results. Chromium comes from the system
/// (Debian's `chromium`; `.ci/run` installs it); tests skip when ``executable`` is `nil`.
public enum HeadlessChromium {
    /// The Chromium binary: `$ICWS_CHROMIUM`, else the first of the usual paths that exists.
    public static let executable: String? = {
        let candidates =
            [ProcessInfo.processInfo.environment["ICWS_CHROMIUM"]].compactMap { $0 }
            + ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Starts Chromium, runs `body` with a DevTools connection to it, then stops it.
    public static func run<T: Sendable>(_ body: @escaping @Sendable (DevTools) async throws -> T) async throws -> T {
        guard let executable else { throw DevToolsError("no Chromium found (install Debian's chromium or set ICWS_CHROMIUM)") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("icws-chromium-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
            "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile.path)", "about:blank",
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let endpoint = NIOLockedValueBox<(url: String?, text: String)>((nil, ""))
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            endpoint.withLockedValue { state in
                state.text += String(decoding: data, as: UTF8.self)
                if state.url == nil, let range = state.text.range(of: "DevTools listening on ") {
                    let rest = state.text[range.upperBound...]
                    if let end = rest.firstIndex(of: "\n") { state.url = String(rest[..<end]) }
                }
            }
        }
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: profile)
        }
        let deadline = ContinuousClock.now + .seconds(60)
        var url: String?
        while url == nil {
            url = endpoint.withLockedValue { $0.url }
            if url != nil { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw DevToolsError("Chromium did not start its DevTools endpoint: \(endpoint.withLockedValue { $0.text })")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await DevTools.connect(to: url!, body)
    }
}

/// A DevTools protocol connection to the browser (flat sessions: one per page).
public final class DevTools: Sendable {
    /// An open page (its DevTools session).
    public struct Page: Sendable {
        public let sessionID: String
    }

    private let outbound: WebSocketOutboundWriter
    private let pending = NIOLockedValueBox<(next: Int, waiting: [Int: CheckedContinuation<[UInt8], any Error>])>((0, [:]))

    private init(outbound: WebSocketOutboundWriter) {
        self.outbound = outbound
    }

    static func connect<T: Sendable>(to url: String, _ body: @escaping @Sendable (DevTools) async throws -> T) async throws -> T {
        var logger = Logger(label: "devtools")
        logger.logLevel = .critical
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        _ = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 32 << 20), logger: logger) {
            inbound, outbound, _ in
            let devtools = DevTools(outbound: outbound)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 32 << 20) {
                        guard case .text(let text) = message else { continue }
                        devtools.deliver(Array(text.utf8))
                    }
                    devtools.failAll(DevToolsError("the DevTools connection closed"))
                }
                do {
                    let value = try await body(devtools)
                    result.withLockedValue { $0 = .success(value) }
                } catch {
                    result.withLockedValue { $0 = .failure(error) }
                }
                group.cancelAll()
            }
            try? await outbound.close(.normalClosure, reason: nil)
        }
        guard let outcome = result.withLockedValue({ $0 }) else { throw DevToolsError("the DevTools connection failed") }
        return try outcome.get()
    }

    /// Sends a command (`params` as a JSON object) and returns the raw JSON of its `result`.
    public func command(_ method: String, _ params: [String: any Sendable] = [:], session: Page? = nil) async throws -> [String: Any] {
        let bytes: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            let id = pending.withLockedValue { state -> Int in
                state.next += 1
                state.waiting[state.next] = continuation
                return state.next
            }
            var message: [String: Any] = ["id": id, "method": method, "params": params]
            if let session { message["sessionId"] = session.sessionID }
            guard let data = try? JSONSerialization.data(withJSONObject: message) else {
                if let waiting = pending.withLockedValue({ $0.waiting.removeValue(forKey: id) }) {
                    waiting.resume(throwing: DevToolsError("\(method): parameters are not JSON"))
                }
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            Task {
                do { try await self.outbound.write(.text(text)) } catch {
                    if let waiting = self.pending.withLockedValue({ $0.waiting.removeValue(forKey: id) }) {
                        waiting.resume(throwing: error)
                    }
                }
            }
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw DevToolsError("\(method): the answer is not a JSON object")
        }
        if let error = object["error"] as? [String: Any] {
            throw DevToolsError("\(method) failed: \(error["message"] ?? error)")
        }
        return object["result"] as? [String: Any] ?? [:]
    }

    /// Opens `url` in a new page.
    public func open(_ url: String) async throws -> Page {
        let target = try await command("Target.createTarget", ["url": url])
        guard let targetID = target["targetId"] as? String else { throw DevToolsError("Target.createTarget returned no targetId") }
        let attached = try await command("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw DevToolsError("Target.attachToTarget returned no sessionId") }
        return Page(sessionID: session)
    }

    /// Evaluates `expression` (awaiting it if it is a promise) in `page` and returns its value
    /// as JSON text (`JSON.stringify` of the result); a thrown exception becomes a `DevToolsError`.
    public func evaluate(_ expression: String, in page: Page) async throws -> String {
        let wrapped = "(async () => JSON.stringify(await (\(expression))))()"
        let answer = try await command(
            "Runtime.evaluate", ["expression": wrapped, "awaitPromise": true, "returnByValue": true], session: page)
        if let exception = answer["exceptionDetails"] as? [String: Any] {
            let description = (exception["exception"] as? [String: Any])?["description"] ?? exception["text"] ?? exception
            throw DevToolsError("JavaScript threw: \(description)")
        }
        return (answer["result"] as? [String: Any])?["value"] as? String ?? "undefined"
    }

    /// Evaluates `expression` until it yields `true` or `timeout` passes (then throws with its
    /// last value of `describe`).
    public func waitUntil(
        _ expression: String, in page: Page, timeout: Duration = .seconds(60), describe: String = "document.title"
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await evaluate(expression, in: page) == "true" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw DevToolsError("timed out waiting for \(expression); \(describe) = \(try await evaluate(describe, in: page))")
    }

    private func deliver(_ bytes: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], let id = object["id"] as? Int else {
            return  // an event
        }
        pending.withLockedValue { $0.waiting.removeValue(forKey: id) }?.resume(returning: bytes)
    }

    private func failAll(_ error: DevToolsError) {
        let waiting = pending.withLockedValue { state in
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }
}

/// What went wrong talking to Chromium.
public struct DevToolsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
