import Foundation
import RecitalIngest
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalTestSupport
import Testing

/// Text a server cannot speak: scene breaks with no words, and poison segments that fail the same
/// way every time while the server answers everything else.
@Suite("Text with nothing to speak, and segments that always fail")
struct BadSegmentTests {
    static let book = Fixtures.path("epub2-basic.epub")

    /// The text of the second segment of the book's first chapter, which the tests make poison.
    static func poisonText() throws -> String {
        let chapter = try #require(try Ingester().read(book).chapters.first)
        return chapter.segments[1].text
    }

    @Test("scene breaks are never sent to a server: each is an empty checkpoint and a pause in the finished file")
    func sceneBreaks() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        let pipeline = Pipeline(harness.converter())
        let out = harness.paths.home + "/out"
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url)
            settings.encode.formats = [.flac]
            settings.outputDirectory = out
            let read = try await Pipeline.read(Fixtures.path("scene-breaks.epub"), settings: settings)
            let id = try await pipeline.add(read, settings: settings, priority: 2).bookID
            #expect(try await pipeline.run(books: [id]) == .finished)
            #expect(try await pipeline.status(book: id).first?.state == .completed)
            let silent = read.book.chapters.flatMap(\.segments).filter { !Segment.isSpeakable($0.text) }
            #expect(silent.map(\.text) == ["* * *", "—", "…", "#", "* * *"])
            #expect(server.counts.keys.allSatisfy(Segment.isSpeakable))
            #expect(server.requestCount == read.book.chapters.flatMap(\.segments).count - silent.count)
            let empty = try await harness.store.checkpoints(book: id).filter { $0.sampleCount == 0 }
            #expect(empty.count == silent.count)
            #expect(try await pipeline.history(book: id).filter { $0.kind == "silent" }.count == silent.count)
            let flac = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first)
            #expect(try MediaProbe(out + "/" + flac).chapters.count == 2)
        }
    }

    @Test(
        "a segment the server refuses every time while it answers the rest fails the book within a few tries, naming chapter, segment, text and answer, without waiting out the patience"
    )
    func poisonFails() async throws {
        let server = FakeTTSServer()
        let poison = try Self.poisonText()
        server.fail(
            text: poison,
            with: Array(repeating: .status(500, body: #"{"detail":"no voice for this"}"#), count: 100)
        )
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 2)
            let converter = harness.converter(patience: .seconds(600))
            let id = try await converter.enqueue(Self.book, settings: settings, priority: 2).bookID
            let started = ContinuousClock.now
            #expect(try await converter.synthesize(books: [id]) == .finished)
            #expect(ContinuousClock.now - started < .seconds(60))
            let status = try await harness.store.only(id)
            #expect(status.state == .failed)
            let error = status.error ?? ""
            #expect(error.contains("chapter 1, segment 2 (“\(poison.prefix(40))"), "\(error)")
            #expect(error.contains("HTTP 500: no voice for this"), "\(error)")
            #expect(error.contains("--on-bad-segment skip"), "\(error)")
            // Bounded: the client's tries of one call, and one more call after the task's backoff.
            #expect((server.counts[poison] ?? 0) <= 8)
        }
    }

    @Test(
        "with --on-bad-segment skip a poison segment becomes silence, the book completes, and status lists a warning",
        arguments: DatabaseBackend.available
    )
    func poisonSkipped(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer()
        let poison = try Self.poisonText()
        server.fail(text: poison, with: Array(repeating: .tooShort, count: 100))
        let harness = try PipelineHarness(backend)
        let pipeline = Pipeline(harness.converter())
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url, concurrency: 2)
            settings.onBadSegment = .skip
            let read = try await Pipeline.read(Self.book, settings: settings)
            let id = try await pipeline.add(read, settings: settings, priority: 2).bookID
            #expect(try await pipeline.run(books: [id]) == .finished)
            let status = try #require(try await pipeline.status(book: id).first)
            #expect(status.state == .completed)
            #expect(status.warnings.count == 1)
            #expect(status.warnings.first?.contains("chapter 1, segment 2") == true, "\(status.warnings)")
            #expect(status.warnings.first?.contains("left silent") == true)
            let skipped = try await harness.store.checkpoints(book: id, chapter: 0).filter { $0.index == 1 }
            #expect(skipped.first?.sampleCount == 0)
        }
    }

    @Test("a server that refuses everything is an outage, not a poison segment: the run stalls and fails no book")
    func outage() async throws {
        let server = FakeTTSServer()
        server.fail(next: Array(repeating: .status(503, body: "down for maintenance"), count: 500))
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            let converter = harness.converter(patience: .seconds(3))
            let id = try await converter.enqueue(Self.book, settings: settings, priority: 2).bookID
            let reason = try await harness.stallReason(converter, book: id, settings: settings)
            #expect(reason.contains("down for maintenance"), "\(reason)")
            #expect(try await harness.store.only(id).state != .failed)
        }
    }
}
