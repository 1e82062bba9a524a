internal import Foundation
internal import GRDB
public import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// The persistent job table: books, their segments and checkpoints, and claimable tasks with
/// leases. Several processes may open the same database; SQLite (WAL, busy timeout, immediate
/// write transactions) and the lease tokens keep them from stepping on each other.
public final class JobStore: Sendable {
    private let pool: DatabasePool
    /// Wall-clock seconds; injected so tests can move time (leases are compared across processes,
    /// so production uses the real clock).
    private let now: @Sendable () -> Double
    /// This machine's name, to recognise workers whose process can be checked directly.
    private let host: String
    public let path: String

    /// How long a claim lasts without a heartbeat before another process may rescue the task.
    public static let leaseDuration: Double = 30

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String, now: (@Sendable () -> Double)? = nil) throws(JobError) {
        self.path = path
        self.now = now ?? { Date().timeIntervalSince1970 }
        self.host = ProcessInfo.processInfo.hostName
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            for migration in Self.migrations() {
                migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
            }
            // Two processes opening a new database at once can race to apply the same migration;
            // the loser fails, and on a second look finds it applied by the winner.
            do {
                try migrator.migrate(pool)
            } catch {
                try migrator.migrate(pool)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// The numbered sections of schema.sql, in order.
    static func migrations() -> [(name: String, sql: String)] {
        var result: [(String, String)] = []
        var name: String?
        var body: [Substring] = []
        for line in Schema.sql.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- migration ") {
                if let name { result.append((name, body.joined(separator: "\n"))) }
                name = String(line.dropFirst("-- migration ".count))
                body = []
            } else if name != nil {
                body.append(line)
            }
        }
        if let name { result.append((name, body.joined(separator: "\n"))) }
        return result
    }

    /// Names of the migrations applied to this database, in order.
    public func appliedMigrations() async throws(JobError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
    }

    // MARK: - Enqueue

    /// Adds a book with its chapters, segments and one synthesize task per chapter, unless the same
    /// content with the same settings is already there.
    public func enqueue(_ book: NewBook) async throws(JobError) -> EnqueueResult {
        let time = now()
        return try await write { db in
            if let existing = try Int64.fetchOne(
                db,
                sql: "SELECT id FROM books WHERE content_hash = ? AND settings_hash = ?",
                arguments: [book.contentHash, book.settingsHash]
            ) {
                return .existing(existing)
            }
            try db.execute(
                sql: """
                    INSERT INTO books (source_path, content_hash, settings_hash, settings_json, title, authors,
                        language, sample_rate, priority, created_at, updated_at, metadata_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    book.sourcePath, book.contentHash, book.settingsHash, book.settingsJSON, book.title,
                    book.authors.joined(separator: "\n"), book.language, book.sampleRate, book.priority, time, time,
                    book.metadataJSON,
                ]
            )
            let bookID = db.lastInsertedRowID
            let insertSegment = try db.makeStatement(
                sql: """
                    INSERT INTO segments (book_id, chapter_idx, idx, text, boundary, text_hash)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            )
            for chapter in book.chapters {
                try db.execute(
                    sql: "INSERT INTO chapters (book_id, idx, title, segment_count) VALUES (?, ?, ?, ?)",
                    arguments: [bookID, chapter.index, chapter.title, chapter.segments.count]
                )
                for segment in chapter.segments {
                    try insertSegment.execute(arguments: [
                        bookID, chapter.index, segment.index, segment.text, segment.boundary.rawValue,
                        ContentHash.text(segment.text),
                    ])
                }
                try db.execute(
                    sql: """
                        INSERT INTO tasks (book_id, kind, chapter_idx, state, priority, max_attempts, scheduled_at,
                            created_at, updated_at)
                        VALUES (?, 'synthesize', ?, 'available', ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        bookID, chapter.index, book.priority, RetryPolicy.task.maxAttempts, time, time, time,
                    ]
                )
                try Self.log(db, taskID: db.lastInsertedRowID, at: time, kind: "enqueued", message: chapter.title)
            }
            try Self.insertEncodeTasks(db, book: bookID, formats: book.encodeFormats, priority: book.priority, at: time)
            return .created(bookID)
        }
    }

    // MARK: - Claim, heartbeat, rescue

    /// Claims up to `limit` available tasks, highest priority first then oldest, in one statement.
    /// - Parameter books: only tasks of these books, or any book when nil.
    public func claim(
        owner: String,
        limit: Int,
        books: [Int64]? = nil,
        kind: TaskKind = .synthesize
    ) async throws(JobError) -> [ClaimedTask] {
        let time = now()
        let token = UUID().uuidString
        if let books, books.isEmpty { return [] }
        // Book ids are integers, so listing them inline is safe and keeps the arguments Sendable.
        var bookFilter = books.map { " AND t.book_id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        // Encoding waits until every chapter of the book is synthesized.
        bookFilter +=
            kind == .synthesize
            ? " AND t.kind = 'synthesize'"
            : " AND t.kind = 'encode' AND NOT EXISTS (SELECT 1 FROM tasks s WHERE s.book_id = t.book_id"
                + " AND s.kind = 'synthesize' AND s.state <> 'completed')"
        let filter = bookFilter
        let leaseEnd = time + Self.leaseDuration
        return try await write { db in
            let arguments: StatementArguments = [owner, token, leaseEnd, time, time, limit]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE tasks
                    SET state = 'running', attempt = attempt + 1, lease_owner = ?, lease_token = ?,
                        lease_expires_at = ?, updated_at = ?
                    WHERE id IN (
                        SELECT t.id FROM tasks t JOIN books b ON b.id = t.book_id
                        WHERE t.state = 'available' AND t.scheduled_at <= ?
                            AND b.paused_at IS NULL AND b.cancelled_at IS NULL\(filter)
                        ORDER BY t.priority, t.scheduled_at, t.id
                        LIMIT ?)
                    RETURNING id, book_id, chapter_idx, format, attempt, max_attempts, priority, scheduled_at
                    """,
                arguments: arguments
            )
            // RETURNING gives rows in no particular order; hand them out in claim order.
            let ordered = rows.sorted {
                ($0["priority"] as Int, $0["scheduled_at"] as Double, $0["id"] as Int64)
                    < ($1["priority"] as Int, $1["scheduled_at"] as Double, $1["id"] as Int64)
            }
            let claimed = ordered.map { row in
                ClaimedTask(
                    id: row["id"],
                    bookID: row["book_id"],
                    chapterIndex: row["chapter_idx"],
                    attempt: row["attempt"],
                    maxAttempts: row["max_attempts"],
                    owner: owner,
                    token: token,
                    format: row["format"]
                )
            }
            for task in claimed {
                try Self.log(
                    db,
                    taskID: task.id,
                    at: time,
                    kind: "claimed",
                    message: "attempt \(task.attempt) by \(owner)"
                )
            }
            return claimed
        }
    }

    /// Renews a lease and reports whether the book was paused or cancelled meanwhile.
    public func heartbeat(_ task: ClaimedTask) async throws(JobError) -> LeaseStatus {
        let time = now()
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE tasks SET lease_expires_at = ?, updated_at = ?
                    WHERE id = ? AND lease_token = ? AND state = 'running'
                    """,
                arguments: [time + Self.leaseDuration, time, task.id, task.token]
            )
            guard db.changesCount == 1 else { return .lost }
            let flags = try Row.fetchOne(
                db,
                sql: "SELECT paused_at, cancelled_at FROM books WHERE id = ?",
                arguments: [task.bookID]
            )
            if flags?["cancelled_at"] as Double? != nil { return .cancelled }
            if flags?["paused_at"] as Double? != nil { return .paused }
            return .held
        }
    }

    /// Returns tasks whose worker is gone to the queue: its lease expired, or it ran on this machine
    /// and its process no longer exists (a SIGKILL is noticed at once, not after the lease). The
    /// crashed attempt stays used; tasks out of attempts fail; tasks of cancelled books are cancelled.
    @discardableResult
    public func rescueExpiredLeases() async throws(JobError) -> Int {
        let time = now()
        let host = self.host
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.id, t.attempt, t.max_attempts, t.lease_expires_at, b.cancelled_at, w.pid, w.host
                    FROM tasks t JOIN books b ON b.id = t.book_id LEFT JOIN workers w ON w.id = t.lease_owner
                    WHERE t.state = 'running'
                    """
            ).filter { row in
                if (row["lease_expires_at"] as Double? ?? 0) < time { return true }
                guard let pid = row["pid"] as Int32?, row["host"] as String? == host else { return false }
                return !Self.processExists(pid)
            }
            for row in rows {
                let cancelled = (row["cancelled_at"] as Double?) != nil
                let event: TaskEvent = cancelled ? .cancel : .leaseExpired
                guard
                    let next = TaskStateMachine.transition(
                        from: .running,
                        on: event,
                        attempt: row["attempt"],
                        maxAttempts: row["max_attempts"]
                    )
                else { continue }
                // The last real error stays; the death is counted apart (status tells them apart).
                try Self.apply(next, to: row["id"], in: db, at: time, error: nil)
                try Self.log(
                    db,
                    taskID: row["id"],
                    at: time,
                    kind: "rescued",
                    message: "worker gone; now \(next.state.rawValue)"
                )
            }
            return rows.count
        }
    }

    private static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    // MARK: - Finishing a task

    /// Marks a held task done. Returns false when the lease was lost (nothing is written).
    @discardableResult
    public func complete(_ task: ClaimedTask) async throws(JobError) -> Bool {
        try await finish(task, event: .succeed, error: nil, retryAfter: nil)
    }

    /// Records a transient failure: the task is retried after `retryAfter` seconds, or fails when
    /// out of attempts.
    @discardableResult
    public func failTransient(_ task: ClaimedTask, error: String, retryAfter: Double) async throws(JobError) -> Bool {
        try await finish(task, event: .failTransient, error: error, retryAfter: retryAfter)
    }

    /// Records a permanent failure: the task (and so the book) fails now, with this message.
    @discardableResult
    public func failPermanent(_ task: ClaimedTask, error: String) async throws(JobError) -> Bool {
        try await finish(task, event: .failPermanent, error: error, retryAfter: nil)
    }

    /// Gives a task back after a graceful stop (signal or pause) without using an attempt.
    @discardableResult
    public func release(_ task: ClaimedTask, reason: String) async throws(JobError) -> Bool {
        try await finish(task, event: .release, error: nil, retryAfter: nil, note: reason)
    }

    private func finish(
        _ task: ClaimedTask,
        event: TaskEvent,
        error: String?,
        retryAfter: Double?,
        note: String? = nil,
        alongside: @escaping @Sendable (Database, Double) throws -> Void = { _, _ in }
    ) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT attempt, max_attempts FROM tasks WHERE id = ? AND lease_token = ? AND state = 'running'",
                    arguments: [task.id, task.token]
                ),
                let next = TaskStateMachine.transition(
                    from: .running,
                    on: event,
                    attempt: row["attempt"],
                    maxAttempts: row["max_attempts"]
                )
            else { return false }
            try alongside(db, time)
            try Self.apply(next, to: task.id, in: db, at: time, error: error, scheduledAt: time + (retryAfter ?? 0))
            let message = [
                error, note, next.state == .available && retryAfter != nil ? "retry in \(Int(retryAfter ?? 0)) s" : nil,
            ]
            .compactMap { $0 }.joined(separator: "; ")
            try Self.log(
                db,
                taskID: task.id,
                at: time,
                kind: "\(event)".components(separatedBy: "(")[0],
                message: message
            )
            return true
        }
    }

    private static func apply(
        _ transition: TaskTransition,
        to taskID: Int64,
        in db: Database,
        at time: Double,
        error: String?,
        scheduledAt: Double? = nil
    ) throws {
        let attempt = transition.resetsAttempts ? "0" : "attempt + \(transition.attemptDelta)"
        let interruptions =
            transition.resetsAttempts ? "0" : transition.countsInterruption ? "interruptions + 1" : "interruptions"
        try db.execute(
            sql: """
                UPDATE tasks SET state = ?, attempt = \(attempt), interruptions = \(interruptions),
                    lease_owner = NULL, lease_token = NULL,
                    lease_expires_at = NULL, last_error = COALESCE(?, last_error), scheduled_at = COALESCE(?, scheduled_at),
                    updated_at = ?
                WHERE id = ?
                """,
            arguments: [transition.state.rawValue, error, scheduledAt, time, taskID]
        )
    }

    /// Adds a line of `kind` to a held task's history: "silent" for a segment with nothing to speak,
    /// "skipped" for a poison segment left silent (which `status` lists as a warning).
    public func note(_ task: ClaimedTask, kind: String, message: String) async throws(JobError) {
        let time = now()
        try await write { db in try Self.log(db, taskID: task.id, at: time, kind: kind, message: message) }
    }

    /// Adds a line to a held task's history (for retries, which users look for in the log).
    public func logRetry(_ task: ClaimedTask, message: String) async throws(JobError) {
        let time = now()
        try await write { db in try Self.log(db, taskID: task.id, at: time, kind: "retry", message: message) }
    }

    // MARK: - Segments and checkpoints

    /// The segments of a chapter that have no checkpoint yet, in order.
    public func pendingSegments(book: Int64, chapter: Int) async throws(JobError) -> [SegmentWork] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.chapter_idx, s.idx, s.text, s.text_hash, s.boundary FROM segments s
                    LEFT JOIN checkpoints c ON c.book_id = s.book_id AND c.chapter_idx = s.chapter_idx AND c.idx = s.idx
                        AND c.text_hash = s.text_hash
                    WHERE s.book_id = ? AND s.chapter_idx = ? AND c.idx IS NULL
                    ORDER BY s.idx
                    """,
                arguments: [book, chapter]
            ).map { Self.segmentWork($0, book: book) }
        }
    }

    /// The checkpoints of a chapter (or of the whole book), in order.
    public func checkpoints(book: Int64, chapter: Int? = nil) async throws(JobError) -> [CheckpointRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM checkpoints WHERE book_id = ? AND (? IS NULL OR chapter_idx = ?)
                    ORDER BY chapter_idx, idx
                    """,
                arguments: [book, chapter, chapter]
            ).map(Self.checkpoint)
        }
    }

    /// Records a segment whose audio is already durable, if the writer still holds the task's lease.
    /// Returns false (writing nothing) when the lease was lost to another process.
    public func recordCheckpoint(_ record: CheckpointRecord, for task: ClaimedTask) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in
            guard
                try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM tasks WHERE id = ? AND lease_token = ? AND state = 'running'",
                    arguments: [task.id, task.token]
                ) != nil
            else { return false }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO checkpoints (book_id, chapter_idx, idx, text_hash, audio_path, checksum,
                        sample_count, sample_rate, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.bookID, record.chapterIndex, record.index, record.textHash, record.audioPath,
                    record.checksum,
                    record.sampleCount, record.sampleRate, time,
                ]
            )
            return true
        }
    }

    /// Forgets checkpoints whose audio turned out missing or corrupt, so they are synthesized again;
    /// a finished chapter that loses one is opened again.
    public func discardCheckpoints(_ records: [CheckpointRecord], reason: String) async throws(JobError) {
        guard !records.isEmpty else { return }
        let time = now()
        try await write { db in
            for record in records {
                try db.execute(
                    sql: "DELETE FROM checkpoints WHERE book_id = ? AND chapter_idx = ? AND idx = ?",
                    arguments: [record.bookID, record.chapterIndex, record.index]
                )
                try db.execute(
                    sql: """
                        UPDATE tasks SET state = 'available', attempt = 0, scheduled_at = ?, updated_at = ?
                        WHERE book_id = ? AND kind = 'synthesize' AND chapter_idx = ? AND state = 'completed'
                        """,
                    arguments: [time, time, record.bookID, record.chapterIndex]
                )
                if let taskID = try Int64.fetchOne(
                    db,
                    sql: "SELECT id FROM tasks WHERE book_id = ? AND kind = 'synthesize' AND chapter_idx = ?",
                    arguments: [record.bookID, record.chapterIndex]
                ) {
                    try Self.log(
                        db,
                        taskID: taskID,
                        at: time,
                        kind: "checkpoint-discarded",
                        message: "segment \(record.index): \(reason)"
                    )
                }
            }
        }
    }

    // MARK: - Books

    public func book(_ id: Int64) async throws(JobError) -> BookRecord {
        let found = try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM books WHERE id = ?", arguments: [id]).map(Self.bookRecord)
        }
        guard let found else { throw JobError(.notFound, "no such book", bookID: id) }
        return found
    }

    /// Books with work left (waiting, running or failed tasks), not paused or cancelled, oldest first.
    public func unfinishedBooks() async throws(JobError) -> [Int64] {
        try await read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT b.id FROM books b JOIN tasks t ON t.book_id = b.id
                    WHERE b.cancelled_at IS NULL AND b.paused_at IS NULL AND t.state IN ('available', 'running', 'failed')
                    ORDER BY b.id
                    """
            )
        }
    }

    /// The book with this source file, most recent first.
    public func books(withSource path: String) async throws(JobError) -> [Int64] {
        try await read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT id FROM books WHERE source_path = ? ORDER BY id DESC",
                arguments: [path]
            )
        }
    }

    /// Replaces a book's stored settings (for values that do not change its audio, like the server URL).
    public func updateSettings(_ book: Int64, json: String) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: "UPDATE books SET settings_json = ?, updated_at = ? WHERE id = ?",
                arguments: [json, time, book]
            )
        }
    }

    public func pause(_ book: Int64) async throws(JobError) {
        try await setFlag(book, sql: "UPDATE books SET paused_at = COALESCE(paused_at, ?), updated_at = ? WHERE id = ?")
    }

    public func unpause(_ book: Int64) async throws(JobError) {
        try await setFlag(
            book,
            sql: "UPDATE books SET paused_at = NULL, updated_at = ?2 WHERE id = ?3 AND ?1 IS NOT NULL"
        )
    }

    /// Cancels a book: waiting tasks now, running ones when their worker next heartbeats.
    public func cancel(_ book: Int64) async throws(JobError) {
        try await setFlag(
            book,
            sql: "UPDATE books SET cancelled_at = COALESCE(cancelled_at, ?), updated_at = ? WHERE id = ?"
        )
        let time = now()
        try await write { db in
            let ids = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM tasks WHERE book_id = ? AND state = 'available'",
                arguments: [book]
            )
            for id in ids {
                guard let next = TaskStateMachine.transition(from: .available, on: .cancel, attempt: 0, maxAttempts: 1)
                else { continue }
                try Self.apply(next, to: id, in: db, at: time, error: nil)
                try Self.log(db, taskID: id, at: time, kind: "cancelled", message: "")
            }
        }
    }

    /// Starts failed or cancelled tasks of a book again with fresh attempts.
    public func retry(_ book: Int64) async throws(JobError) -> Int {
        _ = try await self.book(book)
        let time = now()
        return try await write { db in
            try db.execute(
                sql: "UPDATE books SET cancelled_at = NULL, paused_at = NULL, updated_at = ? WHERE id = ?",
                arguments: [time, book]
            )
            let ids = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM tasks WHERE book_id = ? AND state IN ('failed', 'cancelled')",
                arguments: [book]
            )
            for id in ids {
                guard let next = TaskStateMachine.transition(from: .failed, on: .retry, attempt: 0, maxAttempts: 1)
                else { continue }
                try Self.apply(next, to: id, in: db, at: time, error: nil, scheduledAt: time)
                try db.execute(sql: "UPDATE tasks SET last_error = NULL WHERE id = ?", arguments: [id])
                try Self.log(db, taskID: id, at: time, kind: "retry", message: "requested")
            }
            return ids.count
        }
    }

    /// Sets a book's priority and that of its tasks not yet finished, so claims follow it at once.
    public func setPriority(_ book: Int64, _ priority: Int) async throws(JobError) {
        _ = try await self.book(book)
        let time = now()
        try await write { db in
            try db.execute(
                sql: "UPDATE books SET priority = ?, updated_at = ? WHERE id = ?",
                arguments: [priority, time, book]
            )
            try db.execute(
                sql: """
                    UPDATE tasks SET priority = ?, updated_at = ?
                    WHERE book_id = ? AND state IN ('available', 'running')
                    """,
                arguments: [priority, time, book]
            )
        }
    }

    private func setFlag(_ book: Int64, sql: String) async throws(JobError) {
        _ = try await self.book(book)
        let time = now()
        try await write { db in try db.execute(sql: sql, arguments: [time, time, book]) }
    }

    // MARK: - Status

    /// The state of one book, or of every book.
    public func status(book: Int64? = nil) async throws(JobError) -> [BookStatus] {
        let time = now()
        return try await read { db in
            let books = try Row.fetchAll(
                db,
                sql: "SELECT * FROM books WHERE (? IS NULL OR id = ?) ORDER BY id",
                arguments: [book, book]
            )
            return try books.map { row in
                let id: Int64 = row["id"]
                let tasks = try Row.fetchAll(
                    db,
                    sql:
                        """
                        SELECT state, last_error, interruptions, kind, chapter_idx, format FROM tasks
                        WHERE book_id = ? AND kind = 'synthesize' ORDER BY chapter_idx
                        """,
                    arguments: [id]
                )
                let states = tasks.compactMap { TaskState(rawValue: $0["state"]) }
                let encodes = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT state, last_error, interruptions, kind, chapter_idx, format FROM tasks
                        WHERE book_id = ? AND kind = 'encode' ORDER BY id
                        """,
                    arguments: [id]
                )
                let outputs = try String.fetchAll(
                    db,
                    sql: "SELECT path FROM outputs WHERE book_id = ? ORDER BY format, part",
                    arguments: [id]
                )
                let segmentsTotal =
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM segments WHERE book_id = ?", arguments: [id]) ?? 0
                let segmentsDone =
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoints WHERE book_id = ?", arguments: [id])
                    ?? 0
                // Rate over the last ten minutes of checkpoints, for the ETA.
                let recent = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) AS n, MIN(created_at) AS first FROM checkpoints WHERE book_id = ? AND created_at > ?",
                    arguments: [id, time - 600]
                )
                var eta: Double?
                if let recent, let count = recent["n"] as Int?, count >= 2, let first = recent["first"] as Double?,
                    time > first
                {
                    eta = Double(segmentsTotal - segmentsDone) / (Double(count) / (time - first))
                }
                let state = BookState.derive(
                    tasks: states + encodes.compactMap { TaskState(rawValue: $0["state"]) },
                    paused: (row["paused_at"] as Double?) != nil,
                    cancelled: (row["cancelled_at"] as Double?) != nil
                )
                let error = (tasks + encodes).first { ($0["state"] as String) == TaskState.failed.rawValue }
                    .map(Self.failure)
                let warnings = try String.fetchAll(
                    db,
                    sql: """
                        SELECT e.message FROM task_events e JOIN tasks t ON t.id = e.task_id
                        WHERE t.book_id = ? AND e.kind = 'skipped' ORDER BY e.id
                        """,
                    arguments: [id]
                )
                return BookStatus(
                    id: id,
                    title: row["title"],
                    source: row["source_path"],
                    state: state,
                    progress: segmentsTotal == 0 ? 1 : Double(segmentsDone) / Double(segmentsTotal),
                    chaptersDone: states.filter { $0 == .completed }.count,
                    chaptersTotal: states.count,
                    segmentsDone: segmentsDone,
                    segmentsTotal: segmentsTotal,
                    etaSeconds: state == .running || state == .queued ? eta : nil,
                    outputs: outputs,
                    error: state == .failed ? error : nil,
                    warnings: warnings
                )
            }
        }
    }

    /// Why a failed task failed, telling attempts lost to dying workers from errors: "stopped 8 times
    /// while encoding mp3; the last error was …".
    private static func failure(_ task: Row) -> String {
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
            try Row.fetchAll(
                db,
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
            try String.fetchAll(
                db,
                sql: "SELECT state FROM tasks WHERE book_id = ? ORDER BY chapter_idx",
                arguments: [book]
            )
            .compactMap(TaskState.init(rawValue:))
        }
    }

    // MARK: - Workers

    // MARK: - Encoding

    private static func insertEncodeTasks(
        _ db: Database,
        book: Int64,
        formats: [String],
        priority: Int,
        at time: Double
    ) throws {
        for format in formats {
            try db.execute(
                sql: """
                    INSERT INTO tasks (book_id, kind, format, state, priority, max_attempts, scheduled_at, created_at,
                        updated_at)
                    VALUES (?, 'encode', ?, 'available', ?, ?, ?, ?, ?)
                    ON CONFLICT DO UPDATE SET state = 'available', attempt = 0, last_error = NULL,
                        scheduled_at = excluded.scheduled_at, updated_at = excluded.updated_at
                    WHERE state <> 'running'
                    """,
                arguments: [book, format, priority, RetryPolicy.task.maxAttempts, time, time, time]
            )
            if let id = try Int64.fetchOne(
                db,
                sql: "SELECT id FROM tasks WHERE book_id = ? AND kind = 'encode' AND format = ?",
                arguments: [book, format]
            ) {
                try log(db, taskID: id, at: time, kind: "enqueued", message: "encode \(format)")
            }
        }
    }

    /// Queues (again) an encode task per format, for a new encode from the book's checkpoints.
    public func scheduleEncode(_ book: Int64, formats: [String]) async throws(JobError) {
        let time = now()
        try await write { db in
            let priority = try Int.fetchOne(db, sql: "SELECT priority FROM books WHERE id = ?", arguments: [book]) ?? 2
            try Self.insertEncodeTasks(db, book: book, formats: formats, priority: priority, at: time)
        }
    }

    /// Completes a held encode task and records its files, replacing earlier ones of its format,
    /// in one transaction. Returns false when the lease was lost.
    public func completeEncode(_ task: ClaimedTask, outputs: [OutputRecord]) async throws(JobError) -> Bool {
        try await finish(
            task,
            event: .succeed,
            error: nil,
            retryAfter: nil,
            note: outputs.map(\.path).joined(separator: ", ")
        ) { db, time in
            try db.execute(
                sql: "DELETE FROM outputs WHERE book_id = ? AND format = ?",
                arguments: [task.bookID, task.format ?? ""]
            )
            for output in outputs {
                try db.execute(
                    sql: """
                        INSERT INTO outputs (book_id, format, part, path, checksum, bytes, seconds, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        task.bookID, output.format, output.part, output.path, output.checksum, output.bytes,
                        output.seconds, time,
                    ]
                )
            }
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
            let held = try String.fetchOne(
                db,
                sql: "SELECT stem FROM output_names WHERE book_id = ? AND folder = ?",
                arguments: [book, folder]
            )
            if let held, isFree(held) { return held }
            let taken = Set(
                try String.fetchAll(
                    db,
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

    /// The state of each of a book's encode tasks, by format.
    public func encodeStates(book: Int64) async throws(JobError) -> [String: TaskState] {
        try await read { db in
            var states: [String: TaskState] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT format, state FROM tasks WHERE book_id = ? AND kind = 'encode'",
                arguments: [book]
            ) {
                if let format = row["format"] as String?, let state = TaskState(rawValue: row["state"]) {
                    states[format] = state
                }
            }
            return states
        }
    }

    /// The finished files of a book.
    public func outputs(book: Int64) async throws(JobError) -> [OutputRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM outputs WHERE book_id = ? ORDER BY format, part",
                arguments: [book]
            ).map { row in
                OutputRecord(
                    format: row["format"],
                    part: row["part"],
                    path: row["path"],
                    checksum: row["checksum"],
                    bytes: row["bytes"],
                    seconds: row["seconds"]
                )
            }
        }
    }

    /// Every segment of a book with its chapter's title, in order: what the encoder assembles.
    public func segments(book: Int64) async throws(JobError) -> [(chapterTitle: String, segment: SegmentWork)] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.chapter_idx, s.idx, s.text, s.text_hash, s.boundary, c.title FROM segments s
                    JOIN chapters c ON c.book_id = s.book_id AND c.idx = s.chapter_idx
                    WHERE s.book_id = ? ORDER BY s.chapter_idx, s.idx
                    """,
                arguments: [book]
            ).map { row in
                (row["title"], Self.segmentWork(row, book: book))
            }
        }
    }

    /// Whether tasks of `kind` are still to run for these books (not paused, cancelled or failed).
    public func hasOpenTasks(books: [Int64], kind: TaskKind) async throws(JobError) -> Bool {
        guard !books.isEmpty else { return false }
        let list = books.map(String.init).joined(separator: ",")
        return try await read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM tasks t JOIN books b ON b.id = t.book_id
                        WHERE t.book_id IN (\(list)) AND t.kind = ? AND t.state IN ('available', 'running')
                            AND b.paused_at IS NULL AND b.cancelled_at IS NULL
                            AND NOT EXISTS (SELECT 1 FROM tasks f WHERE f.book_id = t.book_id AND f.state = 'failed'))
                    """,
                arguments: [kind.rawValue]
            ) ?? false
        }
    }

    /// Removes a book and everything recorded about it (tasks, checkpoints, outputs rows; not files).
    public func delete(_ book: Int64) async throws(JobError) {
        let found = try await write { db in
            try db.execute(sql: "DELETE FROM books WHERE id = ?", arguments: [book])
            return db.changesCount > 0
        }
        guard found else { throw JobError(.notFound, "no such book", bookID: book) }
    }

    public func registerWorker(id: String, pid: Int32, host: String) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO workers (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, pid, host, time, time]
            )
        }
    }

    public func removeWorker(id: String) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM workers WHERE id = ?", arguments: [id]) }
    }

    // MARK: - Plumbing

    private static func log(_ db: Database, taskID: Int64, at time: Double, kind: String, message: String) throws {
        try db.execute(
            sql: "INSERT INTO task_events (task_id, at, kind, message) VALUES (?, ?, ?, ?)",
            arguments: [taskID, time, kind, message]
        )
    }

    private static func checkpoint(_ row: Row) -> CheckpointRecord {
        CheckpointRecord(
            bookID: row["book_id"],
            chapterIndex: row["chapter_idx"],
            index: row["idx"],
            textHash: row["text_hash"],
            audioPath: row["audio_path"],
            checksum: row["checksum"],
            sampleCount: row["sample_count"],
            sampleRate: row["sample_rate"]
        )
    }

    private static func segmentWork(_ row: Row, book: Int64) -> SegmentWork {
        SegmentWork(
            bookID: book,
            chapterIndex: row["chapter_idx"],
            index: row["idx"],
            text: row["text"],
            textHash: row["text_hash"],
            boundary: SegmentBoundary(rawValue: row["boundary"]) ?? .sentence
        )
    }

    private static func bookRecord(_ row: Row) -> BookRecord {
        let authors: String = row["authors"]
        return BookRecord(
            id: row["id"],
            sourcePath: row["source_path"],
            settingsJSON: row["settings_json"],
            title: row["title"],
            authors: authors.isEmpty ? [] : authors.components(separatedBy: "\n"),
            language: row["language"],
            sampleRate: row["sample_rate"],
            priority: row["priority"],
            paused: (row["paused_at"] as Double?) != nil,
            cancelled: (row["cancelled_at"] as Double?) != nil,
            metadataJSON: row["metadata_json"]
        )
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(JobError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.translate(error)
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(JobError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> JobError {
        if let error = error as? JobError { return error }
        if let error = error as? DatabaseError {
            let message = "\(error.message ?? "SQLite error \(error.resultCode.rawValue)") (database)"
            if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                return JobError(.locked, "the job database is locked by another process: \(message)")
            }
            return JobError(.database, message)
        }
        return JobError(.database, "\(error)")
    }
}
