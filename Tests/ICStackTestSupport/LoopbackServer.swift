import Hummingbird
import NIOCore

/// Runs a Hummingbird application, the test fakes' and bench fakes' server, on an ephemeral
/// loopback port for as long as `body` runs, then stops it.
public enum LoopbackServer {
    /// - Parameters:
    ///   - makeApplication: builds the application bound to `127.0.0.1:0`; it must pass the given
    ///     callback as its `onServerRunning`, which reports the port.
    ///   - body: runs with the port once the server listens.
    public static func run<App: ApplicationProtocol>(
        _ makeApplication: (_ onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> App,
        while body: (_ port: Int) async throws -> Void
    ) async throws {
        let ready = AsyncStream<Int>.makeStream()
        let application = makeApplication { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            var ports = ready.stream.makeAsyncIterator()
            let port = await ports.next() ?? 0
            do {
                try await body(port)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}
