internal import Foundation
internal import GRDB
public import RecitalModel

/// The processes working on the table, so that a dead one is noticed at once on its machine.
extension JobStore {
    public func registerWorker(id: String, pid: Int32, host: String) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO workers (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host,
                        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
                    """,
                arguments: [id, pid, host, time, time]
            )
        }
    }

    public func removeWorker(id: String) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM workers WHERE id = ?", arguments: [id]) }
    }
}

/// What `stats` shows of the work being done.
extension JobStore {
    /// Every registered worker with what it holds and when it last renewed a lease.
    public func workers() async throws(JobError) -> [WorkerStatus] {
        try await read { db in
            try db.rows(
                sql: """
                    SELECT w.id, w.host, w.pid, w.started_at,
                        \(db.dialect.greatest)(w.heartbeat_at, COALESCE(MAX(t.lease_expires_at) - ?, 0)) AS heartbeat,
                        COUNT(t.id) AS holding
                    FROM workers w LEFT JOIN tasks t ON t.lease_owner = w.id AND t.state = 'running'
                    GROUP BY w.id ORDER BY w.host, w.started_at
                    """,
                arguments: [Self.leaseDuration]
            ).map {
                WorkerStatus(
                    id: $0["id"],
                    host: $0["host"],
                    pid: $0["pid"],
                    startedAt: $0["started_at"],
                    heartbeatAt: $0["heartbeat"],
                    holding: $0["holding"]
                )
            }
        }
    }

    /// Characters of text synthesized per second over the last `window` seconds (nil when nothing
    /// was).
    public func charactersPerSecond(window: Double) async throws(JobError) -> Double? {
        let since = now() - window
        return try await read { db in
            guard
                let row = try db.row(
                    sql: """
                        SELECT SUM(LENGTH(s.text)) AS characters, MIN(c.created_at) AS first, MAX(c.created_at) AS last
                        FROM checkpoints c JOIN segments s
                            ON s.book_id = c.book_id AND s.chapter_idx = c.chapter_idx AND s.idx = c.idx
                        WHERE c.created_at > ?
                        """,
                    arguments: [since]
                ), let characters = row["characters"] as Int?, let first = row["first"] as Double?,
                let last = row["last"] as Double?, last > first
            else { return nil }
            return Double(characters) / (last - first)
        }
    }
}

extension JobStore {
    /// Each book's last finished piece of work: whether it succeeded, its error, and when.
    public func lastResults() async throws(JobError) -> [Int64: (ok: Bool, message: String?, at: Double)] {
        try await read { db in
            var results: [Int64: (ok: Bool, message: String?, at: Double)] = [:]
            for row in try db.rows(
                sql: """
                    SELECT t.book_id, e.kind, e.message, e.at FROM task_events e JOIN tasks t ON t.id = e.task_id
                    WHERE e.id IN (
                        SELECT MAX(e2.id) FROM task_events e2 JOIN tasks t2 ON t2.id = e2.task_id
                        WHERE e2.kind IN ('succeed', 'failTransient', 'failPermanent') GROUP BY t2.book_id)
                    """
            ) {
                let ok = (row["kind"] as String) == "succeed"
                results[row["book_id"]] = (ok, ok ? nil : row["message"], row["at"])
            }
            return results
        }
    }

    /// Calls `heard` soon after any process commits claimable work (a book queued, a chapter
    /// reopened, a retry scheduled), until the calling task is cancelled: PostgreSQL's `LISTEN` on a
    /// connection of its own. SQLite has no such channel, so this returns at once and its workers
    /// find work by looking. Throws when the listening connection fails (the caller listens again).
    public func listenForWork(_ heard: @escaping @Sendable () -> Void) async throws(JobError) {
        guard case .postgres(let database) = backend else { return }
        do {
            try await database.listenForWork(heard)
        } catch {
            throw Self.translate(error)
        }
    }

    /// Whether ``listenForWork(_:)`` hears anything on this database.
    public var notifiesWork: Bool {
        if case .postgres = backend { return true }
        return false
    }
}
