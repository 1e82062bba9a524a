public import Foundation

/// The two job databases the store's tests run on: SQLite always, PostgreSQL when
/// `RECITAL_POSTGRES_URL` names a server (scripts/test.sh starts one and sets it).
public enum DatabaseBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// The server tests use, if one is running.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["RECITAL_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The backends to run a conformance test on.
    public static var available: [DatabaseBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A new, empty job table of this kind, as `--db` takes it: a file in `folder`, or a schema of
    /// its own on the test server (`postgres://…?schema=t_…`), so tests never see each other's rows.
    public func location(in folder: String) -> String {
        switch self {
        case .sqlite: return folder + "/recital.sqlite"
        case .postgres: return (Self.postgresURL ?? "") + "?schema=" + Self.newSchema()
        }
    }

    public static func newSchema() -> String {
        "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
