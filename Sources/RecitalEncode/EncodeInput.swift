public import RecitalModel

/// One checkpointed segment, in book order.
public struct EncodeSegment: Sendable, Equatable {
    public var index: Int
    public var boundary: SegmentBoundary
    /// The checkpoint WAV file.
    public var path: String

    public init(index: Int, boundary: SegmentBoundary, path: String) {
        self.index = index
        self.boundary = boundary
        self.path = path
    }
}

public struct EncodeChapter: Sendable, Equatable {
    public var index: Int
    public var title: String
    public var segments: [EncodeSegment]

    public init(index: Int, title: String, segments: [EncodeSegment]) {
        self.index = index
        self.title = title
        self.segments = segments
    }
}

/// Everything the encoder needs about a book: its audio in order, its tags and its cover.
public struct EncodeBook: Sendable, Equatable {
    public var metadata: BookMetadata
    /// The voice, written as narrator (composer).
    public var narrator: String?
    public var sampleRate: Int
    public var chapters: [EncodeChapter]
    /// Cover image bytes as found in the book; checked before use.
    public var cover: [UInt8]?

    public init(
        metadata: BookMetadata,
        narrator: String?,
        sampleRate: Int,
        chapters: [EncodeChapter],
        cover: [UInt8]?
    ) {
        self.metadata = metadata
        self.narrator = narrator
        self.sampleRate = sampleRate
        self.chapters = chapters
        self.cover = cover
    }
}

extension EncodeBook {
    /// Every `step`-th segment of each chapter, the first always: a spread sample for estimating
    /// the loudness, which a synthesized voice keeps from one segment to the next.
    func sampled(every step: Int) -> EncodeBook {
        var copy = self
        copy.chapters = chapters.map { chapter in
            var sampled = chapter
            sampled.segments = chapter.segments.enumerated().filter { $0.offset % step == 0 }.map(\.element)
            return sampled
        }
        return copy
    }
}
