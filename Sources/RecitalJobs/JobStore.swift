internal import Foundation
internal import GRDB
internal import PostgresNIO
internal import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// The persistent job table: books, their segments and checkpoints, and claimable tasks with
/// leases. Several processes may open the same database: on SQLite (one machine), WAL, a busy
/// timeout and immediate write transactions keep them from stepping on each other; on PostgreSQL
/// (many machines), serializable transactions and `SKIP LOCKED` claims do. Lease tokens fence both.
public final class JobStore: Sendable {
    enum Backend: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresDatabase)
    }

    let backend: Backend

    /// Wall-clock seconds; injected so tests can move time (leases are compared across processes,
    /// so production uses the real clock).
    let now: @Sendable () -> Double

    /// This machine's name, to recognise workers whose process can be checked directly.
    let host: String

    public let path: String

    /// How long a claim lasts without a heartbeat before another process may rescue the task.
    public static let leaseDuration: Double = 30

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public convenience init(path: String, now: (@Sendable () -> Double)? = nil) throws(JobError) {
        try self.init(path: path, now: now, trace: nil)
    }

    /// - Parameters:
    ///   - trace: hears every statement run (tests count the queries of a read model).
    ///   - busyTimeout: how long to wait for another process's lock, seconds.
    init(
        path: String,
        now: (@Sendable () -> Double)?,
        trace: (@Sendable (String) -> Void)?,
        busyTimeout: Double = 30
    ) throws(JobError) {
        self.path = path
        self.now = now ?? { Date().timeIntervalSince1970 }
        self.host = ProcessInfo.processInfo.hostName
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let trace { db.trace { trace("\($0)") } }
        }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            backend = .sqlite(pool)
            // Opening a pool in WAL mode sets the writer to synchronous=NORMAL after our own set-up;
            // a checkpoint's row must survive a power cut as its audio file does, so FULL again.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
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

    /// Opens the PostgreSQL database at `url` (`postgres://user@host:port/database`) and applies
    /// pending migrations. Times are the database server's.
    /// - Parameters:
    ///   - schema: a schema of the store's own in that database (tests use one each).
    ///   - now: a clock of the caller's instead of the database's (tests move time by hand).
    public init(
        postgres url: String,
        schema: String? = nil,
        now: (@Sendable () -> Double)? = nil
    ) throws(JobError) {
        path = url
        host = ProcessInfo.processInfo.hostName
        let database = try PostgresDatabase(url: url, schema: schema)
        backend = .postgres(database)
        self.now = now ?? { database.now() }
        do {
            try database.migrate(Self.migrations(Schema.postgres))
        } catch {
            throw Self.translate(error)
        }
    }

    /// Opens a job table: a `postgres://` URL selects PostgreSQL, anything else is a SQLite file.
    /// A URL's `schema` query parameter keeps the table in a schema of its own (created if needed).
    public static func open(_ location: String) throws(JobError) -> JobStore {
        guard isPostgres(location) else { return try JobStore(path: location) }
        guard var components = URLComponents(string: location) else { return try JobStore(postgres: location) }
        let items = components.queryItems ?? []
        let schema = items.first { $0.name == "schema" }?.value
        let others = items.filter { $0.name != "schema" }
        components.queryItems = others.isEmpty ? nil : others
        return try JobStore(postgres: components.string ?? location, schema: schema)
    }

    /// Whether a `--db` value names a PostgreSQL server rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// The numbered sections of a schema, in order.
    static func migrations(_ schema: String = Schema.sql) -> [(name: String, sql: String)] {
        var result: [(String, String)] = []
        var name: String?
        var body: [Substring] = []
        for line in schema.split(separator: "\n", omittingEmptySubsequences: false) {
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
        let query =
            if case .postgres = backend {
                "SELECT identifier FROM recital_migrations ORDER BY CAST(split_part(identifier, ':', 1) AS INTEGER)"
            } else {
                "SELECT identifier FROM grdb_migrations ORDER BY rowid"
            }
        return try await read { db in try db.values(String.self, sql: query) }
    }

    static func log(_ db: any SQLSession, taskID: Int64, at time: Double, kind: String, message: String) throws {
        try db.execute(
            sql: "INSERT INTO task_events (task_id, at, kind, message) VALUES (?, ?, ?, ?)",
            arguments: [taskID, time, kind, message]
        )
    }

    static func checkpoint(_ row: SQLRow) -> CheckpointRecord {
        CheckpointRecord(
            bookID: row["book_id"],
            chapterIndex: row["chapter_idx"],
            index: row["idx"],
            textHash: row["text_hash"],
            audioPath: row["audio_path"],
            checksum: row["checksum"],
            sampleCount: row["sample_count"],
            sampleRate: row["sample_rate"],
            audioInTable: (row["in_table"] as Bool?) ?? false
        )
    }

    static func segmentWork(_ row: SQLRow, book: Int64) -> SegmentWork {
        SegmentWork(
            bookID: book,
            chapterIndex: row["chapter_idx"],
            index: row["idx"],
            text: row["text"],
            textHash: row["text_hash"],
            boundary: SegmentBoundary(rawValue: row["boundary"]) ?? .sentence
        )
    }

    static func bookRecord(_ row: SQLRow) -> BookRecord {
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

    func write<T: Sendable>(
        isolation: SQLIsolation = .serializable,
        _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws(JobError) -> T {
        do {
            switch backend {
            case .sqlite(let pool): return try await pool.write { db in try body(SQLiteSession(db)) }
            case .postgres(let database):
                return try await database.transaction(readOnly: false, isolation: isolation, body)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws(JobError) -> T {
        do {
            switch backend {
            case .sqlite(let pool): return try await pool.read { db in try body(SQLiteSession(db)) }
            case .postgres(let database): return try await database.transaction(readOnly: true, body)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// A read on the calling thread, which must be a blocking thread of the caller's own.
    func readNow<T>(_ body: (any SQLSession) throws -> T) throws(JobError) -> T {
        do {
            switch backend {
            case .sqlite(let pool): return try pool.read { db in try body(SQLiteSession(db)) }
            case .postgres(let database): return try database.transactionNow(readOnly: true, body)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> JobError {
        if let error = error as? JobError { return error }
        if let error = error as? DatabaseError {
            let message = "\(error.message ?? "SQLite error \(error.resultCode.rawValue)") (database)"
            if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                return JobError(.locked, "the job database is locked by another process: \(message)", cause: error)
            }
            return JobError(.database, message, cause: error)
        }
        if let error = error as? PostgresDecodingError {
            // Its description hides the detail; the column and type are what a bug report needs.
            return JobError(
                .database,
                "a PostgreSQL value could not be read: \(String(reflecting: error))",
                cause: error
            )
        }
        if let error = error as? PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            return JobError(.database, "\(message) (PostgreSQL)", cause: error)
        }
        return JobError(.database, "the job database failed: \(error)", cause: error)
    }
}
