public import RecitalModel

/// Where a segment's samples are.
public enum SegmentAudio: Sendable, Equatable {
    /// A checkpoint WAV file.
    case file(String)
    /// Somewhere only the book's ``EncodeBook/storedAudio`` reaches (the job table).
    case stored
}

/// Reads segments kept out of the filesystem. Called on the encoder's own thread, where blocking is fine.
public protocol StoredSegmentAudio: Sendable {
    /// The segment's samples, or nil when it has none stored.
    /// - Throws: when the store cannot be read; the encoder reports the reason with the segment.
    func samples(chapter: Int, segment: Int) throws -> [Int16]?
}

/// One checkpointed segment, in book order.
public struct EncodeSegment: Sendable, Equatable {
    public var index: Int
    public var boundary: SegmentBoundary
    public var audio: SegmentAudio
    /// A scene break (text with nothing to speak): no audio, a longer pause before what follows.
    public var sceneBreak: Bool

    public init(index: Int, boundary: SegmentBoundary, audio: SegmentAudio, sceneBreak: Bool = false) {
        self.index = index
        self.boundary = boundary
        self.audio = audio
        self.sceneBreak = sceneBreak
    }

    /// A segment whose checkpoint is the WAV file at `path`.
    public init(index: Int, boundary: SegmentBoundary, path: String, sceneBreak: Bool = false) {
        self.init(index: index, boundary: boundary, audio: .file(path), sceneBreak: sceneBreak)
    }

    /// The checkpoint file's path (empty for stored audio).
    public var path: String {
        if case .file(let path) = audio { return path }
        return ""
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
    /// Reads the segments whose audio is ``SegmentAudio/stored``.
    public var storedAudio: (any StoredSegmentAudio)?

    public init(
        metadata: BookMetadata,
        narrator: String?,
        sampleRate: Int,
        chapters: [EncodeChapter],
        cover: [UInt8]?,
        storedAudio: (any StoredSegmentAudio)? = nil
    ) {
        self.storedAudio = storedAudio
        self.metadata = metadata
        self.narrator = narrator
        self.sampleRate = sampleRate
        self.chapters = chapters
        self.cover = cover
    }
}

extension EncodeBook {
    /// Books are equal by what they say; where stored audio is read from is not compared.
    public static func == (lhs: EncodeBook, rhs: EncodeBook) -> Bool {
        lhs.metadata == rhs.metadata && lhs.narrator == rhs.narrator && lhs.sampleRate == rhs.sampleRate
            && lhs.chapters == rhs.chapters && lhs.cover == rhs.cover
    }

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
