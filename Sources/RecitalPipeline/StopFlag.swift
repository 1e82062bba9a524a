import Synchronization

/// Set once when the user asks to stop (SIGINT/SIGTERM). Workers stop taking work, abandon what is
/// in flight, and give their tasks back without using an attempt.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func set() { flag.store(true, ordering: .sequentiallyConsistent) }
    public var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
