import Foundation
import Hummingbird
import NIOCore

/// A small control API for tests and tools, outside the IC interface:
///
/// | request | effect | response |
/// |---|---|---|
/// | `GET /_/time` | — | the replica time in ns, as decimal text |
/// | `POST /_/time` with body `<ns>` | `setTime` | the new time |
/// | `POST /_/advance_time` with body `<ns>` | `advanceTime` | the new time |
/// | `POST /_/tick` | one round | the certified height |
enum ControlEndpoint {
    static func register(on router: Router<BasicRequestContext>, replica: Replica) {
        router.get("/_/time") { _, _ in "\(replica.currentTime)\n" }
        router.post("/_/time") { request, _ in
            let value = try await number(request)
            do { try replica.setTime(value) } catch let error as ReplicaError { throw HTTPError(.badRequest, message: error.description) }
            return "\(replica.currentTime)\n"
        }
        router.post("/_/advance_time") { request, _ in
            replica.advanceTime(by: .nanoseconds(Int64(clamping: try await number(request))))
            return "\(replica.currentTime)\n"
        }
        router.post("/_/tick") { _, _ in
            replica.tick()
            return "\(replica.certifiedHeight)\n"
        }
    }

    private static func number(_ request: Request) async throws -> UInt64 {
        let body = try await request.body.collect(upTo: 64)
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = UInt64(text) else {
            throw HTTPError(.badRequest, message: "expected a decimal number of nanoseconds, got '\(text)'")
        }
        return value
    }
}
