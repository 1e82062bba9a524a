internal import Foundation
internal import GRDB
public import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// Claims and leases: taking work, renewing and rescuing leases, and finishing a held task, every
/// change of state through ``TaskStateMachine``.
extension JobStore {
    /// Claims up to `limit` available tasks, highest priority first then oldest, in one statement.
    /// - Parameters:
    ///   - books: only tasks of these books, or any book when nil.
    ///   - server: the TTS server the tasks will speak through, recorded with them while they run.
    ///   - early: for encode tasks, claim them while chapters are still being synthesized (an
    ///     encode that follows synthesis chapter by chapter).
    ///   - serverLimit: at most this many tasks running through `server` across every process; the
    ///     count and the claim are one transaction (serializable on PostgreSQL), so it holds across
    ///     machines.
    public func claim(
        owner: String,
        limit: Int,
        books: [Int64]? = nil,
        kind: TaskKind = .synthesize,
        server: String? = nil,
        serverLimit: Int? = nil,
        early: Bool = false
    ) async throws(JobError) -> [ClaimedTask] {
        let time = now()
        let token = UUID().uuidString
        if let books, books.isEmpty { return [] }
        // Book ids are integers, so listing them inline is safe and keeps the arguments Sendable.
        var bookFilter = books.map { " AND t.book_id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        // Encoding waits until every chapter of the book is synthesized, unless the claimer encodes
        // chapters as they come (`early`).
        bookFilter +=
            kind == .synthesize
            ? " AND t.kind = 'synthesize'"
            : early
                ? " AND t.kind = 'encode'"
                : " AND t.kind = 'encode' AND NOT EXISTS (SELECT 1 FROM tasks s WHERE s.book_id = t.book_id"
                    + " AND s.kind = 'synthesize' AND s.state <> 'completed')"
        let filter = bookFilter
        let leaseEnd = time + Self.leaseDuration
        // One statement claims them all; what a claim does to a task is the state machine's rule.
        guard let claim = TaskStateMachine.transition(from: .available, on: .claim, attempt: 0, maxAttempts: 1) else {
            return []
        }
        // Row locks guard a claim: rows another claimer holds are passed over, and a row it has just
        // claimed fails the re-check of `state`. Under serializable isolation, claimers reading the
        // same queue at once would fail each other for nothing.
        return try await write(isolation: .readCommitted) { db in
            var limit = limit
            if let server, let serverLimit {
                // The count and the claim must not interleave with another claim for this server.
                try db.serialize(on: "recital-server:" + server)
                let running =
                    try db.value(
                        Int.self,
                        sql: "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND server = ?",
                        arguments: [server]
                    ) ?? 0
                limit = min(limit, serverLimit - running)
                guard limit > 0 else { return [] }
            }
            let arguments: SQLArguments = [claim.state.rawValue, owner, token, leaseEnd, time, server, time, limit]
            let rows = try db.rows(
                sql: """
                    UPDATE tasks
                    SET state = ?, attempt = attempt + \(claim.attemptDelta), lease_owner = ?, lease_token = ?,
                        lease_expires_at = ?, updated_at = ?, server = ?
                    WHERE id IN (
                        SELECT t.id FROM tasks t JOIN books b ON b.id = t.book_id
                        WHERE t.state = 'available' AND t.scheduled_at <= ?
                            AND b.paused_at IS NULL AND b.cancelled_at IS NULL\(filter)
                        ORDER BY t.priority, t.scheduled_at, t.id
                        LIMIT ?\(db.dialect.skipLocked))
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
                    format: (row["format"] as String?).flatMap(AudioContainer.init(rawValue:))
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
            let renewed = try db.execute(
                sql: """
                    UPDATE tasks SET lease_expires_at = ?, updated_at = ?
                    WHERE id = ? AND lease_token = ? AND state = 'running'
                    """,
                arguments: [time + Self.leaseDuration, time, task.id, task.token]
            )
            guard renewed == 1 else { return .lost }
            let flags = try db.row(
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
    /// - Parameter leader: the worker asking. Expired leases are then rescued only by the holder of
    ///   the ``Duty/rescue`` lease (taken here when free), so two machines never rescue at once;
    ///   dead processes on this machine are everyone's to notice, as only this machine can see them.
    @discardableResult
    public func rescueExpiredLeases(leader: String? = nil) async throws(JobError) -> Int {
        let time = now()
        let host = self.host
        return try await write { db in
            let leads = try leader.map { try Self.lead(db, .rescue, owner: $0, at: time) } ?? true
            let rows = try db.rows(
                sql: """
                    SELECT t.id, t.attempt, t.max_attempts, t.lease_expires_at, b.cancelled_at, w.pid, w.host
                    FROM tasks t JOIN books b ON b.id = t.book_id LEFT JOIN workers w ON w.id = t.lease_owner
                    WHERE t.state = 'running'
                    """
            ).filter { row in
                if leads, (row["lease_expires_at"] as Double? ?? 0) < time { return true }
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

    /// Takes or renews the lease of a cluster duty for `owner`; false while another holds it.
    public func lead(_ duty: Duty, owner: String) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in try Self.lead(db, duty, owner: owner, at: time) }
    }

    /// Who holds each duty's lease now.
    public func leaders() async throws(JobError) -> [Duty: String] {
        let time = now()
        return try await read { db in
            var leaders: [Duty: String] = [:]
            for row in try db.rows(sql: "SELECT duty, owner FROM leaders WHERE expires_at >= ?", arguments: [time]) {
                if let duty = Duty(rawValue: row["duty"]) { leaders[duty] = row["owner"] }
            }
            return leaders
        }
    }

    static func lead(_ db: any SQLSession, _ duty: Duty, owner: String, at time: Double) throws -> Bool {
        // Most calls find another holder: a read, with no row lock to conflict with its renewal.
        if let held = try db.row(
            sql: "SELECT owner, expires_at FROM leaders WHERE duty = ?",
            arguments: [duty.rawValue]
        ),
            (held["owner"] as String) != owner, (held["expires_at"] as Double) >= time
        {
            return false
        }
        return try db.value(
            String.self,
            sql: """
                INSERT INTO leaders (duty, owner, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (duty) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE leaders.owner = excluded.owner OR leaders.expires_at < ?
                RETURNING owner
                """,
            arguments: [duty.rawValue, owner, time + leaseDuration, time]
        ) == owner
    }

    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

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

    /// Ends a held task of a book that was cancelled while it ran.
    @discardableResult
    public func cancelHeld(_ task: ClaimedTask) async throws(JobError) -> Bool {
        try await finish(task, event: .cancel, error: nil, retryAfter: nil, note: "book cancelled")
    }

    /// Gives a task back after a graceful stop (signal or pause) without using an attempt.
    @discardableResult
    public func release(_ task: ClaimedTask, reason: String) async throws(JobError) -> Bool {
        try await finish(task, event: .release, error: nil, retryAfter: nil, note: reason)
    }

    func finish(
        _ task: ClaimedTask,
        event: TaskEvent,
        error: String?,
        retryAfter: Double?,
        note: String? = nil,
        alongside: @escaping @Sendable (any SQLSession, Double) throws -> Void = { _, _ in }
    ) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in
            guard
                let row = try db.row(
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
            try Self.apply(next, to: task.id, in: db, at: time, error: error, scheduledAt: retryAfter.map { time + $0 })
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

    static func apply(
        _ transition: TaskTransition,
        to taskID: Int64,
        in db: any SQLSession,
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
                    lease_expires_at = NULL,
                    last_error = \(transition.resetsAttempts ? "NULL" : "COALESCE(?, last_error)"),
                    scheduled_at = COALESCE(?, scheduled_at),
                    updated_at = ?
                WHERE id = ?
                """,
            arguments: transition.resetsAttempts
                ? [transition.state.rawValue, scheduledAt, time, taskID]
                : [transition.state.rawValue, error, scheduledAt, time, taskID]
        )
        if transition.state == .available && (scheduledAt ?? time) <= time { try db.notifyWork() }
    }

    /// Moves a task that no worker holds (`state` as read in this transaction) by `event`, as the
    /// state machine says, scheduling it for `scheduledAt` when given, and logs it. Returns whether
    /// the event applied in that state.
    @discardableResult
    static func move(
        _ taskID: Int64,
        from state: TaskState,
        on event: TaskEvent,
        in db: any SQLSession,
        at time: Double,
        scheduledAt: Double? = nil,
        log kind: String,
        message: String = ""
    ) throws -> Bool {
        guard let next = TaskStateMachine.transition(from: state, on: event, attempt: 0, maxAttempts: 1) else {
            return false
        }
        try apply(next, to: taskID, in: db, at: time, error: nil, scheduledAt: scheduledAt)
        try log(db, taskID: taskID, at: time, kind: kind, message: message)
        return true
    }

    /// Adds a line of `kind` to a held task's history: "silent" for a segment with nothing to speak,
    /// "skipped" for a poison segment left silent (which `status` lists as a warning).
    public func note(_ task: ClaimedTask, kind: String, message: String) async throws(JobError) {
        let time = now()
        try await write { db in try Self.log(db, taskID: task.id, at: time, kind: kind, message: message) }
    }

    /// Adds a line to a held task's history (for retries, which users look for in the log).
    /// Returns false, writing nothing, when the lease was lost: the history is the new holder's.
    @discardableResult
    public func logRetry(_ task: ClaimedTask, message: String) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in
            guard try Self.holds(task, in: db) else { return false }
            try Self.log(db, taskID: task.id, at: time, kind: "retry", message: message)
            return true
        }
    }

    /// Whether `task`'s lease is still the one its claim took.
    static func holds(_ task: ClaimedTask, in db: any SQLSession) throws -> Bool {
        try db.value(
            Bool.self,
            sql: "SELECT 1 FROM tasks WHERE id = ? AND lease_token = ? AND state = 'running'",
            arguments: [task.id, task.token]
        ) != nil
    }

    /// Whether tasks of `kind` are still to run for these books (not paused, cancelled or failed).
    public func hasOpenTasks(books: [Int64], kind: TaskKind) async throws(JobError) -> Bool {
        try await openTaskKinds(books: books).contains(kind)
    }

    /// The kinds of task the books have open, as ``hasOpenTasks(books:kind:)`` counts them, in one
    /// look (a loop waiting on both asks often).
    public func openTaskKinds(books: [Int64]) async throws(JobError) -> Set<TaskKind> {
        guard !books.isEmpty else { return [] }
        let list = books.map(String.init).joined(separator: ",")
        return try await read { db in
            Set(
                try db.rows(
                    sql: """
                        SELECT DISTINCT t.kind FROM tasks t JOIN books b ON b.id = t.book_id
                        WHERE t.book_id IN (\(list)) AND t.state IN ('available', 'running')
                            AND b.paused_at IS NULL AND b.cancelled_at IS NULL
                            AND NOT EXISTS (SELECT 1 FROM tasks f WHERE f.book_id = t.book_id AND f.state = 'failed')
                        """
                ).compactMap { TaskKind(rawValue: $0["kind"]) }
            )
        }
    }

    /// The soonest retry among these books' tasks that wait out a backoff: seconds until it (by the
    /// job table's clock) and the error that caused it.
    public func pendingRetry(
        books: [Int64],
        kind: TaskKind
    ) async throws(JobError) -> (seconds: Double, error: String)? {
        guard !books.isEmpty else { return nil }
        let list = books.map(String.init).joined(separator: ",")
        let time = now()
        return try await read { db in
            guard
                let row = try db.row(
                    sql: """
                        SELECT scheduled_at, COALESCE(last_error, '') AS last_error FROM tasks
                        WHERE book_id IN (\(list)) AND kind = ? AND state = 'available' AND scheduled_at > ?
                        ORDER BY scheduled_at LIMIT 1
                        """,
                    arguments: [kind.rawValue, time]
                )
            else { return nil }
            let at: Double = row["scheduled_at"]
            let error: String = row["last_error"]
            return (at - time, error)
        }
    }
}
