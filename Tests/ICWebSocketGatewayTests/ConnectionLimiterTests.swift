import ICWebSocketGateway
import Testing

@Suite struct ConnectionLimiterTests {
    @Test func perIPAndTotalCapsHoldAndReleaseFreesSlots() {
        let limiter = ConnectionLimiter(maxConnections: 3, maxConnectionsPerIP: 2, connectionsPerSecond: 100)
        #expect(limiter.admit("10.0.0.1") == nil)
        #expect(limiter.admit("10.0.0.1") == nil)
        #expect(limiter.admit("10.0.0.1") == .tooManyConnectionsFromIP)
        #expect(limiter.admit("10.0.0.2") == nil)
        #expect(limiter.admit("10.0.0.3") == .tooManyConnections)
        limiter.release("10.0.0.1")
        #expect(limiter.admit("10.0.0.3") == nil)
        #expect(limiter.activeConnections == 3)
    }

    @Test func newConnectionsAreRateLimited() {
        let limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerIP: 100, connectionsPerSecond: 5)
        let outcomes = (0..<8).map { _ in limiter.admit("10.0.0.1") }
        #expect(outcomes.filter { $0 == nil }.count == 5)
        #expect(outcomes.last == .rateLimited)
    }

    @Test func shutdownRefusesEverything() {
        let limiter = ConnectionLimiter(maxConnections: 100, maxConnectionsPerIP: 100, connectionsPerSecond: 100)
        limiter.beginShutdown()
        #expect(limiter.admit("10.0.0.1") == .shuttingDown)
    }
}
