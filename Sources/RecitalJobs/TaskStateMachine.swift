public import RecitalModel

/// The state of a claimable task, as stored in `tasks.state`.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case available
    case running
    case completed
    case failed
    case cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// What can happen to a task.
public enum TaskEvent: Sendable, Equatable {
    /// A worker claimed it (uses an attempt).
    case claim
    case succeed
    /// A transient failure: retry later unless attempts are used up.
    case failTransient
    /// A permanent failure (bad voice, auth, unreadable input): no retry.
    case failPermanent
    /// Its worker's lease expired: the worker died. The attempt it used stays used.
    case leaseExpired
    /// Its worker stopped on SIGINT/SIGTERM or saw a pause: the attempt is given back.
    case release
    case cancel
    /// `recital retry`: a failed or cancelled task starts over with fresh attempts.
    case retry
    /// Its finished work is needed again (a checkpoint turned out damaged, a file is asked for
    /// again): a completed or waiting task starts over with fresh attempts.
    case reopen
}

/// The outcome of an event: the next state and what happens to the attempt count.
public struct TaskTransition: Sendable, Equatable {
    public var state: TaskState
    /// Added to `attempt`: +1 on claim, −1 when a graceful stop gives the attempt back.
    public var attemptDelta: Int
    /// Whether `attempt` (and the interruption count and last error) start again from zero.
    public var resetsAttempts: Bool
    /// Whether the attempt was lost to the worker dying rather than to an error.
    public var countsInterruption: Bool

    public init(
        _ state: TaskState,
        attemptDelta: Int = 0,
        resetsAttempts: Bool = false,
        countsInterruption: Bool = false
    ) {
        self.state = state
        self.attemptDelta = attemptDelta
        self.resetsAttempts = resetsAttempts
        self.countsInterruption = countsInterruption
    }
}

/// The rules of the job table, apart from any SQL: which events are allowed in which state, and
/// what they lead to. The store asks this type and then writes the answer.
public enum TaskStateMachine {
    /// The transition for `event` in `state`, or nil when the event is not allowed there.
    /// - Parameters:
    ///   - attempt: attempts used so far (including the running one).
    ///   - maxAttempts: the most attempts a task may use.
    public static func transition(
        from state: TaskState,
        on event: TaskEvent,
        attempt: Int,
        maxAttempts: Int
    ) -> TaskTransition? {
        switch (state, event) {
        case (.available, .claim):
            return TaskTransition(.running, attemptDelta: 1)
        case (.running, .succeed):
            return TaskTransition(.completed)
        case (.running, .failTransient):
            return TaskTransition(attempt >= maxAttempts ? .failed : .available)
        case (.running, .leaseExpired):
            return TaskTransition(attempt >= maxAttempts ? .failed : .available, countsInterruption: true)
        case (.running, .failPermanent):
            return TaskTransition(.failed)
        case (.running, .release):
            return TaskTransition(.available, attemptDelta: -1)
        case (.available, .cancel), (.running, .cancel):
            return TaskTransition(.cancelled)
        case (.failed, .retry), (.cancelled, .retry), (.completed, .reopen), (.available, .reopen):
            return TaskTransition(.available, resetsAttempts: true)
        default:
            return nil
        }
    }
}

extension BookState {
    /// Derives a book's state from its tasks and its flags, so that it can never disagree with them.
    /// - Parameters:
    ///   - tasks: the states of its tasks.
    ///   - paused: whether the book is paused.
    ///   - cancelled: whether the book was cancelled.
    public static func derive(tasks: [TaskState], paused: Bool, cancelled: Bool) -> BookState {
        if cancelled { return .cancelled }
        if tasks.contains(.failed) { return .failed }
        if !tasks.isEmpty, tasks.allSatisfy({ $0 == .completed }) { return .completed }
        if paused { return .paused }
        if tasks.contains(.running) || tasks.contains(.completed) { return .running }
        return .queued
    }
}
