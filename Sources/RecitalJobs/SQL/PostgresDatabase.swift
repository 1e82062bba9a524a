internal import Foundation
internal import Logging
internal import NIOCore
internal import NIOPosix
internal import PostgresNIO
import Synchronization

/// A PostgreSQL job database: a few connections kept open, each transaction run on a thread of the
/// database's own with its statements sent one after another and waited for there (the job store's
/// transactions are short, synchronous bodies, as they are on SQLite).
///
/// Writes run SERIALIZABLE and are retried when PostgreSQL reports a serialization failure or a
/// deadlock, so a body that reads and then writes sees what SQLite's single writer would let it
/// see. A transaction whose session ended before its COMMIT (a machine stopped past the idle
/// timeout) runs again too. Times come from the database's clock: ``now()`` is this machine's clock corrected by the
/// offset to the server's, measured when the first connection opens and every minute after.
final class PostgresDatabase: Sendable {
    let configuration: PostgresConnection.Configuration
    /// A schema of its own for this store (tests), else the connection's default.
    let schema: String?
    let url: String
    private let idle = Mutex<[PostgresConnection]>([])
    private let threads: NIOThreadPool
    private let logger = Logger(label: "recital.postgres")
    private let offset = Mutex<(seconds: Double, measuredAt: Double)?>(nil)

    /// Transactions at once per process; more wait for a thread.
    static let maxConnections = 8

    /// How long a transaction may sit idle before the server ends it: the job store's transactions
    /// take milliseconds, so only a stopped process reaches this.
    static let stalledTransactionSeconds = 10

    /// - Parameter url: `postgres://user[:password]@host[:port]/database`.
    init(url: String, schema: String? = nil) throws(JobError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else {
            throw JobError(.database, "\(url) is not a PostgreSQL URL (postgres://user@host:port/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        configuration = PostgresConnection.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: database.isEmpty ? nil : database,
            tls: .disable
        )
        self.schema = schema
        self.url = url
        threads = NIOThreadPool(numberOfThreads: Self.maxConnections)
        threads.start()
    }

    /// The notification channel of this store's work: one per schema, so stores side by side in
    /// one database (tests) do not wake each other.
    var channel: String { Self.channel(schema: schema) }

    /// PostgreSQL names are at most 63 bytes, and `pg_notify` refuses longer ones: a schema is
    /// named by a short hash of itself.
    static func channel(schema: String?) -> String {
        "recital_work" + (schema.map { "_" + ContentHash.text($0).prefix(16) } ?? "")
    }

    /// Calls `heard` for every notification of new work until the calling task is cancelled, on a
    /// connection of its own. Returns when cancelled; throws when the connection fails.
    func listenForWork(_ heard: @escaping @Sendable () -> Void) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(),
                configuration: configuration,
                id: Int.random(in: 1...Int.max),
                logger: logger
            )
        } catch {
            throw Self.unreachable(url: url, error)
        }
        defer { Self.dispose(connection) }
        do {
            try await connection.listen(on: channel) { notifications in
                for try await _ in notifications { heard() }
            }
        } catch  where Task.isCancelled {
            // Cancelled while listening: the normal way out.
        }
    }

    deinit {
        for connection in idle.withLock({ $0 }) { Self.dispose(connection) }
        threads.shutdownGracefully { _ in }
    }

    /// Runs `body` in a transaction on a connection of the pool, off the cooperative pool. A
    /// transaction that has begun runs to its end even when the calling task is cancelled, as a
    /// SQLite write does: a stopping worker still gives its held work back.
    func transaction<T: Sendable>(
        readOnly: Bool,
        isolation: SQLIsolation = .serializable,
        _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        try await threads.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
            try self.transactionNow(readOnly: readOnly, isolation: isolation, body)
        }.get()
    }

    /// ``transaction(readOnly:_:)`` on the calling thread, for callers that already run on a
    /// blocking thread of their own (the encoder reading segment audio).
    func transactionNow<T>(
        readOnly: Bool,
        isolation: SQLIsolation = .serializable,
        _ body: (any SQLSession) throws -> T
    ) throws -> T {
        var attempt = 0
        var lostSessions = 0
        while true {
            attempt += 1
            let connection = try checkOut()
            let session = PostgresSession(connection: connection, logger: logger, channel: channel)
            var committing = false
            do {
                try synchroniseClock(session)
                try session.execute(
                    sql: readOnly
                        ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                        : isolation == .serializable
                            ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL READ COMMITTED"
                )
                let result = try body(session)
                committing = true
                try session.execute(sql: "COMMIT")
                checkIn(connection)
                return result
            } catch {
                // A session ended again and again (a body idling past the timeout) is not worth more.
                if error is ConnectionLost { lostSessions += 1 }
                let retry =
                    Self.runsAgain(after: error, on: ObjectIdentifier(connection), committing: committing)
                    && attempt < 20 && lostSessions <= 2
                if (try? session.execute(sql: "ROLLBACK")) != nil {
                    checkIn(connection)
                } else {
                    Self.dispose(connection)
                }
                guard retry else { throw error }
                // Transactions that run again back off a little, differently, before trying again.
                usleep(useconds_t(UInt32.random(in: 200...2_000) * UInt32(min(attempt, 8))))
            }
        }
    }

    /// Seconds since 1970 by the database server's clock (as corrected here), so leases and
    /// schedules agree across machines whose clocks differ.
    func now() -> Double {
        let local = Date().timeIntervalSince1970
        return local + (offset.withLock { $0?.seconds } ?? 0)
    }

    /// Measures the offset to the server's clock on `session` when it is unknown or a minute old.
    private func synchroniseClock(_ session: PostgresSession) throws {
        let local = Date().timeIntervalSince1970
        if let known = offset.withLock({ $0 }), local - known.measuredAt < 60 { return }
        let before = Date().timeIntervalSince1970
        let server =
            try session.value(Double.self, sql: "SELECT extract(epoch FROM clock_timestamp())::float8") ?? before
        let after = Date().timeIntervalSince1970
        offset.withLock { $0 = (server - (before + after) / 2, local) }
    }

    /// Applies the migrations `applied` does not list yet, each in its own transaction, under an
    /// advisory lock so that processes starting together apply each exactly once. Blocks: it runs
    /// while the store opens, as SQLite's do.
    func migrate(_ migrations: [(name: String, sql: String)]) throws {
        let connection = try checkOut()
        let session = PostgresSession(connection: connection, logger: logger)
        try synchroniseClock(session)
        try session.execute(sql: "SELECT pg_advisory_lock(7318412001)")
        defer {
            // A connection that cannot say it is done still holds the lock: closing it lets go.
            if (try? session.execute(sql: "SELECT pg_advisory_unlock(7318412001)")) != nil {
                checkIn(connection)
            } else {
                Self.dispose(connection)
            }
        }
        if let schema { try session.execute(sql: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\"") }
        try session.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS recital_migrations (
                    identifier TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """
        )
        let applied = Set(try session.values(String.self, sql: "SELECT identifier FROM recital_migrations"))
        for migration in migrations where !applied.contains(migration.name) {
            try session.execute(sql: "BEGIN")
            do {
                // One statement per query: the extended protocol takes no more.
                for statement in Self.statements(migration.sql) { try session.execute(sql: statement) }
                try session.execute(
                    sql: "INSERT INTO recital_migrations (identifier, applied_at) VALUES (?, ?)",
                    arguments: [migration.name, now()]
                )
                try session.execute(sql: "COMMIT")
            } catch {
                _ = try? session.execute(sql: "ROLLBACK")
                throw error
            }
        }
    }

    /// The statements of a migration: comments dropped, split at the semicolons that end lines.
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
        }
        return lines.joined(separator: "\n").components(separatedBy: ";\n").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ";"))
        }.filter { !$0.isEmpty }
    }

    // MARK: - Connections

    private func checkOut() throws -> PostgresConnection {
        if let connection = idle.withLock({ $0.popLast() }), !connection.isClosed { return connection }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(),
                configuration: configuration,
                id: Int.random(in: 1...Int.max),
                logger: logger
            ).wait()
        } catch {
            throw Self.unreachable(url: url, error)
        }
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            if let schema {
                // The schema itself is made by `migrate`, under its lock: processes starting together
                // would otherwise race to create it.
                try session.execute(sql: "SET search_path TO \"\(schema)\"")
            }
            // A machine stopped in the middle of a transaction (SIGSTOP, a suspended VM) would hold its
            // row locks for ever; the server ends such a session instead, and its work is rescued.
            try session.execute(
                sql: "SET idle_in_transaction_session_timeout = '\(Self.stalledTransactionSeconds)s'"
            )
        } catch {
            Self.dispose(connection)
            throw error
        }
        return connection
    }

    /// A connection that did not open, named by the server's address and the reason: the server's
    /// own message (no such database, authentication) or the socket's (refused, unreachable).
    static func unreachable(url: String, _ error: any Error) -> JobError {
        let reason: String
        if let error = error as? PSQLError {
            reason = error.serverInfo?[.message] ?? error.underlying.map(socketReason) ?? "\(error.code)"
        } else {
            reason = socketReason(error)
        }
        let address = URLComponents(string: url).map { "\($0.host ?? "?"):\($0.port ?? 5432)" } ?? url
        return JobError(
            .database,
            "cannot connect to PostgreSQL at \(address): \(reason)",
            cause: error
        )
    }

    /// "Connection refused" rather than NIO's nested description of every address it tried.
    private static func socketReason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.last { return socketReason(failure.error) }
            if let lookup = error.dnsAError ?? error.dnsAAAAError { return "host not found (\(lookup))" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }

    private func checkIn(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        let surplus = idle.withLock { idle -> Bool in
            guard idle.count < Self.maxConnections else { return true }
            idle.append(connection)
            return false
        }
        if surplus { Self.dispose(connection) }
    }

    /// Closes a connection, keeping it alive until it is closed (PostgresNIO checks that a
    /// connection is closed before it goes away).
    private static func dispose(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Whether a transaction that failed with `error` on `connection` may simply run again: it hit a
    /// serialization failure or deadlock, or its session ended before its COMMIT could have reached
    /// the server, which rolls back the open transaction of a session that ends (a machine suspended
    /// past the idle timeout, a restart). A COMMIT that may have been applied is not sent twice.
    static func runsAgain(after error: any Error, on connection: ObjectIdentifier, committing: Bool) -> Bool {
        if let lost = error as? ConnectionLost {
            // Only a transaction's own session ending says that it was rolled back.
            guard lost.connection == connection else { return false }
            return !committing || !lost.sent
        }
        guard let error = error as? PSQLError, let code = error.serverInfo?[.sqlState] else { return false }
        return code == "40001" || code == "40P01"
    }
}

/// The session of a connection ended under a statement: the server closed it, said FATAL, or the
/// socket failed.
struct ConnectionLost: Error, CustomStringConvertible {
    /// Which connection, so that only its own transaction runs again.
    var connection: ObjectIdentifier
    /// Whether the statement may have reached the server (false: it was never handed over).
    var sent: Bool
    var cause: (any Error)?

    var description: String {
        let reason = cause.map { (($0 as? PSQLError)?.serverInfo?[.message]) ?? "\($0)" }
        return "the connection to PostgreSQL was closed" + (reason.map { " (\($0))" } ?? "")
    }
}

/// One PostgreSQL connection as a ``SQLSession``: `?` arguments become `$1`, `$2`…
final class PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    let channel: String
    var dialect: SQLDialect { .postgres }

    init(connection: PostgresConnection, logger: Logger, channel: String = PostgresDatabase.channel(schema: nil)) {
        self.connection = connection
        self.logger = logger
        self.channel = channel
    }

    func allowLongTransaction() throws {
        try execute(sql: "SET LOCAL idle_in_transaction_session_timeout = 0")
    }

    func serialize(on key: String) throws {
        _ = try rows(sql: "SELECT pg_advisory_xact_lock(hashtext(?))", arguments: [key])
    }

    func notifyWork() throws {
        // Notifications sent in a transaction are delivered at its commit, once per distinct payload.
        _ = try rows(sql: "SELECT pg_notify(?, '')", arguments: [channel])
    }

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try run(Self.query(sql, arguments)).metadata.rows ?? 0
    }

    func executeMany(sql: String, arguments: [SQLArguments]) throws {
        for list in arguments { try execute(sql: sql, arguments: list) }
    }

    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        try run(Self.query(sql, arguments)).rows.map { row in
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return SQLRow(columns: columns, values: values)
        }
    }

    /// Sends `query` and waits for its result. The statement is handed over on the connection's
    /// event loop, and only while it is open: once a closed channel's handlers are gone, PostgresNIO's
    /// write of a statement is dropped (a session the server ended while this machine was stopped),
    /// and its answer would be waited for for ever.
    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        let connection = self.connection
        let logger = self.logger
        let loop = connection.eventLoop
        let result = loop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
            guard !connection.isClosed else {
                return loop.makeFailedFuture(ConnectionLost(connection: ObjectIdentifier(connection), sent: false))
            }
            return connection.query(query, logger: logger)
        }
        do {
            return try result.wait()
        } catch let error as ConnectionLost {
            throw error
        } catch  where connection.isClosed || Self.endsSession(error) {
            throw ConnectionLost(connection: ObjectIdentifier(connection), sent: true, cause: error)
        }
    }

    /// A FATAL error ends the session (and comes before the connection is seen closed), as does a
    /// failed socket.
    static func endsSession(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        if [.serverClosedConnection, .clientClosedConnection, .connectionError].contains(error.code) { return true }
        return ["FATAL", "PANIC"].contains(error.serverInfo?[.severity] ?? "")
    }

    /// The statement with its placeholders (`?` in order, or SQLite's numbered `?2`) written as
    /// PostgreSQL's `$n` (outside quoted text) and its arguments bound.
    static func query(_ sql: String, _ arguments: SQLArguments) -> PostgresQuery {
        var text = ""
        var number = 0
        var quoted = false
        var characters = sql[...]
        while let character = characters.popFirst() {
            if character == "'" { quoted.toggle() }
            guard character == "?", !quoted else {
                text.append(character)
                continue
            }
            let digits = characters.prefix(while: \.isASCII).prefix(while: \.isNumber)
            if digits.isEmpty {
                number += 1
                text += "$\(number)"
            } else {
                text += "$" + digits
                characters = characters.dropFirst(digits.count)
            }
        }
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            case .text(let value): binds.append(value)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        // SUM over BIGINT columns is NUMERIC.
        case .numeric: return .real(NSDecimalNumber(decimal: try cell.decode(Decimal.self)).doubleValue)
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }
}
