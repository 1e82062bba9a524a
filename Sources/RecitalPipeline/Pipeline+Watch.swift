internal import Foundation
public import RecitalIngest
internal import RecitalJobs
public import RecitalModel

/// What `recital watch` asks of the job table: the files it has seen and the inboxes it scans.
extension Pipeline {
    /// This process's id in the job table (it holds leases under it).
    public var owner: String { converter.owner }

    public func watchedFile(_ path: String) async throws -> WatchedFile? {
        try await jobs { try await store.watchedFile(path) }
    }

    /// Every file recorded under `inbox` (every inbox when nil), in these states (any when nil).
    public func watchedFiles(inbox: String? = nil, states: [WatchedFileState]? = nil) async throws -> [WatchedFile] {
        try await jobs { try await store.watchedFiles(inbox: inbox, states: states) }
    }

    public func recordWatched(_ file: WatchedFile) async throws {
        try await jobs { try await store.recordWatched(file) }
    }

    public func forgetWatched(_ path: String) async throws {
        try await jobs { try await store.forgetWatched(path) }
    }

    /// The books of every queued watched file, first priority first: what a watcher works on.
    public func watchedBooksQueued() async throws -> [Int64] {
        try await jobs { try await store.watchedBooksQueued() }
    }

    /// The book already made of these bytes with settings that give the same audio, and the formats
    /// it has been asked for; nil when there is none.
    public func existingBook(
        contentHash: String,
        settings: ConversionSettings
    ) async throws -> (book: Int64, formats: Set<AudioContainer>)? {
        try await jobs {
            var settings = settings
            if settings.voiceByLanguage {
                // The voice the book would get now: the same bytes are in the same language.
                guard let language = try await store.language(contentHash: contentHash) else { return nil }
                settings.voice =
                    VoiceProfiles.byLanguage(
                        language.isEmpty ? nil : language,
                        home: paths.home,
                        fallback: settings.voice
                    )
                    .voice
            }
            guard let id = try await store.book(contentHash: contentHash, settingsHash: settings.audioHash) else {
                return nil
            }
            let asked = try await store.encodeStates(book: id).filter { $0.value != .cancelled }.keys
            return (id, Set(asked))
        }
    }

    /// The fingerprint books are known by (the same as ``read(_:settings:)`` computes), from the
    /// file's bytes alone, so that a duplicate is found without reading the book. Runs off the
    /// cooperative pool.
    /// - Throws: ``PipelineError`` (storage) when the file cannot be read.
    public static func contentHash(ofFile path: String) async throws -> String {
        try await Blocking.io {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PipelineError(.storage, "\(path): cannot be read")
            }
            return ContentHash.bytes([UInt8](data))
        }
    }

    /// ``read(_:settings:)`` off the cooperative pool, for a front end that keeps serving while a
    /// long PDF is read.
    /// - Throws: `IngestError` for unreadable books.
    /// - Parameter contentHash: the file's ``contentHash(ofFile:)`` when the caller has it, so the
    ///   bytes are not read and hashed twice.
    public static func readInBackground(
        _ path: String,
        settings: ConversionSettings,
        contentHash: String? = nil,
        progress: @escaping @Sendable (IngestProgress) -> Void = { _ in }
    ) async throws -> Converter.ReadBook {
        try await Blocking.thread { cancelled in
            do {
                let observer = IngestObserver(progress: progress, isCancelled: cancelled)
                return try Converter.read(path, settings: settings, contentHash: contentHash, observer: observer)
            } catch let error as IngestError where error.code == .cancelled {
                throw CancellationError()
            }
        }
    }

    /// The settings a book was queued with, as stored (JSON), for reports; nil for no book.
    public func storedSettings(book: Int64?) async throws -> String? {
        guard let book else { return nil }
        return try await jobs { try await store.book(book).settingsJSON }
    }

    /// Takes or renews the lease on scanning `inbox`; false while another live watcher holds it.
    public func claimInbox(_ inbox: String) async throws -> Bool {
        try await jobs { try await store.claimInbox(inbox, owner: owner) }
    }

    public func releaseInbox(_ inbox: String) async throws {
        try await jobs { try await store.releaseInbox(inbox, owner: owner) }
    }

    public func recordFolders(_ folders: [WatchedFolder], inbox: String) async throws {
        try await jobs { try await store.recordFolders(folders, inbox: inbox) }
    }

    /// Every watched inbox: who scans it, how its folders are watched, and where its files stand.
    public func watchStatus() async throws -> [WatchedInbox] {
        try await jobs { try await store.watchStatus() }
    }
}
