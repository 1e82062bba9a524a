internal import Foundation
internal import GRDB
public import RecitalModel

/// Books: adding them, and the controls a user has over them (pause, cancel, retry, priority, delete).
extension JobStore {
    /// Adds a book with its chapters, segments and one synthesize task per chapter, unless the same
    /// content with the same settings is already there.
    public func enqueue(_ book: NewBook) async throws(JobError) -> EnqueueResult {
        let time = now()
        return try await write { db in
            if let existing = try db.value(
                Int64.self,
                sql: "SELECT id FROM books WHERE content_hash = ? AND settings_hash = ?",
                arguments: [book.contentHash, book.settingsHash]
            ) {
                return .existing(existing)
            }
            let inserted = try db.value(
                Int64.self,
                sql: """
                    INSERT INTO books (source_path, content_hash, settings_hash, settings_json, title, authors,
                        language, sample_rate, priority, created_at, updated_at, metadata_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING id
                    """,
                arguments: [
                    book.sourcePath, book.contentHash, book.settingsHash, book.settingsJSON, book.title,
                    book.authors.joined(separator: "\n"), book.language, book.sampleRate, book.priority, time, time,
                    book.metadataJSON,
                ]
            )
            guard let bookID = inserted else { throw JobError(.database, "the new book's row has no id") }
            for chapter in book.chapters {
                try db.execute(
                    sql: "INSERT INTO chapters (book_id, idx, title, segment_count) VALUES (?, ?, ?, ?)",
                    arguments: [bookID, chapter.index, chapter.title, chapter.segments.count]
                )
                try db.executeMany(
                    sql: """
                        INSERT INTO segments (book_id, chapter_idx, idx, text, boundary, text_hash)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: chapter.segments.map { segment in
                        [
                            bookID, chapter.index, segment.index, segment.text, segment.boundary.rawValue,
                            ContentHash.text(segment.text),
                        ]
                    }
                )
                let task = try db.value(
                    Int64.self,
                    sql: """
                        INSERT INTO tasks (book_id, kind, chapter_idx, state, priority, max_attempts, scheduled_at,
                            created_at, updated_at)
                        VALUES (?, 'synthesize', ?, 'available', ?, ?, ?, ?, ?)
                        RETURNING id
                        """,
                    arguments: [
                        bookID, chapter.index, book.priority, RetryPolicy.task.maxAttempts, time, time, time,
                    ]
                )
                if let task { try Self.log(db, taskID: task, at: time, kind: "enqueued", message: chapter.title) }
            }
            try Self.insertEncodeTasks(db, book: bookID, formats: book.encodeFormats, priority: book.priority, at: time)
            try db.notifyWork()
            return .created(bookID)
        }
    }

    public func book(_ id: Int64) async throws(JobError) -> BookRecord {
        let found = try await read { db in
            try db.row(sql: "SELECT * FROM books WHERE id = ?", arguments: [id]).map(Self.bookRecord)
        }
        guard let found else { throw JobError(.notFound, "no such book", bookID: id) }
        return found
    }

    /// Books with work left (waiting, running or failed tasks), not paused or cancelled, oldest first.
    public func unfinishedBooks() async throws(JobError) -> [Int64] {
        try await read { db in
            try db.values(
                Int64.self,
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
            try db.values(
                Int64.self,
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
        // Its waiting tasks are claimable again.
        try await write { db in try db.notifyWork() }
    }

    /// Cancels a book: waiting tasks now, running ones when their worker next heartbeats.
    public func cancel(_ book: Int64) async throws(JobError) {
        try await setFlag(
            book,
            sql: "UPDATE books SET cancelled_at = COALESCE(cancelled_at, ?), updated_at = ? WHERE id = ?"
        )
        let time = now()
        try await write { db in
            let ids = try db.values(
                Int64.self,
                sql: "SELECT id FROM tasks WHERE book_id = ? AND state = 'available'",
                arguments: [book]
            )
            for id in ids { try Self.move(id, from: .available, on: .cancel, in: db, at: time, log: "cancelled") }
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
            var retried = 0
            for row in try db.rows(
                sql: "SELECT id, state FROM tasks WHERE book_id = ? AND state IN ('failed', 'cancelled')",
                arguments: [book]
            ) {
                guard let state = TaskState(rawValue: row["state"]),
                    try Self.move(
                        row["id"],
                        from: state,
                        on: .retry,
                        in: db,
                        at: time,
                        scheduledAt: time,
                        log: "retry",
                        message: "requested"
                    )
                else { continue }
                retried += 1
            }
            return retried
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

    func setFlag(_ book: Int64, sql: String) async throws(JobError) {
        _ = try await self.book(book)
        let time = now()
        try await write { db in try db.execute(sql: sql, arguments: [time, time, book]) }
    }

    /// Removes a book and everything recorded about it (tasks, checkpoints, outputs rows; not files).
    public func delete(_ book: Int64) async throws(JobError) {
        let found = try await write { db in
            try db.execute(sql: "DELETE FROM books WHERE id = ?", arguments: [book]) > 0
        }
        guard found else { throw JobError(.notFound, "no such book", bookID: book) }
    }
}

/// Idempotency keys of uploads.
extension JobStore {
    /// The book a key made, and the bytes it was made from.
    public func requestKey(_ key: String) async throws(JobError) -> (book: Int64, contentHash: String)? {
        try await read { db in
            try db.row(sql: "SELECT book_id, content_hash FROM request_keys WHERE key = ?", arguments: [key])
                .map { ($0["book_id"], $0["content_hash"]) }
        }
    }

    public func recordRequestKey(_ key: String, book: Int64, contentHash: String) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO request_keys (key, book_id, content_hash, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (key) DO NOTHING
                    """,
                arguments: [key, book, contentHash, time]
            )
        }
    }
}

extension JobStore {
    /// Records that a book's source file now lives at `path` (an upload renamed after its job).
    public func updateSource(_ book: Int64, path: String) async throws(JobError) {
        try await write { db in
            try db.execute(sql: "UPDATE books SET source_path = ? WHERE id = ?", arguments: [path, book])
        }
    }
}
