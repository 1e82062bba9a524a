internal import Foundation
internal import GRDB
public import RecitalModel

/// Segments and their checkpoints: what is left to speak, and durable audio recorded under a lease.
extension JobStore {
    /// The segments of a chapter that have no checkpoint yet, in order.
    public func pendingSegments(book: Int64, chapter: Int) async throws(JobError) -> [SegmentWork] {
        try await read { db in
            try db.rows(
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
            try db.rows(
                sql: """
                    SELECT c.*, CASE WHEN a.idx IS NULL THEN 0 ELSE 1 END AS in_table FROM checkpoints c
                    LEFT JOIN checkpoint_audio a ON a.book_id = c.book_id AND a.chapter_idx = c.chapter_idx
                        AND a.idx = c.idx
                    WHERE c.book_id = ? AND (CAST(? AS BIGINT) IS NULL OR c.chapter_idx = ?)
                    ORDER BY c.chapter_idx, c.idx
                    """,
                arguments: [book, chapter, chapter]
            ).map(Self.checkpoint)
        }
    }

    /// Records a segment whose audio is already durable, or whose audio is `audio` (PackedPCM, kept
    /// in the job table, written in this same transaction), if the writer still holds the task's
    /// lease. Returns false (writing nothing) when the lease was lost to another process.
    public func recordCheckpoint(
        _ record: CheckpointRecord,
        audio: [UInt8]? = nil,
        for task: ClaimedTask
    ) async throws(JobError) -> Bool {
        let time = now()
        return try await write { db in
            guard try Self.holds(task, in: db) else { return false }
            try db.execute(
                sql: """
                    INSERT INTO checkpoints (book_id, chapter_idx, idx, text_hash, audio_path, checksum,
                        sample_count, sample_rate, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (book_id, chapter_idx, idx) DO UPDATE SET text_hash = excluded.text_hash,
                        audio_path = excluded.audio_path, checksum = excluded.checksum,
                        sample_count = excluded.sample_count, sample_rate = excluded.sample_rate,
                        created_at = excluded.created_at
                    """,
                arguments: [
                    record.bookID, record.chapterIndex, record.index, record.textHash, record.audioPath,
                    record.checksum,
                    record.sampleCount, record.sampleRate, time,
                ]
            )
            // A segment spoken again into a file leaves no older audio behind in the table.
            try Self.placeAudio(audio, of: record, in: db)
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
                // A stopped encode's files hold the old audio: it cannot be taken up any more.
                try db.execute(
                    sql: "UPDATE tasks SET encode_resume = NULL WHERE book_id = ? AND kind = 'encode'",
                    arguments: [record.bookID]
                )
                guard
                    let task = try db.row(
                        sql:
                            "SELECT id, state FROM tasks WHERE book_id = ? AND kind = 'synthesize' AND chapter_idx = ?",
                        arguments: [record.bookID, record.chapterIndex]
                    )
                else { continue }
                let taskID: Int64 = task["id"]
                // A completed chapter is open again; one still waiting or running just has one more
                // segment to speak.
                if TaskState(rawValue: task["state"]) == .completed {
                    try Self.move(
                        taskID,
                        from: .completed,
                        on: .reopen,
                        in: db,
                        at: time,
                        scheduledAt: time,
                        log: "reopened"
                    )
                }
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

    /// Every segment of a book with its chapter's title, in order: what the encoder assembles.
    public func segments(book: Int64) async throws(JobError) -> [(chapterTitle: String, segment: SegmentWork)] {
        try await read { db in
            try db.rows(
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

    /// Keeps `packed` as the checkpoint's audio in the table, or, when nil, removes any the table keeps.
    static func placeAudio(_ packed: [UInt8]?, of record: CheckpointRecord, in db: any SQLSession) throws {
        if let packed {
            try db.execute(
                sql: """
                    INSERT INTO checkpoint_audio (book_id, chapter_idx, idx, data) VALUES (?, ?, ?, ?)
                    ON CONFLICT (book_id, chapter_idx, idx) DO UPDATE SET data = excluded.data
                    """,
                arguments: [record.bookID, record.chapterIndex, record.index, packed]
            )
        } else {
            try db.execute(
                sql: "DELETE FROM checkpoint_audio WHERE book_id = ? AND chapter_idx = ? AND idx = ?",
                arguments: [record.bookID, record.chapterIndex, record.index]
            )
        }
    }

    /// A segment's audio kept in the job table (PackedPCM), or nil if the table holds none.
    public func tableAudio(book: Int64, chapter: Int, segment: Int) async throws(JobError) -> [UInt8]? {
        try await read { db in try Self.tableAudio(db, book: book, chapter: chapter, segment: segment) }
    }

    /// ``tableAudio(book:chapter:segment:)`` on the calling thread, which must be a blocking
    /// thread of the caller's own (the encoder's).
    public func tableAudioNow(book: Int64, chapter: Int, segment: Int) throws(JobError) -> [UInt8]? {
        try readNow { db in try Self.tableAudio(db, book: book, chapter: chapter, segment: segment) }
    }

    private static func tableAudio(_ db: any SQLSession, book: Int64, chapter: Int, segment: Int) throws -> [UInt8]? {
        try db.value(
            [UInt8].self,
            sql: "SELECT data FROM checkpoint_audio WHERE book_id = ? AND chapter_idx = ? AND idx = ?",
            arguments: [book, chapter, segment]
        )
    }

    /// Removes the audio the job table keeps for a book (its checkpoints stay, as after removing
    /// checkpoint files: asking for a file again synthesizes them again).
    public func removeTableAudio(book: Int64) async throws(JobError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM checkpoint_audio WHERE book_id = ?", arguments: [book])
            try db.execute(sql: "DELETE FROM book_covers WHERE book_id = ?", arguments: [book])
        }
    }

    /// Keeps a book's cover in the job table.
    public func saveCover(_ bytes: [UInt8], book: Int64) async throws(JobError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO book_covers (book_id, data) VALUES (?, ?)
                    ON CONFLICT (book_id) DO UPDATE SET data = excluded.data
                    """,
                arguments: [book, bytes]
            )
        }
    }

    /// The cover the job table keeps for a book, if any.
    public func cover(book: Int64) async throws(JobError) -> [UInt8]? {
        try await read { db in
            try db.value([UInt8].self, sql: "SELECT data FROM book_covers WHERE book_id = ?", arguments: [book])
        }
    }
}
