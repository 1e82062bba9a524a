internal import Synchronization

/// Bounds how many requests are in flight at once, across every chapter a worker runs.
///
/// A lock rather than an actor: taking and giving back a permit then costs no switch between
/// executors, and a finished request hands its permit straight to the longest waiter, which goes on
/// to send its request at once.
public final class RequestLimiter: Sendable {
    private struct State {
        var inUse = 0
        /// In arrival order; a few dozen at most (the requests queued by the running chapters).
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Runs `body` holding one permit.
    public func withPermit<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let granted = state.withLock { state in
            guard state.inUse < capacity else { return false }
            state.inUse += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A permit may have come free since the first look.
            let granted = state.withLock { state in
                guard state.inUse < capacity else {
                    state.waiters.append(continuation)
                    return false
                }
                state.inUse += 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.inUse -= 1
                return nil
            }
            // The permit passes to the waiter; `inUse` stays as it is.
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
