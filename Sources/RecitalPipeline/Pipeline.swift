internal import Foundation
public import RecitalEncode
public import RecitalIngest
internal import RecitalJobs
internal import RecitalMedia
public import RecitalModel

/// How a run speaks and finishes its books.
public struct RunOptions: Sendable {
    /// Requests in flight per server (default: each voice profile's).
    public var concurrency: Int?
    /// Sends every book's requests to this URL instead of the one it was queued with.
    public var serverURL: String?
    /// Replace existing files of the same names that are not the book's own.
    public var overwrite = false
    /// Speaks every book with this voice (and key) instead of its stored one.
    public var voice: (profile: VoiceProfile, apiKey: String?)?
    /// Where API keys are read from (by the variable a profile names).
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    public init(concurrency: Int? = nil, serverURL: String? = nil, overwrite: Bool = false) {
        self.concurrency = concurrency
        self.serverURL = serverURL
        self.overwrite = overwrite
    }
}

/// Everything a front end (the command line, and next `watch` and `serve`) asks of Recital: add
/// books, run workers, resume, encode again, control and delete books, and read their status. Front
/// ends never touch the job table or the files under the home folder themselves.
public struct Pipeline: Sendable {
    let converter: Converter
    var store: JobStore { converter.store }
    /// Everything running work reports, as a stream (the newest 4,096 are kept for a slow reader);
    /// the `progress` closure given at init hears the same.
    public let events: AsyncStream<ProgressEvent>
    public var paths: RecitalPaths { converter.paths }

    /// Opens the job table under `paths`, creating the home folder on first use.
    /// - Parameters:
    ///   - patience: how long work may fail transiently with nothing succeeding before a run stops
    ///     (and `resume` carries on).
    ///   - heartbeat: how often held work renews its lease and looks for a pause or cancel.
    ///   - progress: hears what running work reports.
    public init(
        paths: RecitalPaths,
        patience: Duration = .seconds(120),
        heartbeat: Duration = .seconds(10),
        progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in }
    ) throws(PipelineError) {
        try paths.prepare()
        let store: JobStore
        do {
            store = try JobStore.open(paths.database)
        } catch {
            throw PipelineError(error)
        }
        var converter = Converter(
            store: store,
            paths: paths,
            owner: Converter.makeOwner(),
            progress: progress
        )
        converter.patience = patience
        converter.heartbeatInterval = heartbeat
        self.init(converter)
    }

    /// A pipeline over a converter configured by the caller (tests inject clocks and intervals).
    public init(_ converter: Converter) {
        let (events, continuation) = AsyncStream.makeStream(
            of: ProgressEvent.self,
            bufferingPolicy: .bufferingNewest(4096)
        )
        var streaming = converter
        let report = converter.progress
        streaming.progress = { event in
            report(event)
            continuation.yield(event)
        }
        self.converter = streaming
        self.events = events
    }

    // MARK: - Adding books

    /// Reads a book as `settings` will speak it, on a thread of its own (a scanned PDF takes about a
    /// second a page). It needs no database, so a front end can read its first book while the job
    /// table opens.
    /// - Parameter progress: told page by page how OCR of a scanned PDF goes.
    /// - Throws: `IngestError` for unreadable books (the file and the reason); `CancellationError`
    ///   when the calling task is cancelled mid-read.
    public static func read(
        _ path: String,
        settings: ConversionSettings,
        progress: @escaping @Sendable (IngestProgress) -> Void = { _ in }
    ) async throws -> Converter.ReadBook {
        try await readInBackground(path, settings: settings, progress: progress)
    }

    /// Reads a book as it is, without shaping it for a voice (for `inspect`), on a thread of its own.
    /// - Throws: `IngestError` for unreadable books; `CancellationError` when the calling task is
    ///   cancelled mid-read (OCR stops between pages).
    public static func inspect(
        _ path: String,
        with ingester: Ingester,
        progress: @escaping @Sendable (IngestProgress) -> Void = { _ in }
    ) async throws -> Book {
        try await Blocking.thread { cancelled in
            do {
                return try ingester.read(path, observer: IngestObserver(progress: progress, isCancelled: cancelled))
            } catch let error as IngestError where error.code == .cancelled {
                throw CancellationError()
            }
        }
    }

    /// Puts a book read by ``read(_:settings:)`` in the job table, or finds the same file with the
    /// same settings there, and reserves the name of its files in the output folder. For a book that
    /// was there, every file this command asks for that is not verified in its folder (another
    /// format, another folder, deleted or changed since) is scheduled to be encoded again, and a
    /// failed book gets fresh attempts; ``Converter/Enqueued/notes`` say what was found.
    /// - Parameter overwrite: files of other names in the way do not count when choosing the name.
    public func add(
        _ book: Converter.ReadBook,
        settings: ConversionSettings,
        priority: Int,
        overwrite: Bool = false
    ) async throws -> Converter.Enqueued {
        let (voice, hint): (VoiceProfile, String?) =
            settings.voiceByLanguage
            ? VoiceProfiles.byLanguage(book.book.metadata.language, home: paths.home, fallback: settings.voice)
            : (settings.voice, nil)
        var chosen = settings
        chosen.voice = voice
        let settings = chosen
        return try await jobs {
            var added = try await converter.enqueue(book, settings: settings, priority: priority)
            if let hint { added.notes.append(hint) }
            // Said when the book is queued, before any request: a voice reading a language it does not
            // speak mispronounces nearly every word.
            if let language = book.book.metadata.language, settings.voice.speaks(language) == false {
                let spoken = settings.voice.languages?.joined(separator: ", ") ?? ""
                added.notes.append(
                    "warning: the book is in \(language), but the voice '\(settings.voice.name)' speaks \(spoken)"
                )
            }
            if !added.created {
                if try await store.status(book: added.bookID).first?.state == .failed {
                    _ = try await store.retry(added.bookID)
                    added.notes.append("it had failed; trying again with fresh attempts")
                }
                added.notes += try await converter.redoOutputs(added.bookID, settings: settings)
            }
            guard !settings.encode.formats.isEmpty, let folder = settings.outputDirectory else { return added }
            let name = try await converter.reserveName(
                added.bookID,
                metadata: book.book.metadata,
                folder: folder,
                encode: settings.encode,
                overwrite: overwrite
            )
            let base = OutputName.base(title: book.book.metadata.title, authors: book.book.metadata.authors)
            if name != base { added.notes.append("“\(base)” is taken in \(folder); its files are named “\(name)”") }
            added.fileName = name
            return added
        }
    }

    /// What stands between a book and the files its stored settings ask for: formats with no file
    /// recorded in its output folder, files gone or changed since they were written. Empty when
    /// every file exists and is verified.
    public func unverifiedFiles(_ book: Int64) async throws -> [String] {
        try await jobs {
            let settings = try ConversionSettings.decode(try await store.book(book).settingsJSON, book: book)
            let folder = settings.outputDirectory ?? FileManager.default.currentDirectoryPath
            let outputs = try await store.outputs(book: book)
            return settings.encode.formats.compactMap { Converter.problem($0, outputs, in: folder) }
        }
    }

    /// The books these names stand for: ids, or the files books were read from.
    public func books(named names: [String]) async throws -> [Int64] {
        try await jobs {
            var ids: [Int64] = []
            for name in names {
                if let id = Int64(name) {
                    _ = try await store.book(id)
                    ids.append(id)
                } else {
                    let path = URL(fileURLWithPath: name).standardizedFileURL.path
                    guard let id = try await store.books(withSource: path).first else {
                        throw PipelineError(.notFound, "no book in the job table comes from \(name)")
                    }
                    ids.append(id)
                }
            }
            return ids
        }
    }

    // MARK: - Running

    /// Synthesizes and encodes the books, each with its own voice, until they are done, the calling
    /// task is cancelled (held work is given back; the outcome is ``SynthesisOutcome/interrupted``),
    /// or work stalls.
    public func run(books: [Int64], options: RunOptions = RunOptions()) async throws -> SynthesisOutcome {
        try await jobs { try await converter.convert(books: books, options: options) }
    }

    /// Carries on with the named books, or with every unfinished one. Tasks of workers that died are
    /// taken back first, then failed books get fresh attempts, so a book whose attempts were used up
    /// by crashes is retried in this same run.
    /// - Returns: the books it worked on and how the run ended.
    public func resume(
        _ names: [String] = [],
        options: RunOptions = RunOptions()
    ) async throws -> (books: [Int64], outcome: SynthesisOutcome) {
        let ids = try await jobs {
            let rescued = try await store.rescueExpiredLeases(leader: owner)
            if rescued > 0 { converter.progress(.rescued(tasks: rescued)) }
            let ids = names.isEmpty ? try await store.unfinishedBooks() : try await books(named: names)
            // Paused or cancelled books are left alone.
            for id in ids where try await store.status(book: id).first?.state == .failed {
                _ = try await store.retry(id)
            }
            return ids
        }
        guard !ids.isEmpty else { return ([], .finished) }
        return (ids, try await run(books: ids, options: options))
    }

    /// Encodes a synthesized book again from its checkpoints, into new formats or settings.
    public func reencode(
        _ book: Int64,
        encode: EncodeSettings,
        outputDirectory: String,
        overwrite: Bool
    ) async throws -> EncodeOutcome {
        try await jobs {
            let record = try await store.book(book)
            var settings = try ConversionSettings.decode(record.settingsJSON, book: book)
            let synthesized = try await store.checkpoints(book: book).count
            let total = try await store.status(book: book).first?.segmentsTotal ?? 0
            guard synthesized >= total else {
                throw PipelineError(
                    .invalidRequest,
                    "is not fully synthesized yet; run `recital resume \(book)` first",
                    book: book
                )
            }
            settings.encode = encode
            settings.outputDirectory = outputDirectory
            try await store.updateSettings(book, json: try settings.json())
            try await store.scheduleEncode(book, formats: encode.formats)
            return try await converter.encode(books: [book], overwrite: overwrite)
        }
    }

    // MARK: - Control

    /// Pauses a book; a process working on it gives its work back at its next heartbeat.
    public func pause(_ book: Int64) async throws { try await jobs { try await store.pause(book) } }

    public func unpause(_ book: Int64) async throws {
        try await jobs { try await store.unpause(book) }
    }

    /// Cancels a book: waiting work now, running work at its worker's next heartbeat.
    public func cancel(_ book: Int64) async throws { try await jobs { try await store.cancel(book) } }

    /// Gives a failed or cancelled book's tasks fresh attempts; returns how many.
    public func retry(_ book: Int64) async throws -> Int {
        try await jobs { try await store.retry(book) }
    }

    /// Sets the priority (1 first … 4) of a book and of its work still to do.
    public func setPriority(_ book: Int64, _ priority: Int) async throws {
        guard (1...4).contains(priority) else {
            throw PipelineError(.invalidRequest, "priority must be 1 to 4, not \(priority)", book: book)
        }
        try await jobs { try await store.setPriority(book, priority) }
    }

    /// Forgets a book and removes its checkpoint audio, and the partial files a stopped encode kept
    /// to be continued; finished files stay.
    public func delete(_ book: Int64) async throws {
        // The partial files while the book still holds their names, which no other book can take.
        var failures: [String] = []
        for (folder, stem) in try await jobs({ try await store.outputNames(book: book) }) {
            for path in IncrementalEncoder.partialFiles(folder: folder, name: stem) where unlink(path) != 0 {
                let code = errno
                if code != ENOENT { failures.append("\(path) (\(String(cString: strerror(code))))") }
            }
        }
        guard failures.isEmpty else {
            throw PipelineError(.storage, "cannot remove \(failures.joined(separator: ", "))", book: book)
        }
        // The audio first: deleting the book takes the table's copy with it, but not the files.
        try await converter.checkpointAudio.remove(book: book)
        try await jobs { try await store.delete(book) }
    }

    /// Does `action` to a book if its state allows it (``BookAction/refusal(in:)``), for front ends
    /// that answer a request the state does not allow with why (the API's 409).
    /// - Throws: ``PipelineError`` `.notFound`, or `.invalidRequest` with the reason.
    public func control(_ action: BookAction, book: Int64, priority: Int? = nil) async throws {
        guard let state = try await status(book: book).first?.state else {
            throw PipelineError(.notFound, "no such book", book: book)
        }
        if let refusal = action.refusal(in: state) { throw PipelineError(.invalidRequest, refusal, book: book) }
        switch action {
        case .pause: try await pause(book)
        case .unpause: try await unpause(book)
        case .cancel: try await cancel(book)
        case .retry: _ = try await retry(book)
        case .delete: try await delete(book)
        case .setPriority: try await setPriority(book, priority ?? 2)
        }
    }

    /// Removes the files and checkpoint audio of every book finished before `time` (its files
    /// written then), keeping the book listed; returns the books purged. Only the holder of the
    /// cluster's ``Duty/prune`` lease decides and clears the job table; every process then removes
    /// the purged books' files its own disk holds (a book encoded on another machine of a cluster).
    public func purge(finishedBefore time: Double) async throws -> [Int64] {
        var books: [Int64] = []
        if try await jobs({ try await store.lead(.prune, owner: owner) }) {
            books = try await jobs { try await store.finished(before: time) }
            for book in books {
                try await converter.checkpointAudio.remove(book: book)
                try await jobs { try await store.removeKeptOutputs(book: book) }
                try await jobs { try await store.markPurged(book) }
            }
        }
        for (book, path) in try await jobs({ try await store.purgedFiles() })
        where FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw PipelineError(.storage, "cannot remove \(path) after its retention", book: book, cause: error)
            }
        }
        return books
    }

    /// When retention removed a book's files, if it did.
    public func purgedAt(book: Int64) async throws -> Double? {
        try await jobs { try await store.purgedAt(book) }
    }

    // MARK: - Reading

    /// Where one book, or every book, stands; recorded files that are no longer there are listed as
    /// missing too.
    public func status(book: Int64? = nil) async throws -> [BookStatus] {
        try await jobs {
            try await store.status(book: book).map { status in
                var status = status
                status.missingOutputs = status.outputs.filter { !FileManager.default.fileExists(atPath: $0) }
                return status
            }
        }
    }

    /// Every chapter of a book: its state, checkpoints and attempts.
    public func chapters(book: Int64) async throws -> [ChapterStatus] {
        try await jobs {
            _ = try await store.book(book)
            return try await store.chapters(book: book)
        }
    }

    /// The files recorded for a book, by format (parts in order).
    public func outputFiles(book: Int64) async throws -> [AudioContainer: [String]] {
        try await jobs {
            var files: [AudioContainer: [String]] = [:]
            for output in try await store.outputs(book: book) { files[output.format, default: []].append(output.path) }
            return files
        }
    }

    /// The size and checksum of a finished file the job table keeps (a book queued through `serve`
    /// on PostgreSQL), or nil when it keeps none.
    public func keptOutputInfo(
        book: Int64,
        format: AudioContainer,
        part: Int
    ) async throws -> (bytes: Int, checksum: String)? {
        try await jobs { try await store.keptOutputInfo(book: book, format: format, part: part) }
    }

    /// How many bytes of a kept file one read should ask for: the table's pieces.
    public static var keptOutputPieceBytes: Int { JobStore.chunkSize }

    /// Bytes `range` of a finished file the job table keeps.
    public func keptOutput(
        book: Int64,
        format: AudioContainer,
        part: Int,
        range: ClosedRange<Int>
    ) async throws
        -> [UInt8]
    {
        try await jobs { try await store.keptOutput(book: book, format: format, part: part, range: range) }
    }

    /// The books changed after `since` (Unix seconds), and every book there is (so a reader can
    /// tell which were deleted): what a live view polls.
    public func changes(since: Double) async throws -> (changed: Set<Int64>, all: Set<Int64>) {
        try await jobs { try await store.changes(since: since) }
    }

    /// The processes working on the job table, with what each holds and its last heartbeat.
    public func workers() async throws -> [WorkerStatus] {
        try await jobs { try await store.workers() }
    }

    /// The TTS servers of the books in the table (by the URL each was queued with), each with the
    /// newest result any worker recorded from it.
    public func backends() async throws -> [BackendStatus] {
        try await jobs {
            var newest: [String: BackendStatus] = [:]
            for (book, result) in try await store.lastResults() {
                let settings = ConversionSettings.decode(try await store.book(book).settingsJSON)
                let url = settings?.voice.url ?? "built-in voice"
                guard (newest[url]?.at ?? -.infinity) < result.at else { continue }
                newest[url] = BackendStatus(url: url, ok: result.ok, message: result.message, at: result.at)
            }
            return newest.values.sorted { $0.url < $1.url }
        }
    }

    /// Characters synthesized per second over the last ten minutes (nil when nothing was).
    public func charactersPerSecond() async throws -> Double? {
        try await jobs { try await store.charactersPerSecond(window: 600) }
    }

    /// Every task's history of a book, oldest first.
    public func history(book: Int64) async throws -> [TaskEventRecord] {
        try await jobs { try await store.events(book: book) }
    }

    /// Runs `body`, turning job-table failures into ``PipelineError``s.
    func jobs<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PipelineError {
            throw error
        } catch let error as JobError {
            throw PipelineError(error)
        } catch {
            throw PipelineError(.database, "unexpected failure", cause: error)
        }
    }
}

extension PipelineError {
    /// A job-table failure as the pipeline reports it.
    init(_ error: JobError) {
        let kind: Kind =
            switch error.code {
            case .notFound: .notFound
            case .invalidTransition: .invalidRequest
            default: .database
            }
        // The job error is the cause (its own cause is SQLite's error); its words are already here.
        self.init(kind, error.message, book: error.bookID, cause: error)
    }
}
