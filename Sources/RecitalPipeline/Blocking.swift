internal import Foundation
internal import NIOPosix
internal import RecitalJobs

/// Blocking work kept off Swift's cooperative pool, whose few threads must never wait on a disk or
/// spend minutes in a codec.
enum Blocking {
    /// Runs a long job (an encode) on a thread of its own. Cancelling the calling task raises the
    /// flag `body` polls; the call returns only once `body` has, so its clean-up is done by then.
    static func thread<T: Sendable>(
        _ body: @escaping @Sendable (_ cancelled: @escaping @Sendable () -> Bool) throws -> T
    ) async throws -> T {
        let flag = StopFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try body { flag.isSet } })
                }
                // The encoder's stream and codecs want more than a secondary thread's default stack.
                thread.stackSize = 16 << 20
                thread.start()
            }
        } onCancel: {
            flag.set()
        }
    }

    /// Runs `body` in a task of its own that the caller's cancellation does not reach: what a
    /// stopping run must still write (giving held work back, recording finished files).
    static func uncancelled<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task(operation: body).value
    }

    /// Runs a short blocking step (a checkpoint's write, fsync and rename; a checksum) on NIO's
    /// blocking pool.
    static func io<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}

/// Held work's lease ended under a worker: the book was paused or cancelled, or another worker
/// took the task over (`lost`).
struct LeaseEnded: Error {
    let status: LeaseStatus
}
