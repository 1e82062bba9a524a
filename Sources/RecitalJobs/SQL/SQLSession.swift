/// One connection inside a transaction, as the job store uses it. Statements use `?` for their
/// arguments; each database's session turns them into what its server wants. Calls block: a
/// session lives on a thread of the database's own, never on the cooperative pool.
protocol SQLSession: AnyObject {
    var dialect: SQLDialect { get }

    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(sql: String, arguments: SQLArguments) throws -> Int

    /// Runs one statement once per argument list (a prepared statement where the database has one).
    func executeMany(sql: String, arguments: [SQLArguments]) throws

    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow]

    /// Makes transactions that call this with the same key run one after another, from here to
    /// their end. SQLite's single writer already does.
    func serialize(on key: String) throws

    /// Lets this transaction stay open for as long as it takes (a library being copied), past the
    /// server's limit on idle transactions.
    func allowLongTransaction() throws

    /// Tells listening workers, once this transaction commits, that work became claimable.
    /// SQLite has no such channel: its workers find work by looking.
    func notifyWork() throws
}

extension SQLSession {
    @discardableResult
    func execute(sql: String) throws -> Int { try execute(sql: sql, arguments: []) }

    func rows(sql: String) throws -> [SQLRow] { try rows(sql: sql, arguments: []) }

    func row(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try rows(sql: sql, arguments: arguments).first
    }

    /// The first column of every row.
    func values<T: SQLConvertible>(_ type: T.Type, sql: String, arguments: SQLArguments = []) throws -> [T] {
        try rows(sql: sql, arguments: arguments).compactMap { $0.values.first.flatMap(T.init(sqlValue:)) }
    }

    /// The first column of the first row; nil for no row or NULL.
    func value<T: SQLConvertible>(_ type: T.Type, sql: String, arguments: SQLArguments = []) throws -> T? {
        try rows(sql: sql, arguments: arguments).first?.values.first.flatMap(T.init(sqlValue:))
    }
}

/// How a PostgreSQL write transaction is isolated; SQLite's single writer is always serializable.
enum SQLIsolation: Sendable {
    /// Retried on conflicts: what a body that reads and then writes needs.
    case serializable
    /// For statements whose row locks are the whole guard (`FOR UPDATE SKIP LOCKED` claims), so
    /// that workers claiming at once do not fail each other's predicate reads.
    case readCommitted
}

/// The few phrases the two databases say differently.
struct SQLDialect: Sendable {
    /// Appended to a claim's row selection: rows another transaction holds are passed over rather
    /// than waited for (PostgreSQL); SQLite has one writer at a time and needs nothing.
    var skipLocked: String
    /// The larger of two values (`MAX(a, b)` in SQLite, `GREATEST(a, b)` in PostgreSQL).
    var greatest: String
    /// Whether `id` columns count from a sequence of their own (PostgreSQL's identity columns), which
    /// rows inserted with their ids do not advance; SQLite numbers on from the highest rowid.
    var numbersIdentities: Bool

    static let sqlite = SQLDialect(skipLocked: "", greatest: "MAX", numbersIdentities: false)
    static let postgres = SQLDialect(
        skipLocked: " FOR UPDATE OF t SKIP LOCKED",
        greatest: "GREATEST",
        numbersIdentities: true
    )
}
