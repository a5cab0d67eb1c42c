import ArgumentParser
import CanisterToolchain
import Foundation
import Hummingbird
import Logging

/// Serves the browser client built from `Web/` (`icws-client.wasm`, `icws.js`, the chat page)
/// and `/icws-config.json`, which tells the page where the gateway and the canister are and
/// which root key to trust. Part of `icws dev`: a local, development-only server.
enum WebClientServer {
    /// What the page needs to connect.
    struct PageConfiguration: Encodable {
        var gatewayUrl: String
        var canisterId: String
        var rootKey: String
        var ackTimeoutMs: Int
    }

    /// Reads the built assets from `directory` and returns the application serving them and the
    /// configuration on `host:port`.
    static func application(
        assets directory: URL, configuration: PageConfiguration, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        var files: [String: (type: String, body: ByteBuffer)] = [:]
        for (name, type) in WebClientBuilder.assets {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                throw ValidationError("the browser client is not built: \(directory.path)/\(name) is missing (scripts/build-web-client.sh)")
            }
            files[name] = (type, ByteBuffer(bytes: data))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        files["icws-config.json"] = ("application/json", ByteBuffer(bytes: try encoder.encode(configuration)))
        let served = files
        let router = Router()
        router.get("/") { _, _ in response(served["index.html"]!) }
        router.get("/:file") { _, context in
            guard let name = context.parameters.get("file"), let file = served[name] else {
                return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "not found; the chat page is at /\n")))
            }
            return response(file)
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "icws-dev"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    private static func response(_ file: (type: String, body: ByteBuffer)) -> Response {
        // No caching: a rebuilt module must reach the next page load.
        Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-store"], body: .init(byteBuffer: file.body))
    }
}
