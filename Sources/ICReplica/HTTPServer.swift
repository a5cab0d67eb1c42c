import Hummingbird
import ICCertification
import ICCore
import Logging
import NIOCore

/// The IC HTTP interface (essentials §5) of a ``Replica``, on Hummingbird.
///
/// ```swift
/// let app = ReplicaServer.application(replica: replica, host: "127.0.0.1", port: 4943)
/// try await app.runService()
/// ```
public enum ReplicaServer {
    /// The router with every API route, the control endpoint and CORS.
    public static func router(for replica: Replica) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: CORSAndErrors())
        let handler = APIHandler(replica: replica)
        router.get("/api/v2/status") { _, _ in handler.status() }
        router.post("/api/:version/canister/:id/:kind") { request, context in
            try await handler.canisterEndpoint(
                request, version: context.parameters.get("version") ?? "",
                id: context.parameters.get("id") ?? "", kind: context.parameters.get("kind") ?? "")
        }
        router.post("/api/:version/subnet/:id/:kind") { request, context in
            try await handler.subnetEndpoint(
                request, version: context.parameters.get("version") ?? "",
                id: context.parameters.get("id") ?? "", kind: context.parameters.get("kind") ?? "")
        }
        ControlEndpoint.register(on: router, replica: replica)
        return router
    }

    /// An application serving `replica` on `host:port` (port 0: an ephemeral port, reported to `onServerRunning`).
    public static func application(
        replica: Replica, host: String = "127.0.0.1", port: Int = 4943, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(for: replica), configuration: .init(address: .hostname(host, port: port), serverName: "icws-replica"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message)))
    }

    static func cbor(_ value: CBORValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/cbor"],
            body: .init(byteBuffer: ByteBuffer(bytes: CBOREncoder.encode(value, selfDescribe: true))))
    }
}

/// CORS on every response (browser frontends call the replica directly), `OPTIONS` preflights
/// answered, and errors turned into plain-text bodies with their status.
struct CORSAndErrors: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.method == .options {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Content-Type"
            response.headers[.accessControlMaxAge] = "7200"
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPError {
                response = ReplicaServer.text(error.status, error.body ?? error.status.reasonPhrase)
            } catch {
                response = ReplicaServer.text(.internalServerError, "internal error: \(error)")
            }
        }
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.accessControlExposeHeaders] = "Content-Type, Content-Length"
        return response
    }
}

/// Decoding, validation and dispatch of the API endpoints.
struct APIHandler: Sendable {
    let replica: Replica
    let validator: IngressValidator

    init(replica: Replica) {
        self.replica = replica
        validator = IngressValidator(rootKey: replica.rootKey)
    }

    func status() -> Response {
        let status = ReplicaStatus(
            rootKey: replica.rootKey.der, implementationVersion: "icws-replica/0.1",
            healthStatus: "healthy", certifiedHeight: replica.certifiedHeight)
        return ReplicaServer.cbor(status.cbor)
    }

    private func body(_ request: Request) async throws -> [UInt8] {
        let limit = replica.configuration.maxRequestBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPError(.contentTooLarge, message: "Request body of \(length) bytes exceeds the limit of \(limit) bytes")
        }
        do {
            return Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw HTTPError(.contentTooLarge, message: "Request body exceeds the limit of \(limit) bytes")
        }
    }

    private func principal(_ text: String, _ what: String) throws -> Principal {
        do { return try Principal(text: text) } catch {
            throw HTTPError(.badRequest, message: "Invalid \(what) id '\(text)' in the URL: \(error)")
        }
    }

    /// The time requests are checked against: in auto-progress mode the replica follows the wall clock.
    private var now: UInt64 {
        replica.configuration.autoProgress ? max(replica.currentTime, Replica.wallClock()) : replica.currentTime
    }

    private func validate(_ bytes: [UInt8], _ type: String) throws -> IngressValidator.Validated {
        do { return try validator.validate(bytes, now: now, expectedType: type) } catch {
            throw HTTPError(.init(code: error.status), message: error.message)
        }
    }

    func canisterEndpoint(_ request: Request, version: String, id: String, kind: String) async throws -> Response {
        switch (version, kind) {
        case ("v2", "call"), ("v3", "call"), ("v4", "call"):
            return try await call(request, version: version, effective: try principal(id, "canister"))
        case ("v2", "query"), ("v3", "query"):
            return try await query(request, effective: try principal(id, "canister"))
        case ("v2", "read_state"), ("v3", "read_state"):
            return try await readState(request, target: .canister(try principal(id, "canister")), version: version)
        default:
            throw HTTPError(.notFound, message: "No endpoint /api/\(version)/canister/<id>/\(kind)")
        }
    }

    func subnetEndpoint(_ request: Request, version: String, id: String, kind: String) async throws -> Response {
        guard kind == "read_state", version == "v2" || version == "v3" else {
            throw HTTPError(.notFound, message: "No endpoint /api/\(version)/subnet/<id>/\(kind)")
        }
        let subnet = try principal(id, "subnet")
        guard subnet == replica.subnetID else {
            throw HTTPError(.notFound, message: "Subnet \(subnet) is not known; this replica's subnet is \(replica.subnetID)")
        }
        return try await readState(request, target: .subnet(subnet), version: version)
    }

    private func reject(_ reject: Reject, version: String) -> Response {
        var entries: [(key: CBORValue, value: CBORValue)] = [
            (.text("reject_code"), .unsigned(reject.code)), (.text("reject_message"), .text(reject.message)),
            (.text("error_code"), .text(reject.errorCode)),
        ]
        if version != "v2" { entries.insert((.text("status"), .text("non_replicated_rejection")), at: 0) }
        return ReplicaServer.cbor(.map(entries))
    }

    /// The effective canister id of the URL must route the message (essentials §5.2).
    private func checkEffectiveCanister(
        _ effective: Principal, canister: Principal, method: String, argument: [UInt8]
    ) throws(HTTPError) {
        do {
            try IngressValidator.checkEffectiveCanister(
                canister: canister, method: method, argument: argument, effective: effective,
                range: replica.canisterRange)
        } catch {
            throw HTTPError(.init(code: error.status), message: error.message)
        }
    }

    private func call(_ request: Request, version: String, effective: Principal) async throws -> Response {
        let bytes = try await body(request)
        let validated = try validate(bytes, "call")
        guard case .call(let canister, let method, let argument) = validated.envelope.content.kind else {
            throw HTTPError(.badRequest, message: "not a call")
        }
        try checkEffectiveCanister(effective, canister: canister, method: method, argument: argument)
        if canister == .managementCanister {
            guard VirtualManagementCanister.ingressMethods.contains(method) else {
                return reject(
                    Reject(code: 4, message: "Only canisters can call ic00 method \(method)", errorCode: "IC0406"), version: version)
            }
        } else {
            guard replica.canisterExists(canister) else {
                return reject(.destinationInvalid("Canister \(canister) not found"), version: version)
            }
            if let refusal = replica.inspect(canisterID: canister, method: method, argument: argument, sender: validated.sender) {
                return reject(refusal, version: version)
            }
        }
        let message = ReplicaState.Ingress(
            requestID: validated.requestID, sender: validated.sender, canisterID: canister, method: method,
            argument: argument, effectiveCanisterID: effective)
        do { try replica.enqueue(message, expiry: validated.envelope.content.ingressExpiry) } catch {
            switch error {
            case .limitReached: throw HTTPError(.tooManyRequests, message: error.description)
            default: throw HTTPError(.badRequest, message: error.description)
            }
        }
        guard version != "v2" else { return Response(status: .accepted) }
        guard await replica.waitForOutcome(validated.requestID, timeout: replica.configuration.syncCallTimeout) else {
            return Response(status: .accepted)
        }
        let base = [Array("request_status".utf8), validated.requestID.bytes]
        let certificate = replica.certificate(revealing: [base])
        return ReplicaServer.cbor(.map([(.text("status"), .text("replied")), (.text("certificate"), .bytes(certificate))]))
    }

    private func query(_ request: Request, effective: Principal) async throws -> Response {
        let bytes = try await body(request)
        let validated = try validate(bytes, "query")
        guard case .query(let canister, let method, let argument) = validated.envelope.content.kind else {
            throw HTTPError(.badRequest, message: "not a query")
        }
        try checkEffectiveCanister(effective, canister: canister, method: method, argument: argument)
        let result = replica.query(canisterID: canister, method: method, argument: argument, sender: validated.sender)
        return ReplicaServer.cbor(replica.signedQueryResponse(result, requestID: validated.requestID))
    }

    private func readState(_ request: Request, target: ReadStateAccess.Target, version: String) async throws -> Response {
        let bytes = try await body(request)
        let validated = try validate(bytes, "read_state")
        guard case .readState(let paths) = validated.envelope.content.kind else {
            throw HTTPError(.badRequest, message: "not a read_state request")
        }
        guard paths.count <= 1_000 else {
            throw HTTPError(.badRequest, message: "\(paths.count) paths requested; at most 1000 are allowed")
        }
        if case .canister(let ecid) = target, !replica.canisterRange.contains(ecid) {
            throw HTTPError(.badRequest, message: "Effective canister id \(ecid) is not in this replica's canister range")
        }
        do {
            try ReadStateAccess.check(
                paths: paths, target: target, sender: validated.sender, version: version == "v2" ? 2 : 3, replica: replica)
        } catch {
            throw HTTPError(.init(code: error.status), message: error.message)
        }
        let certificate = replica.certificate(revealing: paths)
        return ReplicaServer.cbor(.map([(.text("certificate"), .bytes(certificate))]))
    }
}

extension Replica {
    /// The number of rounds certified so far.
    public var certifiedHeight: UInt64 { withState { $0.round } }

    func canisterExists(_ id: Principal) -> Bool { withState { $0.canisters[id] != nil } }

    /// A query response with this node's signature (essentials §5.5).
    func signedQueryResponse(_ result: Result<[UInt8], Reject>, requestID: ICCore.RequestID) -> CBORValue {
        let timestamp = max(currentTime, configuration.autoProgress ? Replica.wallClock() : 0)
        var fields: [(key: CBORValue, value: CBORValue)]
        switch result {
        case .success(let reply):
            fields = [(.text("status"), .text("replied")), (.text("reply"), .map([(.text("arg"), .bytes(reply))]))]
        case .failure(let reject):
            fields = [
                (.text("status"), .text("rejected")), (.text("reject_code"), .unsigned(reject.code)),
                (.text("reject_message"), .text(reject.message)), (.text("error_code"), .text(reject.errorCode)),
            ]
        }
        let signed = fields + [(.text("timestamp"), .unsigned(timestamp)), (.text("request_id"), .bytes(requestID.bytes))]
        let hash = (try? RepresentationIndependentHash.hashOfMap(.map(signed))) ?? []
        let signature = (try? nodeIdentity.sign(DomainSeparator.response + hash)) ?? []
        fields.append(
            (
                .text("signatures"),
                .array([
                    .map([
                        (.text("timestamp"), .unsigned(timestamp)), (.text("signature"), .bytes(signature)),
                        (.text("identity"), .bytes(nodeID.bytes)),
                    ])
                ])
            ))
        return .map(fields)
    }
}
