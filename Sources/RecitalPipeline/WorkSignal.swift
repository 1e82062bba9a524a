import Synchronization

/// Wakes a waiting worker: fired when work may have become claimable (a notification from the job
/// table, an upload to `serve`). A fire with no one waiting is kept for the next wait, so none is lost.
public final class WorkSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits whose timer or cancellation came before they were registered.
        var ended: Set<UInt64> = []
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func fire() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.fired = true
                return []
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns when fired (at once if fired since the last wait), after `timeout`, or when the calling
    /// task is cancelled, whichever is first.
    public func wait(upTo timeout: Duration, clock: any Clock<Duration> = ContinuousClock()) async {
        let id = state.withLock { state -> UInt64? in
            if state.fired {
                state.fired = false
                return nil
            }
            state.next += 1
            return state.next
        }
        guard let id else { return }
        let timer = Task {
            // Cancelled once the wait ends otherwise; then there is nothing to resume.
            guard (try? await clock.sleep(for: timeout)) != nil else { return }
            self.resume(id)
        }
        defer {
            timer.cancel()
            _ = state.withLock { $0.ended.remove(id) }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    // Fired, timed out or cancelled between the first look and now.
                    if state.ended.remove(id) != nil { return true }
                    if state.fired {
                        state.fired = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.ended.insert(id)
                return nil
            }
            return waiter
        }
        waiter?.resume()
    }
}
