internal import Foundation
public import RecitalModel

/// Moving a whole library from one job table to another (`recital db copy`): SQLite to PostgreSQL
/// when a user outgrows one machine, and back.
extension JobStore {
    /// A table copied whole, in an order its foreign keys accept, read in pages ordered by its key.
    private struct CopiedTable {
        var name: String
        var key: String
        /// Rows read at a time: few for tables of audio, whose rows are megabytes.
        var page = 2_000
    }

    private static let copiedTables: [CopiedTable] = [
        CopiedTable(name: "books", key: "id"),
        CopiedTable(name: "chapters", key: "book_id, idx"),
        CopiedTable(name: "segments", key: "book_id, chapter_idx, idx"),
        CopiedTable(name: "checkpoints", key: "book_id, chapter_idx, idx"),
        CopiedTable(name: "checkpoint_audio", key: "book_id, chapter_idx, idx", page: 32),
        CopiedTable(name: "book_covers", key: "book_id", page: 16),
        CopiedTable(name: "tasks", key: "id"),
        CopiedTable(name: "task_events", key: "id"),
        CopiedTable(name: "outputs", key: "book_id, format, part"),
        CopiedTable(name: "output_chunks", key: "book_id, format, part, seq", page: 4),
        CopiedTable(name: "output_names", key: "folder, stem"),
        CopiedTable(name: "watched_files", key: "path"),
        CopiedTable(name: "watch_inboxes", key: "path"),
        CopiedTable(name: "request_keys", key: "key"),
    ]

    /// Copies every book, with its chapters, segments, checkpoints (and the audio this table keeps),
    /// tasks and their history, files, watched files and upload keys, into `target`, in one
    /// transaction of the target's: all of it lands, or none. Workers and leader leases are not
    /// copied: they belong to the processes of the old table.
    /// - Returns: rows copied per table.
    /// - Throws: ``JobError`` `.invalidTransition` when the target already holds books or a worker
    ///   still holds work here (stop the workers first).
    public func copyAll(
        to target: JobStore,
        progress: @escaping @Sendable (_ table: String, _ rows: Int) -> Void = { _, _ in }
    ) async throws(JobError) -> [String: Int] {
        let time = now()
        let (held, alive) = try await read { db in
            (
                try db.value(
                    Int.self,
                    sql: "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND lease_expires_at >= ?",
                    arguments: [time]
                ) ?? 0,
                try db.value(
                    Int.self,
                    sql: "SELECT COUNT(*) FROM workers WHERE heartbeat_at >= ?",
                    arguments: [time - Self.leaseDuration]
                ) ?? 0
            )
        }
        guard held == 0, alive == 0 else {
            throw JobError(
                .invalidTransition,
                held > 0
                    ? "\(path): \(held) task\(held == 1 ? " is" : "s are") held by a running worker; stop the workers first"
                    : "\(path): \(alive) worker\(alive == 1 ? " is" : "s are") running on it; stop the workers first"
            )
        }
        let source = self
        return try await target.write { db in
            try db.allowLongTransaction()
            let existing = try db.value(Int.self, sql: "SELECT COUNT(*) FROM books") ?? 0
            guard existing == 0 else {
                throw JobError(
                    .invalidTransition,
                    "\(target.path) already holds \(existing) book\(existing == 1 ? "" : "s"); copy into an empty job table"
                )
            }
            // One read transaction of the source: a snapshot, whatever happens there meanwhile.
            var began = false
            let counts = try source.readNow { from in
                // Run again after a lost session, it would insert into the target what is there already.
                guard !began else {
                    throw JobError(.database, "\(source.path): the connection was lost during the copy; copy again")
                }
                began = true
                try from.allowLongTransaction()
                var counts: [String: Int] = [:]
                for table in Self.copiedTables {
                    var offset = 0
                    while true {
                        let rows = try from.rows(
                            sql: "SELECT * FROM \(table.name) ORDER BY \(table.key) LIMIT ? OFFSET ?",
                            arguments: [table.page, offset]
                        )
                        guard let first = rows.first else { break }
                        try Self.insert(rows, columns: first.columns, into: table.name, db: db)
                        offset += rows.count
                        progress(table.name, offset)
                    }
                    counts[table.name] = offset
                }
                return counts
            }
            // Ids were copied as they were; new rows must number on from the highest.
            if db.dialect.numbersIdentities {
                for table in ["books", "tasks", "task_events"] {
                    try db.execute(
                        sql: """
                            SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE(MAX(id), 0) + 1, false)
                            FROM \(table)
                            """
                    )
                }
            }
            return counts
        }
    }

    /// Inserts rows in statements of many rows each (one round trip per statement on PostgreSQL).
    private static func insert(_ rows: [SQLRow], columns: [String], into table: String, db: any SQLSession) throws {
        let perStatement = max(1, min(500, 30_000 / max(1, columns.count)))
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            try db.execute(
                sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: placeholders, count: batch.count).joined(separator: ", "),
                arguments: SQLArguments(batch.flatMap(\.values))
            )
            start += batch.count
        }
    }

    /// Moves a checkpoint's audio without a lease (a library being moved, no worker running):
    /// into a file at `path` (the table's copy goes), or, with `path` empty, into the table as `packed`.
    public func relocateAudio(_ record: CheckpointRecord, path: String, packed: [UInt8]?) async throws(JobError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE checkpoints SET audio_path = ? WHERE book_id = ? AND chapter_idx = ? AND idx = ?",
                arguments: [path, record.bookID, record.chapterIndex, record.index]
            )
            try Self.placeAudio(packed, of: record, in: db)
        }
    }

    /// Every book id, in order.
    public func bookIDs() async throws(JobError) -> [Int64] {
        try await read { db in try db.values(Int64.self, sql: "SELECT id FROM books ORDER BY id") }
    }

    /// Removes a cover kept in the table (it went to a file).
    public func removeCover(book: Int64) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM book_covers WHERE book_id = ?", arguments: [book]) }
    }
}
