import AsyncHTTPClient
import Foundation
import ICCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Which root key certificates are checked against.
public enum RootKeyPolicy: Sendable, Equatable {
    /// The IC mainnet key built into icws.
    case mainnet
    /// Trust the key a local replica serves at `/api/v2/status`. For development only:
    /// anyone who can answer that request can then forge every certificate.
    case fetchFromReplica
    /// A key given by the caller (e.g. printed by `icws replica`).
    case explicit(RootKey)
}

/// An IC agent speaking the HTTP interface (essentials §5) with AsyncHTTPClient.
///
/// ```swift
/// let agent = HTTPAgent(configuration: .init(url: "http://127.0.0.1:4943", rootKey: .fetchFromReplica),
///                       identity: try IdentityPEM.load(pem: pemText))
/// let reply = try await agent.call(canister: id, method: "greet", arg: candidBytes)
/// let answer = try await agent.query(canister: id, method: "get", arg: Candid.emptyArguments)
/// ```
///
/// Calls use the synchronous `v4` endpoint, falling back to `v3` and then to `v2` with
/// `read_state` polling when the replica answers 404 (or 202: no outcome yet). Every
/// certificate is verified (signature, delegation, scope, freshness) before anything in it is
/// believed.
public final class HTTPAgent: Sendable {
    /// Agent settings; the defaults suit mainnet.
    public struct Configuration: Sendable {
        /// Base URL of the replica or boundary node, e.g. `https://icp-api.io` or `http://127.0.0.1:4943`.
        public var url: String
        /// Root key policy; mainnet unless the caller opts into something else.
        public var rootKey: RootKeyPolicy
        /// How far ahead `ingress_expiry` is set.
        public var ingressExpiry: Duration
        /// Deadline for each HTTP request.
        public var requestTimeout: Duration
        /// Largest response body accepted (queries may reply up to 3 MiB).
        public var maxResponseBytes: Int
        /// Certificate freshness policy.
        public var freshness: CertificateFreshness
        /// Whether query replies must carry valid node signatures (fetches node keys via read_state).
        public var verifiesQuerySignatures: Bool
        /// First and longest wait between `read_state` polls.
        public var pollingInterval: (initial: Duration, maximum: Duration)
        /// Whether calls get a random 16-byte nonce (so identical calls are distinct requests).
        public var addsNonceToCalls: Bool
        /// The clock, ns since 1970.
        public var clock: @Sendable () -> UInt64

        public init(
            url: String,
            rootKey: RootKeyPolicy = .mainnet,
            ingressExpiry: Duration = IngressExpiry.defaultDelta,
            requestTimeout: Duration = .seconds(30),
            maxResponseBytes: Int = 4 << 20,
            freshness: CertificateFreshness = .default,
            verifiesQuerySignatures: Bool = false,
            pollingInterval: (initial: Duration, maximum: Duration) = (.milliseconds(50), .seconds(2)),
            addsNonceToCalls: Bool = true,
            clock: @escaping @Sendable () -> UInt64 = CertificateVerifier.systemClock
        ) {
            self.url = url
            self.rootKey = rootKey
            self.ingressExpiry = ingressExpiry
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
            self.freshness = freshness
            self.verifiesQuerySignatures = verifiesQuerySignatures
            self.pollingInterval = pollingInterval
            self.addsNonceToCalls = addsNonceToCalls
            self.clock = clock
        }
    }

    public let configuration: Configuration
    /// The identity requests are signed with.
    public let identity: any Identity
    private let client: HTTPClient
    private let baseURL: String
    private let state = NIOLockedValueBox(MutableState())

    private struct MutableState {
        var verifier: CertificateVerifier?
        /// The newest call endpoint the replica understood (4, then 3, then 2).
        var callVersion = 4
        /// The newest query/read_state endpoint the replica understood (3, then 2).
        var readVersion = 3
        /// Node keys of subnets, for query signature checks.
        var nodeKeys: [Principal: [Principal: [UInt8]]] = [:]
    }

    /// Creates an agent.
    /// - Parameters:
    ///   - configuration: where and how to talk.
    ///   - identity: who signs; ``AnonymousIdentity`` for unsigned requests.
    ///   - httpClient: the client to use (default: the process-wide shared client).
    public init(configuration: Configuration, identity: any Identity = AnonymousIdentity(), httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.identity = identity
        self.client = httpClient
        var base = configuration.url
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        if case .explicit(let key) = configuration.rootKey {
            state.withLockedValue { $0.verifier = Self.makeVerifier(key, configuration) }
        } else if configuration.rootKey == .mainnet {
            state.withLockedValue { $0.verifier = Self.makeVerifier(.mainnet, configuration) }
        }
    }

    private static func makeVerifier(_ key: RootKey, _ configuration: Configuration) -> CertificateVerifier {
        CertificateVerifier(rootKey: key, freshness: configuration.freshness, clock: configuration.clock)
    }

    // MARK: Status and root key

    /// `GET /api/v2/status`.
    public func status() async throws(AgentError) -> ReplicaStatus {
        let response = try await send(method: .GET, path: "/api/v2/status", body: nil)
        guard response.status == 200 else { throw Self.httpError(response) }
        return try ReplicaStatus(cbor: try Self.decodeCBOR(response.body, what: "status"))
    }

    /// The verifier for this agent's root key, fetching the key first if the policy says so.
    public func certificateVerifier() async throws(AgentError) -> CertificateVerifier {
        if let verifier = state.withLockedValue({ $0.verifier }) { return verifier }
        let status = try await status()
        guard let der = status.rootKey else { throw .malformedResponse("status has no root_key; is this a development replica?") }
        let key: RootKey
        do { key = try RootKey(der: der) } catch { throw .certificate(error) }
        let verifier = Self.makeVerifier(key, configuration)
        state.withLockedValue { $0.verifier = $0.verifier ?? verifier }
        return state.withLockedValue { $0.verifier! }
    }

    // MARK: Calls

    /// Performs an update call and returns the reply's Candid bytes.
    /// - Parameter effectiveCanisterID: routing id; defaults to `canister` (set it for management canister calls).
    public func call(
        canister: Principal, method: String, arg: [UInt8], effectiveCanisterID: Principal? = nil
    ) async throws(AgentError) -> [UInt8] {
        let nonce: [UInt8]? = configuration.addsNonceToCalls ? (0..<16).map { _ in UInt8.random(in: 0...255) } : nil
        let content = RequestContent(
            kind: .call(canisterID: canister, methodName: method, arg: arg),
            sender: identity.principal, ingressExpiry: expiry(), nonce: nonce)
        let envelope: Envelope
        do { envelope = try Envelope.signed(content, by: identity) } catch { throw .identity(error) }
        return try await submitCall(
            envelope.encoded(), requestID: content.requestID,
            effectiveCanisterID: effectiveCanisterID ?? canister, ingressExpiry: content.ingressExpiry)
    }

    /// Submits an already signed call envelope (as a gateway relays a client's) and waits for
    /// the certified outcome.
    public func submitCall(
        _ body: [UInt8], requestID: RequestID, effectiveCanisterID: Principal, ingressExpiry: UInt64
    ) async throws(AgentError) -> [UInt8] {
        var version = state.withLockedValue { $0.callVersion }
        while true {
            let response = try await send(method: .POST, path: "/api/v\(version)/canister/\(effectiveCanisterID)/call", body: body)
            switch response.status {
            case 404 where version > 2:
                version -= 1
                state.withLockedValue { $0.callVersion = min($0.callVersion, version) }
                continue
            case 202:
                return try await pollForReply(requestID: requestID, canister: effectiveCanisterID, ingressExpiry: ingressExpiry)
            case 200:
                let value = try Self.decodeCBOR(response.body, what: "call response")
                if version == 2 {
                    // A 200 on the asynchronous endpoint is a rejection before execution.
                    throw .rejected(try Self.reject(from: value))
                }
                switch value["status"]?.text {
                case "replied":
                    guard let certificateBytes = value["certificate"]?.bytes else {
                        throw .malformedResponse("sync call reply without certificate")
                    }
                    let certificate = try await verify(certificateBytes, scope: .canister(effectiveCanisterID))
                    switch try RequestStatus(certificate: certificate, requestID: requestID) {
                    case .replied(let reply): return reply
                    case .rejected(let reject): throw .rejected(reject)
                    case .done: throw .replyForgotten(requestID: requestID)
                    case .unknown, .received, .processing:
                        return try await pollForReply(requestID: requestID, canister: effectiveCanisterID, ingressExpiry: ingressExpiry)
                    }
                case "non_replicated_rejection":
                    throw .rejected(try Self.reject(from: value))
                case let other:
                    throw .malformedResponse("unknown call response status '\(other ?? "none")'")
                }
            default:
                throw Self.httpError(response)
            }
        }
    }

    /// Submits an already signed call envelope to the asynchronous endpoint (`/api/v2/…/call`)
    /// and returns once the IC has accepted it (202), without waiting for its execution.
    ///
    /// A gateway uses this to pass on a client's next envelope as soon as the previous one is in
    /// the IC's ingress queue. A refusal before execution (unknown canister, inspect-message
    /// refusal) is thrown as ``AgentError/rejected(_:)``.
    public func acceptCall(_ body: [UInt8], effectiveCanisterID: Principal) async throws(AgentError) {
        let response = try await send(method: .POST, path: "/api/v2/canister/\(effectiveCanisterID)/call", body: body)
        switch response.status {
        case 202:
            return
        case 200:
            throw .rejected(try Self.reject(from: try Self.decodeCBOR(response.body, what: "call response")))
        default:
            throw Self.httpError(response)
        }
    }

    /// Polls `read_state` for `/request_status/<id>` until the call has an outcome or expires.
    public func pollForReply(requestID: RequestID, canister: Principal, ingressExpiry: UInt64) async throws(AgentError) -> [UInt8] {
        var wait = configuration.pollingInterval.initial
        while true {
            switch try await requestStatus(of: requestID, canister: canister) {
            case .replied(let reply): return reply
            case .rejected(let reject): throw .rejected(reject)
            case .done: throw .replyForgotten(requestID: requestID)
            case .unknown, .received, .processing:
                guard configuration.clock() <= ingressExpiry else { throw .timedOut(requestID: requestID) }
                do { try await Task.sleep(for: wait) } catch { throw .timedOut(requestID: requestID) }
                wait = min(wait * 2, configuration.pollingInterval.maximum)
            }
        }
    }

    /// Reads `/request_status/<id>` of a request sent to `canister`.
    public func requestStatus(of requestID: RequestID, canister: Principal) async throws(AgentError) -> RequestStatus {
        let certificate = try await readState(canister: canister, paths: [[Array("request_status".utf8), requestID.bytes]])
        return try RequestStatus(certificate: certificate, requestID: requestID)
    }

    // MARK: Queries

    /// Performs a query and returns the reply's Candid bytes.
    public func query(
        canister: Principal, method: String, arg: [UInt8], effectiveCanisterID: Principal? = nil
    ) async throws(AgentError) -> [UInt8] {
        let content = RequestContent(
            kind: .query(canisterID: canister, methodName: method, arg: arg),
            sender: identity.principal, ingressExpiry: expiry())
        let envelope: Envelope
        do { envelope = try Envelope.signed(content, by: identity) } catch { throw .identity(error) }
        let target = effectiveCanisterID ?? canister
        let value = try await postRead(kind: "query", target: "canister/\(target)", body: envelope.encoded())
        if configuration.verifiesQuerySignatures {
            try await checkQuerySignatures(value, requestID: content.requestID, canister: target)
        }
        switch value["status"]?.text {
        case "replied":
            guard let arg = value["reply"]?["arg"]?.bytes else { throw .malformedResponse("query reply without reply.arg") }
            return arg
        case "rejected":
            throw .rejected(try Self.reject(from: value))
        case let other:
            throw .malformedResponse("unknown query response status '\(other ?? "none")'")
        }
    }

    // MARK: Read state

    /// `read_state` through a canister URL; the certificate is verified for that canister.
    public func readState(canister: Principal, paths: [[[UInt8]]]) async throws(AgentError) -> VerifiedCertificate {
        try await readState(target: "canister/\(canister)", scope: .canister(canister), paths: paths)
    }

    /// `read_state` through a subnet URL; the certificate is verified for that subnet.
    public func readSubnetState(subnet: Principal, paths: [[[UInt8]]]) async throws(AgentError) -> VerifiedCertificate {
        try await readState(target: "subnet/\(subnet)", scope: .subnet(subnet), paths: paths)
    }

    private func readState(target: String, scope: CertificateScope, paths: [[[UInt8]]]) async throws(AgentError) -> VerifiedCertificate {
        let content = RequestContent(kind: .readState(paths: paths), sender: identity.principal, ingressExpiry: expiry())
        let envelope: Envelope
        do { envelope = try Envelope.signed(content, by: identity) } catch { throw .identity(error) }
        let value = try await postRead(kind: "read_state", target: target, body: envelope.encoded())
        guard let certificate = value["certificate"]?.bytes else { throw .malformedResponse("read_state response without certificate") }
        return try await verify(certificate, scope: scope)
    }

    /// Verifies certificate bytes with this agent's root key and freshness policy.
    public func verify(_ certificate: [UInt8], scope: CertificateScope) async throws(AgentError) -> VerifiedCertificate {
        let verifier = try await certificateVerifier()
        do { return try verifier.verify(certificate, for: scope) } catch { throw .certificate(error) }
    }

    /// POSTs to the query/read_state endpoint, falling back from v3 to v2 on 404.
    private func postRead(kind: String, target: String, body: [UInt8]) async throws(AgentError) -> CBORValue {
        var version = state.withLockedValue { $0.readVersion }
        while true {
            let response = try await send(method: .POST, path: "/api/v\(version)/\(target)/\(kind)", body: body)
            if response.status == 404, version > 2 {
                version -= 1
                state.withLockedValue { $0.readVersion = min($0.readVersion, version) }
                continue
            }
            guard response.status == 200 else { throw Self.httpError(response) }
            return try Self.decodeCBOR(response.body, what: "\(kind) response")
        }
    }

    // MARK: Query signatures

    private func checkQuerySignatures(_ response: CBORValue, requestID: RequestID, canister: Principal) async throws(AgentError) {
        guard let signatures = response["signatures"]?.arrayItems, !signatures.isEmpty else {
            throw .querySignature("the response carries no node signatures")
        }
        let keys = try await nodeKeys(for: canister)
        for entry in signatures {
            guard let timestamp = entry["timestamp"]?.uint64, let signature = entry["signature"]?.bytes,
                let nodeBytes = entry["identity"]?.bytes, let node = try? Principal(bytes: nodeBytes)
            else { throw .querySignature("malformed node signature entry") }
            guard let key = keys[node] else { throw .querySignature("node \(node) is not a member of the canister's subnet") }
            let now = configuration.clock()
            if let maxAge = configuration.freshness.maxAge, timestamp + maxAge.icNanoseconds < now {
                throw .querySignature("node signature timestamp \(timestamp) is too old")
            }
            var signed: [(key: CBORValue, value: CBORValue)] = [
                (.text("timestamp"), .unsigned(timestamp)),
                (.text("request_id"), .bytes(requestID.bytes)),
            ]
            for field in ["status", "reply", "reject_code", "reject_message", "error_code"] {
                if let value = response[field] { signed.append((.text(field), value)) }
            }
            guard let hash = try? RepresentationIndependentHash.hashOfMap(.map(signed)) else {
                throw .querySignature("the response cannot be hashed")
            }
            do {
                try SignatureVerifier().verify(signature: signature, message: DomainSeparator.response + hash, publicKeyDER: key)
            } catch {
                throw .querySignature("node \(node): \(error)")
            }
        }
    }

    private func nodeKeys(for canister: Principal) async throws(AgentError) -> [Principal: [UInt8]] {
        let certificate = try await readState(canister: canister, paths: [[Array("subnet".utf8)]])
        let subnet: Principal
        if let delegated = certificate.signingSubnet {
            subnet = delegated
        } else {
            // An undelegated certificate comes from the root subnet, named self-auth(root key DER).
            subnet = Principal.selfAuthenticating(derPublicKey: try await certificateVerifier().rootKey.der)
        }
        if let cached = state.withLockedValue({ $0.nodeKeys[subnet] }) { return cached }
        var keys = [Principal: [UInt8]]()
        let nodePath = [Array("subnet".utf8), subnet.bytes, Array("node".utf8)]
        for (path, value) in certificate.tree.values(under: nodePath) where path.count == 5 && path[4] == Array("public_key".utf8) {
            if let node = try? Principal(bytes: path[3]) { keys[node] = value }
        }
        guard !keys.isEmpty else { throw .querySignature("the subnet certificate reveals no node keys") }
        state.withLockedValue { $0.nodeKeys[subnet] = keys }
        return keys
    }

    // MARK: Transport

    private struct RawResponse {
        let status: Int
        let body: [UInt8]
    }

    private func expiry() -> UInt64 {
        IngressExpiry.value(nowNanoseconds: configuration.clock(), delta: configuration.ingressExpiry)
    }

    private func send(method: HTTPMethod, path: String, body: [UInt8]?) async throws(AgentError) -> RawResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/cbor")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let timeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeout.icNanoseconds))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw .transport("no response from \(baseURL) within \(configuration.requestTimeout)")
        } catch {
            throw .transport("\(method) \(baseURL)\(path): \(error)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > configuration.maxResponseBytes {
            throw .responseTooLarge(limit: configuration.maxResponseBytes)
        }
        do {
            let buffer = try await response.body.collect(upTo: configuration.maxResponseBytes)
            return RawResponse(status: Int(response.status.code), body: Array(buffer.readableBytesView))
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .responseTooLarge(limit: configuration.maxResponseBytes)
        } catch {
            throw .transport("reading the response of \(path): \(error)")
        }
    }

    private static func decodeCBOR(_ bytes: [UInt8], what: String) throws(AgentError) -> CBORValue {
        do { return try CBORDecoder().decode(bytes).removingSelfDescribeTag } catch {
            throw .malformedResponse("\(what) is not valid CBOR: \(error)")
        }
    }

    private static func reject(from value: CBORValue) throws(AgentError) -> RejectError {
        guard let code = value["reject_code"]?.uint64 else { throw .malformedResponse("reject without reject_code") }
        return RejectError(code: .init(code), message: value["reject_message"]?.text ?? "", errorCode: value["error_code"]?.text)
    }

    private static func httpError(_ response: RawResponse) -> AgentError {
        let text = String(decoding: response.body.prefix(1024), as: UTF8.self)
        return .http(status: response.status, message: text.isEmpty ? "(empty body)" : text)
    }
}
