import Synchronization

/// A clock whose sleeps return at once and are recorded, so tests of backoff never wait.
public struct TestClock: Clock, Sendable {
    public typealias Instant = ContinuousClock.Instant

    private final class Log: Sendable {
        let sleeps = Mutex<[Duration]>([])
    }
    private let log = Log()

    public init() {}

    public var now: Instant { .now }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        log.sleeps.withLock { $0.append(deadline - .now) }
    }

    /// Every sleep asked for, in order (approximately: measured against `now`).
    public var sleeps: [Duration] { log.sleeps.withLock { $0 } }
}
