import ICWebSocketClient
import Testing

/// Fetching a local replica's root key.
@Suite struct ICNetworkTests {
    /// Nothing listens on the port: the error names the URL and the refused connection.
    @Test func aReplicaThatIsNotRunningIsNamedInTheError() async throws {
        let network = ICNetwork.local("http://127.0.0.1:9", fetchRootKey: true)
        do {
            _ = try await network.resolveRootKey()
            Issue.record("a root key from a port nothing listens on")
        } catch {
            guard case .rootKeyUnavailable(let why) = error else {
                Issue.record("expected rootKeyUnavailable, got \(error)")
                return
            }
            #expect(why.contains("http://127.0.0.1:9/api/v2/status"))
            #expect(why.lowercased().contains("refused"), "the cause is named: \(why)")
        }
    }
}
