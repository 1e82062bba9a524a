internal import Foundation
internal import GRDB
public import RecitalModel

/// The status read model: where each book stands, in a fixed number of queries.
extension JobStore {
    /// The state of one book, or of every book, in seven queries however many books there are.
    public func status(book: Int64? = nil) async throws(JobError) -> [BookStatus] {
        let time = now()
        return try await read { db in
            // Every query takes the same filter: one book, or all.
            let only = book.map { " WHERE book_id = \($0)" } ?? ""
            let books = try db.rows(
                sql: """
                    SELECT id, title, authors, priority, created_at, source_path, paused_at, cancelled_at FROM books
                    \(book.map { " WHERE id = \($0)" } ?? "") ORDER BY id
                    """
            )
            // Tasks are counted in SQL: a library has tens of thousands of chapters.
            var tallies: [Int64: Tally] = [:]
            let tallied = try db.rows(
                sql: """
                    SELECT book_id, COUNT(*), \(Self.count("state = 'completed'")), \(Self.count("state = 'running'")),
                        \(Self.count("state = 'failed'")), \(Self.count("kind = 'synthesize'")),
                        \(Self.count("kind = 'synthesize' AND state = 'completed'")),
                        MIN(CASE WHEN kind = 'encode' AND state <> 'completed' THEN chapters_encoded END) AS encoded,
                        \(Self.count("kind = 'encode'"))
                    FROM tasks\(only) GROUP BY book_id
                    """
            )
            for row in tallied {
                tallies[row[0]] = Tally(
                    all: row[1],
                    completed: row[2],
                    running: row[3],
                    failed: row[4],
                    chapters: row[5],
                    chaptersDone: row[6],
                    openEncodeProgress: row["encoded"] as Int?,
                    encodes: row[8]
                )
            }
            // The first failure in book order (chapters, then encodes) explains a failed book.
            var failures: [Int64: String] = [:]
            for row in try db.rows(
                sql: """
                    SELECT book_id, last_error, interruptions, kind, chapter_idx, format FROM tasks
                    WHERE state = 'failed'\(book.map { " AND book_id = \($0)" } ?? "")
                    ORDER BY book_id, kind DESC, chapter_idx, id
                    """
            ) where failures[row["book_id"]] == nil {
                failures[row["book_id"]] = Self.failure(row)
            }
            var outputs: [Int64: [String]] = [:]
            for row in try db.rows(
                sql: "SELECT book_id, path FROM outputs\(only) ORDER BY book_id, format, part"
            ) {
                outputs[row["book_id"], default: []].append(row["path"])
            }
            let totals = try Self.counts(db, "SELECT book_id, SUM(segment_count) FROM chapters\(only) GROUP BY book_id")
            let done = try Self.counts(db, "SELECT book_id, COUNT(*) FROM checkpoints\(only) GROUP BY book_id")
            // Rate over the last ten minutes of checkpoints, for the ETA of books being worked on.
            var recent: [Int64: (count: Int, first: Double)] = [:]
            for row in try db.rows(
                sql: """
                    SELECT book_id, COUNT(*) AS n, MIN(created_at) AS first FROM checkpoints
                    WHERE created_at > ?\(book.map { " AND book_id = \($0)" } ?? "")
                        AND book_id IN (SELECT book_id FROM tasks WHERE state = 'running')
                    GROUP BY book_id
                    """,
                arguments: [time - 600]
            ) {
                recent[row["book_id"]] = (row["n"], row["first"])
            }
            var warnings: [Int64: [String]] = [:]
            for row in try db.rows(
                sql: """
                    SELECT t.book_id, e.message FROM task_events e JOIN tasks t ON t.id = e.task_id
                    WHERE e.kind = 'skipped'\(book.map { " AND t.book_id = \($0)" } ?? "") ORDER BY e.id
                    """
            ) {
                warnings[row["book_id"], default: []].append(row["message"])
            }
            return books.map { row in
                let id: Int64 = row["id"]
                let tally = tallies[id] ?? Tally()
                let segmentsTotal = totals[id] ?? 0
                let segmentsDone = done[id] ?? 0
                var eta: Double?
                if let (count, first) = recent[id], count >= 2, time > first {
                    eta = Double(segmentsTotal - segmentsDone) / (Double(count) / (time - first))
                }
                let state = BookState.derive(
                    tasks: tally.states,
                    paused: (row["paused_at"] as Double?) != nil,
                    cancelled: (row["cancelled_at"] as Double?) != nil
                )
                let error = failures[id]
                var status = BookStatus(
                    id: id,
                    title: row["title"],
                    source: row["source_path"],
                    state: state,
                    progress: segmentsTotal == 0 ? 1 : Double(segmentsDone) / Double(segmentsTotal),
                    chaptersDone: tally.chaptersDone,
                    chaptersTotal: tally.chapters,
                    segmentsDone: segmentsDone,
                    segmentsTotal: segmentsTotal,
                    etaSeconds: state == .running || state == .queued ? eta : nil,
                    outputs: outputs[id] ?? [],
                    error: state == .failed ? error : nil,
                    warnings: warnings[id] ?? []
                )
                status.chaptersEncoded = tally.chaptersEncoded
                status.authors = (row["authors"] as String? ?? "").split(separator: "\n").map(String.init)
                status.priority = row["priority"]
                status.createdAt = row["created_at"]
                return status
            }
        }
    }

    /// A book's tasks, counted by state.
    private struct Tally {
        var all = 0
        var completed = 0
        var running = 0
        var failed = 0
        var chapters = 0
        var chaptersDone = 0
        /// The fewest chapters any unfinished encode task has written; nil when none is unfinished.
        var openEncodeProgress: Int?
        var encodes = 0

        /// Chapters in every requested format so far: all of them once every encode is complete.
        var chaptersEncoded: Int {
            encodes > 0 && openEncodeProgress == nil ? chapters : openEncodeProgress ?? 0
        }

        /// The states present, which is all ``BookState/derive(tasks:paused:cancelled:)`` looks at.
        var states: [TaskState] {
            guard all > 0 else { return [] }
            if completed == all { return [.completed] }
            var present: [TaskState] = [.available]
            if completed > 0 { present.append(.completed) }
            if running > 0 { present.append(.running) }
            if failed > 0 { present.append(.failed) }
            return present
        }
    }

    /// `book_id, count` rows as a dictionary.
    private static func counts(_ db: any SQLSession, _ sql: String) throws -> [Int64: Int] {
        var result: [Int64: Int] = [:]
        for row in try db.rows(sql: sql) { result[row[0]] = row[1] }
        return result
    }

    /// Why a failed task failed, telling attempts lost to dying workers from errors: "stopped 8 times
    /// while encoding mp3; the last error was …".
    /// Rows where `condition` holds, in SQL both databases read (PostgreSQL does not sum booleans).
    static func count(_ condition: String) -> String { "SUM(CASE WHEN \(condition) THEN 1 ELSE 0 END)" }

    static func failure(_ task: SQLRow) -> String {
        let error: String? = task["last_error"]
        let interruptions: Int = task["interruptions"]
        guard interruptions > 0 else { return error ?? "failed" }
        let work =
            (task["kind"] as String) == TaskKind.encode.rawValue
            ? "encoding \(task["format"] as String? ?? "")"
            : "synthesizing chapter \((task["chapter_idx"] as Int? ?? 0) + 1)"
        let times = interruptions == 1 ? "once" : "\(interruptions) times"
        let stopped = "its worker stopped (crashed or was killed) \(times) while \(work)"
        return error.map { "\(stopped); the last error was: \($0)" } ?? stopped
    }

    /// The history of every task of a book, oldest first.
    public func events(book: Int64) async throws(JobError) -> [TaskEventRecord] {
        try await read { db in
            try db.rows(
                sql: """
                    SELECT e.task_id, e.at, e.kind, e.message FROM task_events e JOIN tasks t ON t.id = e.task_id
                    WHERE t.book_id = ? ORDER BY e.id
                    """,
                arguments: [book]
            ).map { TaskEventRecord(taskID: $0["task_id"], at: $0["at"], kind: $0["kind"], message: $0["message"]) }
        }
    }

    /// Task states of a book by chapter, for tests and progress.
    public func taskStates(book: Int64) async throws(JobError) -> [TaskState] {
        try await read { db in
            try db.values(
                String.self,
                sql: "SELECT state FROM tasks WHERE book_id = ? ORDER BY chapter_idx",
                arguments: [book]
            )
            .compactMap(TaskState.init(rawValue:))
        }
    }

    /// Every chapter of a book with its synthesis task's state, checkpoints and attempts.
    public func chapters(book: Int64) async throws(JobError) -> [ChapterStatus] {
        try await read { db in
            try db.rows(
                sql: """
                    SELECT c.idx, c.title, c.segment_count, t.state, t.attempt, t.max_attempts, t.last_error,
                        (SELECT COUNT(*) FROM checkpoints k WHERE k.book_id = c.book_id AND k.chapter_idx = c.idx)
                            AS done
                    FROM chapters c LEFT JOIN tasks t
                        ON t.book_id = c.book_id AND t.kind = 'synthesize' AND t.chapter_idx = c.idx
                    WHERE c.book_id = ? ORDER BY c.idx
                    """,
                arguments: [book]
            ).map { row in
                let state: ChapterStatus.State =
                    switch TaskState(rawValue: row["state"] ?? "") {
                    case .running: .running
                    case .completed: .done
                    case .failed: .failed
                    case .cancelled: .cancelled
                    case .available, nil: .waiting
                    }
                return ChapterStatus(
                    index: row["idx"],
                    title: row["title"],
                    state: state,
                    segmentsDone: row["done"],
                    segmentsTotal: row["segment_count"],
                    attempt: row["attempt"] ?? 0,
                    maxAttempts: row["max_attempts"] ?? 0,
                    lastError: row["last_error"]
                )
            }
        }
    }

    /// Books changed after `since` (Unix seconds): their flags or priority, a task's state, or a
    /// new checkpoint; and every book id, to tell which were deleted. Cheap enough to poll: the
    /// checkpoints and task events are found by the indexes on their times.
    public func changes(since: Double) async throws(JobError) -> (changed: Set<Int64>, all: Set<Int64>) {
        try await read { db in
            var changed = Set(
                try db.values(
                    Int64.self,
                    sql: """
                        SELECT id FROM books WHERE updated_at > ?1 OR created_at > ?1
                        UNION SELECT DISTINCT book_id FROM checkpoints WHERE created_at > ?1
                        """,
                    arguments: [since]
                )
            )
            changed.formUnion(
                try db.values(
                    Int64.self,
                    sql: """
                        SELECT DISTINCT t.book_id FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE e.at > ?
                        """,
                    arguments: [since]
                )
            )
            return (changed, Set(try db.values(Int64.self, sql: "SELECT id FROM books")))
        }
    }
}
