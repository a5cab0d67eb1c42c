import ICCore

/// Callers of a synchronous `/call` (v3) waiting for their request's outcome: resumed by the round
/// that executed it, or by their own timeout, whichever comes first, exactly once.
struct OutcomeWaiters {
    private var waiting: [RequestID: [(token: Int, continuation: CheckedContinuation<Bool, Never>)]] = [:]
    /// Tokens whose timeout fired before their continuation was added.
    private var expiredEarly: Set<Int> = []
    private var lastToken = 0

    /// A token naming one wait.
    mutating func newToken() -> Int {
        lastToken += 1
        return lastToken
    }

    /// Adds a waiter; `false` if its timeout already fired (the caller resumes it itself).
    mutating func add(_ id: RequestID, token: Int, _ continuation: CheckedContinuation<Bool, Never>) -> Bool {
        if expiredEarly.remove(token) != nil { return false }
        waiting[id, default: []].append((token, continuation))
        return true
    }

    /// Removes one waiter, returning its continuation if it was still waiting.
    mutating func remove(_ id: RequestID, token: Int) -> CheckedContinuation<Bool, Never>? {
        guard let index = waiting[id]?.firstIndex(where: { $0.token == token }) else { return nil }
        let continuation = waiting[id]?.remove(at: index).continuation
        if waiting[id]?.isEmpty == true { waiting[id] = nil }
        return continuation
    }

    /// The timeout of `token` fired: removes the waiter, or remembers that it must not wait if it
    /// has not been added yet.
    mutating func expire(_ id: RequestID, token: Int) -> CheckedContinuation<Bool, Never>? {
        if let continuation = remove(id, token: token) { return continuation }
        expiredEarly.insert(token)
        return nil
    }

    /// Forgets what is left of a finished wait.
    mutating func forget(_ token: Int) {
        expiredEarly.remove(token)
    }

    /// Removes every waiter of `ids` (their requests completed this round).
    mutating func removeAll(for ids: [RequestID]) -> [CheckedContinuation<Bool, Never>] {
        var ready = [CheckedContinuation<Bool, Never>]()
        for id in ids {
            if let list = waiting.removeValue(forKey: id) { ready += list.map(\.continuation) }
        }
        return ready
    }
}
