internal import Foundation

/// Runs `produce` on the calling thread and `consume` on a thread of its own over the batches
/// `produce` sends, so that making the next batch overlaps with using the last one (assembly on
/// one core; the meter or the encoders on the other). At most two batches wait in between, so
/// memory stays flat. The thread has ended before this returns or throws, so whatever `consume`
/// changed belongs to the caller again. A failure on either side stops both and is thrown.
func overlapped<Result>(
    consume: ([Int16]) throws(EncodeError) -> Void,
    produce: (_ send: ([Int16]) throws(EncodeError) -> Void) throws(EncodeError) -> Result
) throws(EncodeError) -> Result {
    let channel = BatchChannel()
    let outcome: Swift.Result<Result, EncodeError> = withoutActuallyEscaping(consume) { consume in
        channel.consumer = JoinedClosure(consume)
        let thread = Thread { channel.drain() }
        // Encoders keep sizeable frames on the stack; the default for new threads is small.
        thread.stackSize = 8 << 20
        thread.start()
        do throws(EncodeError) {
            let result = try produce { batch throws(EncodeError) in try channel.send(batch) }
            channel.close(cancelled: false)
            if let failure = channel.join() { return .failure(failure) }
            return .success(result)
        } catch {
            channel.close(cancelled: true)
            // The consumer's own failure, if it came first, is the reason the producer stopped.
            return .failure(channel.join() ?? error)
        }
    }
    return try outcome.get()
}

/// A closure run by the consumer thread only while `overlapped` waits for that thread to end.
private struct JoinedClosure: @unchecked Sendable {
    let body: ([Int16]) throws(EncodeError) -> Void
    init(_ body: @escaping ([Int16]) throws(EncodeError) -> Void) { self.body = body }
}

/// The hand-over between the two threads: a short queue of batches under one lock.
private final class BatchChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [[Int16]] = []
    private var closed = false
    private var cancelled = false
    private var failure: EncodeError?
    private var exited = false
    private let depth = 2
    /// Set before the thread starts; the thread drops it before it signals its end, since
    /// `withoutActuallyEscaping` checks that nothing holds the closure afterwards.
    var consumer: JoinedClosure?

    /// The consumer thread's whole life: every batch through the consumer, then the end signal.
    func drain() {
        if let consumer = take() {
            while let batch = receive() {
                do throws(EncodeError) { try consumer.body(batch) } catch {
                    fail(error)
                    break
                }
            }
        }
        exit()
    }

    private func take() -> JoinedClosure? {
        condition.lock()
        defer { condition.unlock() }
        defer { consumer = nil }
        return consumer
    }

    func send(_ batch: [Int16]) throws(EncodeError) {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= depth, failure == nil { condition.wait() }
        if let failure { throw failure }
        waiting.append(batch)
        condition.broadcast()
    }

    /// The next batch, or nil when the producer is done or gave up.
    func receive() -> [Int16]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty, !closed { condition.wait() }
        guard !cancelled, !waiting.isEmpty else { return nil }
        condition.broadcast()
        return waiting.removeFirst()
    }

    func fail(_ error: EncodeError) {
        condition.lock()
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func close(cancelled: Bool) {
        condition.lock()
        closed = true
        self.cancelled = cancelled
        condition.broadcast()
        condition.unlock()
    }

    func exit() {
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the consumer thread to end; its failure, if any.
    func join() -> EncodeError? {
        condition.lock()
        defer { condition.unlock() }
        while !exited { condition.wait() }
        return failure
    }
}
