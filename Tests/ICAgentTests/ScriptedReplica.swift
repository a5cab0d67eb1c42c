import BLS12381
import Foundation
import Hummingbird
import ICAgent
import ICCore
import Logging
import NIOCore

/// A scripted IC HTTP endpoint for agent tests (a fake, for injecting behaviour the real
/// replica would not show on demand: endpoint fallbacks, rejects, garbage, huge or slow bodies).
/// It signs its certificates with a real BLS key, so the agent's verification runs for real.
final class ScriptedReplica: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// v4 answers with a certified reply: the method name as a Candid `text`.
        case normal
        /// v4 and v3 call endpoints are missing (404): v2 + read_state polling is used.
        case onlyV2
        /// Every call is certified as rejected.
        case certifiedReject
        /// Calls are refused before execution (`non_replicated_rejection`).
        case nonReplicatedReject
        /// Responses are not CBOR.
        case garbage
        /// Responses are bigger than any agent limit.
        case oversized(Int)
        /// Responses come after a delay.
        case slow(Duration)
        /// Certificates are signed by another key.
        case forgedCertificates
        /// read_state answers with these recorded bytes.
        case recordedReadState([UInt8])
    }

    let secretKey: BLS.SecretKey
    let rootKey: RootKey
    private let lock = NSLock()
    private var _behaviour: Behaviour = .normal
    private var calls: [ICCore.RequestID: [UInt8]] = [:]
    private(set) var requestLog: [String] = []

    var behaviour: Behaviour {
        get { lock.withLock { _behaviour } }
        set { lock.withLock { _behaviour = newValue } }
    }

    init() throws {
        secretKey = try BLS.SecretKey(seed: SHA256.hash(Array("scripted replica test key".utf8)))
        rootKey = try RootKey(raw: BLS.publicKey(for: secretKey).compressed)
    }

    var log: [String] { lock.withLock { requestLog } }

    /// Builds and runs the server on an ephemeral loopback port for the duration of `body`.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.get("/api/v2/status") { _, _ in try await self.respond(path: "status") { self.statusBody() } }
        router.post("/api/:version/canister/:id/:kind") { request, context in
            let version = context.parameters.get("version") ?? ""
            let kind = context.parameters.get("kind") ?? ""
            let body = try await request.body.collect(upTo: 4 << 20)
            return try await self.handle(version: version, kind: kind, body: Array(body.readableBytesView))
        }
        let ready = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "scripted-replica")
        logger.logLevel = .critical  // cancelling the server at the end of a test logs noise
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ready.stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
        }
    }

    private func statusBody() -> [UInt8] {
        CBOREncoder.encode(
            ReplicaStatus(rootKey: rootKey.der, implementationVersion: "scripted", healthStatus: "healthy").cbor,
            selfDescribe: true)
    }

    private func respond(path: String, status: HTTPResponse.Status = .ok, _ make: () throws -> [UInt8]) async throws -> Response {
        lock.withLock { requestLog.append(path) }
        switch behaviour {
        case .garbage:
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "not cbor at all")))
        case .oversized(let size):
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x41, count: size)))
        case .slow(let delay):
            try await Task.sleep(for: delay)
        default:
            break
        }
        let bytes = try make()
        return Response(status: status, headers: [.contentType: "application/cbor"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func handle(version: String, kind: String, body: [UInt8]) async throws -> Response {
        let path = "\(version)/\(kind)"
        let envelope = try Envelope(cborBytes: body)
        let requestID = envelope.content.requestID
        switch (kind, behaviour) {
        case ("call", .onlyV2) where version != "v2":
            lock.withLock { requestLog.append(path) }
            return Response(status: .notFound)
        case ("call", .nonReplicatedReject):
            return try await respond(path: path) {
                CBOREncoder.encode(
                    [
                        "status": "non_replicated_rejection", "reject_code": 3,
                        "reject_message": "Canister not found", "error_code": "IC0301",
                    ], selfDescribe: true)
            }
        case ("call", _):
            guard case .call(_, let method, _) = envelope.content.kind else { return Response(status: .badRequest) }
            let reply = try Candid.encode(method)
            lock.withLock { calls[requestID] = reply }
            if version == "v2" {
                lock.withLock { requestLog.append(path) }
                return Response(status: .accepted)
            }
            return try await respond(path: path) {
                CBOREncoder.encode(["status": "replied", "certificate": .bytes(try self.certificate(for: requestID))], selfDescribe: true)
            }
        case ("read_state", .recordedReadState(let bytes)):
            return try await respond(path: path) { bytes }
        case ("read_state", _):
            guard case .readState(let paths) = envelope.content.kind, let first = paths.first, first.count >= 2,
                let id = try? ICCore.RequestID(bytes: first[1])
            else { return Response(status: .badRequest) }
            return try await respond(path: path) {
                CBOREncoder.encode(["certificate": .bytes(try self.certificate(for: id))], selfDescribe: true)
            }
        case ("query", _):
            return try await respond(path: path) {
                CBOREncoder.encode(
                    ["status": "replied", "reply": ["arg": .bytes([0x44, 0x49, 0x44, 0x4c, 0x00, 0x00])]], selfDescribe: true)
            }
        default:
            return Response(status: .notFound)
        }
    }

    /// A certificate over `/time` and `/request_status/<id>` signed with the root key (or a
    /// forged one).
    private func certificate(for requestID: ICCore.RequestID) throws -> [UInt8] {
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
        var entries: [(path: [[UInt8]], value: [UInt8])] = [([Array("time".utf8)], LEB128.encode(now))]
        let base = [Array("request_status".utf8), requestID.bytes]
        if let reply = lock.withLock({ calls[requestID] }) {
            if case .certifiedReject = behaviour {
                entries.append((base + [Array("status".utf8)], Array("rejected".utf8)))
                entries.append((base + [Array("reject_code".utf8)], LEB128.encode(4)))
                entries.append((base + [Array("reject_message".utf8)], Array("no thanks".utf8)))
            } else {
                entries.append((base + [Array("status".utf8)], Array("replied".utf8)))
                entries.append((base + [Array("reply".utf8)], reply))
            }
        }
        let tree = try HashTree(paths: entries)
        var key = secretKey
        if case .forgedCertificates = behaviour { key = try BLS.SecretKey(seed: SHA256.hash(Array("forger".utf8))) }
        return CertificateIssuer(secretKey: key).certificate(for: tree)
    }
}
