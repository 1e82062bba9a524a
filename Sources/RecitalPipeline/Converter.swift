internal import Foundation
internal import RecitalIngest
public import RecitalJobs
public import RecitalModel
internal import RecitalSpeech

/// The conversion service the CLI drives: reads books into the job table and runs synthesis on them.
public struct Converter: Sendable {
    public let store: JobStore
    public let paths: RecitalPaths
    /// This process's worker id (host, pid and a random part).
    public let owner: String
    public let stop: StopFlag
    public let progress: @Sendable (ProgressEvent) -> Void
    /// What request retries sleep on (tests pass one that does not really sleep).
    public var retryClock: any Clock<Duration> = ContinuousClock()
    public var patience: Duration = .seconds(120)
    public var heartbeatInterval: Duration = .seconds(10)

    public init(
        store: JobStore,
        paths: RecitalPaths,
        owner: String,
        stop: StopFlag,
        progress: @escaping @Sendable (ProgressEvent) -> Void
    ) {
        self.store = store
        self.paths = paths
        self.owner = owner
        self.stop = stop
        self.progress = progress
    }

    /// What enqueueing a file did.
    public struct Enqueued: Sendable {
        public var bookID: Int64
        public var created: Bool
        public var book: Book
    }

    /// Reads a book and puts it in the job table, unless the same file with the same settings is there.
    /// - Throws: ``IngestError`` for unreadable books, ``JobError`` for database trouble.
    public func enqueue(_ path: String, settings: ConversionSettings, priority: Int) async throws -> Enqueued {
        let limit = settings.voice.maxCharacters ?? (settings.voice.backend == .openai ? 4096 : nil)
        let ingester = Ingester(
            segmentation: SegmentationOptions(maxCharacters: settings.maxSegmentCharacters).limited(to: limit)
        )
        let book = try ingester.read(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IngestError(.unreadable, file: path, "cannot be read")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let result = try await store.enqueue(
            NewBook(
                sourcePath: absolute,
                contentHash: ContentHash.bytes([UInt8](data)),
                settingsHash: settings.audioHash,
                settingsJSON: settings.json,
                title: book.metadata.title,
                authors: book.metadata.authors,
                language: book.metadata.language,
                sampleRate: settings.voice.outputSampleRate,
                priority: priority,
                chapters: book.chapters
            )
        )
        if case .created = result {
        } else {
            // Settings that do not change audio (where the server runs) follow the latest command.
            try await store.updateSettings(result.bookID, json: settings.json)
        }
        return Enqueued(bookID: result.bookID, created: result == .created(result.bookID), book: book)
    }

    /// Synthesizes the books' pending segments through the voice in `settings`.
    public func synthesize(
        books: [Int64],
        settings: ConversionSettings,
        apiKey: String?,
        concurrency: Int?
    ) async throws -> SynthesisOutcome {
        guard !books.isEmpty else { return .finished }
        try await store.registerWorker(
            id: owner,
            pid: ProcessInfo.processInfo.processIdentifier,
            host: ProcessInfo.processInfo.hostName
        )
        try await repair(books: books)
        let outcome = try await SpeechSession.with(settings.voice, apiKey: apiKey, clock: retryClock) { synthesizer in
            var worker = SynthesisWorker(
                store: store,
                synthesizer: synthesizer,
                files: CheckpointFiles(root: paths.audio),
                owner: owner,
                concurrency: concurrency ?? settings.voice.requestConcurrency,
                stop: stop,
                progress: progress
            )
            worker.patience = patience
            worker.heartbeatInterval = heartbeatInterval
            return try await worker.run(books: books)
        }
        try? await store.removeWorker(id: owner)
        return outcome
    }

    /// Finds checkpoints whose audio file is gone or the wrong size and queues those segments
    /// again, so a damaged checkpoint costs one segment, not the chapter. Returns how many.
    @discardableResult
    public func repair(books: [Int64]) async throws -> Int {
        let files = CheckpointFiles(root: paths.audio)
        var repaired = 0
        for book in books {
            let broken = try await store.checkpoints(book: book).filter { !files.isPresent($0) }
            guard !broken.isEmpty else { continue }
            try await store.discardCheckpoints(broken, reason: "audio file missing or truncated")
            for record in broken {
                progress(.checkpointDiscarded(book: book, chapter: record.chapterIndex, segment: record.index))
            }
            repaired += broken.count
        }
        return repaired
    }

    /// A fresh worker id for this process.
    public static func makeOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
    }
}
