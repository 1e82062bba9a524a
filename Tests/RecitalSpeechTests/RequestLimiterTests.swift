import RecitalSpeech
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
