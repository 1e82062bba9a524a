import Synchronization

/// A flag raised once, for work that runs outside Swift concurrency (the encoder's thread) and so
/// cannot see its task's cancellation: it looks at the flag at each step.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    init() {}

    func set() { flag.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
