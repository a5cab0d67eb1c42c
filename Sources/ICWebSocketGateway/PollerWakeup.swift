import NIOConcurrencyHelpers

/// Lets a session cut a poller's sleep short. A wake that arrives while the poller is busy is
/// remembered, so the next sleep ends at once.
final class PollerWakeup: Sendable {
    private struct State {
        var pending = false
        var cancelled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    func wake() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLockedValue { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Sleeps up to `duration`; returns `true` when woken early (or a wake was pending).
    func wait(upTo duration: Duration) async -> Bool {
        if state.withLockedValue({ state in
            defer { state.pending = false }
            return state.pending
        }) {
            return true
        }
        guard duration > .zero else { return false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: duration)
                return false
            }
            group.addTask {
                await self.signalled()
                return !Task.isCancelled
            }
            let woken = await group.next() ?? false
            group.cancelAll()
            return woken
        }
    }

    private func signalled() async {
        state.withLockedValue { $0.cancelled = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.pending || state.cancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLockedValue { state in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
