/// The state of a book as `status` reports it, derived from its tasks and flags by the job table.
public enum BookState: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case paused
    case completed
    case failed
    case cancelled
}

/// One book as `status` reports it (the JSON of DESIGN.md).
public struct BookStatus: Sendable, Codable, Equatable {
    public var id: Int64
    public var title: String?
    public var source: String
    public var state: BookState
    /// Fraction of segments synthesized, 0…1.
    public var progress: Double
    public var chaptersDone: Int
    public var chaptersTotal: Int
    /// Chapters written into every requested format so far (encoding follows synthesis chapter by
    /// chapter); `chaptersTotal` once the files are done.
    public var chaptersEncoded = 0
    public var segmentsDone: Int
    public var segmentsTotal: Int
    public var etaSeconds: Double?
    public var outputs: [String]
    /// Those of `outputs` that are no longer on disk.
    public var missingOutputs: [String] = []
    public var error: String?
    /// Problems that did not stop the book (a poison segment left silent).
    public var warnings: [String] = []
    public var authors: [String] = []
    /// 1 (first) to 4.
    public var priority = 2
    /// When it was queued (Unix seconds).
    public var createdAt: Double = 0

    public init(
        id: Int64,
        title: String?,
        source: String,
        state: BookState,
        progress: Double,
        chaptersDone: Int,
        chaptersTotal: Int,
        segmentsDone: Int,
        segmentsTotal: Int,
        etaSeconds: Double?,
        outputs: [String],
        error: String?,
        warnings: [String] = []
    ) {
        self.id = id
        self.title = title
        self.source = source
        self.state = state
        self.progress = progress
        self.chaptersDone = chaptersDone
        self.chaptersTotal = chaptersTotal
        self.segmentsDone = segmentsDone
        self.segmentsTotal = segmentsTotal
        self.etaSeconds = etaSeconds
        self.outputs = outputs
        self.error = error
        self.warnings = warnings
    }
}

/// A line of a task's history.
public struct TaskEventRecord: Sendable, Equatable {
    public var taskID: Int64
    public var at: Double
    public var kind: String
    public var message: String

    public init(taskID: Int64, at: Double, kind: String, message: String) {
        self.taskID = taskID
        self.at = at
        self.kind = kind
        self.message = message
    }
}

/// Where one chapter of a book stands (its synthesis task).
public struct ChapterStatus: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case waiting
        case running
        case done
        case failed
        case cancelled
    }

    public var index: Int
    public var title: String
    public var state: State
    public var segmentsDone: Int
    public var segmentsTotal: Int
    /// Attempts used, and how many it may use.
    public var attempt: Int
    public var maxAttempts: Int
    public var lastError: String?

    public init(
        index: Int,
        title: String,
        state: State,
        segmentsDone: Int,
        segmentsTotal: Int,
        attempt: Int,
        maxAttempts: Int,
        lastError: String?
    ) {
        self.index = index
        self.title = title
        self.state = state
        self.segmentsDone = segmentsDone
        self.segmentsTotal = segmentsTotal
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.lastError = lastError
    }
}

/// What a user may ask of a book, and in which of its states each makes sense.
public enum BookAction: String, Sendable, Codable, CaseIterable {
    case pause
    case unpause
    case cancel
    case retry
    case delete
    case setPriority

    /// Whether the action applies to a book in `state`; nil when it does, else why not.
    public func refusal(in state: BookState) -> String? {
        let allowed: Set<BookState> =
            switch self {
            case .pause: [.queued, .running]
            case .unpause: [.paused]
            case .cancel: [.queued, .running, .paused]
            case .retry: [.failed, .cancelled]
            case .delete: [.queued, .paused, .completed, .failed, .cancelled]
            case .setPriority: [.queued, .running, .paused]
            }
        guard !allowed.contains(state) else { return nil }
        let advice =
            switch self {
            case .delete: "; cancel or pause it first"
            case .retry: "; only failed or cancelled books are retried"
            default: ""
            }
        return
            "a \(state.rawValue) book cannot be asked to \(self == .setPriority ? "change priority" : rawValue)\(advice)"
    }
}

/// A process working on the job table, as `stats` shows it.
public struct WorkerStatus: Sendable, Codable, Equatable {
    public var id: String
    public var host: String
    public var pid: Int32
    public var startedAt: Double
    /// When it last renewed a lease (or registered, holding nothing).
    public var heartbeatAt: Double
    /// Chapters and encodes it holds now.
    public var holding: Int

    public init(id: String, host: String, pid: Int32, startedAt: Double, heartbeatAt: Double, holding: Int) {
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.holding = holding
    }
}

/// A TTS server books are spoken through, with the last answer any worker recorded from it.
public struct BackendStatus: Sendable, Codable, Equatable {
    public var url: String
    /// Whether the last recorded result was a success.
    public var ok: Bool
    /// The error of a failed last result.
    public var message: String?
    public var at: Double

    public init(url: String, ok: Bool, message: String?, at: Double) {
        self.url = url
        self.ok = ok
        self.message = message
        self.at = at
    }
}
