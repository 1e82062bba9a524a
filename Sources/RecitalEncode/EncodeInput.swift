public import RecitalModel

/// One checkpointed segment, in book order.
public struct EncodeSegment: Sendable, Equatable {
    public var index: Int
    public var boundary: SegmentBoundary
    /// The checkpoint WAV file.
    public var path: String
    /// A scene break (text with nothing to speak): no audio, a longer pause before what follows.
    public var sceneBreak: Bool

    public init(index: Int, boundary: SegmentBoundary, path: String, sceneBreak: Bool = false) {
        self.index = index
        self.boundary = boundary
        self.path = path
        self.sceneBreak = sceneBreak
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
    /// The book cut in two at its middle segment (inside a chapter, if that is where it falls),
    /// or whole when it has fewer than two segments.
    func halves() -> [EncodeBook] {
        let total = chapters.reduce(0) { $0 + $1.segments.count }
        guard total >= 2 else { return [self] }
        var (first, second) = (self, self)
        (first.chapters, second.chapters) = ([], [])
        var seen = 0
        for chapter in chapters {
            let cut = max(0, min(chapter.segments.count, total / 2 - seen))
            var head = chapter
            var tail = chapter
            head.segments = Array(chapter.segments[..<cut])
            tail.segments = Array(chapter.segments[cut...])
            if !head.segments.isEmpty { first.chapters.append(head) }
            if !tail.segments.isEmpty { second.chapters.append(tail) }
            seen += chapter.segments.count
        }
        return [first, second]
    }

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
