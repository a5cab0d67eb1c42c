import BLS12381
import Foundation
import Hummingbird
import ICAgent
import ICCore
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A fake of the IC's HTTP interface, for what the real replica cannot be made to do on demand:
/// answer garbage, too much, too late, with forged certificates, from recorded bytes, or with
/// scripted `ws_get_messages` batches. It executes nothing. Its certificates are signed with a
/// real BLS key (``rootKey``), so what verifies them runs for real.
///
/// ```swift
/// let ic = try FakeIC(.normal)
/// try await ic.run { url in … HTTPAgent(url: url, rootKey: .explicit(ic.rootKey)) … }
/// ```
public final class FakeIC: Sendable {
    public enum Behaviour: Sendable {
        /// Calls are certified as replied (the reply is the method name as Candid `text`) through
        /// v4/v3, or accepted (202) through v2 and then readable through `read_state`.
        case normal
        /// The v4 and v3 call endpoints are missing (404): clients must fall back to v2 + read_state.
        case onlyV2
        /// Every call is certified as rejected (code 4).
        case certifiedReject
        /// Calls are refused before execution (`non_replicated_rejection`, code 3, IC0301).
        case nonReplicatedReject
        /// Queries are rejected with this code, error code and message (by default a stopped
        /// canister: 5, IC0508).
        case rejectQueries(code: UInt64, errorCode: String = "IC0508", message: String = "Canister is stopped")
        /// Every answer is 200 with bytes that are not CBOR.
        case garbage
        /// Every answer is this many bytes.
        case oversized(Int)
        /// Every answer comes after this delay.
        case slow(Duration)
        /// Certificates are signed by another key.
        case forgedCertificates
        /// `read_state` answers with these recorded bytes.
        case recordedReadState([UInt8])
    }

    /// The key certificates are signed with (unless ``Behaviour/forgedCertificates``).
    public let rootKey: RootKey
    private let secretKey: BLS.SecretKey
    private let state: NIOLockedValueBox<State>

    private struct State {
        var behaviour: Behaviour
        /// `ws_get_messages` answers still to give; `nil`: queries answer an empty Candid reply.
        var pollScript: [CanisterOutputCertifiedMessages]?
        var calls: [ICCore.RequestID: [UInt8]] = [:]
        var log: [String] = []
        var queries = 0
        var callCount = 0
    }

    /// - Parameters:
    ///   - behaviour: how it answers (changeable later with ``behaviour``).
    ///   - pollScript: if given, queries are `ws_get_messages` and answer these batches in order,
    ///     then empty ones.
    public init(_ behaviour: Behaviour = .normal, pollScript: [CanisterOutputCertifiedMessages]? = nil) throws {
        secretKey = try BLS.SecretKey(seed: SHA256.hash(Array("icws fake IC key".utf8)))
        rootKey = try RootKey(raw: BLS.publicKey(for: secretKey).compressed)
        state = NIOLockedValueBox(State(behaviour: behaviour, pollScript: pollScript))
    }

    public var behaviour: Behaviour {
        get { state.withLockedValue { $0.behaviour } }
        set { state.withLockedValue { $0.behaviour = newValue } }
    }

    /// The endpoints asked so far, e.g. `["status", "v4/call", "v3/read_state"]`.
    public var log: [String] { state.withLockedValue { $0.log } }
    /// Queries received.
    public var queryCount: Int { state.withLockedValue { $0.queries } }
    /// Calls received.
    public var callCount: Int { state.withLockedValue { $0.callCount } }

    /// Serves on a loopback ephemeral port while `body` runs with its `http://` URL.
    public func run(_ body: (_ url: String) async throws -> Void) async throws {
        let router = Router()
        router.get("/api/v2/status") { _, _ in
            try await self.respond("status") {
                CBOREncoder.encode(
                    ReplicaStatus(rootKey: self.rootKey.der, implementationVersion: "fake", healthStatus: "healthy").cbor,
                    selfDescribe: true)
            }
        }
        router.post("/api/:version/canister/:id/:kind") { request, context in
            let body = try await request.body.collect(upTo: 4 << 20)
            return try await self.handle(
                version: context.parameters.get("version") ?? "", kind: context.parameters.get("kind") ?? "",
                body: Array(body.readableBytesView))
        }
        var logger = Logger(label: "fake-ic")
        logger.logLevel = .critical  // stopping the server at the end of a test logs noise
        try await LoopbackServer.run(
            { [logger] onServerRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: onServerRunning, logger: logger)
            }, while: { port in try await body("http://127.0.0.1:\(port)") })
    }

    /// Applies the transport-level behaviours, logs the endpoint, then answers `make()`.
    private func respond(_ endpoint: String, _ make: () throws -> [UInt8]) async throws -> Response {
        let behaviour = state.withLockedValue { state in
            state.log.append(endpoint)
            return state.behaviour
        }
        switch behaviour {
        case .garbage:
            return Response(
                status: .ok, headers: [.contentType: "application/cbor"], body: .init(byteBuffer: ByteBuffer(string: "not CBOR at all")))
        case .oversized(let size):
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x41, count: size)))
        case .slow(let delay):
            try await Task.sleep(for: delay)
        default:
            break
        }
        return Response(status: .ok, headers: [.contentType: "application/cbor"], body: .init(byteBuffer: ByteBuffer(bytes: try make())))
    }

    private func handle(version: String, kind: String, body: [UInt8]) async throws -> Response {
        let endpoint = "\(version)/\(kind)"
        let envelope = try Envelope(cborBytes: body)
        let requestID = envelope.content.requestID
        let behaviour = self.behaviour
        switch kind {
        case "call":
            state.withLockedValue { $0.callCount += 1 }
            if case .onlyV2 = behaviour, version != "v2" {
                state.withLockedValue { $0.log.append(endpoint) }
                return Response(status: .notFound)
            }
            if case .nonReplicatedReject = behaviour {
                return try await respond(endpoint) {
                    CBOREncoder.encode(
                        [
                            "status": "non_replicated_rejection", "reject_code": 3, "reject_message": "Canister not found",
                            "error_code": "IC0301",
                        ], selfDescribe: true)
                }
            }
            guard case .call(_, let method, _) = envelope.content.kind else { return Response(status: .badRequest) }
            let reply = try Candid.encode(method)
            state.withLockedValue { $0.calls[requestID] = reply }
            if version == "v2" {
                state.withLockedValue { $0.log.append(endpoint) }
                return Response(status: .accepted)
            }
            return try await respond(endpoint) {
                CBOREncoder.encode(["status": "replied", "certificate": .bytes(try self.certificate(for: requestID))], selfDescribe: true)
            }
        case "read_state":
            if case .recordedReadState(let bytes) = behaviour { return try await respond(endpoint) { bytes } }
            guard case .readState(let paths) = envelope.content.kind, let first = paths.first, first.count >= 2,
                let id = try? ICCore.RequestID(bytes: first[1])
            else { return Response(status: .badRequest) }
            return try await respond(endpoint) {
                CBOREncoder.encode(["certificate": .bytes(try self.certificate(for: id))], selfDescribe: true)
            }
        case "query":
            let script: CanisterOutputCertifiedMessages?? = state.withLockedValue { state in
                state.queries += 1
                guard state.pollScript != nil else { return .none }
                return .some(state.pollScript!.isEmpty ? nil : state.pollScript!.removeFirst())
            }
            if case .rejectQueries(let code, let errorCode, let message) = behaviour {
                return try await respond(endpoint) {
                    CBOREncoder.encode(
                        [
                            "status": "rejected", "reject_code": .unsigned(code), "reject_message": .text(message),
                            "error_code": .text(errorCode),
                        ], selfDescribe: true)
                }
            }
            let argument: [UInt8]
            switch script {
            case .none: argument = Candid.encode()
            case .some(let batch): argument = try Candid.encode(CanisterWsGetMessagesResult.ok(batch ?? .empty))
            }
            return try await respond(endpoint) {
                CBOREncoder.encode(["status": "replied", "reply": ["arg": .bytes(argument)]], selfDescribe: true)
            }
        default:
            return Response(status: .notFound)
        }
    }

    /// A certificate over `/time` and `/request_status/<id>` (what this fake knows of the call),
    /// signed with the root key, or with another key for ``Behaviour/forgedCertificates``.
    private func certificate(for requestID: ICCore.RequestID) throws -> [UInt8] {
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
        var entries: [(path: [[UInt8]], value: [UInt8])] = [([Array("time".utf8)], LEB128.encode(now))]
        let base = [Array("request_status".utf8), requestID.bytes]
        let (reply, behaviour) = state.withLockedValue { ($0.calls[requestID], $0.behaviour) }
        if let reply {
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
