import ICCore

/// Everything a ``Replica`` knows that changes: its canisters, the ingress waiting for a round,
/// the requests' statuses, time, and the last certified state.
///
/// A value: the replica keeps exactly one, in one lock box, and every operation that may change it
/// takes it `inout` (as the gateway's `SessionStateMachine` does), so what can change a canister
/// shows in a function's signature rather than in a comment saying which lock guards which var.
struct ReplicaState {
    var canisters: [Principal: HostedCanister] = [:]
    /// The index the next created canister's id is tried from.
    var nextCanisterIndex: UInt64 = 0
    /// Accepted calls waiting for the next round.
    var ingressQueue: [Ingress] = []
    var requests = RequestStatusTable()
    /// The replica's time (ns since 1970); never goes backwards.
    var time: UInt64
    /// Rounds run so far (the state tree's height).
    var round: UInt64 = 0
    var certified = CertifiedState(tree: StateTree([]), signature: [], time: 0)
    /// Whether a committed change has not been written to the state directory yet.
    var needsPersisting = false

    /// An accepted ingress message waiting for its round.
    struct Ingress {
        var requestID: RequestID
        var sender: Principal
        var canisterID: Principal
        var method: String
        var argument: [UInt8]
        var effectiveCanisterID: Principal
    }

    /// The latest certified state: the tree and the BLS signature over its root hash.
    struct CertifiedState {
        var tree: StateTree
        var signature: [UInt8]
        var time: UInt64
    }

    init(time: UInt64) {
        self.time = time
    }

    /// Accepts a call for the next round. Refuses a request id seen before (a replay) and a full queue.
    mutating func enqueue(_ message: Ingress, expiry: UInt64, maxQueued: Int) throws(ReplicaError) {
        guard requests[message.requestID] == nil else {
            throw .badRequest("request \(message.requestID.description) was already received; a request id may be submitted once")
        }
        guard ingressQueue.count < maxQueued else {
            throw .limitReached("\(ingressQueue.count) ingress messages are queued; at most \(maxQueued)")
        }
        requests.receive(
            message.requestID, sender: message.sender, effectiveCanisterID: message.effectiveCanisterID, expiry: expiry)
        ingressQueue.append(message)
    }

    /// Removes and returns the calls queued for this round.
    mutating func takeIngress() -> [Ingress] {
        defer { ingressQueue.removeAll(keepingCapacity: true) }
        return ingressQueue
    }

    /// Creates an empty canister: `specifiedID` if given (it must be in `range` and free), else
    /// the next free id of the range.
    mutating func createCanister(
        controllers: [Principal], specifiedID: Principal?, range: ClosedRange<Principal>, maxCanisters: Int
    ) throws(Reject) -> Principal {
        guard canisters.count < maxCanisters else {
            throw Reject(code: 2, message: "Subnet has reached its limit of \(maxCanisters) canisters", errorCode: "IC0201")
        }
        let id: Principal
        if let specifiedID {
            guard range.contains(specifiedID) else {
                throw Reject(code: 5, message: "specified_id \(specifiedID) is outside the subnet's canister ranges", errorCode: "IC0503")
            }
            guard canisters[specifiedID] == nil else {
                throw Reject(code: 5, message: "Canister \(specifiedID) already exists", errorCode: "IC0503")
            }
            id = specifiedID
        } else {
            var candidate = Principal.canister(index: nextCanisterIndex)
            while canisters[candidate] != nil {
                nextCanisterIndex += 1
                candidate = Principal.canister(index: nextCanisterIndex)
            }
            nextCanisterIndex += 1
            id = candidate
        }
        canisters[id] = HostedCanister(id: id, controllers: controllers, creationTime: time)
        needsPersisting = true
        return id
    }

    /// Applies `change` to an existing canister and marks the state for persisting.
    /// - Returns: `false` if there is no such canister.
    @discardableResult
    mutating func updateCanister(_ id: Principal, _ change: (inout HostedCanister) -> Void) -> Bool {
        guard canisters[id] != nil else { return false }
        change(&canisters[id]!)
        needsPersisting = true
        return true
    }
}
