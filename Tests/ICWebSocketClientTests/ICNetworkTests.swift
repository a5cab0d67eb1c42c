import ICWebSocketClient
import Testing

/// Fetching a local replica's root key.
@Suite struct ICNetworkTests {
    /// Nothing listens on port 1: the fetch fails with the refused connection at once instead of
    /// retrying the connection (10 s with a retrying client; `icws connect --fetch-root-key` was
    /// silent for 30–60 s when the replica was not running). A refused connection is one system
    /// call, so 5 s is a wide bound even on a loaded machine.
    @Test func aReplicaThatIsNotRunningIsReportedAtOnce() async throws {
        let network = ICNetwork.local("http://127.0.0.1:1", fetchRootKey: true)
        let started = ContinuousClock.now
        do {
            _ = try await network.resolveRootKey()
            Issue.record("a root key from a port nothing listens on")
        } catch {
            guard case .rootKeyUnavailable(let why) = error else {
                Issue.record("expected rootKeyUnavailable, got \(error)")
                return
            }
            #expect(why.contains("http://127.0.0.1:1/api/v2/status"))
            #expect(why.lowercased().contains("refused"), "the cause is named: \(why)")
        }
        #expect(ContinuousClock.now - started < .seconds(5), "not after retrying the connection (10 s or more)")
    }
}
