public import RecitalModel

/// A book to enqueue: what was read from the file plus the settings it is converted with.
public struct NewBook: Sendable {
    public var sourcePath: String
    public var contentHash: String
    public var settingsHash: String
    /// The conversion settings as JSON (voice profile without any secret, formats, output folder).
    public var settingsJSON: String
    public var title: String?
    public var authors: [String]
    public var language: String?
    public var sampleRate: Int
    public var priority: Int
    public var chapters: [Chapter]
    /// `BookMetadata` as JSON, for the tags of the finished files.
    public var metadataJSON: String = "{}"
    /// One encode task is made per format; they become claimable when synthesis is complete.
    public var encodeFormats: [AudioContainer] = []

    public init(
        sourcePath: String,
        contentHash: String,
        settingsHash: String,
        settingsJSON: String,
        title: String?,
        authors: [String],
        language: String?,
        sampleRate: Int,
        priority: Int,
        chapters: [Chapter],
        metadataJSON: String = "{}",
        encodeFormats: [AudioContainer] = []
    ) {
        self.metadataJSON = metadataJSON
        self.encodeFormats = encodeFormats
        self.sourcePath = sourcePath
        self.contentHash = contentHash
        self.settingsHash = settingsHash
        self.settingsJSON = settingsJSON
        self.title = title
        self.authors = authors
        self.language = language
        self.sampleRate = sampleRate
        self.priority = priority
        self.chapters = chapters
    }
}

/// Whether enqueueing made a new book or found the same file with the same settings.
public enum EnqueueResult: Sendable, Equatable {
    case created(Int64)
    case existing(Int64)

    public var bookID: Int64 {
        switch self {
        case .created(let id), .existing(let id): id
        }
    }
}

/// A book row.
public struct BookRecord: Sendable, Equatable {
    public var id: Int64
    public var sourcePath: String
    public var settingsJSON: String
    public var title: String?
    public var authors: [String]
    public var language: String?
    public var sampleRate: Int
    public var priority: Int
    public var paused: Bool
    public var cancelled: Bool
    public var metadataJSON: String = "{}"
}

/// A task a worker holds the lease of. Every write the worker makes is fenced by `token`.
public struct ClaimedTask: Sendable, Equatable {
    public var id: Int64
    public var bookID: Int64
    public var chapterIndex: Int?
    public var attempt: Int
    public var maxAttempts: Int
    public var owner: String
    public var token: String
    /// For encode tasks: the output format.
    public var format: AudioContainer? = nil
}

/// The kinds of claimable work.
public enum TaskKind: String, Sendable {
    case synthesize
    case encode
}

/// A finished audiobook file recorded for a book.
public struct OutputRecord: Sendable, Equatable, Codable {
    public var format: AudioContainer
    public var part: Int
    public var path: String
    public var checksum: String
    public var bytes: Int
    public var seconds: Double

    public init(format: AudioContainer, part: Int, path: String, checksum: String, bytes: Int, seconds: Double) {
        self.format = format
        self.part = part
        self.path = path
        self.checksum = checksum
        self.bytes = bytes
        self.seconds = seconds
    }
}

/// A segment still to be synthesized.
public struct SegmentWork: Sendable, Equatable {
    public var bookID: Int64
    public var chapterIndex: Int
    public var index: Int
    public var text: String
    public var textHash: String
    public var boundary: SegmentBoundary
}

/// A durable synthesized segment.
public struct CheckpointRecord: Sendable, Equatable {
    public var bookID: Int64
    public var chapterIndex: Int
    public var index: Int
    public var textHash: String
    /// The checkpoint's WAV file; empty when its audio is kept in the job table.
    public var audioPath: String
    public var checksum: String
    public var sampleCount: Int
    public var sampleRate: Int
    /// Whether the job table holds this segment's audio (see ``isInTable``).
    public var audioInTable: Bool

    /// A checkpoint with no audio file: its audio is in the job table (or was, until removed).
    public var isInTable: Bool { audioPath.isEmpty }

    public init(
        bookID: Int64,
        chapterIndex: Int,
        index: Int,
        textHash: String,
        audioPath: String,
        checksum: String,
        sampleCount: Int,
        sampleRate: Int,
        audioInTable: Bool = false
    ) {
        self.audioInTable = audioInTable
        self.bookID = bookID
        self.chapterIndex = chapterIndex
        self.index = index
        self.textHash = textHash
        self.audioPath = audioPath
        self.checksum = checksum
        self.sampleCount = sampleCount
        self.sampleRate = sampleRate
    }
}

/// What a worker learns when it renews its lease.
public enum LeaseStatus: Sendable, Equatable {
    case held
    /// Another process rescued the task (this worker was presumed dead): stop without writing.
    case lost
    case paused
    case cancelled
}

/// A duty of the whole cluster that one process performs at a time, under a lease row.
public enum Duty: String, Sendable, CaseIterable {
    /// Giving tasks whose lease expired back to the queue.
    case rescue
    /// Removing finished books' files after their retention (`serve --retention-hours`).
    case prune
}
