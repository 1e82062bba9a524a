import RecitalSpeech
import RecitalTestSupport
import Synchronization
import Testing

@Suite("Bounding the requests in flight")
struct RequestLimiterTests {
    /// How many bodies are running now, and the most there ever were.
    final class Gauge: Sendable {
        private let counts = Mutex((now: 0, most: 0, done: 0))
        func enter() {
            counts.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
        }
        func leave() {
            counts.withLock {
                $0.now -= 1; $0.done += 1
            }
        }
        var most: Int { counts.withLock { $0.most } }
        var done: Int { counts.withLock { $0.done } }
    }

    @Test(
        "no more than the capacity run at once, the capacity is used, and every caller gets a turn",
        arguments: [1, 3, 8]
    )
    func bound(capacity: Int) async throws {
        let limiter = RequestLimiter(capacity: capacity)
        let gauge = Gauge()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    try await limiter.withPermit { () async throws in
                        gauge.enter()
                        // Stay inside long enough for the others to pile up behind the limit.
                        for _ in 0..<20 { await Task.yield() }
                        gauge.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(gauge.done == 60)
        #expect(gauge.most <= capacity)
        #expect(gauge.most == capacity)
    }

    @Test("a freed permit goes to the waiter earliest in book order, then to the earliest that came")
    func bookOrder() async throws {
        let limiter = RequestLimiter(capacity: 1)
        final class Shared: Sendable {
            let gate = Mutex(false)
            let served = Mutex<[[Int]]>([])
        }
        let shared = Shared()
        let orders = [[2, 1, 5, 0], [2, 1, 2, 3], [2, 1, 2, 1], [2, 1, 9, 0], [1, 7, 7, 7], [2, 1, 2, 1]]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await limiter.withPermit { () async throws in
                    while !shared.gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
                }
            }
            for order in orders {
                // One at a time, so that their arrival order is known.
                let before = limiter.waiting
                group.addTask {
                    await limiter.withPermit(order: order) { () async in shared.served.withLock { $0.append(order) } }
                }
                try await Wait.until("a waiter queued", deadline: .seconds(10)) { limiter.waiting == before + 1 }
            }
            shared.gate.withLock { $0 = true }
            try await group.waitForAll()
        }
        #expect(shared.served.withLock { $0 } == orders.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test("a failing body gives its permit back")
    func failureReleases() async {
        struct Refused: Error {}
        let limiter = RequestLimiter(capacity: 1)
        for _ in 0..<3 {
            await #expect(throws: Refused.self) {
                try await limiter.withPermit { () async throws(Refused) in throw Refused() }
            }
        }
        let value = await limiter.withPermit { () async in 7 }
        #expect(value == 7)
    }
}
