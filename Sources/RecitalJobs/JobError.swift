/// A failure of the job table, with the book or task it concerns.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case database, notFound, locked, invalidTransition }
        private let value: Value
        /// SQLite failed (disk full, corrupt file…); the message is SQLite's.
        public static let database = Code(value: .database)
        public static let notFound = Code(value: .notFound)
        /// Another process held the database longer than the busy timeout.
        public static let locked = Code(value: .locked)
        /// The request does not apply in the book's current state (retrying a running book).
        public static let invalidTransition = Code(value: .invalidTransition)
        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    public var bookID: Int64?
    /// SQLite's own error underneath, when there is one (its message is already in `message`).
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, bookID: Int64? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.bookID = bookID
        self.cause = cause
    }

    public var description: String {
        bookID.map { "book \($0): \(message)" } ?? message
    }
}
