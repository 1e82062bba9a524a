// Status benchmark: fills a job table with a library (1,000 books of 50 chapters by default, four
// segments each; 60 % finished with checkpoints and files, 20 % half done, the rest queued), then
// times `recital status --json` on it (a child process, release build) against the same command on
// an empty table (process start and opening the database: the floor), in one run.
//
// Usage: status-benchmark RECITAL_BINARY [--books N] [--chapters N] [--runs N]
import Foundation
import GRDB
import RecitalJobs
import RecitalModel

struct Options {
    var recital = ""
    var books = 1_000
    var chapters = 50
    var runs = 15
    /// Keep the library's database here (for profiling its queries).
    var keep: String?

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        recital = rest.popFirst() ?? ""
        while let flag = rest.popFirst() {
            let text = rest.popFirst() ?? ""
            let value = Int(text) ?? 0
            switch flag {
            case "--keep": keep = text
            case "--books": books = value
            case "--chapters": chapters = value
            case "--runs": runs = value
            default: break
            }
        }
    }
}

/// Seconds of wall time of each run of `recital ARGUMENTS` with the given home, sorted.
func time(_ recital: String, _ arguments: [String], home: String, runs: Int) throws -> [Double] {
    var times: [Double] = []
    for _ in 0..<runs {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: recital)
        process.arguments = arguments
        process.environment = ["RECITAL_HOME": home, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        times.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
    }
    return times.sorted()
}

let options = Options(CommandLine.arguments)
let root = FileManager.default.temporaryDirectory.appendingPathComponent("recital-status-bench-\(getpid())")
let full = root.appendingPathComponent("library").path
let empty = root.appendingPathComponent("empty").path
defer { try? FileManager.default.removeItem(at: root) }
try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)

let filling = ContinuousClock.now
let store = try JobStore(path: full + "/recital.sqlite")
for number in 0..<options.books {
    let chapters = (0..<options.chapters).map { c in
        Chapter(
            index: c,
            title: "Chapter \(c + 1)",
            text: "",
            segments: (0..<4).map {
                Segment(index: $0, text: "Book \(number), chapter \(c + 1), sentence \($0 + 1).", boundary: .sentence)
            }
        )
    }
    _ = try await store.enqueue(
        NewBook(
            sourcePath: "/library/book-\(number).epub",
            contentHash: "book-\(number)",
            settingsHash: "bench",
            settingsJSON: "{}",
            title: "Book \(number)",
            authors: ["A. Writer"],
            language: "en",
            sampleRate: 24_000,
            priority: 2,
            chapters: chapters,
            encodeFormats: [.m4b]
        )
    )
}
// Progress in bulk, straight in SQL: finished books have every checkpoint, completed tasks and a
// file; half-done books have their first half of chapters.
let queue = try DatabaseQueue(path: full + "/recital.sqlite")
try await queue.write { db in
    let now = Date().timeIntervalSince1970
    let finished = options.books * 6 / 10
    let half = options.books * 8 / 10
    try db.execute(
        sql: """
            INSERT INTO checkpoints (book_id, chapter_idx, idx, text_hash, audio_path, checksum, sample_count,
                sample_rate, created_at)
            SELECT book_id, chapter_idx, idx, text_hash, '/audio/x.wav', 'c2:0', 72000, 24000, ? - book_id
            FROM segments WHERE book_id <= ? OR (book_id <= ? AND chapter_idx < ?)
            """,
        arguments: [now, finished, half, options.chapters / 2]
    )
    try db.execute(
        sql: """
            UPDATE tasks SET state = 'completed', attempt = 1 WHERE book_id <= ?
                OR (book_id <= ? AND kind = 'synthesize' AND chapter_idx < ?)
            """,
        arguments: [finished, half, options.chapters / 2]
    )
    try db.execute(
        sql: """
            INSERT INTO outputs (book_id, format, part, path, checksum, bytes, seconds, created_at)
            SELECT id, 'm4b', 1, '/out/Book ' || id || '.m4b', 'c2:0', 1000000, 36000, ? FROM books WHERE id <= ?
            """,
        arguments: [now, finished]
    )
}
let filled = ContinuousClock.now - filling
let counts = try await queue.read { db in
    (
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM segments") ?? 0,
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoints") ?? 0
    )
}

// Both homes warm (the first run of each is not counted), then alternate nothing: runs are sorted.
_ = try time(options.recital, ["status", "--json"], home: full, runs: 1)
_ = try time(options.recital, ["status", "--json"], home: empty, runs: 1)
let library = try time(options.recital, ["status", "--json"], home: full, runs: options.runs)
let floor = try time(options.recital, ["status", "--json"], home: empty, runs: options.runs)
func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
let median = library[library.count / 2]
let floorMedian = floor[floor.count / 2]
print("library: \(options.books) books x \(options.chapters) chapters, \(counts.0) segments, \(counts.1) checkpoints")
print("  (filled in \(filled))")
print("status --json, \(options.runs) runs: median \(ms(median)), min \(ms(library[0])), max \(ms(library.last ?? 0))")
print("reference, status --json on an empty table: median \(ms(floorMedian)), min \(ms(floor[0]))")
print(String(format: "ratio: %.2f; the library adds %@ to the floor", median / floorMedian, ms(median - floorMedian)))
if let keep = options.keep {
    try? FileManager.default.removeItem(atPath: keep)
    try FileManager.default.copyItem(atPath: full, toPath: keep)
}
