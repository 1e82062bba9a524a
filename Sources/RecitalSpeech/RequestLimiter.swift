/// Bounds how many requests are in flight at once, across every chapter a worker runs.
public actor RequestLimiter {
    private let capacity: Int
    private var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Seconds during which at least one permit was held, summed per permit (for utilisation).
    public private(set) var busySeconds: Double = 0

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Runs `body` holding one permit.
    public func withPermit<T: Sendable, E: Error>(_ body: @Sendable () async throws(E) -> T) async throws(E) -> T {
        await acquire()
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            busySeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            release()
        }
        return try await body()
    }

    private func acquire() async {
        if inUse < capacity {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
