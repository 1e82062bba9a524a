import Foundation
import RecitalIngest
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalTestSupport
import Synchronization
import Testing

/// A fresh home folder, job store and converter pointed at a TTS server URL.
struct PipelineHarness {
    let paths: RecitalPaths
    let store: JobStore
    let events = EventLog()

    /// - Parameters:
    ///   - backend: the job table's database (a fresh file, or a fresh PostgreSQL schema).
    ///   - clock: where a SQLite job table reads the time (the wall clock when nil).
    init(_ backend: DatabaseBackend = .sqlite, clock: (@Sendable () -> Double)? = nil) throws {
        let home = try Fixtures.temporaryDirectory().path
        let paths = RecitalPaths(home: home, database: backend.location(in: home))
        try paths.prepare()
        self.paths = paths
        store = try clock.map { try JobStore(path: paths.database, now: $0) } ?? JobStore.open(paths.database)
    }

    /// A converter on this harness; `progress` hears every event after the event log does.
    /// The patience is long by default: a test about anything else must not stall because a
    /// loaded machine (two cores, the whole suite in parallel) kept it from making progress.
    func converter(
        patience: Duration = .seconds(600),
        progress: (@Sendable (ProgressEvent) -> Void)? = nil
    ) -> Converter {
        let record = events.record
        var converter = Converter(
            store: store,
            paths: paths,
            owner: "test-\(UUID().uuidString.prefix(6))",
            progress: { event in
                record(event)
                progress?(event)
            }
        )
        converter.retryClock = TestClock()
        converter.patience = patience
        converter.heartbeatInterval = .milliseconds(100)
        return converter
    }

    static func settings(
        url: String,
        backend: VoiceProfile.Backend = .openai,
        concurrency: Int = 4
    ) -> ConversionSettings {
        var settings = ConversionSettings(
            voice: VoiceProfile(
                name: "fake",
                backend: backend,
                url: url,
                voice: "v",
                format: "wav",
                concurrency: concurrency,
                timeoutSeconds: 5
            ),
            maxSegmentCharacters: 400
        )
        // These tests are about synthesis and compare with the source's own segments; encode
        // tests ask for formats and spoken titles themselves.
        settings.encode.formats = []
        settings.speakChapterTitles = false
        return settings
    }

    /// Runs synthesis, which is expected to stall; the reason it gives (a recorded issue if it did not).
    func stallReason(_ converter: Converter, book id: Int64, settings: ConversionSettings) async throws -> String {
        let outcome = try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: nil)
        guard case .stalled(let reason) = outcome else {
            Issue.record("expected a stall, got \(outcome)")
            return ""
        }
        return reason
    }

    /// Every segment's checkpoint holds exactly the audio the fake server makes for its text.
    func expectCheckpointsMatchServer(book: Int64) async throws -> Bool {
        let audio = CheckpointAudio(paths: paths, store: store)
        let records = try await store.checkpoints(book: book)
        let status = try await store.only(book)
        guard records.count == status.segmentsTotal else { return false }
        let texts = try segmentTexts(book: book)
        for record in records {
            // On PostgreSQL the audio is in the job table; on SQLite, files under the home.
            guard record.isInTable == (audio.placement == .jobTable), audio.isIntact(record) else { return false }
            let text = texts["\(record.chapterIndex)/\(record.index)"] ?? ""
            if try await audio.samples(record) != FakeTTSServer.samples(for: text) { return false }
        }
        return true
    }

    /// Enqueues one chapter of a corpus book as a book of its own, for real-voice tests.
    func enqueueCorpusChapter(_ title: String, of name: String) async throws -> (Int64, Chapter) {
        let source = Fixtures.corpus.appendingPathComponent(name).path
        let book = try Ingester().read(source)
        let chapter = try #require(book.chapters.first { $0.title == title })
        let id = try await store.enqueue(
            NewBook(
                sourcePath: source,
                contentHash: "\(name)#\(title)#\(UUID().uuidString)",
                settingsHash: "real-voice",
                settingsJSON: "{}",
                title: book.metadata.title,
                authors: book.metadata.authors,
                language: book.metadata.language,
                sampleRate: 24_000,
                priority: 1,
                chapters: [Chapter(index: 0, title: chapter.title, text: chapter.text, segments: chapter.segments)]
            )
        ).bookID
        return (id, chapter)
    }

    func segmentTexts(book: Int64) throws -> [String: String] {
        // The store only hands out pending segments, so read the texts from the source book.
        var result: [String: String] = [:]
        let source = try Ingester().read(Fixtures.path("epub2-basic.epub"))
        for chapter in source.chapters {
            for segment in chapter.segments { result["\(chapter.index)/\(segment.index)"] = segment.text }
        }
        return result
    }
}

/// Another process's hold on a book's encode (one format), its lease renewed until given back.
final class EncodeHold: Sendable {
    let tasks: [ClaimedTask]
    private let store: JobStore
    private let renewing: Task<Void, any Error>

    init(of book: Int64, in store: JobStore) async throws {
        self.store = store
        tasks = try await store.claim(owner: "other", limit: 4, books: [book], kind: .encode, early: true)
        try #require(tasks.count == 1)
        let tasks = self.tasks
        renewing = Task {
            while !Task.isCancelled {
                for task in tasks { _ = try await store.heartbeat(task) }
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    func stopRenewing() { renewing.cancel() }

    /// Stops renewing and releases the tasks; true when every one was still held.
    func giveBack() async throws -> Bool {
        renewing.cancel()
        _ = await renewing.result
        var held = true
        for task in tasks where try await !store.release(task, reason: "stopping") { held = false }
        return held
    }
}

/// Collects progress events.
final class EventLog: Sendable {
    private let events = MutexBox<[ProgressEvent]>([])
    var all: [ProgressEvent] { events.value }
    var segmentsDone: Int { all.filter { if case .segmentDone = $0 { true } else { false } }.count }
    func record(_ event: ProgressEvent) { events.mutate { $0.append(event) } }
    /// The warnings given about `book`, in order.
    func warnings(book: Int64) -> [String] {
        all.compactMap { if case .warning(book, let message) = $0 { message } else { nil } }
    }
}

final class MutexBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func mutate(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}

extension JobStore {
    /// The status of one book, failing the test (not crashing it) when there is none.
    func only(_ book: Int64) async throws -> BookStatus {
        try #require(try await status(book: book).first)
    }
}
