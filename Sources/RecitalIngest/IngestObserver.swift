/// What a long read reports, and how it is told to stop. Reading a reflowable book takes
/// milliseconds; recognising a scanned one takes about a second a page, so it says how far it is
/// and stops between pages when asked.
public struct IngestObserver: Sendable {
    public var progress: @Sendable (IngestProgress) -> Void
    public var isCancelled: @Sendable () -> Bool

    public init(
        progress: @escaping @Sendable (IngestProgress) -> Void = { _ in },
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) {
        self.progress = progress
        self.isCancelled = isCancelled
    }

    /// Reports nothing and never stops.
    public static let silent = IngestObserver()
}

public enum IngestProgress: Sendable, Equatable {
    /// `page` of the `of` pages that need OCR are done, `elapsed` after the first began.
    case recognizing(page: Int, of: Int, elapsed: Duration)
}
