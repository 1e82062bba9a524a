import Foundation
import RecitalModel
import RecitalTestSupport
import Synchronization
import Testing

@testable import RecitalJobs

/// `status` reads a library of any size in the same few queries.
@Suite("The status read model")
struct StatusQueryTests {
    /// The statements one `status()` call runs on a table of `books` books in every state.
    static func statements(books count: Int) async throws -> (statements: Int, books: [BookStatus]) {
        let path = try JobFixtures.database()
        let recording = Mutex(false)
        let seen = Mutex(0)
        let store = try JobStore(path: path, now: nil) { _ in
            if recording.withLock({ $0 }) { seen.withLock { $0 += 1 } }
        }
        for number in 0..<count {
            let book = try await store.enqueue(JobFixtures.book(chapters: 2, segments: 2)).bookID
            // Some finished chapters with checkpoints, some failures, some paused books.
            if number % 3 == 0, let task = try await store.claim(owner: "w", limit: 1, books: [book]).first {
                for segment in 0..<2 {
                    _ = try await store.recordCheckpoint(
                        CheckpointRecord(
                            bookID: book,
                            chapterIndex: task.chapterIndex ?? 0,
                            index: segment,
                            textHash: "",
                            audioPath: "/audio/\(book)-\(segment).wav",
                            checksum: "",
                            sampleCount: 10,
                            sampleRate: 24_000
                        ),
                        for: task
                    )
                }
                try await store.complete(task)
            }
            if number % 3 == 1, let task = try await store.claim(owner: "w", limit: 1, books: [book]).first {
                try await store.failPermanent(task, error: "HTTP 401: no")
            }
            if number % 3 == 2 { try await store.pause(book) }
        }
        recording.withLock { $0 = true }
        let books = try await store.status()
        recording.withLock { $0 = false }
        return (seen.withLock { $0 }, books)
    }

    @Test("status runs the same number of queries for 3 books as for 30, and reads each right")
    func fixedQueries() async throws {
        let small = try await Self.statements(books: 3)
        let large = try await Self.statements(books: 30)
        #expect(small.statements == large.statements, "\(small.statements) vs \(large.statements) statements")
        // Eight queries, and the read transaction around them.
        #expect(large.statements <= 12)
        #expect(large.books.count == 30)
        #expect(large.books.filter { $0.state == .running }.count == 10)
        #expect(large.books.filter { $0.state == .failed }.count == 10)
        #expect(large.books.filter { $0.state == .paused }.count == 10)
        let running = try #require(large.books.first)
        #expect(running.segmentsDone == 2 && running.segmentsTotal == 4 && running.chaptersDone == 1)
        #expect(large.books[1].error == "HTTP 401: no")
    }
}
