import ICCore

/// Which entry point a message runs; it decides which System API calls are allowed
/// (essentials §10: e.g. `msg_reply` never from a heartbeat, `certified_data_set` never in a query).
enum EntryKind: Equatable, Sendable {
    case start, install, preUpgrade, postUpgrade, update, replicatedQuery, query, inspect, heartbeat, globalTimer

    var exportName: String? {
        switch self {
        case .start, .update, .replicatedQuery, .query: return nil
        case .install: return "canister_init"
        case .preUpgrade: return "canister_pre_upgrade"
        case .postUpgrade: return "canister_post_upgrade"
        case .inspect: return "canister_inspect_message"
        case .heartbeat: return "canister_heartbeat"
        case .globalTimer: return "canister_global_timer"
        }
    }

    var canReply: Bool { self == .update || self == .replicatedQuery || self == .query }
    var hasArgument: Bool { [.install, .postUpgrade, .update, .replicatedQuery, .query, .inspect].contains(self) }
    var isReplicated: Bool { self != .query && self != .inspect }
    var mayChangeState: Bool { isReplicated && self != .replicatedQuery }
}

/// What a message produced for its caller.
enum MessageResponse: Equatable, Sendable {
    case reply([UInt8])
    case reject(String)
}

/// The per-message state the ic0 host functions work on. Effects are staged here and become the
/// canister's state only when the message completes without a trap (and is not a query).
final class ExecutionContext {
    let kind: EntryKind
    let canisterID: Principal
    let caller: Principal
    let methodName: String
    let argument: [UInt8]
    let time: UInt64
    let controllers: [Principal]
    let rootKeyDER: [UInt8]
    let cycleBalance: UInt64
    let canisterVersion: UInt64
    let isStopping: Bool
    /// The certificate offered to non-replicated queries (`data_certificate_*`).
    let dataCertificate: [UInt8]?
    let maxStablePages: UInt64

    var replyBuffer: [UInt8] = []
    var response: MessageResponse?
    var accepted = false
    var certifiedData: [UInt8]
    var globalTimer: UInt64
    var stableMemory: [UInt8]
    var debugPrints: [String] = []
    var fuelBudget: UInt64 = 0

    init(
        kind: EntryKind, canisterID: Principal, caller: Principal, methodName: String = "", argument: [UInt8] = [],
        time: UInt64, controllers: [Principal], rootKeyDER: [UInt8], cycleBalance: UInt64, canisterVersion: UInt64,
        isStopping: Bool = false, dataCertificate: [UInt8]? = nil, certifiedData: [UInt8], globalTimer: UInt64,
        stableMemory: [UInt8], maxStablePages: UInt64
    ) {
        self.kind = kind
        self.canisterID = canisterID
        self.caller = caller
        self.methodName = methodName
        self.argument = argument
        self.time = time
        self.controllers = controllers
        self.rootKeyDER = rootKeyDER
        self.cycleBalance = cycleBalance
        self.canisterVersion = canisterVersion
        self.isStopping = isStopping
        self.dataCertificate = dataCertificate
        self.certifiedData = certifiedData
        self.globalTimer = globalTimer
        self.stableMemory = stableMemory
        self.maxStablePages = maxStablePages
    }

    /// A context for running a module's start function, whose effects are all discarded.
    static func start(canisterID: Principal) -> ExecutionContext {
        ExecutionContext(
            kind: .start, canisterID: canisterID, caller: canisterID, time: 0, controllers: [], rootKeyDER: [],
            cycleBalance: 0, canisterVersion: 0, certifiedData: [], globalTimer: 0, stableMemory: [], maxStablePages: 0)
    }
}

/// A trap raised by the host (`ic0.trap`, a System API contract violation, a bad pointer).
struct ExecutionTrap: Error, CustomStringConvertible {
    var message: String
    /// Whether the canister called `ic0.trap` itself (IC0503) rather than violating a rule (IC0504).
    var explicit = false
    var description: String { message }
}
