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
    public var segmentsDone: Int
    public var segmentsTotal: Int
    public var etaSeconds: Double?
    public var outputs: [String]
    /// Those of `outputs` that are no longer on disk.
    public var missingOutputs: [String] = []
    public var error: String?
    /// Problems that did not stop the book (a poison segment left silent).
    public var warnings: [String] = []

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
