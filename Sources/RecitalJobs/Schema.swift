// Generated from schema.sql at the repository root by scripts/sync-schema.py; `JobStoreTests`
// checks they agree. To change the database, add a "-- migration N: name" section to
// schema.sql and run the script.

enum Schema {
    /// The whole schema.sql, carried in the binary so the database never depends on the working directory.
    static let sql = #"""
        -- Recital job table. The one source of truth for the database; the binary carries a copy
        -- (Sources/RecitalJobs/Schema.swift, checked equal by a test) and applies each migration once.
        -- Times are Unix seconds (REAL). Every write runs in a BEGIN IMMEDIATE transaction.

        -- migration 1: initial
        CREATE TABLE books (
            id INTEGER PRIMARY KEY,
            source_path TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            settings_hash TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '',
            language TEXT,
            sample_rate INTEGER NOT NULL,
            priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
            paused_at REAL,
            cancelled_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (content_hash, settings_hash)
        );

        CREATE TABLE chapters (
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            title TEXT NOT NULL,
            segment_count INTEGER NOT NULL,
            PRIMARY KEY (book_id, idx)
        );

        -- The text to speak: one row per segment, written once at enqueue.
        CREATE TABLE segments (
            book_id INTEGER NOT NULL,
            chapter_idx INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            text TEXT NOT NULL,
            boundary TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx) REFERENCES chapters(book_id, idx) ON DELETE CASCADE
        );

        -- A synthesized segment. The row is written only after its audio file is durable on disk, in
        -- the same transaction that checks the writer still holds the task's lease.
        CREATE TABLE checkpoints (
            book_id INTEGER NOT NULL,
            chapter_idx INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            text_hash TEXT NOT NULL,
            audio_path TEXT NOT NULL,
            checksum TEXT NOT NULL,
            sample_count INTEGER NOT NULL,
            sample_rate INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx, idx) REFERENCES segments(book_id, chapter_idx, idx) ON DELETE CASCADE
        );

        -- Claimable work: one synthesize task per chapter (and, later, encode tasks per book and format).
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('synthesize', 'encode')),
            chapter_idx INTEGER,
            state TEXT NOT NULL CHECK (state IN ('available', 'running', 'completed', 'failed', 'cancelled')),
            priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
            attempt INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 8,
            scheduled_at REAL NOT NULL,
            lease_owner TEXT,
            lease_token TEXT,
            lease_expires_at REAL,
            last_error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            CHECK ((state = 'running') = (lease_token IS NOT NULL))
        );
        CREATE UNIQUE INDEX tasks_unique_work ON tasks (book_id, kind, IFNULL(chapter_idx, -1));
        CREATE INDEX tasks_claimable ON tasks (state, priority, scheduled_at, id);

        -- What happened to each task, for `status` and for debugging retries.
        CREATE TABLE task_events (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX task_events_by_task ON task_events (task_id, id);

        -- Live processes and their heartbeats.
        CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        );

        -- Files seen by `recital watch`, so a file dropped twice is converted once.
        CREATE TABLE watched_files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            modified_at REAL NOT NULL,
            content_hash TEXT,
            book_id INTEGER REFERENCES books(id) ON DELETE SET NULL,
            seen_at REAL NOT NULL
        );

        -- migration 2: encode
        -- One encode task per (book, format); `format` names it. The finished files are `outputs`.
        ALTER TABLE tasks ADD COLUMN format TEXT;
        DROP INDEX tasks_unique_work;
        CREATE UNIQUE INDEX tasks_unique_work ON tasks (book_id, kind, IFNULL(chapter_idx, -1), IFNULL(format, ''));
        -- The book's metadata as read (JSON), for tags; the cover is kept beside the checkpoint audio.
        ALTER TABLE books ADD COLUMN metadata_json TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE outputs (
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            part INTEGER NOT NULL,
            path TEXT NOT NULL,
            checksum TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            seconds REAL NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (book_id, format, part)
        );

        -- migration 3: interruptions
        -- Attempts a task lost because its worker died (lease expired, process gone), counted apart from
        -- failures, so that `status` can tell a crashing machine from a bad book. `last_error` keeps the
        -- last real error.
        ALTER TABLE tasks ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;

        -- migration 4: output names
        -- The name (without extension) a book's files take in an output folder, chosen when the book is
        -- queued for that folder, so that two books never take one name and a name held by a file that is
        -- not the book's own becomes "Name (2)" before any work is done, not after hours of it.
        CREATE TABLE output_names (
            folder TEXT NOT NULL,
            stem TEXT NOT NULL,
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            PRIMARY KEY (folder, stem),
            UNIQUE (book_id, folder)
        );

        -- migration 5: status indexes
        -- `status` reads every book in a fixed number of queries; these keep the two that filter by time
        -- and by kind from scanning whole tables.
        CREATE INDEX checkpoints_recent ON checkpoints (created_at);
        CREATE INDEX task_events_skipped ON task_events (task_id) WHERE kind = 'skipped';
        -- Tasks counted by book and state without reading the rows.
        CREATE INDEX tasks_by_book_state ON tasks (book_id, kind, state);

        -- migration 6: watch
        -- What `recital watch` knows of every book file under its inboxes, so a restart rescans without
        -- reading unchanged files again and no file is converted twice. `state` is settling, queued,
        -- duplicate, held, failed or delivered (`reason` says why for the last three kinds); `book_id` is
        -- the book the file became, or the book it duplicates.
        DROP TABLE watched_files;
        CREATE TABLE watched_files (
            path TEXT PRIMARY KEY,
            inbox TEXT NOT NULL,
            relative_path TEXT NOT NULL,
            size INTEGER NOT NULL,
            modified_at REAL NOT NULL,
            changed_at REAL NOT NULL,
            content_hash TEXT,
            state TEXT NOT NULL CHECK (state IN ('settling', 'queued', 'duplicate', 'held', 'failed', 'delivered')),
            reason TEXT,
            book_id INTEGER REFERENCES books(id) ON DELETE SET NULL,
            seen_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX watched_files_by_state ON watched_files (state, book_id);
        CREATE INDEX watched_files_by_hash ON watched_files (content_hash);
        -- One process scans an inbox at a time, under a lease it renews; the others only synthesize.
        -- `folders_json` lists the inbox's folders with how each is watched (inotify or polling, and why).
        CREATE TABLE watch_inboxes (
            path TEXT PRIMARY KEY,
            owner TEXT,
            lease_expires_at REAL,
            folders_json TEXT NOT NULL DEFAULT '[]',
            updated_at REAL NOT NULL
        );

        -- migration 7: request keys
        -- `Idempotency-Key`s of uploads to `recital serve`: a retried upload with the same key answers with
        -- the job it made; the same key with other bytes is refused.
        CREATE TABLE request_keys (
            key TEXT PRIMARY KEY,
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,
            created_at REAL NOT NULL
        );

        -- migration 8: task events by time
        -- Live views (`recital serve`'s event stream) ask which books changed since a moment.
        CREATE INDEX task_events_by_time ON task_events (at);

        -- migration 9: retention
        -- When `recital serve --retention-hours` removed a finished book's files and checkpoint audio; the
        -- book stays listed and its results answer 410 Gone.
        ALTER TABLE books ADD COLUMN purged_at REAL;

        -- migration 10: audio in the job table
        -- Segment audio kept in the job table itself, so that every machine of a cluster reaches it (the
        -- default on PostgreSQL; a checkpoint with an empty `audio_path` has its audio here). It is written
        -- in the same transaction as its checkpoint row, so the two cannot disagree. `data` is PackedPCM
        -- (lossless); the checkpoint's checksum is of the WAV file the samples make.
        CREATE TABLE checkpoint_audio (
            book_id INTEGER NOT NULL,
            chapter_idx INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx, idx) REFERENCES checkpoints(book_id, chapter_idx, idx) ON DELETE CASCADE
        );
        -- A book's cover, for books whose audio is kept in the job table.
        CREATE TABLE book_covers (
            book_id INTEGER PRIMARY KEY REFERENCES books(id) ON DELETE CASCADE,
            data BLOB NOT NULL
        );

        -- migration 11: leaders
        -- Duties of the whole cluster that one process at a time performs (rescuing tasks whose lease
        -- expired, removing finished books after their retention), each under a lease row its holder
        -- renews; another process takes a duty over once its lease has expired.
        CREATE TABLE leaders (
            duty TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL
        );

        -- migration 12: servers of running tasks
        -- The TTS server a running chapter speaks through (its URL and key fingerprint), so that a voice's
        -- limit on requests across every machine is counted in the claim that would exceed it.
        ALTER TABLE tasks ADD COLUMN server TEXT;
        CREATE INDEX tasks_running_by_server ON tasks (server) WHERE state = 'running';

        -- migration 13: finished files in the job table
        -- The finished files of books queued through a `recital serve` on PostgreSQL, kept in the table in
        -- pieces, so that any server of the cluster hands out a file another machine encoded. Written in
        -- the transaction that records the files.
        CREATE TABLE output_chunks (
            book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            part INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (book_id, format, part, seq)
        );

        -- migration 14: chapters encoded
        -- How many chapters, from the first, an encode task has written while the book is still being
        -- synthesized (an incremental encode), shown beside the chapters synthesized.
        ALTER TABLE tasks ADD COLUMN chapters_encoded INTEGER NOT NULL DEFAULT 0;

        -- migration 15: encode resume point
        -- Where a stopped incremental encode can be taken up (JSON the pipeline writes after each chapter:
        -- the chapters' gains and the continuable files' checkpoints); NULL once the encode is settled.
        ALTER TABLE tasks ADD COLUMN encode_resume TEXT;

        """#

    /// schema.postgres.sql: the same migrations in PostgreSQL's dialect.
    static let postgres = #"""
        -- Generated from schema.sql by scripts/sync-schema.py: the job table on PostgreSQL, migration by
        -- migration. Edit schema.sql, not this file.

        -- migration 1: initial
        CREATE TABLE books (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            source_path TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            settings_hash TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '',
            language TEXT,
            sample_rate BIGINT NOT NULL,
            priority BIGINT NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
            paused_at DOUBLE PRECISION,
            cancelled_at DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            UNIQUE (content_hash, settings_hash)
        );

        CREATE TABLE chapters (
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            idx BIGINT NOT NULL,
            title TEXT NOT NULL,
            segment_count BIGINT NOT NULL,
            PRIMARY KEY (book_id, idx)
        );

        -- The text to speak: one row per segment, written once at enqueue.
        CREATE TABLE segments (
            book_id BIGINT NOT NULL,
            chapter_idx BIGINT NOT NULL,
            idx BIGINT NOT NULL,
            text TEXT NOT NULL,
            boundary TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx) REFERENCES chapters(book_id, idx) ON DELETE CASCADE
        );

        -- A synthesized segment. The row is written only after its audio file is durable on disk, in
        -- the same transaction that checks the writer still holds the task's lease.
        CREATE TABLE checkpoints (
            book_id BIGINT NOT NULL,
            chapter_idx BIGINT NOT NULL,
            idx BIGINT NOT NULL,
            text_hash TEXT NOT NULL,
            audio_path TEXT NOT NULL,
            checksum TEXT NOT NULL,
            sample_count BIGINT NOT NULL,
            sample_rate BIGINT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx, idx) REFERENCES segments(book_id, chapter_idx, idx) ON DELETE CASCADE
        );

        -- Claimable work: one synthesize task per chapter (and, later, encode tasks per book and format).
        CREATE TABLE tasks (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('synthesize', 'encode')),
            chapter_idx BIGINT,
            state TEXT NOT NULL CHECK (state IN ('available', 'running', 'completed', 'failed', 'cancelled')),
            priority BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 4),
            attempt BIGINT NOT NULL DEFAULT 0,
            max_attempts BIGINT NOT NULL DEFAULT 8,
            scheduled_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_token TEXT,
            lease_expires_at DOUBLE PRECISION,
            last_error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            CHECK ((state = 'running') = (lease_token IS NOT NULL))
        );
        CREATE UNIQUE INDEX tasks_unique_work ON tasks (book_id, kind, COALESCE(chapter_idx, -1));
        CREATE INDEX tasks_claimable ON tasks (state, priority, scheduled_at, id);

        -- What happened to each task, for `status` and for debugging retries.
        CREATE TABLE task_events (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            at DOUBLE PRECISION NOT NULL,
            kind TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX task_events_by_task ON task_events (task_id, id);

        -- Live processes and their heartbeats.
        CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            pid BIGINT NOT NULL,
            host TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            heartbeat_at DOUBLE PRECISION NOT NULL
        );

        -- Files seen by `recital watch`, so a file dropped twice is converted once.
        CREATE TABLE watched_files (
            path TEXT PRIMARY KEY,
            size BIGINT NOT NULL,
            modified_at DOUBLE PRECISION NOT NULL,
            content_hash TEXT,
            book_id BIGINT REFERENCES books(id) ON DELETE SET NULL,
            seen_at DOUBLE PRECISION NOT NULL
        );

        -- migration 2: encode
        -- One encode task per (book, format); `format` names it. The finished files are `outputs`.
        ALTER TABLE tasks ADD COLUMN format TEXT;
        DROP INDEX tasks_unique_work;
        CREATE UNIQUE INDEX tasks_unique_work ON tasks (book_id, kind, COALESCE(chapter_idx, -1), COALESCE(format, ''));
        -- The book's metadata as read (JSON), for tags; the cover is kept beside the checkpoint audio.
        ALTER TABLE books ADD COLUMN metadata_json TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE outputs (
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            part BIGINT NOT NULL,
            path TEXT NOT NULL,
            checksum TEXT NOT NULL,
            bytes BIGINT NOT NULL,
            seconds DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (book_id, format, part)
        );

        -- migration 3: interruptions
        -- Attempts a task lost because its worker died (lease expired, process gone), counted apart from
        -- failures, so that `status` can tell a crashing machine from a bad book. `last_error` keeps the
        -- last real error.
        ALTER TABLE tasks ADD COLUMN interruptions BIGINT NOT NULL DEFAULT 0;

        -- migration 4: output names
        -- The name (without extension) a book's files take in an output folder, chosen when the book is
        -- queued for that folder, so that two books never take one name and a name held by a file that is
        -- not the book's own becomes "Name (2)" before any work is done, not after hours of it.
        CREATE TABLE output_names (
            folder TEXT NOT NULL,
            stem TEXT NOT NULL,
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            PRIMARY KEY (folder, stem),
            UNIQUE (book_id, folder)
        );

        -- migration 5: status indexes
        -- `status` reads every book in a fixed number of queries; these keep the two that filter by time
        -- and by kind from scanning whole tables.
        CREATE INDEX checkpoints_recent ON checkpoints (created_at);
        CREATE INDEX task_events_skipped ON task_events (task_id) WHERE kind = 'skipped';
        -- Tasks counted by book and state without reading the rows.
        CREATE INDEX tasks_by_book_state ON tasks (book_id, kind, state);

        -- migration 6: watch
        -- What `recital watch` knows of every book file under its inboxes, so a restart rescans without
        -- reading unchanged files again and no file is converted twice. `state` is settling, queued,
        -- duplicate, held, failed or delivered (`reason` says why for the last three kinds); `book_id` is
        -- the book the file became, or the book it duplicates.
        DROP TABLE watched_files;
        CREATE TABLE watched_files (
            path TEXT PRIMARY KEY,
            inbox TEXT NOT NULL,
            relative_path TEXT NOT NULL,
            size BIGINT NOT NULL,
            modified_at DOUBLE PRECISION NOT NULL,
            changed_at DOUBLE PRECISION NOT NULL,
            content_hash TEXT,
            state TEXT NOT NULL CHECK (state IN ('settling', 'queued', 'duplicate', 'held', 'failed', 'delivered')),
            reason TEXT,
            book_id BIGINT REFERENCES books(id) ON DELETE SET NULL,
            seen_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX watched_files_by_state ON watched_files (state, book_id);
        CREATE INDEX watched_files_by_hash ON watched_files (content_hash);
        -- One process scans an inbox at a time, under a lease it renews; the others only synthesize.
        -- `folders_json` lists the inbox's folders with how each is watched (inotify or polling, and why).
        CREATE TABLE watch_inboxes (
            path TEXT PRIMARY KEY,
            owner TEXT,
            lease_expires_at DOUBLE PRECISION,
            folders_json TEXT NOT NULL DEFAULT '[]',
            updated_at DOUBLE PRECISION NOT NULL
        );

        -- migration 7: request keys
        -- `Idempotency-Key`s of uploads to `recital serve`: a retried upload with the same key answers with
        -- the job it made; the same key with other bytes is refused.
        CREATE TABLE request_keys (
            key TEXT PRIMARY KEY,
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );

        -- migration 8: task events by time
        -- Live views (`recital serve`'s event stream) ask which books changed since a moment.
        CREATE INDEX task_events_by_time ON task_events (at);

        -- migration 9: retention
        -- When `recital serve --retention-hours` removed a finished book's files and checkpoint audio; the
        -- book stays listed and its results answer 410 Gone.
        ALTER TABLE books ADD COLUMN purged_at DOUBLE PRECISION;

        -- migration 10: audio in the job table
        -- Segment audio kept in the job table itself, so that every machine of a cluster reaches it (the
        -- default on PostgreSQL; a checkpoint with an empty `audio_path` has its audio here). It is written
        -- in the same transaction as its checkpoint row, so the two cannot disagree. `data` is PackedPCM
        -- (lossless); the checkpoint's checksum is of the WAV file the samples make.
        CREATE TABLE checkpoint_audio (
            book_id BIGINT NOT NULL,
            chapter_idx BIGINT NOT NULL,
            idx BIGINT NOT NULL,
            data BYTEA NOT NULL,
            PRIMARY KEY (book_id, chapter_idx, idx),
            FOREIGN KEY (book_id, chapter_idx, idx) REFERENCES checkpoints(book_id, chapter_idx, idx) ON DELETE CASCADE
        );
        -- A book's cover, for books whose audio is kept in the job table.
        CREATE TABLE book_covers (
            book_id BIGINT PRIMARY KEY REFERENCES books(id) ON DELETE CASCADE,
            data BYTEA NOT NULL
        );

        -- migration 11: leaders
        -- Duties of the whole cluster that one process at a time performs (rescuing tasks whose lease
        -- expired, removing finished books after their retention), each under a lease row its holder
        -- renews; another process takes a duty over once its lease has expired.
        CREATE TABLE leaders (
            duty TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );

        -- migration 12: servers of running tasks
        -- The TTS server a running chapter speaks through (its URL and key fingerprint), so that a voice's
        -- limit on requests across every machine is counted in the claim that would exceed it.
        ALTER TABLE tasks ADD COLUMN server TEXT;
        CREATE INDEX tasks_running_by_server ON tasks (server) WHERE state = 'running';

        -- migration 13: finished files in the job table
        -- The finished files of books queued through a `recital serve` on PostgreSQL, kept in the table in
        -- pieces, so that any server of the cluster hands out a file another machine encoded. Written in
        -- the transaction that records the files.
        CREATE TABLE output_chunks (
            book_id BIGINT NOT NULL REFERENCES books(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            part BIGINT NOT NULL,
            seq BIGINT NOT NULL,
            data BYTEA NOT NULL,
            PRIMARY KEY (book_id, format, part, seq)
        );

        -- migration 14: chapters encoded
        -- How many chapters, from the first, an encode task has written while the book is still being
        -- synthesized (an incremental encode), shown beside the chapters synthesized.
        ALTER TABLE tasks ADD COLUMN chapters_encoded BIGINT NOT NULL DEFAULT 0;

        -- migration 15: encode resume point
        -- Where a stopped incremental encode can be taken up (JSON the pipeline writes after each chapter:
        -- the chapters' gains and the continuable files' checkpoints); NULL once the encode is settled.
        ALTER TABLE tasks ADD COLUMN encode_resume TEXT;

        """#
}
