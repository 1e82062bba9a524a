/// A failure of the encode stage, with the book, chapter, segment or file it concerns.
public struct EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A checkpoint file is missing or no longer decodes; synthesizing it again repairs it.
        case badSegment
        /// The output folder or file cannot be written (permissions, a file in the way, disk full).
        case output
        /// The output already exists and overwriting was not asked for.
        case exists
        /// The encoder itself failed.
        case encoder
        /// Stopped on request; nothing was left behind.
        case interrupted
        /// Stored segment audio could not be read (its store did not answer): try again later;
        /// the audio itself is not in doubt.
        case unavailable
    }

    public var code: Code
    public var message: String
    /// For ``Code/badSegment``: which checkpoint.
    public var chapter: Int?
    public var segment: Int?
    /// What failed underneath (FFmpeg's or the system's own error), shown after the message.
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        chapter: Int? = nil,
        segment: Int? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.chapter = chapter
        self.segment = segment
        self.cause = cause
    }

    /// Equal in what they say; causes are not compared.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.chapter == rhs.chapter && lhs.segment == rhs.segment
    }

    /// `what: why (cause)`.
    public var description: String { cause.map { "\(message) (\($0))" } ?? message }
}
