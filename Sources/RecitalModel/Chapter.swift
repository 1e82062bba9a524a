/// A chapter as a listener hears it: a title and its text, split into segments for synthesis.
public struct Chapter: Sendable, Codable, Equatable {
    /// Position in the book, from 0.
    public var index: Int
    public var title: String
    /// The chapter's text: paragraphs separated by a blank line (`"\n\n"`), line breaks within a
    /// paragraph (verse, addresses) as a single `"\n"`. Normalised to NFC.
    public var text: String
    public var segments: [Segment]

    public init(index: Int, title: String, text: String, segments: [Segment]) {
        self.index = index
        self.title = title
        self.text = text
        self.segments = segments
    }

    /// Characters (extended grapheme clusters) of text.
    public var characterCount: Int { text.count }

    /// A rough spoken length, for planning; real durations come from synthesis.
    public func estimatedDuration(language: String?) -> Duration {
        SpeakingRate(language: language).duration(forCharacters: characterCount)
    }
}

/// Average speaking rates used for estimates before any audio exists.
public struct SpeakingRate: Sendable, Equatable {
    /// Characters per second of narration.
    public var charactersPerSecond: Double

    public init(charactersPerSecond: Double) { self.charactersPerSecond = charactersPerSecond }

    /// About 150 words a minute in alphabetic scripts; far fewer characters a second in scripts
    /// where one character is a syllable or a word.
    public init(language: String?) {
        let primary = language?.split(separator: "-").first.map { $0.lowercased() } ?? ""
        switch primary {
        case "ja", "zh", "ko", "yue": charactersPerSecond = 6
        case "th", "lo", "km", "my": charactersPerSecond = 9
        default: charactersPerSecond = 15
        }
    }

    public func duration(forCharacters count: Int) -> Duration {
        .milliseconds(Int((Double(count) / charactersPerSecond * 1000).rounded()))
    }
}
