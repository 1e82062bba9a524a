public import RecitalModel

/// What a running conversion reports, for progress bars and logs.
public enum ProgressEvent: Sendable {
    /// Work is starting: how much there is and how much was already done.
    case started(books: Int, segmentsDone: Int, segmentsTotal: Int)
    case segmentDone(book: Int64, chapter: Int, chapterTitle: String, audioSeconds: Double)
    case chapterDone(book: Int64, chapter: Int, chapterTitle: String)
    /// A request failed and will be retried.
    case retrying(book: Int64, chapter: Int, segment: Int, message: String, delay: Duration)
    /// A chapter failed: transiently (retried later) or for good.
    case chapterFailed(book: Int64, chapter: Int, message: String, permanent: Bool)
    /// A checkpoint on disk was missing or corrupt and will be synthesized again.
    case checkpointDiscarded(book: Int64, chapter: Int, segment: Int)
    /// Waiting for retries scheduled later or for another process's work.
    case waiting(message: String)
    /// Encoding a book into these formats has begun.
    case encodeStarted(book: Int64, formats: [AudioContainer])
    case encodeProgress(book: Int64, fraction: Double)
    /// An encode following synthesis has written the book's first `count` of `total` chapters.
    case chaptersEncoded(book: Int64, count: Int, total: Int)
    /// The finished files of a book.
    case encoded(book: Int64, files: [String])
    case encodeFailed(book: Int64, message: String)
    /// A problem that did not stop the work (a cover that was skipped, a segment to redo).
    case warning(book: Int64, message: String)
    /// A problem of the run rather than of a book (the worker row could not be removed).
    case notice(message: String)
    /// Tasks of workers that died were taken back before the run chose what to retry.
    case rescued(tasks: Int)
}
