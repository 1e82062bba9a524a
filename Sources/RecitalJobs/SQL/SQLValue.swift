/// A value as both job databases store it: SQLite's storage classes, which PostgreSQL's column
/// types map onto (BIGINT, DOUBLE PRECISION, TEXT, BYTEA).
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift type that goes into a statement and comes back out of a row.
protocol SQLConvertible: Sendable {
    var sqlValue: SQLValue { get }
    /// Nil when the stored value is not one of this type (or NULL).
    init?(sqlValue: SQLValue)
}

extension Int64: SQLConvertible {
    var sqlValue: SQLValue { .integer(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value): self.init(exactly: value.rounded(.towardZero))
        case .text(let value): self.init(value)
        default: return nil
        }
    }
}

extension Int: SQLConvertible {
    var sqlValue: SQLValue { .integer(Int64(self)) }
    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self.init(value)
    }
}

extension Int32: SQLConvertible {
    var sqlValue: SQLValue { .integer(Int64(self)) }
    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self.init(exactly: value)
    }
}

extension Double: SQLConvertible {
    var sqlValue: SQLValue { .real(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        case .text(let value): self.init(value)
        default: return nil
        }
    }
}

extension Bool: SQLConvertible {
    var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = value != 0
    }
}

extension String: SQLConvertible {
    var sqlValue: SQLValue { .text(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .text(let value): self = value
        case .integer(let value): self = String(value)
        case .real(let value): self = String(value)
        case .blob(let bytes): self = String(decoding: bytes, as: UTF8.self)
        case .null: return nil
        }
    }
}

extension [UInt8]: SQLConvertible {
    var sqlValue: SQLValue { .blob(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .blob(let bytes): self = bytes
        case .text(let value): self = Array(value.utf8)
        default: return nil
        }
    }
}

/// A statement's arguments, written as an array literal of values and nils: `[id, title, nil]`.
struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    var values: [SQLValue]

    init(_ values: [SQLValue]) { self.values = values }

    init(arrayLiteral elements: (any SQLConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }

    static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments { SQLArguments(lhs.values + rhs.values) }
}

/// One result row, its values by column name.
struct SQLRow: Sendable {
    let columns: [String]
    let values: [SQLValue]

    func value(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    /// The value of the column at `index`, as `T`.
    subscript<T: SQLConvertible>(_ index: Int) -> T {
        guard index < values.count, let value = T(sqlValue: values[index]) else {
            preconditionFailure(
                "column \(index) holds \(index < values.count ? values[index] : .null), not a \(T.self)"
            )
        }
        return value
    }

    /// The column's value as `T`; a NULL or a missing column reads as nil.
    subscript<T: SQLConvertible>(_ column: String) -> T? { T(sqlValue: value(column)) }

    /// The column's value as `T`, for columns the schema declares NOT NULL.
    subscript<T: SQLConvertible>(_ column: String) -> T {
        guard let value = T(sqlValue: value(column)) else {
            preconditionFailure("column \(column) holds \(value(column)), not a \(T.self)")
        }
        return value
    }
}
