import Foundation
import RecitalJobs
import RecitalModel
import RecitalTestSupport
import Synchronization

/// A wall clock tests move by hand.
final class ManualTime: Sendable {
    private let value = Mutex<Double>(1_000_000)
    var now: Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
    var function: @Sendable () -> Double { { [self] in self.now } }
}

typealias StoreBackend = DatabaseBackend

extension DatabaseBackend {
    /// A new, empty database of this kind; open it with ``JobFixtures/store(_:now:)`` as often as needed.
    func database() throws -> JobFixtures.Database {
        switch self {
        case .sqlite: return .sqlite(try JobFixtures.database())
        case .postgres: return .postgres(Self.postgresURL ?? "", schema: Self.newSchema())
        }
    }
}

enum JobFixtures {
    enum Database: Sendable {
        case sqlite(String)
        case postgres(String, schema: String)
    }

    static func database() throws -> String {
        try Fixtures.temporaryDirectory().appendingPathComponent("jobs.sqlite").path
    }

    static func store(_ database: Database, now: (@Sendable () -> Double)? = nil) throws -> JobStore {
        switch database {
        case .sqlite(let path): try JobStore(path: path, now: now)
        case .postgres(let url, let schema): try JobStore(postgres: url, schema: schema, now: now)
        }
    }

    static func store(_ backend: StoreBackend, now: (@Sendable () -> Double)? = nil) throws -> JobStore {
        try store(backend.database(), now: now)
    }

    /// A checkpoint of the book's first segment, its audio nowhere on disk.
    static func checkpoint(book: Int64) -> CheckpointRecord {
        CheckpointRecord(
            bookID: book,
            chapterIndex: 0,
            index: 0,
            textHash: "x",
            audioPath: "/a.wav",
            checksum: "c",
            sampleCount: 1,
            sampleRate: 24_000
        )
    }

    static func book(
        chapters: Int = 3,
        segments: Int = 4,
        priority: Int = 2,
        hash: String = UUID().uuidString
    ) -> NewBook {
        let list = (0..<chapters).map { c in
            Chapter(
                index: c,
                title: "Chapter \(c + 1)",
                text: "",
                segments: (0..<segments).map {
                    Segment(
                        index: $0,
                        text: "Chapter \(c + 1), sentence \($0 + 1).",
                        boundary: $0 == 0 ? .chapter : .sentence
                    )
                }
            )
        }
        return NewBook(
            sourcePath: "/books/\(hash).epub",
            contentHash: hash,
            settingsHash: "settings",
            settingsJSON: "{}",
            title: "Book \(hash.prefix(4))",
            authors: ["A. Author"],
            language: "en",
            sampleRate: 24_000,
            priority: priority,
            chapters: list
        )
    }
}
