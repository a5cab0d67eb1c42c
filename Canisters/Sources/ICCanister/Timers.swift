/// Timers multiplexed on the IC's single global timer.
///
/// `schedule` and `scheduleInterval` register closures; the global timer is always armed for
/// the earliest one. The IC calls `canister_global_timer` (exported here) when it passes, and
/// every due timer runs in deadline order. Timers live in heap memory: they do not survive an
/// upgrade (re-create them in `post_upgrade`, as the reference libraries do).
public enum Timers {
    public typealias ID = UInt64

    struct Entry {
        var id: ID
        var deadline: UInt64
        /// Nanoseconds; 0 for one-shot timers.
        var interval: UInt64
        var action: () -> Void
    }

    nonisolated(unsafe) static var entries: [Entry] = []
    nonisolated(unsafe) static var nextID: ID = 1
    nonisolated(unsafe) static var armed: UInt64 = 0

    /// Runs `action` once, `delayNanoseconds` from now.
    @discardableResult
    public static func schedule(afterNanoseconds delay: UInt64, _ action: @escaping () -> Void) -> ID {
        add(deadline: currentTime() &+ delay, interval: 0, action)
    }

    /// Runs `action` at the absolute IC time `deadline` (ns).
    @discardableResult
    public static func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> ID {
        add(deadline: deadline, interval: 0, action)
    }

    /// Runs `action` every `interval` ns, first one interval from now; the next run is
    /// scheduled one interval after each run.
    @discardableResult
    public static func scheduleInterval(nanoseconds interval: UInt64, _ action: @escaping () -> Void) -> ID {
        add(deadline: currentTime() &+ interval, interval: max(interval, 1), action)
    }

    /// Cancels a timer (no effect if it already ran or never existed).
    public static func cancel(_ id: ID) {
        entries.removeAll { $0.id == id }
        rearm()
    }

    /// Cancels every timer.
    public static func cancelAll() {
        entries.removeAll()
        rearm()
    }

    static func add(deadline: UInt64, interval: UInt64, _ action: @escaping () -> Void) -> ID {
        let id = nextID
        nextID += 1
        entries.append(Entry(id: id, deadline: deadline, interval: interval, action: action))
        rearm()
        return id
    }

    /// Arms the global timer for the earliest deadline (0 disarms it).
    static func rearm() {
        var earliest: UInt64 = 0
        for entry in entries where earliest == 0 || entry.deadline < earliest { earliest = max(entry.deadline, 1) }
        if earliest != armed {
            _ = ic0_global_timer_set(Int64(bitPattern: earliest))
            armed = earliest
        }
    }

    /// Runs every due timer; called from `canister_global_timer`.
    static func fire() {
        armed = 0  // The IC cleared the timer before calling us.
        let now = currentTime()
        while true {
            var index: Int? = nil
            for i in entries.indices where entries[i].deadline <= now {
                if index == nil || entries[i].deadline < entries[index!].deadline { index = i }
            }
            guard let due = index else { break }
            let entry = entries[due]
            if entry.interval > 0 {
                entries[due].deadline = now &+ entry.interval
            } else {
                entries.remove(at: due)
            }
            // An interval timer's next deadline is after `now`, so this loop ends.
            entry.action()
        }
        rearm()
    }
}

@_expose(wasm, "canister_global_timer") @_cdecl("canister_global_timer")
func canisterGlobalTimer() {
    Timers.fire()
    icws_flushOutput()
}
