import Foundation
import Synchronization
import Testing

@testable import RecitalEncode

@Suite("Overlapped producing and consuming")
struct OverlapTests {
    @Test("every batch reaches the consumer, in order, and its state is the caller's afterwards")
    func deliversInOrder() throws {
        var received: [Int16] = []
        let result = try overlapped(consume: { received += $0 }) { send throws(EncodeError) in
            for start in stride(from: 0, to: 1000, by: 10) { try send((start..<(start + 10)).map { Int16($0) }) }
            return "made"
        }
        #expect(result == "made")
        #expect(received == (0..<1000).map { Int16($0) })
    }

    @Test("a consumer failure stops the producer and is thrown")
    func consumerFailureStopsProducer() {
        let sent = Mutex(0)
        #expect(throws: EncodeError.self) {
            try overlapped(consume: { batch throws(EncodeError) in
                if batch.first == 3 { throw EncodeError(.output, "disk full") }
            }) { send throws(EncodeError) in
                for value in 0..<10_000 {
                    try send([Int16(value)])
                    sent.withLock { $0 += 1 }
                }
            }
        }
        // At most the batches already queued when the consumer failed got through.
        #expect(sent.withLock { $0 } < 10)
    }

    @Test("a producer failure stops the consumer, which sees nothing after it")
    func producerFailureStopsConsumer() {
        var received = 0
        do {
            try overlapped(consume: { _ in received += 1 }) { send throws(EncodeError) in
                try send([1])
                throw EncodeError(.interrupted, "encoding stopped")
            }
            Issue.record("no error")
        } catch {
            #expect(error.code == .interrupted)
        }
        #expect(received <= 1)
    }
}
