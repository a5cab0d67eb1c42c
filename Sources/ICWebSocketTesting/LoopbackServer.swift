import AsyncHTTPClient
import Hummingbird
import Logging
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

    /// Runs an HTTP proxy-like fake: every GET and POST goes to `handle` with a client of its own
    /// (for forwarding upstream), while `body` runs with the fake's `http://` URL.
    public static func runForwarder(
        label: String, clientConfiguration: HTTPClient.Configuration = .init(),
        handle: @escaping @Sendable (Request, HTTPClient) async throws -> Response,
        while body: (_ url: String) async throws -> Void
    ) async throws {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            try await handle(request, client)
        }
        router.post("**", use: handler)
        router.get("**", use: handler)
        do {
            try await run(
                { [logger] onServerRunning in
                    Application(
                        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                        onServerRunning: onServerRunning, logger: logger)
                }, while: { port in try await body("http://127.0.0.1:\(port)") })
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Sends `request` (with its already collected `body`) to the same path on `upstream`; the
    /// answer (status, content type, body) and its body bytes.
    public static func forward(
        _ request: Request, body: ByteBuffer, to upstream: String, client: HTTPClient
    ) async throws -> (response: Response, body: ByteBuffer) {
        var outgoing = HTTPClientRequest(url: upstream + request.uri.description)
        outgoing.method = request.method == .get ? .GET : .POST
        outgoing.headers.add(name: "Content-Type", value: request.headers[.contentType] ?? "application/cbor")
        outgoing.body = .bytes(body)
        let response = try await client.execute(outgoing, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var headers = HTTPFields()
        if let type = response.headers.first(name: "Content-Type") { headers[.contentType] = type }
        return (Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: bytes)), bytes)
    }
}
