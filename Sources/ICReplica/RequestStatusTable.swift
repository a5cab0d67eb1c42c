import ICCertification
import ICCore

/// What the replica knows about the requests it accepted: each one's status, for
/// `/request_status` and for refusing a replayed request id, kept in step with the certified
/// `/request_status` subtree, and dropped oldest-first once expired.
struct RequestStatusTable {
    /// One request: its status and who may read it.
    struct Record {
        enum Status {
            case received
            case replied([UInt8])
            case rejected(Reject)
        }

        var status: Status
        var sender: Principal
        var effectiveCanisterID: Principal
        var expiry: UInt64

        var isTerminal: Bool {
            if case .received = status { return false }
            return true
        }
    }

    private var records: [RequestID: Record] = [:]
    /// `/request_status` of the state tree, kept in step with `records`.
    private(set) var tree = MerkleLabelMap()
    /// Request ids in the order they arrived, for expiring statuses without scanning them all.
    private var arrivalOrder: [RequestID] = []
    private var arrivalOrderStart = 0

    var count: Int { records.count }

    subscript(id: RequestID) -> Record? { records[id] }

    /// Records a request accepted for execution (`received`).
    mutating func receive(_ id: RequestID, sender: Principal, effectiveCanisterID: Principal, expiry: UInt64) {
        set(Record(status: .received, sender: sender, effectiveCanisterID: effectiveCanisterID, expiry: expiry), of: id)
        arrivalOrder.append(id)
    }

    /// Records a request's outcome; a request already dropped stays dropped.
    mutating func complete(_ id: RequestID, with result: Result<[UInt8], Reject>) {
        guard var record = records[id] else { return }
        switch result {
        case .success(let reply): record.status = .replied(reply)
        case .failure(let reject): record.status = .rejected(reject)
        }
        set(record, of: id)
    }

    /// Drops statuses from the oldest on: expired ones (after its expiry a request can no longer
    /// be replayed: the expiry check refuses it) and, beyond `limit`, the oldest terminal ones.
    /// O(dropped) per call: a status younger than the first one kept waits for it.
    mutating func expire(now: UInt64, keepingAtMost limit: Int) {
        while arrivalOrderStart < arrivalOrder.count {
            let id = arrivalOrder[arrivalOrderStart]
            if let record = records[id] {
                guard record.isTerminal, record.expiry < now || records.count > limit else { break }
                records[id] = nil
                tree.remove(id.bytes)
            }
            arrivalOrderStart += 1
        }
        if arrivalOrderStart > 1024, arrivalOrderStart * 2 > arrivalOrder.count {
            arrivalOrder.removeFirst(arrivalOrderStart)
            arrivalOrderStart = 0
        }
    }

    private mutating func set(_ record: Record, of id: RequestID) {
        records[id] = record
        tree.set(id.bytes, Self.statusTree(record.status))
    }

    /// The subtree under `/request_status/<id>` (essentials §6).
    private static func statusTree(_ status: Record.Status) -> CertifiedTree {
        func label(_ text: String) -> [UInt8] { Array(text.utf8) }
        let entries: [(path: [[UInt8]], value: [UInt8])]
        switch status {
        case .received:
            entries = [([label("status")], label("received"))]
        case .replied(let reply):
            entries = [([label("status")], label("replied")), ([label("reply")], reply)]
        case .rejected(let reject):
            entries = [
                ([label("status")], label("rejected")), ([label("reject_code")], LEB128.encode(reject.code)),
                ([label("reject_message")], label(reject.message)), ([label("error_code")], label(reject.errorCode)),
            ]
        }
        guard let tree = try? CertifiedTree(paths: entries) else { preconditionFailure("status labels are distinct") }
        return tree
    }
}
