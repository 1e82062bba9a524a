import Foundation
import GRDB
import RecitalModel
import RecitalTestSupport
import Synchronization
import Testing

@testable import RecitalJobs

@Suite("Job store on real SQLite and PostgreSQL")
struct JobStoreTests {
    @Test(
        "the binary's schemas are schema.sql and its PostgreSQL form at the repository root, applied as numbered migrations",
        arguments: StoreBackend.available
    )
    func schema(backend: StoreBackend) async throws {
        let file = try String(contentsOf: Fixtures.root.appendingPathComponent("schema.sql"), encoding: .utf8)
        #expect(file == Schema.sql)
        let postgres = try String(
            contentsOf: Fixtures.root.appendingPathComponent("schema.postgres.sql"),
            encoding: .utf8
        )
        #expect(postgres == Schema.postgres)
        #expect(JobStore.migrations(Schema.postgres).map(\.name) == JobStore.migrations().map(\.name))
        let store = try JobFixtures.store(backend)
        let applied = try await store.appliedMigrations()
        #expect(applied == JobStore.migrations().map(\.name))
        #expect(applied.first == "1: initial")
    }

    @Test("both databases end with the same tables, columns and nullability")
    func schemasInStep() async throws {
        guard let url = StoreBackend.postgresURL else { return }
        let sqlite = try JobFixtures.store(.sqlite)
        let columns: Set<String> = try await sqlite.read { db in
            var found: Set<String> = []
            let tables = try db.values(
                String.self,
                sql:
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'"
            )
            for table in tables {
                for row in try db.rows(sql: "PRAGMA table_info(\(table))") {
                    let name: String = row["name"]
                    let notNull: Int = row["notnull"]
                    let key: Int = row["pk"]
                    found.insert("\(table).\(name) \(notNull == 1 || key > 0 ? "not null" : "null")")
                }
            }
            return found
        }
        let schema = StoreBackend.newSchema()
        let postgres = try JobStore(postgres: url, schema: schema)
        let pgColumns: Set<String> = try await postgres.read { db in
            Set(
                try db.rows(
                    sql: """
                        SELECT table_name, column_name, is_nullable FROM information_schema.columns
                        WHERE table_schema = ? AND table_name <> 'recital_migrations'
                        """,
                    arguments: [schema]
                ).map { row in
                    let table: String = row["table_name"]
                    let column: String = row["column_name"]
                    let nullable: String = row["is_nullable"]
                    return "\(table).\(column) \(nullable == "YES" ? "null" : "not null")"
                }
            )
        }
        #expect(columns.count > 60)
        #expect(columns == pgColumns)
    }

    @Test("the SQLite database runs in WAL mode with full sync, foreign keys and a busy timeout, on every connection")
    func pragmas() async throws {
        let store = try JobStore(path: try JobFixtures.database())
        for connection in ["writer", "reader"] {
            let read: @Sendable (any SQLSession) throws -> [String] = { db in
                try ["journal_mode", "synchronous", "foreign_keys", "busy_timeout"].map {
                    try db.value(String.self, sql: "PRAGMA \($0)") ?? ""
                }
            }
            let values = connection == "writer" ? try await store.write(read) : try await store.read(read)
            // WAL, FULL (2), on; the writer waits 30 s for a lock, readers GRDB's own 10 s (a WAL
            // reader waits only for a checkpoint's brief reset).
            let wait = connection == "writer" ? "30000" : "10000"
            #expect(values == ["wal", "2", "1", wait], "\(connection)")
        }
    }

    @Test("the same content with the same settings is one book", arguments: StoreBackend.available)
    func dedupe(backend: StoreBackend) async throws {
        let store = try JobFixtures.store(backend)
        let book = JobFixtures.book(hash: "same")
        let first = try await store.enqueue(book)
        let second = try await store.enqueue(book)
        #expect(first == .created(first.bookID))
        #expect(second == .existing(first.bookID))
        var other = book
        other.settingsHash = "other voice"
        #expect(try await store.enqueue(other).bookID != first.bookID)
    }

    @Test("claims take priority 1 first, then the oldest; no task is claimed twice", arguments: StoreBackend.available)
    func claimOrder(backend: StoreBackend) async throws {
        let time = ManualTime()
        let store = try JobFixtures.store(backend, now: time.function)
        let low = try await store.enqueue(JobFixtures.book(chapters: 2, priority: 4)).bookID
        time.advance(1)
        let high = try await store.enqueue(JobFixtures.book(chapters: 2, priority: 1)).bookID
        let first = try await store.claim(owner: "w1", limit: 3)
        #expect(first.map(\.bookID) == [high, high, low])
        #expect(first.map(\.attempt) == [1, 1, 1])
        let second = try await store.claim(owner: "w2", limit: 5)
        #expect(second.map(\.bookID) == [low])
        #expect(try await store.claim(owner: "w3", limit: 5).isEmpty)
    }

    @Test(
        "an encode's resume point is kept with its chapters encoded through a release, and a completed encode forgets both",
        arguments: StoreBackend.available
    )
    func encodeResumePoint(backend: StoreBackend) async throws {
        let store = try JobFixtures.store(backend)
        var book = JobFixtures.book(chapters: 2)
        book.encodeFormats = [.m4b, .mp3]
        let id = try await store.enqueue(book).bookID
        let tasks = try await store.claim(owner: "w", limit: 4, books: [id], kind: .encode, early: true)
        #expect(tasks.count == 2)
        #expect(try await store.encodeResume(book: id) == nil)
        try await store.recordEncodedChapters(tasks, count: 1, resume: #"{"chapters":1}"#)
        for task in tasks { try await store.release(task, reason: "stopped") }
        #expect(try await store.encodedChapters(book: id) == 1)
        #expect(try await store.encodeResume(book: id) == #"{"chapters":1}"#)
        // A task whose lease is gone records nothing.
        try await store.recordEncodedChapters(tasks, count: 2, resume: #"{"chapters":2}"#)
        #expect(try await store.encodeResume(book: id) == #"{"chapters":1}"#)

        let again = try await store.claim(owner: "w", limit: 4, books: [id], kind: .encode, early: true)
        #expect(try await store.completeEncode(again[0], outputs: []))
        // The format still to encode keeps its point; given back to be encoded whole, it has none.
        #expect(try await store.encodeResume(book: id) == #"{"chapters":1}"#)
        try await store.recordEncodedChapters([again[1]], count: 0)
        #expect(try await store.encodeResume(book: id) == nil)
        #expect(try await store.encodedChapters(book: id) == 0)

        // Audio synthesized again makes any stopped encode's files stale.
        try await store.recordEncodedChapters([again[1]], count: 1, resume: #"{"chapters":1}"#)
        #expect(try await store.encodeResume(book: id) == #"{"chapters":1}"#)
        let checkpoint = JobFixtures.checkpoint(book: id)
        try await store.discardCheckpoints([checkpoint], reason: "damaged")
        #expect(try await store.encodeResume(book: id) == nil)
    }

    @Test("a lost lease fences every later write of the old worker", arguments: StoreBackend.available)
    func fencing(backend: StoreBackend) async throws {
        let time = ManualTime()
        let store = try JobFixtures.store(backend, now: time.function)
        let book = try await store.enqueue(JobFixtures.book(chapters: 1)).bookID
        let stale = try #require(try await store.claim(owner: "dead", limit: 1).first)
        time.advance(JobStore.leaseDuration + 1)
        #expect(try await store.rescueExpiredLeases() == 1)
        let fresh = try #require(try await store.claim(owner: "alive", limit: 1).first)
        #expect(fresh.attempt == 2)  // the crash used an attempt
        let record = JobFixtures.checkpoint(book: book)
        #expect(try await store.recordCheckpoint(record, for: stale) == false)
        #expect(try await store.heartbeat(stale) == .lost)
        #expect(try await store.complete(stale) == false)
        #expect(try await store.recordCheckpoint(record, for: fresh))
        #expect(try await store.complete(fresh))
        let events = try await store.events(book: book).map(\.kind)
        #expect(events.contains("rescued"))
    }

    @Test(
        "a chapter given back, or of a book cancelled while it ran, keeps its place or ends cancelled",
        arguments: StoreBackend.available
    )
    func releaseKeepsPlace(backend: StoreBackend) async throws {
        let time = ManualTime()
        let store = try JobFixtures.store(backend, now: time.function)
        let book = try await store.enqueue(JobFixtures.book(chapters: 3)).bookID
        let first = try #require(try await store.claim(owner: "w", limit: 1).first)
        time.advance(60)
        #expect(try await store.release(first, reason: "SIGINT"))
        // Still first in line, ahead of the chapters that never ran.
        #expect(try await store.claim(owner: "w", limit: 1).first?.chapterIndex == first.chapterIndex)
        let held = try await store.claim(owner: "w", limit: 2, books: [book])
        try await store.cancel(book)
        for task in held { #expect(try await store.cancelHeld(task)) }
        #expect(try await store.taskStates(book: book).filter { $0 == .cancelled }.count == 2)
    }

    @Test(
        "a graceful release gives the attempt back; transient failures back off; attempts run out",
        arguments: StoreBackend.available
    )
    func attempts(backend: StoreBackend) async throws {
        let time = ManualTime()
        let store = try JobFixtures.store(backend, now: time.function)
        let book = try await store.enqueue(JobFixtures.book(chapters: 1)).bookID
        var task = try #require(try await store.claim(owner: "w", limit: 1).first)
        #expect(try await store.release(task, reason: "SIGINT"))
        task = try #require(try await store.claim(owner: "w", limit: 1).first)
        #expect(task.attempt == 1)
        #expect(try await store.failTransient(task, error: "HTTP 503", retryAfter: 30))
        #expect(try await store.claim(owner: "w", limit: 1).isEmpty)  // not before its time
        time.advance(31)
        for attempt in 2...task.maxAttempts {
            task = try #require(try await store.claim(owner: "w", limit: 1).first)
            #expect(task.attempt == attempt)
            try await store.failTransient(task, error: "HTTP 503", retryAfter: 0)
        }
        let status = try #require(try await store.status(book: book).first)
        #expect(status.state == .failed)
        #expect(status.error == "HTTP 503")
        #expect(try await store.retry(book) == 1)
        #expect(try await store.claim(owner: "w", limit: 1).first?.attempt == 1)
    }

    @Test("pause and cancel are rows: claims skip them and heartbeats report them", arguments: StoreBackend.available)
    func pauseAndCancel(backend: StoreBackend) async throws {
        let store = try JobFixtures.store(backend)
        let book = try await store.enqueue(JobFixtures.book(chapters: 2)).bookID
        let running = try #require(try await store.claim(owner: "w", limit: 1).first)
        try await store.pause(book)
        #expect(try await store.heartbeat(running) == .paused)
        #expect(try await store.claim(owner: "w", limit: 5).isEmpty)
        #expect(try await store.status(book: book).first?.state == .paused)
        try await store.unpause(book)
        #expect(try await store.heartbeat(running) == .held)
        try await store.cancel(book)
        #expect(try await store.heartbeat(running) == .cancelled)
        #expect(try await store.claim(owner: "w", limit: 5).isEmpty)
        #expect(try await store.status(book: book).first?.state == .cancelled)
    }

    @Test(
        "pending segments are those without a checkpoint; discarded checkpoints come back",
        arguments: StoreBackend.available
    )
    func checkpoints(backend: StoreBackend) async throws {
        let store = try JobFixtures.store(backend)
        let book = try await store.enqueue(JobFixtures.book(chapters: 1, segments: 3)).bookID
        let task = try #require(try await store.claim(owner: "w", limit: 1).first)
        let pending = try await store.pendingSegments(book: book, chapter: 0)
        #expect(pending.map(\.index) == [0, 1, 2])
        let record = CheckpointRecord(
            bookID: book,
            chapterIndex: 0,
            index: 1,
            textHash: pending[1].textHash,
            audioPath: "/x.wav",
            checksum: "c",
            sampleCount: 10,
            sampleRate: 24_000
        )
        #expect(try await store.recordCheckpoint(record, for: task))
        #expect(try await store.pendingSegments(book: book, chapter: 0).map(\.index) == [0, 2])
        let status = try #require(try await store.status(book: book).first)
        #expect(status.segmentsDone == 1)
        #expect(status.segmentsTotal == 3)
        try await store.discardCheckpoints([record], reason: "file missing")
        #expect(try await store.pendingSegments(book: book, chapter: 0).map(\.index) == [0, 1, 2])
    }

    @Test(
        "audio kept in the table is written with its checkpoint or not at all, and goes when the checkpoint goes",
        arguments: StoreBackend.available
    )
    func tableAudio(backend: StoreBackend) async throws {
        let time = ManualTime()
        let store = try JobFixtures.store(backend, now: time.function)
        let book = try await store.enqueue(JobFixtures.book(chapters: 1, segments: 3)).bookID
        let stale = try #require(try await store.claim(owner: "paused", limit: 1).first)
        let pending = try await store.pendingSegments(book: book, chapter: 0)
        func record(_ index: Int) -> CheckpointRecord {
            CheckpointRecord(
                bookID: book,
                chapterIndex: 0,
                index: index,
                textHash: pending[index].textHash,
                audioPath: "",
                checksum: "c\(index)",
                sampleCount: 4,
                sampleRate: 24_000
            )
        }
        let bytes: [UInt8] = [0, 1, 2, 250, 255, 0, 7]
        #expect(try await store.recordCheckpoint(record(0), audio: bytes, for: stale))
        // The worker is paused past its lease; another takes the chapter over.
        time.advance(JobStore.leaseDuration + 1)
        #expect(try await store.rescueExpiredLeases() == 1)
        let fresh = try #require(try await store.claim(owner: "alive", limit: 1).first)
        #expect(try await store.recordCheckpoint(record(1), audio: [9, 9], for: stale) == false)
        #expect(try await store.tableAudio(book: book, chapter: 0, segment: 1) == nil)
        #expect(try await store.recordCheckpoint(record(1), audio: [1, 2, 3], for: fresh))

        let records = try await store.checkpoints(book: book)
        #expect(records.map(\.index) == [0, 1])
        #expect(records.allSatisfy { $0.isInTable && $0.audioInTable })
        #expect(try await store.tableAudio(book: book, chapter: 0, segment: 0) == bytes)
        #expect(try store.tableAudioNow(book: book, chapter: 0, segment: 1) == [1, 2, 3])

        // Spoken again into a file, a segment keeps no stale copy in the table.
        var file = record(1)
        file.audioPath = "/x.wav"
        #expect(try await store.recordCheckpoint(file, for: fresh))
        #expect(try await store.tableAudio(book: book, chapter: 0, segment: 1) == nil)

        try await store.discardCheckpoints([record(0)], reason: "test")
        #expect(try await store.tableAudio(book: book, chapter: 0, segment: 0) == nil)

        #expect(try await store.recordCheckpoint(record(2), audio: bytes, for: fresh))
        try await store.saveCover([1, 2], book: book)
        #expect(try await store.cover(book: book) == [1, 2])
        try await store.removeTableAudio(book: book)
        #expect(try await store.cover(book: book) == nil)
        let left = try await store.checkpoints(book: book)
        #expect(left.map(\.index) == [1, 2])
        #expect(left.first { $0.index == 2 }?.audioInTable == false)
    }

    @Test(
        "one machine at a time rescues expired leases: the duty's lease passes to another only when its holder stops renewing it",
        arguments: StoreBackend.available
    )
    func leadership(backend: StoreBackend) async throws {
        let database = try backend.database()
        let time = ManualTime()
        let a = try JobFixtures.store(database, now: time.function)
        let b = try JobFixtures.store(database, now: time.function)
        _ = try await a.enqueue(JobFixtures.book(chapters: 2))
        #expect(try await a.rescueExpiredLeases(leader: "machine-a") == 0)
        #expect(try await b.leaders() == [.rescue: "machine-a"])
        _ = try await a.claim(owner: "crashed", limit: 1)
        time.advance(JobStore.leaseDuration - 1)
        // A renews its duty; the crashed worker's lease runs out after that.
        #expect(try await a.lead(.rescue, owner: "machine-a"))
        time.advance(2)
        #expect(try await b.rescueExpiredLeases(leader: "machine-b") == 0, "b does not lead")
        #expect(try await b.lead(.rescue, owner: "machine-b") == false)
        #expect(try await a.rescueExpiredLeases(leader: "machine-a") == 1)
        _ = try await a.claim(owner: "crashed again", limit: 1)
        // A goes quiet; once its duty's lease has expired, B takes the duty over and rescues.
        time.advance(JobStore.leaseDuration + 1)
        #expect(try await b.rescueExpiredLeases(leader: "machine-b") == 1)
        #expect(try await a.leaders() == [.rescue: "machine-b"])
        #expect(try await a.lead(.rescue, owner: "machine-a") == false)
        // Duties are leased apart.
        #expect(try await a.lead(.prune, owner: "machine-a"))
        #expect(try await b.leaders() == [.rescue: "machine-b", .prune: "machine-a"])
    }

    @Test("two stores on one database claiming concurrently never share a task", arguments: StoreBackend.available)
    func concurrentClaims(backend: StoreBackend) async throws {
        let database = try backend.database()
        let a = try JobFixtures.store(database)
        let b = try JobFixtures.store(database)
        for _ in 0..<5 { _ = try await a.enqueue(JobFixtures.book(chapters: 20)) }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (index, store) in [a, b, a, b].enumerated() {
                group.addTask {
                    var ids: [Int64] = []
                    while let task = try await store.claim(owner: "w\(index)", limit: 1).first { ids.append(task.id) }
                    return ids
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claimed.count == 100)
        #expect(Set(claimed).count == 100)
    }

    /// How the server ends a session in the middle of a transaction.
    enum SessionEnd: String, CaseIterable, CustomTestStringConvertible {
        /// The machine stopped between two statements, past the server's idle-in-transaction timeout.
        case idleTimeout = "the machine stopped past the idle timeout"
        /// An administrator (or a shutdown) ended it while a statement ran.
        case terminated = "the session terminated during a statement"
        var testDescription: String { rawValue }
    }

    @Test(
        "a transaction whose session the server ended before its commit runs again on a new connection, once",
        arguments: SessionEnd.allCases
    )
    func sessionEnded(end: SessionEnd) async throws {
        guard let url = StoreBackend.postgresURL else { return }
        let schema = StoreBackend.newSchema()
        let store = try JobStore(postgres: url, schema: schema)
        let onlooker = try JobStore(postgres: url, schema: schema)
        try await store.write { db in _ = try db.execute(sql: "CREATE TABLE probe (run INTEGER, step INTEGER)") }
        @Sendable func sessions(_ pid: Int, where condition: String = "true") throws -> Int {
            try onlooker.readNow { db in
                try db.value(
                    Int.self,
                    sql: "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND \(condition)",
                    arguments: [pid]
                ) ?? 0
            }
        }
        let runs = Mutex(0)
        let terminator = Mutex<(any Error)?>(nil)
        let finished = Mutex(false)
        let write = Task {
            defer { finished.withLock { $0 = true } }
            try await store.write { db in
                let run = runs.withLock {
                    $0 += 1
                    return $0
                }
                _ = try db.execute(sql: "INSERT INTO probe VALUES (?, 1)", arguments: [run])
                if run == 1 {
                    let pid = try #require(try db.value(Int.self, sql: "SELECT pg_backend_pid()"))
                    switch end {
                    case .idleTimeout:
                        _ = try db.execute(sql: "SET LOCAL idle_in_transaction_session_timeout = '50ms'")
                        try Wait.untilNow("the session ended", deadline: .seconds(30)) { try sessions(pid) == 0 }
                        // Seen closed here too: the next statement meets a closed connection.
                        let connection = try #require((db as? PostgresSession)?.connection)
                        try Wait.untilNow("the connection closed", deadline: .seconds(30)) { connection.isClosed }
                    case .terminated:
                        Thread.detachNewThread {
                            do {
                                try Wait.untilNow("the statement running", deadline: .seconds(30)) {
                                    try sessions(pid, where: "wait_event = 'PgSleep'") == 1
                                }
                                _ = try onlooker.readNow {
                                    try $0.value(
                                        Bool.self,
                                        sql: "SELECT pg_terminate_backend(?::integer)",
                                        arguments: [pid]
                                    )
                                }
                            } catch {
                                terminator.withLock { $0 = error }
                            }
                        }
                        _ = try db.execute(sql: "SELECT pg_sleep(30)")
                    }
                }
                _ = try db.execute(sql: "INSERT INTO probe VALUES (?, 2)", arguments: [run])
            }
        }
        // A statement left unanswered would block the write for ever: the test fails instead.
        try await Wait.until("the transaction finished") { finished.withLock { $0 } }
        try await write.value
        #expect(terminator.withLock { $0 } == nil)
        #expect(runs.withLock { $0 } == 2)
        let rows = try await onlooker.read { db in
            try db.rows(sql: "SELECT run, step FROM probe ORDER BY step").map { [$0["run"] as Int, $0["step"] as Int] }
        }
        #expect(rows == [[2, 1], [2, 2]])
    }

    @Test(
        "a transaction runs again after its own session's end, unless its COMMIT may have been applied"
    )
    func runsAgain() {
        let mine = ObjectIdentifier(Int.self)
        func lost(_ sent: Bool, on connection: ObjectIdentifier = mine) -> ConnectionLost {
            ConnectionLost(connection: connection, sent: sent)
        }
        #expect(PostgresDatabase.runsAgain(after: lost(true), on: mine, committing: false))
        #expect(PostgresDatabase.runsAgain(after: lost(false), on: mine, committing: true))
        #expect(!PostgresDatabase.runsAgain(after: lost(true), on: mine, committing: true))
        #expect(
            !PostgresDatabase.runsAgain(
                after: lost(true, on: ObjectIdentifier(String.self)),
                on: mine,
                committing: false
            )
        )
        #expect(!PostgresDatabase.runsAgain(after: CancellationError(), on: mine, committing: false))
    }

    @Test("a database locked by another process is reported as locked, in one line, with SQLite's error as cause")
    func locked() async throws {
        let path = try JobFixtures.database()
        let store = try JobStore(path: path, now: nil, trace: nil, busyTimeout: 0.3)
        let id = try await store.enqueue(JobFixtures.book()).bookID
        // Another process takes the write lock and keeps it.
        let script = """
            import sqlite3, sys, time
            connection = sqlite3.connect(sys.argv[1], isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(30)
            """
        let holder = try BackgroundProcess("/usr/bin/env", ["python3", "-c", script, path])
        defer { holder.signal(SIGKILL) }
        try await Wait.until("the other process holding the lock", deadline: .seconds(30)) {
            holder.stdoutSoFar.contains("locked")
        }
        do {
            try await store.pause(id)
            Issue.record("wrote through another process's lock")
        } catch {
            #expect(error.code == .locked)
            #expect(error.description.contains("locked by another process"), "\(error)")
            #expect(!error.description.contains("\n"))
            #expect((error.cause as? DatabaseError)?.resultCode == .SQLITE_BUSY)
        }
    }

    @Test("a database failure keeps SQLite's own error as its cause, and says it in its message")
    func cause() async throws {
        let store = try JobStore(path: try JobFixtures.database())
        do {
            _ = try await store.enqueue(JobFixtures.book(priority: 9))
            Issue.record("a priority outside 1…4 was stored")
        } catch {
            #expect(error.code == .database)
            let sqlite = try #require(error.cause as? DatabaseError)
            #expect(sqlite.resultCode == .SQLITE_CONSTRAINT)
            #expect(error.description.contains("CHECK constraint failed"), "\(error)")
        }
    }
}

@Suite("Workers that die")
struct DeadWorkerTests {
    @Test(
        "a task held by a process of this machine that no longer exists is rescued at once",
        arguments: StoreBackend.available
    )
    func deadProcess(backend: StoreBackend) async throws {
        let store = try JobFixtures.store(backend)
        _ = try await store.enqueue(JobFixtures.book(chapters: 1))
        // A real process id that has just ended.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        try await store.registerWorker(
            id: "dead",
            pid: process.processIdentifier,
            host: ProcessInfo.processInfo.hostName
        )
        _ = try await store.claim(owner: "dead", limit: 1)
        try await store.registerWorker(
            id: "alive",
            pid: ProcessInfo.processInfo.processIdentifier,
            host: ProcessInfo.processInfo.hostName
        )
        #expect(try await store.rescueExpiredLeases() == 1)
        let next = try #require(try await store.claim(owner: "alive", limit: 1).first)
        #expect(next.attempt == 2)
        // A live holder is left alone.
        #expect(try await store.rescueExpiredLeases() == 0)
    }
}
