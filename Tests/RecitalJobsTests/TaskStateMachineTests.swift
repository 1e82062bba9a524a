import RecitalJobs
import RecitalModel
import Testing

@Suite("Task state machine")
struct TaskStateMachineTests {
    typealias Row = (TaskState, TaskEvent, Int, Int, TaskState?, Int)

    @Test(
        "transitions",
        arguments: [
            (.available, .claim, 0, 8, .running, 1),
            (.running, .succeed, 1, 8, .completed, 0),
            (.running, .failTransient, 1, 8, .available, 0),
            (.running, .failTransient, 8, 8, .failed, 0),
            (.running, .leaseExpired, 3, 8, .available, 0),
            (.running, .leaseExpired, 8, 8, .failed, 0),
            (.running, .failPermanent, 1, 8, .failed, 0),
            (.running, .release, 2, 8, .available, -1),
            (.running, .cancel, 1, 8, .cancelled, 0),
            (.available, .cancel, 0, 8, .cancelled, 0),
            (.failed, .retry, 8, 8, .available, 0),
            (.cancelled, .retry, 1, 8, .available, 0),
            (.completed, .reopen, 3, 8, .available, 0),
            (.available, .reopen, 2, 8, .available, 0),
            (.running, .reopen, 1, 8, nil, 0),
            (.failed, .reopen, 8, 8, nil, 0),
            (.completed, .claim, 1, 8, nil, 0),
            (.completed, .cancel, 1, 8, nil, 0),
            (.available, .succeed, 0, 8, nil, 0),
            (.available, .release, 0, 8, nil, 0),
            (.failed, .claim, 8, 8, nil, 0),
            (.running, .claim, 1, 8, nil, 0),
        ] as [Row]
    )
    func transition(row: Row) {
        let (state, event, attempt, maxAttempts, expected, delta) = row
        let result = TaskStateMachine.transition(from: state, on: event, attempt: attempt, maxAttempts: maxAttempts)
        #expect(result?.state == expected)
        if expected != nil { #expect(result?.attemptDelta == delta) }
        #expect((result?.resetsAttempts ?? false) == (result != nil && (event == .retry || event == .reopen)))
        #expect((result?.countsInterruption ?? false) == (event == .leaseExpired))
    }

    @Test(
        "book state is derived from its tasks and flags",
        arguments: [
            ([], false, false, BookState.queued),
            ([.available, .available], false, false, .queued),
            ([.running, .available], false, false, .running),
            ([.completed, .available], false, false, .running),
            ([.completed, .completed], false, false, .completed),
            ([.completed, .failed], false, false, .failed),
            ([.available, .running], true, false, .paused),
            ([.completed, .completed], true, false, .completed),
            ([.available, .failed], false, true, .cancelled),
        ] as [([TaskState], Bool, Bool, BookState)]
    )
    func bookState(tasks: [TaskState], paused: Bool, cancelled: Bool, expected: BookState) {
        #expect(BookState.derive(tasks: tasks, paused: paused, cancelled: cancelled) == expected)
    }
}
