internal import Foundation
internal import GRDB
public import RecitalModel

/// Encode tasks, the names of finished files, and the files themselves.
extension JobStore {
    static func insertEncodeTasks(
        _ db: any SQLSession,
        book: Int64,
        formats: [AudioContainer],
        priority: Int,
        at time: Double
    ) throws {
        for format in formats.map(\.rawValue) {
            if let existing = try db.row(
                sql: "SELECT id, state FROM tasks WHERE book_id = ? AND kind = 'encode' AND format = ?",
                arguments: [book, format]
            ) {
                // Encoded before, failed or cancelled: it starts over; one running now is left alone.
                if let state = TaskState(rawValue: existing["state"]) {
                    try move(
                        existing["id"],
                        from: state,
                        on: state == .failed || state == .cancelled ? .retry : .reopen,
                        in: db,
                        at: time,
                        scheduledAt: time,
                        log: "enqueued",
                        message: "encode \(format) again"
                    )
                }
                continue
            }
            let task = try db.value(
                Int64.self,
                sql: """
                    INSERT INTO tasks (book_id, kind, format, state, priority, max_attempts, scheduled_at, created_at,
                        updated_at)
                    VALUES (?, 'encode', ?, 'available', ?, ?, ?, ?, ?)
                    RETURNING id
                    """,
                arguments: [book, format, priority, RetryPolicy.task.maxAttempts, time, time, time]
            )
            if let task {
                try log(db, taskID: task, at: time, kind: "enqueued", message: "encode \(format)")
                try db.notifyWork()
            }
        }
    }

    /// Records that held encode tasks have written the book's first `count` chapters, and where a
    /// later encode can take them up (`resume`, the pipeline's own JSON; nil for nowhere). A task
    /// whose lease is gone records nothing.
    public func recordEncodedChapters(_ tasks: [ClaimedTask], count: Int, resume: String? = nil) async throws(JobError)
    {
        let time = now()
        try await write { db in
            for task in tasks {
                try db.execute(
                    sql: """
                        UPDATE tasks SET chapters_encoded = ?, encode_resume = ?, updated_at = ?
                        WHERE id = ? AND lease_token = ? AND state = 'running'
                        """,
                    arguments: [count, resume, time, task.id, task.token]
                )
            }
            // Watchers of the book (the event stream) look for changed books by this time.
            for book in Set(tasks.map(\.bookID)) {
                try db.execute(sql: "UPDATE books SET updated_at = ? WHERE id = ?", arguments: [time, book])
            }
        }
    }

    /// The most chapters an unfinished encode of the book had written when it stopped (0 if none).
    public func encodedChapters(book: Int64) async throws(JobError) -> Int {
        try await read { db in
            try db.value(
                Int.self,
                sql: """
                    SELECT MAX(chapters_encoded) FROM tasks
                    WHERE book_id = ? AND kind = 'encode' AND state <> 'completed'
                    """,
                arguments: [book]
            ) ?? 0
        }
    }

    /// Where the stopped encode of the book's unfinished encode tasks can be taken up, as the last
    /// ``recordEncodedChapters(_:count:resume:)`` said; nil when it cannot or when they disagree.
    public func encodeResume(book: Int64) async throws(JobError) -> String? {
        try await read { db in
            let points = try db.rows(
                sql: """
                    SELECT encode_resume FROM tasks
                    WHERE book_id = ? AND kind = 'encode' AND state NOT IN ('completed', 'failed')
                    """,
                arguments: [book]
            ).map { $0.values.first.flatMap(String.init(sqlValue:)) }
            guard let first = points.first, points.allSatisfy({ $0 == first }) else { return nil }
            return first
        }
    }

    /// The chapters of a book whose synthesis is complete, and whether any chapter can no longer
    /// be (failed or cancelled, or the book cancelled): an encode following the book waits for the
    /// next chapter in order only while it still may come.
    public func synthesizedChapters(book: Int64) async throws(JobError) -> (done: Set<Int>, blocked: Bool) {
        try await read { db in
            var done = Set<Int>()
            var blocked = false
            for row in try db.rows(
                sql: "SELECT chapter_idx, state FROM tasks WHERE book_id = ? AND kind = 'synthesize'",
                arguments: [book]
            ) {
                switch TaskState(rawValue: row["state"] ?? "") {
                case .completed: done.insert(row["chapter_idx"])
                case .failed, .cancelled: blocked = true
                default: break
                }
            }
            return (done, blocked)
        }
    }

    /// Queues (again) an encode task per format, for a new encode from the book's checkpoints.
    public func scheduleEncode(_ book: Int64, formats: [AudioContainer]) async throws(JobError) {
        let time = now()
        try await write { db in
            let priority =
                try db.value(Int.self, sql: "SELECT priority FROM books WHERE id = ?", arguments: [book]) ?? 2
            try Self.insertEncodeTasks(db, book: book, formats: formats, priority: priority, at: time)
        }
    }

    /// Completes a held encode task and records its files, replacing earlier ones of its format,
    /// in one transaction. Returns false when the lease was lost.
    /// - Parameter keepInTable: the files' bytes go into the table too (read from their paths in this
    ///   transaction), for servers on other machines to hand out.
    public func completeEncode(
        _ task: ClaimedTask,
        outputs: [OutputRecord],
        keepInTable: Bool = false
    ) async throws(JobError) -> Bool {
        try await finish(
            task,
            event: .succeed,
            error: nil,
            retryAfter: nil,
            note: outputs.map(\.path).joined(separator: ", ")
        ) { db, time in
            try db.execute(
                sql: "DELETE FROM outputs WHERE book_id = ? AND format = ?",
                arguments: [task.bookID, task.format?.rawValue ?? ""]
            )
            // Done: an encode of this format asked for again starts afresh, not as a restart.
            try db.execute(
                sql: "UPDATE tasks SET chapters_encoded = 0, encode_resume = NULL WHERE id = ?",
                arguments: [task.id]
            )
            for output in outputs {
                try db.execute(
                    sql: """
                        INSERT INTO outputs (book_id, format, part, path, checksum, bytes, seconds, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        task.bookID, output.format.rawValue, output.part, output.path, output.checksum, output.bytes,
                        output.seconds, time,
                    ]
                )
            }
            try db.execute(
                sql: "DELETE FROM output_chunks WHERE book_id = ? AND format = ?",
                arguments: [task.bookID, task.format?.rawValue ?? ""]
            )
            if keepInTable {
                for output in outputs { try Self.storeChunks(of: output, book: task.bookID, db: db) }
            }
        }
    }

    /// Bytes per piece of a finished file kept in the table.
    public static let chunkSize = 4 << 20

    private static func storeChunks(of output: OutputRecord, book: Int64, db: any SQLSession) throws {
        guard let file = FileHandle(forReadingAtPath: output.path) else {
            throw JobError(.database, "cannot read \(output.path) to keep it in the job table", bookID: book)
        }
        // A handle only read from: closing it can lose nothing.
        defer { try? file.close() }
        var seq = 0
        while let data = try file.read(upToCount: chunkSize), !data.isEmpty {
            try db.execute(
                sql: "INSERT INTO output_chunks (book_id, format, part, seq, data) VALUES (?, ?, ?, ?, ?)",
                arguments: [book, output.format.rawValue, output.part, seq, [UInt8](data)]
            )
            seq += 1
        }
    }

    /// Forgets the finished files the table keeps for a book (their records stay).
    public func removeKeptOutputs(book: Int64) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM output_chunks WHERE book_id = ?", arguments: [book]) }
    }

    /// A finished file the table keeps: its size in bytes and its recorded checksum, or nil when
    /// it keeps none.
    public func keptOutputInfo(
        book: Int64,
        format: AudioContainer,
        part: Int
    ) async throws(JobError) -> (bytes: Int, checksum: String)? {
        try await read { db in
            guard
                let row = try db.row(
                    sql: """
                        SELECT COUNT(*) AS pieces, SUM(length(c.data)) AS bytes, MAX(o.checksum) AS checksum
                        FROM output_chunks c JOIN outputs o ON o.book_id = c.book_id AND o.format = c.format
                            AND o.part = c.part
                        WHERE c.book_id = ? AND c.format = ? AND c.part = ?
                        """,
                    arguments: [book, format.rawValue, part]
                ), (row["pieces"] as Int) > 0, let bytes = row["bytes"] as Int?
            else { return nil }
            return (bytes, row["checksum"] ?? "")
        }
    }

    /// Bytes `range` of a finished file the table keeps (only the pieces that hold them are read).
    public func keptOutput(
        book: Int64,
        format: AudioContainer,
        part: Int,
        range: ClosedRange<Int>
    ) async throws(JobError) -> [UInt8] {
        let first = range.lowerBound / Self.chunkSize
        let last = range.upperBound / Self.chunkSize
        return try await read { db in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(range.count)
            for row in try db.rows(
                sql: """
                    SELECT seq, data FROM output_chunks WHERE book_id = ? AND format = ? AND part = ?
                        AND seq BETWEEN ? AND ? ORDER BY seq
                    """,
                arguments: [book, format.rawValue, part, first, last]
            ) {
                let start = (row["seq"] as Int) * Self.chunkSize
                let data: [UInt8] = row["data"]
                let lower = max(range.lowerBound, start) - start
                let upper = min(range.upperBound, start + data.count - 1) - start
                if lower <= upper { bytes += data[lower...upper] }
            }
            // Re-encoded or removed meanwhile: never hand out a spliced or short answer.
            guard bytes.count == range.count else {
                throw JobError(.notFound, "the kept \(format.rawValue) changed while it was read", bookID: book)
            }
            return bytes
        }
    }

    /// The name of a book's files in `folder`: the one it holds there while `isFree` still accepts
    /// it, else the first of `base`, `base (2)`, `base (3)`… that no other book holds and `isFree`
    /// accepts, reserved in the same transaction (so two processes never pick one name).
    /// - Parameter isFree: whether no file that is not the book's own stands in the way of a name.
    public func reserveName(
        book: Int64,
        folder: String,
        base: String,
        isFree: @escaping @Sendable (String) -> Bool
    ) async throws(JobError) -> String {
        try await write { db in
            let held = try db.value(
                String.self,
                sql: "SELECT stem FROM output_names WHERE book_id = ? AND folder = ?",
                arguments: [book, folder]
            )
            if let held, isFree(held) { return held }
            let taken = Set(
                try db.values(
                    String.self,
                    sql: "SELECT stem FROM output_names WHERE folder = ? AND book_id <> ?",
                    arguments: [folder, book]
                )
            )
            for number in 1...10_000 {
                let stem = number == 1 ? base : "\(base) (\(number))"
                guard !taken.contains(stem), isFree(stem) else { continue }
                try db.execute(
                    sql: "DELETE FROM output_names WHERE book_id = ? AND folder = ?",
                    arguments: [book, folder]
                )
                try db.execute(
                    sql: "INSERT INTO output_names (folder, stem, book_id) VALUES (?, ?, ?)",
                    arguments: [folder, stem, book]
                )
                return stem
            }
            throw JobError(.invalidTransition, "no free file name for “\(base)” in \(folder)", bookID: book)
        }
    }

    /// The file names the book holds, each with its folder (``reserveName(book:folder:base:isFree:)``).
    public func outputNames(book: Int64) async throws(JobError) -> [(folder: String, stem: String)] {
        try await read { db in
            try db.rows(
                sql: "SELECT folder, stem FROM output_names WHERE book_id = ?",
                arguments: [book]
            ).map { ($0["folder"], $0["stem"]) }
        }
    }

    /// The state of each of a book's encode tasks, by format.
    public func encodeStates(book: Int64) async throws(JobError) -> [AudioContainer: TaskState] {
        try await read { db in
            var states: [AudioContainer: TaskState] = [:]
            for row in try db.rows(
                sql: "SELECT format, state FROM tasks WHERE book_id = ? AND kind = 'encode'",
                arguments: [book]
            ) {
                if let format = (row["format"] as String?).flatMap(AudioContainer.init(rawValue:)),
                    let state = TaskState(rawValue: row["state"])
                {
                    states[format] = state
                }
            }
            return states
        }
    }

    /// The finished files of a book.
    public func outputs(book: Int64) async throws(JobError) -> [OutputRecord] {
        try await read { db in
            try db.rows(
                sql: "SELECT * FROM outputs WHERE book_id = ? ORDER BY format, part",
                arguments: [book]
            ).compactMap { row in
                guard let format = AudioContainer(rawValue: row["format"]) else { return nil }
                return OutputRecord(
                    format: format,
                    part: row["part"],
                    path: row["path"],
                    checksum: row["checksum"],
                    bytes: row["bytes"],
                    seconds: row["seconds"]
                )
            }
        }
    }
}

/// Retention: finished books whose files are removed after a while.
extension JobStore {
    /// Completed books whose last file was written before `time` and that are not purged yet.
    public func finished(before time: Double) async throws(JobError) -> [Int64] {
        try await read { db in
            try db.values(
                Int64.self,
                sql: """
                    SELECT o.book_id FROM outputs o JOIN books b ON b.id = o.book_id
                    WHERE b.purged_at IS NULL
                        AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.book_id = o.book_id AND t.state <> 'completed')
                    GROUP BY o.book_id HAVING MAX(o.created_at) < ?
                    """,
                arguments: [time]
            )
        }
    }

    public func markPurged(_ book: Int64) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: "UPDATE books SET purged_at = ?, updated_at = ? WHERE id = ?",
                arguments: [time, time, book]
            )
        }
    }

    /// The recorded files of every purged book: what each machine removes of them from its own disk.
    public func purgedFiles() async throws(JobError) -> [(book: Int64, path: String)] {
        try await read { db in
            try db.rows(
                sql:
                    "SELECT o.book_id, o.path FROM outputs o JOIN books b ON b.id = o.book_id WHERE b.purged_at IS NOT NULL"
            ).map { ($0["book_id"], $0["path"]) }
        }
    }

    /// When a book's files were purged, if they were.
    public func purgedAt(_ book: Int64) async throws(JobError) -> Double? {
        try await read { db in
            try db.value(Double.self, sql: "SELECT purged_at FROM books WHERE id = ?", arguments: [book])
        }
    }
}
