/// Something noticed while working that did not stop the work: a skipped footnote section, a TOC
/// entry with no target, a placeholder author. Shown to the user; never silently dropped.
public struct Diagnostic: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable, Equatable, Comparable {
        case note
        case warning
        case error

        private var rank: Int {
            switch self {
            case .note: 0
            case .warning: 1
            case .error: 2
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    public var message: String

    public init(_ severity: Severity, _ message: String) {
        self.severity = severity
        self.message = message
    }

    public static func note(_ message: String) -> Self { Self(.note, message) }
    public static func warning(_ message: String) -> Self { Self(.warning, message) }

    public var description: String { "\(severity.rawValue): \(message)" }
}
