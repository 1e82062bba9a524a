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
    }

    public var code: Code
    public var message: String
    /// For ``Code/badSegment``: which checkpoint.
    public var chapter: Int?
    public var segment: Int?

    public init(_ code: Code, _ message: String, chapter: Int? = nil, segment: Int? = nil) {
        self.code = code
        self.message = message
        self.chapter = chapter
        self.segment = segment
    }

    public var description: String { message }
}
