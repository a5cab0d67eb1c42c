import Hummingbird
import ICCore
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A fake IC HTTP endpoint that only injects faults (or replays scripted `ws_get_messages`
/// batches): the real replica cannot be made slow, garbled or byte-exact on demand. Calls are
/// answered with a non-replicated rejection; nothing is executed.
final class FaultInjectingIC: Sendable {
    enum Behaviour: Sendable {
        /// Queries answer 200 with bytes that are not CBOR.
        case garbage
        /// Queries answer after `delay`, with an empty batch.
        case slow(Duration)
        /// Queries are rejected with this code (e.g. 5 = CANISTER_ERROR, a stopped canister).
        case reject(code: UInt64)
        /// Queries return these batches in order, then empty ones.
        case script([CanisterOutputCertifiedMessages])
    }

    let behaviour: Behaviour
    private let state = NIOLockedValueBox<(queries: Int, calls: Int, script: [CanisterOutputCertifiedMessages])>((0, 0, []))

    init(_ behaviour: Behaviour) {
        self.behaviour = behaviour
        if case .script(let batches) = behaviour { state.withLockedValue { $0.script = batches } }
    }

    var queryCount: Int { state.withLockedValue { $0.queries } }
    var callCount: Int { state.withLockedValue { $0.calls } }

    /// Serves on a loopback ephemeral port while `body` runs.
    func run(_ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/api/:version/canister/:id/query") { _, _ in try await self.answerQuery() }
        router.post("/api/:version/canister/:id/call") { _, _ in
            self.state.withLockedValue { $0.calls += 1 }
            return Self.cbor(
                .map([
                    (.text("status"), .text("non_replicated_rejection")), (.text("reject_code"), .unsigned(4)),
                    (.text("reject_message"), .text("fault-injecting IC executes nothing")),
                ]))
        }
        var logger = Logger(label: "fault-injecting-ic")
        logger.logLevel = .critical
        try await LoopbackServer.run(
            { [logger] onServerRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: onServerRunning, logger: logger)
            }, while: { port in try await body("http://127.0.0.1:\(port)") })
    }

    private func answerQuery() async throws -> Response {
        let next: CanisterOutputCertifiedMessages? = state.withLockedValue { state in
            state.queries += 1
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        switch behaviour {
        case .garbage:
            return Response(
                status: .ok, headers: [.contentType: "application/cbor"],
                body: .init(byteBuffer: ByteBuffer(string: "this is not CBOR")))
        case .slow(let delay):
            try await Task.sleep(for: delay)
            return try Self.reply(.ok(.empty))
        case .reject(let code):
            return Self.cbor(
                .map([
                    (.text("status"), .text("rejected")), (.text("reject_code"), .unsigned(code)),
                    (.text("reject_message"), .text("Canister is stopped")), (.text("error_code"), .text("IC0508")),
                ]))
        case .script:
            return try Self.reply(.ok(next ?? .empty))
        }
    }

    private static func reply(_ result: CanisterWsGetMessagesResult) throws -> Response {
        cbor(.map([(.text("status"), .text("replied")), (.text("reply"), .map([(.text("arg"), .bytes(try Candid.encode(result)))]))]))
    }

    private static func cbor(_ value: CBORValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/cbor"],
            body: .init(byteBuffer: ByteBuffer(bytes: CBOREncoder.encode(value, selfDescribe: true))))
    }
}
