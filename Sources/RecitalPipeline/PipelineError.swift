/// A failure of the pipeline as a whole, with the book it concerns and the error underneath.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Writing audio to disk failed (disk full, permissions): resumable once fixed.
        case storage
        /// Bad settings: an unknown voice profile, a missing API key variable, stored settings that
        /// no longer decode.
        case configuration
        /// No such book in the job table (or no book from that file).
        case notFound
        /// The request does not apply to the book as it stands (encoding a book not yet synthesized).
        case invalidRequest
        /// The job table failed or stayed locked by another process: resumable once it answers.
        case database
        /// A program Recital relies on failed: the package installer, a voice's own server.
        case unavailable
    }

    public var kind: Kind
    public var message: String
    public var bookID: Int64?
    /// What went wrong underneath (a SQLite error, a decoding error), shown after the message.
    public var cause: (any Error & Sendable)?

    public init(_ kind: Kind, _ message: String, book: Int64? = nil, cause: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.bookID = book
        self.cause = cause
    }

    /// `book N: what (cause)`.
    public var description: String {
        var text = bookID.map { "book \($0): \(message)" } ?? message
        if let cause {
            let why = "\(cause)"
            if !why.isEmpty, !text.contains(why) { text += " (\(why))" }
        }
        return text
    }
}
