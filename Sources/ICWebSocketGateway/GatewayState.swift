import ICCore
import ICWebSocketProtocol
import NIOConcurrencyHelpers

/// The registry `canister → (client key → session)` with one poller per canister that has
/// registered clients (§6.5). Registration and a poller's removal of its empty entry happen under
/// one lock, so a canister never has two pollers and a new client never joins a stopping one.
final class GatewayState: Sendable {
    private struct CanisterEntry {
        var sessions: [ClientKey: ClientSession]
        let poller: CanisterPoller
    }

    /// What registration did.
    enum Registration {
        /// Registered; the caller must start this new poller.
        case registeredStartingPoller(CanisterPoller)
        /// Registered with the canister's running poller.
        case registered(CanisterPoller)
        /// Another live session already holds this client key.
        case duplicateClientKey
        /// Registered with the canister's running poller in place of `displaced`, which held the
        /// key (a `ws_resume` takes the key over; the caller ends the displaced session).
        case replaced(CanisterPoller, displaced: ClientSession)
    }

    private let entries = NIOLockedValueBox<[Principal: CanisterEntry]>([:])
    private let makePoller: @Sendable (Principal) -> CanisterPoller
    private let metrics: GatewayMetrics

    init(metrics: GatewayMetrics, makePoller: @escaping @Sendable (Principal) -> CanisterPoller) {
        self.metrics = metrics
        self.makePoller = makePoller
    }

    /// With `takingOver`, a session already holding the key is displaced instead of refusing
    /// the new one (`ws_resume`: the client left that connection behind).
    func register(_ session: ClientSession, key: ClientKey, canister: Principal, takingOver: Bool = false) -> Registration {
        let (result, count): (Registration, Int) = entries.withLockedValue { entries in
            if var entry = entries[canister] {
                if let holder = entry.sessions[key] {
                    guard takingOver, holder !== session else { return (.duplicateClientKey, entry.sessions.count) }
                    entry.sessions[key] = session
                    entries[canister] = entry
                    return (.replaced(entry.poller, displaced: holder), entry.sessions.count)
                }
                entry.sessions[key] = session
                entries[canister] = entry
                return (.registered(entry.poller), entry.sessions.count)
            }
            let poller = makePoller(canister)
            entries[canister] = CanisterEntry(sessions: [key: session], poller: poller)
            return (.registeredStartingPoller(poller), 1)
        }
        metrics.clientsConnected(canister: canister, count: count)
        return result
    }

    /// Removes `session` if it still holds `key` (a newer session may hold it after a duplicate).
    func unregister(_ session: ClientSession, key: ClientKey, canister: Principal) {
        let count: Int? = entries.withLockedValue { entries in
            guard var entry = entries[canister], entry.sessions[key] === session else { return nil }
            entry.sessions[key] = nil
            entries[canister] = entry
            return entry.sessions.count
        }
        if let count { metrics.clientsConnected(canister: canister, count: count) }
    }

    /// The sessions of `canister` as one consistent snapshot (for relaying one batch).
    func sessions(of canister: Principal) -> [ClientKey: ClientSession] {
        entries.withLockedValue { $0[canister]?.sessions ?? [:] }
    }

    /// Called by a poller after each iteration: removes the canister's entry when it has no
    /// sessions left, in which case the poller stops (§6.5 step 6).
    func removeIfEmpty(_ canister: Principal, poller: CanisterPoller) -> Bool {
        entries.withLockedValue { entries in
            guard let entry = entries[canister], entry.poller === poller else { return true }
            guard entry.sessions.isEmpty else { return false }
            entries[canister] = nil
            return true
        }
    }

    /// Called by a poller that failed for good: drops the canister and returns its sessions,
    /// which the poller then closes (§6.5 fatal errors).
    func removeCanister(_ canister: Principal, poller: CanisterPoller) -> [ClientSession] {
        let removed: [ClientSession] = entries.withLockedValue { entries in
            guard let entry = entries[canister], entry.poller === poller else { return [] }
            entries[canister] = nil
            return Array(entry.sessions.values)
        }
        metrics.clientsConnected(canister: canister, count: 0)
        return removed
    }

    /// Asks the canister's poller to poll now (after a relayed call).
    func wakePoller(of canister: Principal) {
        let poller = entries.withLockedValue { $0[canister]?.poller }
        poller?.wake()
    }

    /// Every registered session.
    func allSessions() -> [ClientSession] {
        entries.withLockedValue { entries in entries.values.flatMap { $0.sessions.values } }
    }

    var canisterCount: Int { entries.withLockedValue { $0.count } }
}
