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
                    SELECT * FROM checkpoints WHERE book_id = ? AND (CAST(? AS BIGINT) IS NULL OR chapter_idx = ?)
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
                try db.value(
                    Bool.self,
                    sql: "SELECT 1 FROM tasks WHERE id = ? AND lease_token = ? AND state = 'running'",
                    arguments: [task.id, task.token]
                ) != nil
            else { return false }
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
}
