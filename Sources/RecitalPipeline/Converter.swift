internal import Foundation
internal import RecitalEncode
public import RecitalIngest
public import RecitalJobs
internal import RecitalMedia
public import RecitalModel
internal import RecitalSpeech

/// The conversion service the CLI drives: reads books into the job table, synthesizes them and
/// encodes them (the encode stage is in Converter+Encode.swift).
public struct Converter: Sendable {
    public let store: JobStore
    public let paths: RecitalPaths
    /// This process's worker id (host, pid and a random part).
    public let owner: String
    public var progress: @Sendable (ProgressEvent) -> Void
    /// What request retries sleep on (tests pass one that does not really sleep).
    public var retryClock: any Clock<Duration> = ContinuousClock()
    public var patience: Duration = .seconds(120)
    public var heartbeatInterval: Duration = .seconds(10)

    public init(
        store: JobStore,
        paths: RecitalPaths,
        owner: String,
        progress: @escaping @Sendable (ProgressEvent) -> Void
    ) {
        self.store = store
        self.paths = paths
        self.owner = owner
        self.progress = progress
    }

    /// What enqueueing a file did.
    public struct Enqueued: Sendable {
        public var bookID: Int64
        public var created: Bool
        public var book: Book
        /// The name the book's files take in the output folder (without extension).
        public var fileName: String?
        /// What this command changes for a book that was already there: files encoded again and
        /// why, checkpoints to synthesize again, a name that was taken.
        public var notes: [String] = []
    }

    /// A book read and shaped for speaking, not yet in the job table.
    public struct ReadBook: Sendable {
        /// The file's absolute path.
        public var path: String
        public var book: Book
        public var contentHash: String
    }

    /// Reads a book as `settings` will speak it. It needs no database, so a command can read its
    /// first book while the job table opens.
    /// - Throws: ``IngestError`` for unreadable books.
    /// - Parameter contentHash: the file's fingerprint when the caller has it already (a watcher
    ///   or an upload hashes a file before deciding to read it), so the bytes are not read twice.
    /// - Parameter observer: told how OCR of a scanned PDF progresses, and asked between its pages
    ///   whether to stop.
    public static func read(
        _ path: String,
        settings: ConversionSettings,
        contentHash: String? = nil,
        observer: IngestObserver = .silent
    ) throws -> ReadBook {
        let limit = settings.voice.maxCharacters ?? (settings.voice.backend == .openai ? 4096 : nil)
        let ingester = Ingester(
            segmentation: SegmentationOptions(maxCharacters: settings.maxSegmentCharacters).limited(to: limit),
            ocr: settings.ocr
        )
        var book = try ingester.read(path, observer: observer)
        book.chapters = Self.spoken(book, settings: settings)
        let hash: String
        if let contentHash {
            hash = contentHash
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw IngestError(.unreadable, file: path, "cannot be read")
            }
            hash = ContentHash.bytes([UInt8](data))
        }
        return ReadBook(path: URL(fileURLWithPath: path).standardizedFileURL.path, book: book, contentHash: hash)
    }

    /// Reads a book and puts it in the job table, unless the same file with the same settings is there.
    /// - Throws: ``IngestError`` for unreadable books, ``JobError`` for database trouble.
    public func enqueue(_ path: String, settings: ConversionSettings, priority: Int) async throws -> Enqueued {
        try await enqueue(Self.read(path, settings: settings), settings: settings, priority: priority)
    }

    /// Puts a book read by ``read(_:settings:)`` in the job table, unless the same file with the same
    /// settings is there.
    /// - Throws: ``JobError`` for database trouble.
    public func enqueue(_ read: ReadBook, settings: ConversionSettings, priority: Int) async throws -> Enqueued {
        let book = read.book
        let settingsJSON = try settings.json()
        let result = try await store.enqueue(
            NewBook(
                sourcePath: read.path,
                contentHash: read.contentHash,
                settingsHash: settings.audioHash,
                settingsJSON: settingsJSON,
                title: book.metadata.title,
                authors: book.metadata.authors,
                language: book.metadata.language,
                sampleRate: settings.voice.outputSampleRate,
                priority: priority,
                chapters: book.chapters,
                metadataJSON: try ConversionSettings.encoded(book.metadata, what: "the book's metadata"),
                encodeFormats: settings.encode.formats
            )
        )
        if case .created = result {
            if let cover = book.cover {
                do {
                    try await checkpointAudio.saveCover(cover.data, book: result.bookID)
                } catch {
                    // The book converts without it; its files will have no cover art.
                    progress(.warning(book: result.bookID, message: "its cover could not be kept: \(error)"))
                }
            }
        } else {
            // Settings that do not change audio (where the server runs) follow the latest command.
            try await store.updateSettings(result.bookID, json: settingsJSON)
        }
        return Enqueued(bookID: result.bookID, created: result == .created(result.bookID), book: book)
    }

    /// The chapters as they will be spoken: a title segment before each chapter whose text does not
    /// already open with its title, and an optional "Title, by Author." opening the book.
    static func spoken(_ book: Book, settings: ConversionSettings) -> [Chapter] {
        func key(_ text: String) -> String {
            String(text.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) })
        }
        return book.chapters.map { chapter in
            var lines: [String] = []
            if settings.speakIntro, chapter.index == book.chapters.first?.index, let title = book.metadata.title {
                let authors = book.metadata.authors.joined(separator: " and ")
                lines.append(authors.isEmpty ? "\(title)." : "\(title), by \(authors).")
            }
            let title = chapter.title.trimmingCharacters(in: .whitespacesAndNewlines)
            let opening = key(String(chapter.segments.first?.text.prefix(title.count + 20) ?? ""))
            if settings.speakChapterTitles, !key(title).isEmpty, !opening.hasPrefix(key(title)) {
                lines.append(title.hasSuffix(".") ? title : title + ".")
            }
            guard !lines.isEmpty, !chapter.segments.isEmpty else { return chapter }
            var copy = chapter
            let added = lines.map { Segment(index: 0, text: $0, boundary: .paragraph) }
            copy.segments = (added + chapter.segments).enumerated().map { index, segment in
                var segment = segment
                segment.index = index
                if index == 0 { segment.boundary = .chapter }
                if index == added.count { segment.boundary = .paragraph }
                return segment
            }
            return copy
        }
    }

    /// Where this converter keeps and finds segment audio and covers.
    var checkpointAudio: CheckpointAudio { CheckpointAudio(paths: paths, store: store) }

    /// Synthesizes the books' pending segments, each through the voice it was queued with.
    /// Cancelling the calling task stops it: held chapters are given back without using an attempt
    /// and it returns ``SynthesisOutcome/interrupted``.
    public func synthesize(books: [Int64], options: RunOptions = RunOptions()) async throws -> SynthesisOutcome {
        guard !books.isEmpty else { return .finished }
        do {
            let (voices, policies) = try await voices(for: books, options: options)
            return try await asWorker {
                try await synthesizeRegistered(books: books, voices: voices, policies: policies, options: options)
            }
        } catch _ where Task.isCancelled {
            return .interrupted
        }
    }

    /// Synthesizes the books through one given voice, whatever they were queued with.
    public func synthesize(
        books: [Int64],
        settings: ConversionSettings,
        apiKey: String?,
        concurrency: Int?
    ) async throws -> SynthesisOutcome {
        var options = RunOptions(concurrency: concurrency)
        options.voice = (settings.voice, apiKey)
        return try await synthesize(books: books, options: options)
    }

    /// Each book's voice: its stored profile (or the run's override), its server URL possibly
    /// replaced, and the API key read from the variable the profile names; and what its poison
    /// segments do.
    func voices(
        for books: [Int64],
        options: RunOptions
    ) async throws -> ([SpeechRoutes.Voice], [Int64: BadSegmentPolicy]) {
        var voices: [SpeechRoutes.Voice] = []
        var policies: [Int64: BadSegmentPolicy] = [:]
        for book in books {
            var profile: VoiceProfile
            var apiKey: String?
            if let (override, key) = options.voice {
                profile = override
                apiKey = key
                policies[book] = ConversionSettings.decode(try await store.book(book).settingsJSON)?.onBadSegment
            } else {
                let settings = try ConversionSettings.decode(try await store.book(book).settingsJSON, book: book)
                profile = settings.voice
                policies[book] = settings.onBadSegment
                apiKey = try VoiceProfiles.apiKey(for: profile, environment: options.environment)
            }
            if let url = options.serverURL { profile.url = url }
            voices.append(SpeechRoutes.Voice(book: book, profile: profile, apiKey: apiKey))
        }
        return (voices, policies)
    }

    /// Set while a caller keeps this process in the workers table itself.
    @TaskLocal static var registeredByCaller = false

    /// Runs `body` with this process in the workers table, so that if it dies its leases are
    /// rescued at once by the next process on this machine (synthesis and encoding alike).
    func asWorker<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        // A long-running worker (`Pipeline.work`) is in the table for its whole life, idle or not.
        if Self.registeredByCaller { return try await body() }
        try await store.registerWorker(
            id: owner,
            pid: ProcessInfo.processInfo.processIdentifier,
            host: ProcessInfo.processInfo.hostName
        )
        // Removed even when the run is cancelled; a stale row would be harmless (its pid is gone once
        // this process exits), so failing to remove it is only reported.
        let store = self.store
        let owner = self.owner
        func leave() async {
            do {
                try await Blocking.uncancelled { try await store.removeWorker(id: owner) }
            } catch {
                progress(.notice(message: "\(error)"))
            }
        }
        do {
            let result = try await body()
            await leave()
            return result
        } catch {
            await leave()
            throw error
        }
    }

    private func synthesizeRegistered(
        books: [Int64],
        voices: [SpeechRoutes.Voice],
        policies: [Int64: BadSegmentPolicy],
        options: RunOptions
    ) async throws -> SynthesisOutcome {
        try await repair(books: books)
        return try await SpeechRoutes.with(
            voices,
            concurrency: options.concurrency,
            local: paths.localVoices,
            clock: retryClock
        ) { routes in
            var worker = SynthesisWorker(
                store: store,
                routes: routes,
                audio: checkpointAudio,
                owner: owner,
                progress: progress
            )
            worker.patience = patience
            worker.heartbeatInterval = heartbeatInterval
            worker.badSegments = policies
            return try await worker.run(books: books)
        }
    }

    /// Synthesizes, then encodes the books whose synthesis is complete; a damaged checkpoint found
    /// while encoding sends its segment back to synthesis, then encoding runs again.
    public func convert(books: [Int64], options: RunOptions = RunOptions()) async throws -> SynthesisOutcome {
        guard !Self.registeredByCaller else { return try await convertRegistered(books: books, options: options) }
        do {
            // One registration for synthesis and the encode that follows it, which run side by side.
            return try await asWorker {
                try await Self.$registeredByCaller.withValue(true) {
                    try await convertRegistered(books: books, options: options)
                }
            }
        } catch _ where Task.isCancelled {
            return .interrupted
        }
    }

    private func convertRegistered(books: [Int64], options: RunOptions) async throws -> SynthesisOutcome {
        var damaged = 0
        while !Task.isCancelled {
            let outcome = try await synthesizeFollowed(books: books, options: options)
            guard outcome == .finished else { return outcome }
            switch try await encode(books: books, overwrite: options.overwrite) {
            case .finished:
                switch try await awaitEncodes(books: books, overwrite: options.overwrite) {
                case .finished: return .finished
                case .interrupted: return .interrupted
                case .damaged: damaged += 1
                case .resynthesize: continue
                }
            case .interrupted: return .interrupted
            case .needsSynthesis: damaged += 1
            }
            if damaged == 3 { return .stalled("checkpoints keep turning out damaged while encoding") }
        }
        return .interrupted
    }

    /// How a wait for the books' encodes ended.
    private enum AwaitedEncodes {
        case finished, interrupted
        /// A damaged checkpoint sent its segment back to synthesis.
        case damaged
        /// A book paused when synthesis ended was unpaused (or retried) since.
        case resynthesize
    }

    /// Synthesizes while the books' encodes follow it chapter by chapter; a synthesis that does not
    /// finish stops the following encode, which gives back what it holds.
    private func synthesizeFollowed(books: [Int64], options: RunOptions) async throws -> SynthesisOutcome {
        let ended = StopFlag()
        return try await withThrowingTaskGroup(of: SynthesisOutcome?.self) { group in
            group.addTask {
                let outcome = try await synthesize(books: books, options: options)
                // Any other end cancels the follower anyway.
                if outcome == .finished { ended.set() }
                return outcome
            }
            group.addTask {
                try await followSynthesis(books: books, overwrite: options.overwrite, synthesisEnded: ended)
                return nil
            }
            var outcome = SynthesisOutcome.finished
            while let result = try await group.next() {
                guard let result else { continue }
                outcome = result
                if result != .finished { group.cancelAll() }
            }
            return outcome
        }
    }

    /// Waits while another process encodes one of the books, so that a finished run means the
    /// files exist; an encode that process gives up (or leaves by dying) is taken over here. A book
    /// with chapters to synthesize again (unpaused or retried meanwhile) ends the wait: its encode
    /// cannot start before its synthesis, which is this run's to do.
    private func awaitEncodes(books: [Int64], overwrite: Bool) async throws -> AwaitedEncodes {
        do {
            var told = false
            while true {
                let open = try await store.openTaskKinds(books: books)
                guard open.contains(.encode) else { break }
                if open.contains(.synthesize) { return .resynthesize }
                if !told {
                    progress(.waiting(message: "waiting for an encode another process holds"))
                    told = true
                }
                try await Task.sleep(for: .milliseconds(250))
                switch try await encode(books: books, overwrite: overwrite) {
                case .finished: continue
                case .interrupted: return .interrupted
                case .needsSynthesis: return .damaged
                }
            }
            return .finished
        } catch _ where Task.isCancelled {
            return .interrupted
        }
    }

    /// Encodes every book of `books` whose synthesis is complete and whose encode tasks wait.
    public func encode(books: [Int64], overwrite: Bool = false) async throws -> EncodeOutcome {
        do {
            return try await asWorker { try await encodeRegistered(books: books, overwrite: overwrite) }
        } catch _ where Task.isCancelled {
            return .interrupted
        }
    }

    private func encodeRegistered(books: [Int64], overwrite: Bool) async throws -> EncodeOutcome {
        // Encode tasks of a process that died are taken over at once, like chapters.
        try await store.rescueExpiredLeases(leader: owner)
        return try await runEncodes(books: books, overwrite: overwrite)
    }

    /// Finds checkpoints whose audio file is gone or the wrong size and queues those segments
    /// again, so a damaged checkpoint costs one segment, not the chapter. Returns how many.
    @discardableResult
    public func repair(books: [Int64]) async throws -> Int {
        let audio = checkpointAudio
        var repaired = 0
        for book in books {
            // A finished book converted with --remove-segments has no checkpoint audio on purpose;
            // it needs it again only once a file is asked for again (then it is not finished).
            if try await store.taskStates(book: book).allSatisfy({ $0 == .completed }),
                ConversionSettings.decode(try await store.book(book).settingsJSON)?.keepSegments == false
            {
                continue
            }
            let broken = try await store.checkpoints(book: book).filter { !audio.isPresent($0) }
            guard !broken.isEmpty else { continue }
            try await store.discardCheckpoints(broken, reason: "audio missing or truncated")
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
