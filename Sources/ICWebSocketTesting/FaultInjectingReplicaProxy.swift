import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// An HTTP proxy in front of a replica that makes it slow or unreachable on demand: the
/// gateway's pollers and relays must ride it out (retry with backoff) rather than drop sessions.
public final class FaultInjectingReplicaProxy: Sendable {
    public enum Fault: Sendable, Equatable {
        case none
        /// Every request waits this long before it is forwarded.
        case delay(Duration)
        /// Every request is answered 503 at once (the replica is "down").
        case unavailable
        /// Calls are forwarded at once and answered late, as by mainnet: a synchronous call
        /// (`/api/v3|v4/…/call`, answered once executed) after a random time in `execution`
        /// (consensus), an asynchronous one (`/api/v2/…/call`, answered once in the ingress
        /// queue) after a random time in `acceptance` (a round trip to one node). Queries and
        /// `read_state` are unaffected.
        case callLatency(execution: ClosedRange<Duration>, acceptance: ClosedRange<Duration>)

        /// What a call costs on mainnet, roughly: 1–2 s to execute, 100–300 ms to be accepted.
        public static let mainnetCallLatency = Fault.callLatency(
            execution: .seconds(1)...(.seconds(2)),
            acceptance: .milliseconds(100)...(.milliseconds(300)))
    }

    private let upstream: String
    private let fault = NIOLockedValueBox(Fault.none)
    private let forwarded = NIOLockedValueBox(0)

    public init(upstream: String) {
        self.upstream = upstream
    }

    public func inject(_ fault: Fault) { self.fault.withLockedValue { $0 = fault } }

    /// Requests forwarded so far.
    public var forwardedRequests: Int { forwarded.withLockedValue { $0 } }

    /// Serves on a loopback port while `body` runs with the proxy's `http://` URL.
    public func run(_ body: @Sendable (String) async throws -> Void) async throws {
        try await LoopbackServer.runForwarder(
            label: "fault-injecting-replica-proxy",
            handle: { request, client in try await self.forward(request, client: client) },
            while: body)
    }

    private func forward(_ request: Request, client: HTTPClient) async throws -> Response {
        var answerDelay = Duration.zero
        switch fault.withLockedValue({ $0 }) {
        case .none: break
        case .delay(let duration): try await Task.sleep(for: duration)
        case .unavailable:
            return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "injected: replica down")))
        case .callLatency(let execution, let acceptance):
            let path = request.uri.path
            if path.hasSuffix("/call") {
                let range = path.hasPrefix("/api/v2/") ? acceptance : execution
                let low = range.lowerBound.nanoseconds, high = range.upperBound.nanoseconds
                answerDelay = .nanoseconds(Int64.random(in: low...max(low, high)))
            }
        }
        let body = try await request.body.collect(upTo: 4 << 20)
        let answer = try await LoopbackServer.forward(request, body: body, to: upstream, client: client).response
        forwarded.withLockedValue { $0 += 1 }
        if answerDelay > .zero { try await Task.sleep(for: answerDelay) }
        return answer
    }
}

extension Duration {
    /// Whole nanoseconds, for random delays.
    fileprivate var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
