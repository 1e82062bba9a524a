internal import Synchronization

/// Bounds how many requests are in flight at once, across every chapter a worker runs.
///
/// A finished request hands its permit to the waiter earliest in book order (book, chapter,
/// segment), so a server that answers one request at a time (a GPU's queue) finishes chapters in
/// the order they are listened to, and encoding can follow close behind; waiters of equal order go
/// in arrival order.
///
/// A lock rather than an actor: taking and giving back a permit then costs no switch between
/// executors, and the waiter a permit passes to goes on to send its request at once.
public final class RequestLimiter: Sendable {
    private struct Waiter {
        var order: [Int]
        var arrival: Int
        var continuation: CheckedContinuation<Void, Never>

        func precedes(_ other: Waiter) -> Bool {
            order == other.order ? arrival < other.arrival : order.lexicographicallyPrecedes(other.order)
        }
    }

    private struct State {
        var inUse = 0
        var arrivals = 0
        /// A few dozen at most (the requests queued by the running chapters).
        var waiters: [Waiter] = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Requests waiting for a permit now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `body` holding one permit; `order` is where the request stands in book order.
    public func withPermit<T, E: Error>(order: [Int] = [], _ body: () async throws(E) -> T) async throws(E) -> T {
        await acquire(order)
        defer { release() }
        return try await body()
    }

    private func acquire(_ order: [Int]) async {
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
                    state.arrivals += 1
                    state.waiters.append(Waiter(order: order, arrival: state.arrivals, continuation: continuation))
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
            guard var first = state.waiters.indices.first else {
                state.inUse -= 1
                return nil
            }
            for index in state.waiters.indices.dropFirst() where state.waiters[index].precedes(state.waiters[first]) {
                first = index
            }
            // The permit passes to the waiter; `inUse` stays as it is.
            return state.waiters.remove(at: first).continuation
        }
        next?.resume()
    }
}
