import AsyncHTTPClient
import Foundation
import Hummingbird
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Bench fake between `icws gateway` and the replica, so that the `gateway-relay` suite measures
/// the gateway's relay without the interpreted canister's cost.
///
/// Everything is forwarded to the real replica (status, calls, read_state, queries), so sessions
/// really open through the real canister; the real `ws_get_messages` replies teach it the open
/// sessions' client keys and sequence numbers, the canister's last nonce for the gateway, and the
/// last `cert`/`tree`. In synthetic mode it answers `ws_get_messages(nonce)` itself with
/// pre-encoded batches that continue the nonce sequence exactly as the canister would
/// (`<gateway>_<20-digit nonce>`, §4.4), client keys round-robin, each `content` a CBOR
/// `WebsocketMessage`. The certificate and tree are the last real ones, reused: they do not
/// certify the synthetic keys, so the gateway must run without `--verify-polls`. Query responses
/// carry no node signatures; the gateway's agent does not check them (its `HTTPAgent` runs with
/// `verifiesQuerySignatures == false`).
public final class SyntheticPollSource: Sendable {
    /// The synthetic messages of one measurement: message `g` (0-based) has nonce
    /// `firstNonce + g` and goes to `clients[g % clients.count]` with sequence number
    /// `firstSequence[g % clients.count] + g / clients.count`.
    public struct Run: Sendable {
        let firstNonce: UInt64
        let total: Int
        let batchSize: Int
        let clients: [ClientKey]
        let firstSequence: [UInt64]
        let gateway: Principal
        let timestamp: UInt64
        let payload: [UInt8]
        let cert: [UInt8]
        let tree: [UInt8]
        /// Response bodies of the batches starting at `firstNonce + i * batchSize`.
        fileprivate(set) var bodies: [ByteBuffer] = []
        /// Response body once all `total` messages are served: no messages, end of queue.
        fileprivate(set) var endBody = ByteBuffer()

        public var batchCount: Int { (total + batchSize - 1) / batchSize }
        public var encodedBytes: Int { bodies.reduce(0) { $0 + $1.readableBytes } }

        /// The response body of the batch that starts with message `first`.
        func body(from first: Int) throws -> ByteBuffer {
            let count = min(batchSize, total - first)
            var messages = [CanisterOutputMessage]()
            messages.reserveCapacity(count)
            for index in first..<(first + count) {
                let client = index % clients.count
                let key = clients[client]
                let message = WebsocketMessage(
                    clientKey: key, sequenceNum: firstSequence[client] + UInt64(index / clients.count),
                    timestamp: timestamp, isServiceMessage: false, content: payload)
                messages.append(
                    CanisterOutputMessage(
                        clientKey: key, key: MessageKey.format(gateway: gateway, nonce: firstNonce + UInt64(index)),
                        content: message.cborEncoded()))
            }
            let batch = CanisterOutputCertifiedMessages(messages: messages, cert: cert, tree: tree, isEndOfQueue: first + count >= total)
            return SyntheticPollSource.replyBody(try Candid.encode(CanisterWsGetMessagesResult.ok(batch)))
        }
    }

    /// What the pass-through replies showed.
    private struct Learned {
        var clients: [ClientKey] = []
        var known: Set<ClientKey> = []
        var lastSequence: [ClientKey: UInt64] = [:]
        var lastNonce: UInt64?
        var keyPrefixes: Set<String> = []
        var cert: [UInt8] = []
        var tree: [UInt8] = []
    }

    /// Counters of the current synthetic run.
    public struct RunStatistics: Sendable {
        public var polls = 0
        /// Polls whose nonce was not a pre-encoded batch start (answered by encoding on the spot).
        public var unalignedPolls = 0
        /// Polls for nonces before the run (forwarded to the replica).
        public var earlierPolls = 0
        public var messagesServed = 0
        /// Thread CPU time spent decoding poll requests and picking or encoding their answers.
        public var handlerCPUNanoseconds: UInt64 = 0
        public var firstPollAt: ContinuousClock.Instant?
        public var lastBatchServedAt: ContinuousClock.Instant?
    }

    private let upstream: String
    private let learned = NIOLockedValueBox(Learned())
    private let current = NIOLockedValueBox<Run?>(nil)
    private let statistics = NIOLockedValueBox(RunStatistics())
    /// Where the next run starts after an earlier one: nonce, and the earlier run's clients with
    /// their next sequence numbers.
    private let continuation = NIOLockedValueBox<(nonce: UInt64, clients: [ClientKey], sequence: [UInt64])?>(nil)

    public init(upstream: String) {
        self.upstream = upstream
    }

    /// Distinct client keys seen in real `ws_get_messages` replies.
    public var learnedClientCount: Int { learned.withLockedValue { $0.clients.count } }

    public var currentStatistics: RunStatistics { statistics.withLockedValue { $0 } }

    public enum SetupError: Error, CustomStringConvertible {
        case nothingLearned
        case foreignKeys(Set<String>, expected: String)

        public var description: String {
            switch self {
            case .nothingLearned: return "no ws_get_messages reply with messages passed through yet; open sessions first"
            case .foreignKeys(let prefixes, let expected):
                return "the real message keys have prefixes \(prefixes.sorted()), expected only '\(expected)'"
            }
        }
    }

    /// Pre-encodes `messages` synthetic messages in batches of `batchSize`, continuing the sequence
    /// the gateway has been served so far (real messages, then earlier runs). Call `activate(_:)`
    /// to start serving them.
    public func prepare(messages: Int, batchSize: Int, gateway: Principal, timestamp: UInt64, payloadBytes: Int = 32) throws -> Run {
        let seen = learned.withLockedValue { $0 }
        guard let lastNonce = seen.lastNonce, !seen.clients.isEmpty else { throw SetupError.nothingLearned }
        let prefix = String(decoding: gateway.textBytes + [UInt8(ascii: "_")], as: UTF8.self)
        guard seen.keyPrefixes == [prefix] else { throw SetupError.foreignKeys(seen.keyPrefixes, expected: prefix) }
        let start =
            continuation.withLockedValue { $0 }
            ?? (nonce: lastNonce + 1, clients: seen.clients, sequence: seen.clients.map { (seen.lastSequence[$0] ?? 0) + 1 })
        var run = Run(
            firstNonce: start.nonce, total: max(0, messages), batchSize: max(1, batchSize), clients: start.clients,
            firstSequence: start.sequence, gateway: gateway, timestamp: timestamp,
            payload: (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }, cert: seen.cert, tree: seen.tree)
        run.bodies.reserveCapacity(run.batchCount)
        for batch in 0..<run.batchCount { run.bodies.append(try run.body(from: batch * run.batchSize)) }
        let empty = CanisterOutputCertifiedMessages(messages: [], cert: [], tree: [], isEndOfQueue: true)
        run.endBody = Self.replyBody(try Candid.encode(CanisterWsGetMessagesResult.ok(empty)))
        return run
    }

    /// Switches to synthetic mode with `run` (and resets the run counters).
    public func activate(_ run: Run) {
        let clients = run.clients.count
        let nextSequence = (0..<clients).map { client in
            // Messages client `client` gets in this run: indexes client, client + n, client + 2n, … below total.
            run.firstSequence[client] + UInt64(run.total > client ? (run.total - client + clients - 1) / clients : 0)
        }
        continuation.withLockedValue { $0 = (run.firstNonce + UInt64(run.total), run.clients, nextSequence) }
        statistics.withLockedValue { $0 = RunStatistics() }
        current.withLockedValue { $0 = run }
    }

    /// Serves on a loopback port while `body` runs with the proxy's `http://` URL.
    public func run(_ body: @Sendable (String) async throws -> Void) async throws {
        var configuration = HTTPClient.Configuration()
        // Hundreds of sessions open at once, each a synchronous call through here.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        try await LoopbackServer.runForwarder(
            label: "synthetic-poll-source", clientConfiguration: configuration,
            handle: { request, client in try await self.handle(request, client: client) },
            while: body)
    }

    private func handle(_ request: Request, client: HTTPClient) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 << 20)
        guard request.method == .post, request.uri.path.hasSuffix("/query") else {
            return try await forward(request, body: body, client: client)
        }
        let started = Self.threadCPUNanoseconds()
        let nonce = Self.pollNonce(in: Array(body.readableBytesView))
        if let nonce, let answer = syntheticAnswer(nonce: nonce, cpuStartedAt: started) { return answer }
        let exchanged = try await exchange(request, body: body, client: client)
        if nonce != nil { learn(from: exchanged.body) }
        return exchanged.response
    }

    /// The synthetic reply to `ws_get_messages(nonce)`, or nil in pass-through mode or for nonces
    /// before the run.
    private func syntheticAnswer(nonce: UInt64, cpuStartedAt: UInt64) -> Response? {
        guard let run = current.withLockedValue({ $0 }) else { return nil }
        guard nonce >= run.firstNonce else {
            statistics.withLockedValue { $0.earlierPolls += 1 }
            return nil
        }
        let first = nonce - run.firstNonce
        let body: ByteBuffer
        var served = 0
        var unaligned = false
        if first >= UInt64(run.total) {
            body = run.endBody
        } else {
            let index = Int(first)
            served = min(run.batchSize, run.total - index)
            if index % run.batchSize == 0 {
                body = run.bodies[index / run.batchSize]
            } else {
                unaligned = true
                body = (try? run.body(from: index)) ?? run.endBody
            }
        }
        let now = ContinuousClock.now
        let cpu = Self.threadCPUNanoseconds() &- cpuStartedAt
        statistics.withLockedValue { stats in
            stats.polls += 1
            stats.handlerCPUNanoseconds &+= cpu
            if unaligned { stats.unalignedPolls += 1 }
            if served > 0 {
                if stats.firstPollAt == nil { stats.firstPollAt = now }
                stats.lastBatchServedAt = now
                stats.messagesServed += served
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/cbor"], body: .init(byteBuffer: body))
    }

    private func forward(_ request: Request, body: ByteBuffer, client: HTTPClient) async throws -> Response {
        try await exchange(request, body: body, client: client).response
    }

    /// Forwards `request` to the replica; the response and its body bytes.
    private func exchange(_ request: Request, body: ByteBuffer, client: HTTPClient) async throws -> (response: Response, body: ByteBuffer) {
        try await LoopbackServer.forward(request, body: body, to: upstream, client: client)
    }

    /// The nonce of a `ws_get_messages` query envelope, nil for anything else.
    static func pollNonce(in envelope: [UInt8]) -> UInt64? {
        guard let value = try? CBORDecoder.decode(envelope).removingSelfDescribeTag,
            let content = value["content"], content["request_type"]?.text == "query",
            content["method_name"]?.text == "ws_get_messages", let arg = content["arg"]?.bytes,
            let arguments = try? Candid.decode(CanisterWsGetMessagesArguments.self, from: arg)
        else { return nil }
        return arguments.nonce
    }

    /// Records the sessions, nonce and certificate of a real `ws_get_messages` reply.
    private func learn(from body: ByteBuffer) {
        guard let value = try? CBORDecoder.decode(Array(body.readableBytesView)).removingSelfDescribeTag,
            value["status"]?.text == "replied", let arg = value["reply"]?["arg"]?.bytes,
            let first = try? CandidDecoder().decode(arg, as: [CanisterWsGetMessagesResult.lenientCandidType]).first,
            case .ok(let batch)? = try? CanisterWsGetMessagesResult(candid: first), !batch.messages.isEmpty
        else { return }
        learned.withLockedValue { seen in
            for message in batch.messages {
                if seen.known.insert(message.clientKey).inserted { seen.clients.append(message.clientKey) }
                if let nonce = MessageKey.nonce(of: message.key) { seen.lastNonce = max(seen.lastNonce ?? 0, nonce) }
                if let underscore = message.key.lastIndex(of: "_") { seen.keyPrefixes.insert(String(message.key[...underscore])) }
                if let content = try? WebsocketMessage(cbor: message.content) {
                    seen.lastSequence[message.clientKey] = max(seen.lastSequence[message.clientKey] ?? 0, content.sequenceNum)
                }
            }
            seen.cert = batch.cert
            seen.tree = batch.tree
        }
    }

    /// `55799({"status": "replied", "reply": {"arg": arg}})`, as the replica answers a query
    /// (without its node signature).
    static func replyBody(_ arg: [UInt8]) -> ByteBuffer {
        ByteBuffer(
            bytes: CBOREncoder.encode(
                .map([(.text("status"), .text("replied")), (.text("reply"), .map([(.text("arg"), .bytes(arg))]))]),
                selfDescribe: true))
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
