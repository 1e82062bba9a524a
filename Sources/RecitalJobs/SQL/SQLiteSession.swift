internal import Foundation
internal import GRDB

/// A GRDB connection as a ``SQLSession``.
final class SQLiteSession: SQLSession {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    init(_ db: Database) { self.db = db }

    func notifyWork() {}

    func serialize(on key: String) {}

    func allowLongTransaction() {}

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func executeMany(sql: String, arguments: [SQLArguments]) throws {
        let statement = try db.makeStatement(sql: sql)
        for list in arguments { try statement.execute(arguments: Self.arguments(list)) }
    }

    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: Self.arguments(arguments))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(columns: Array(row.columnNames), values: row.databaseValues.map(Self.value)))
        }
        return rows
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map(databaseValue))
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .string(let value): .text(value)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
