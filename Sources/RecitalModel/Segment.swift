/// A piece of chapter text small enough for one text-to-speech request.
public struct Segment: Sendable, Codable, Equatable, Hashable {
    /// Position within its chapter, from 0.
    public var index: Int
    public var text: String
    /// What separates this segment from the one before it, which sets the pause between them.
    public var boundary: SegmentBoundary

    public init(index: Int, text: String, boundary: SegmentBoundary) {
        self.index = index
        self.text = text
        self.boundary = boundary
    }

    /// Whether a text has anything to say: a letter or a digit. Scene breaks such as `* * *`, `—` or
    /// `…` have not; servers refuse or mumble them, so they become a pause instead of a request.
    public static func isSpeakable(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil }
    }
}

/// The kind of break before a segment, strongest first.
public enum SegmentBoundary: String, Sendable, Codable, Equatable, Hashable, CaseIterable {
    /// The first segment of a chapter.
    case chapter
    /// The first segment of a paragraph.
    case paragraph
    /// A new sentence within a paragraph.
    case sentence
    /// A long sentence continued after clause punctuation.
    case clause
    /// A very long clause continued after a word.
    case word
}
