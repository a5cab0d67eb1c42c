/// What `work` returns, or `fallback` once `timeout` has passed; the loser is cancelled.
/// Benchmarks use it so that a stuck gateway ends a measurement with an error, not a hang.
func result<T: Sendable>(of work: @escaping @Sendable () async -> T, within timeout: Duration, else fallback: T) async -> T {
    await withTaskGroup(of: T.self) { group in
        group.addTask { await work() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return fallback
        }
        let first = await group.next() ?? fallback
        group.cancelAll()
        return first
    }
}

/// Runs `work` for each of `items`, at most `limit` at a time (opening thousands of sockets at
/// once only measures the listen backlog).
func concurrently<Item: Sendable>(
    _ items: some Sequence<Item>, limit: Int = 256, _ work: @escaping @Sendable (Item) async -> Void
) async {
    await withTaskGroup(of: Void.self) { group in
        for (index, item) in items.enumerated() {
            if index >= limit { await group.next() }
            group.addTask { await work(item) }
        }
    }
}
