import AsyncHTTPClient
import ICAgent
import ICCore

/// The Internet Computer a client talks to: its URL and which root key certificates must chain to.
///
/// The client never contacts the IC directly (everything goes through the gateway); the URL
/// is used only to fetch a local replica's root key, and only when that was asked for.
///
/// ```swift
/// let network = ICNetwork.mainnet                                  // built-in mainnet key
/// let local = ICNetwork.local(fetchRootKey: true)                  // dfx / icws replica on 4943
/// let pinned = ICNetwork(url: "http://127.0.0.1:4943", rootKey: .explicit(key))
/// ```
public struct ICNetwork: Sendable {
    /// Base URL of the IC (or a local replica), e.g. `https://icp-api.io`.
    public var url: String
    /// Which root key to trust: ``RootKeyPolicy/mainnet``, ``RootKeyPolicy/explicit(_:)``, or
    /// ``RootKeyPolicy/fetchFromReplica`` (development only: whoever answers `/api/v2/status`
    /// can then forge every message).
    public var rootKey: RootKeyPolicy

    /// A network at `url` whose certificates are checked against `rootKey`.
    public init(url: String, rootKey: RootKeyPolicy) {
        self.url = url
        self.rootKey = rootKey
    }

    /// The IC mainnet with its built-in root key (never fetched, protocol §5.2).
    public static let mainnet = ICNetwork(url: "https://icp-api.io", rootKey: .mainnet)

    /// A local replica. Its root key is fetched from `url` only when `fetchRootKey` is `true`;
    /// otherwise the mainnet key is kept, and certificates of a local replica will not verify.
    public static func local(_ url: String = "http://127.0.0.1:4943", fetchRootKey: Bool) -> ICNetwork {
        ICNetwork(url: url, rootKey: fetchRootKey ? .fetchFromReplica : .mainnet)
    }

    /// A replica whose root key the caller already knows (e.g. printed by `icws replica`).
    public static func local(_ url: String = "http://127.0.0.1:4943", rootKey: RootKey) -> ICNetwork {
        ICNetwork(url: url, rootKey: .explicit(rootKey))
    }

    /// The root key to verify against, fetching it only under ``RootKeyPolicy/fetchFromReplica``.
    public func resolveRootKey() async throws(ICWebSocketClientError) -> RootKey {
        switch rootKey {
        case .mainnet: return .mainnet
        case .explicit(let key): return key
        case .fetchFromReplica:
            // Its own client, which does not retry a refused connection: the shared one retries
            // until the request deadline, so `icws connect --fetch-root-key` said "Connection
            // refused" only after 30 s when the replica was not running.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let agent = HTTPAgent(configuration: .init(url: url, rootKey: .fetchFromReplica), httpClient: client)
            let status: ReplicaStatus
            do { status = try await agent.status() } catch {
                try? await client.shutdown()
                throw .rootKeyUnavailable("GET \(url)/api/v2/status failed: \(error)")
            }
            try? await client.shutdown()
            guard let der = status.rootKey else {
                throw .rootKeyUnavailable("\(url) serves no root key; is it a development replica?")
            }
            do { return try RootKey(der: der) } catch {
                throw .rootKeyUnavailable("the root key served by \(url) is invalid: \(error)")
            }
        }
    }
}
