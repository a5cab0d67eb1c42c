import ICCore

/// Which `read_state` paths a sender may request (essentials §5.4).
struct ReadStateAccess {
    enum Target: Equatable {
        case canister(Principal)
        case subnet(Principal)
    }

    struct Denied: Error {
        var status: Int
        var message: String
    }

    /// Checks every path; request_status paths need the replica's record of that request.
    static func check(paths: [[[UInt8]]], target: Target, sender: Principal, version: Int, replica: Replica) throws(Denied) {
        var requestID: [UInt8]?
        var rangesSubnet: [UInt8]?
        for path in paths {
            guard let first = path.first else { continue }
            switch String(decoding: first, as: UTF8.self) {
            case "time", "api_boundary_nodes":
                continue
            case "subnet":
                if path.count >= 3, path[2] == Array("metrics".utf8) {
                    guard case .subnet(let s) = target, s.bytes == path[1] else {
                        throw Denied(
                            status: 403, message: "/subnet/<id>/metrics is only readable through that subnet's read_state endpoint")
                    }
                }
            case "canister_ranges":
                guard case .subnet = target else {
                    throw Denied(status: 403, message: "/canister_ranges is only readable through a subnet's read_state endpoint")
                }
                if path.count > 1 {
                    if let seen = rangesSubnet, seen != path[1] {
                        throw Denied(status: 400, message: "all /canister_ranges paths of one request must name the same subnet")
                    }
                    rangesSubnet = path[1]
                }
            case "request_status":
                guard path.count >= 2, path.count <= 3 else {
                    throw Denied(status: 404, message: "invalid request_status path")
                }
                if let seen = requestID, seen != path[1] {
                    throw Denied(status: 400, message: "All /request_status paths of one request must refer to the same request id")
                }
                requestID = path[1]
                if let record = replica.requestRecord(path[1]) {
                    guard record.sender == sender else {
                        throw Denied(
                            status: 403,
                            message:
                                "Request \(hex(path[1])) was sent by \(record.sender), not by \(sender): its status is only readable by its sender"
                        )
                    }
                    if case .canister(let ecid) = target, record.effectiveCanisterID != ecid {
                        throw Denied(
                            status: 403,
                            message: "Request \(hex(path[1])) was sent to effective canister \(record.effectiveCanisterID), not \(ecid)")
                    }
                }
            case "canister":
                guard path.count >= 3, case .canister(let ecid) = target, ecid.bytes == path[1] else {
                    throw Denied(status: 403, message: "/canister/<id>/… is only readable through that canister's read_state endpoint")
                }
                let leaf = String(decoding: path[2], as: UTF8.self)
                guard ["module_hash", "controllers", "metadata", "canister_creation_timestamp", "last_install_timestamp"].contains(leaf)
                else {
                    throw Denied(status: 403, message: "/canister/<id>/\(leaf) cannot be read through read_state")
                }
                if leaf == "metadata" {
                    try checkMetadata(path, sender: sender, replica: replica)
                }
            default:
                throw Denied(status: 404, message: "Invalid path requested: /\(String(decoding: first, as: UTF8.self))")
            }
        }
    }

    /// `/canister/<id>/metadata/<name>`: a public section is readable by anyone, a private one
    /// only by the canister's controllers; the whole `metadata` subtree (which would reveal the
    /// private ones) is not readable.
    private static func checkMetadata(_ path: [[UInt8]], sender: Principal, replica: Replica) throws(Denied) {
        guard path.count >= 4 else {
            throw Denied(status: 403, message: "/canister/<id>/metadata must name one section: /canister/<id>/metadata/<name>")
        }
        let name = String(decoding: path[3], as: UTF8.self)
        guard let canisterID = try? Principal(bytes: path[1]) else { return }  // no such canister: proven absent
        let readable: Bool = replica.withState { state in
            guard let canister = state.canisters[canisterID],
                let section = canister.metadata[name]
            else { return true }  // absent: the witness proves it
            return section.isPublic || canister.controllers.contains(sender)
        }
        guard readable else {
            throw Denied(
                status: 403,
                message: "metadata section '\(name)' of canister \(canisterID) is private: only its controllers may read it, not \(sender)")
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

extension Replica {
    func requestRecord(_ id: [UInt8]) -> RequestStatusTable.Record? {
        guard let requestID = try? RequestID(bytes: id) else { return nil }
        return withState { $0.requests[requestID] }
    }
}
