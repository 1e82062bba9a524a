import RecitalPipeline
import UnixSignals

/// Runs `body` while SIGINT and SIGTERM set `stop` instead of killing the process, so that work in
/// progress is given back to the job table before exiting.
func withStopOnSignals<T: Sendable>(
    _ stop: StopFlag,
    _ body: @Sendable @escaping () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                stop.set()
            }
            return nil
        }
        group.addTask { try await body() }
        while let result = try await group.next() {
            if let value = result {
                group.cancelAll()
                return value
            }
        }
        throw CancellationError()
    }
}
