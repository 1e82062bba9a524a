import Foundation
import RecitalIngest
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalSpeech
import RecitalTestSupport
import Testing

@Suite("Converting books through a TTS server (real HTTP, real SQLite, real files)")
struct ConverterTests {
    let book = Fixtures.path("epub2-basic.epub")

    @Test(
        "a book becomes one checkpoint per segment, each holding the server's audio",
        arguments: DatabaseBackend.available
    )
    func converts(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness(backend)
        let converter = harness.converter()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            let queued = try await converter.enqueue(book, settings: settings, priority: 2)
            let outcome = try await converter.synthesize(
                books: [queued.bookID],
                settings: settings,
                apiKey: nil,
                concurrency: nil
            )
            #expect(outcome == .finished)
            #expect(try await harness.store.only(queued.bookID).state == .completed)
            #expect(try await harness.expectCheckpointsMatchServer(book: queued.bookID))
        }
        #expect(server.counts.values.allSatisfy { $0 == 1 })
    }

    @Test(
        "every fault kind on the way still ends in the correct book, with retries in the task log",
        arguments: DatabaseBackend.available
    )
    func faults(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer()
        server.fail(next: [
            .status(500, body: "<html>boom</html>"), .reset, .truncated, .notAudio, .tooShort,
            .status(429, body: #"{"error":{"message":"slow down"}}"#, retryAfter: 1),
            .status(503, body: #"{"detail":"loading"}"#), .reset, .status(502, body: "bad gateway"),
        ])
        let harness = try PipelineHarness(backend)
        let converter = harness.converter()
        try await server.serve { url in
            // One request at a time, so every fault reaches a client that reacts to it.
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let outcome = try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: 1)
            #expect(outcome == .finished)
            #expect(try await harness.store.only(id).state == .completed)
            #expect(try await harness.expectCheckpointsMatchServer(book: id))
            // Each fault is retried: by the request (kind "retry") or, after a run of them, by the task.
            let retries = try await harness.store.events(book: id).filter {
                $0.kind == "retry" || $0.kind == "failTransient"
            }
            #expect(retries.count >= 9)
            #expect(retries.contains { $0.message.contains("HTTP 429") && $0.message.contains("slow down") })
        }
    }

    @Test("a permanent failure fails the book at once with the server's message")
    func permanent() async throws {
        let server = FakeTTSServer()
        server.fail(
            next: Array(
                repeating: .status(401, body: #"{"error":{"message":"Incorrect API key provided"}}"#),
                count: 50
            )
        )
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let outcome = try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: nil)
            #expect(outcome == .finished)
            let status = try await harness.store.only(id)
            #expect(status.state == .failed)
            #expect(status.error?.contains("HTTP 401: Incorrect API key provided") == true)
            #expect(try await harness.store.checkpoints(book: id).isEmpty)
        }
    }

    @Test("a deleted or truncated checkpoint is synthesized again on resume, and only that segment")
    func repair() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            _ = try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: nil)
            let records = try await harness.store.checkpoints(book: id)
            try FileManager.default.removeItem(atPath: records[1].audioPath)
            let handle = try #require(FileHandle(forWritingAtPath: records[5].audioPath))
            try handle.truncate(atOffset: 100)
            try handle.close()
            let outcome = try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: nil)
            #expect(outcome == .finished)
            #expect(try await harness.expectCheckpointsMatchServer(book: id))
        }
        #expect(server.requestCount == 14)
        #expect(server.counts.values.filter { $0 == 2 }.count == 2)
    }

    @Test(
        "pause and cancel stored in the table stop a running worker; unpause lets it finish",
        arguments: DatabaseBackend.available
    )
    func pauseAndCancel(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer(latency: .milliseconds(40))
        let harness = try PipelineHarness(backend)
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            async let outcome = converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: 1)
            try await Wait.until("two segments", deadline: .seconds(30)) { harness.events.segmentsDone >= 2 }
            try await harness.store.pause(id)
            #expect(try await outcome == .finished)
            let paused = try await harness.store.only(id)
            #expect(paused.state == .paused)
            #expect(paused.segmentsDone < paused.segmentsTotal)
            try await harness.store.unpause(id)
            #expect(
                try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: 1)
                    == .finished
            )
            #expect(try await harness.store.only(id).state == .completed)
        }
        #expect(server.counts.values.allSatisfy { $0 <= 2 })
    }

    @Test("a stop that lands as a segment finishes never completes the chapter with segments missing")
    func stopBetweenSegments() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            // Cancel the run at the first finished segment, while its chapter is still going.
            let run = MutexBox<Task<SynthesisOutcome, any Error>?>(nil)
            let converter = harness.converter { event in
                if case .segmentDone = event { run.value?.cancel() }
            }
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let started = Task {
                try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: 1)
            }
            run.mutate { $0 = started }
            #expect(try await started.value == .interrupted)
            let checkpoints = try await harness.store.checkpoints(book: id)
            let status = try await harness.store.only(id)
            #expect(checkpoints.count < status.segmentsTotal)
            #expect(status.chaptersDone == 0, "a chapter was completed with \(checkpoints.count) segments saved")
        }
    }

    @Test("stopping gives tasks back without using an attempt")
    func stop() async throws {
        let server = FakeTTSServer(latency: .milliseconds(40))
        let harness = try PipelineHarness()
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 2)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let run = Task {
                try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: 2)
            }
            try await Wait.until("two segments", deadline: .seconds(30)) { harness.events.segmentsDone >= 2 }
            run.cancel()
            #expect(try await run.value == .interrupted)
            let claimed = try await harness.store.claim(owner: "check", limit: 10, books: [id])
            #expect(!claimed.isEmpty)
            #expect(claimed.allSatisfy { $0.attempt == 1 })
        }
    }

    @Test(
        "a book unpaused while convert waits for another process's encode is synthesized and encoded in the same run, not waited for forever"
    )
    func unpausedWhileWaiting() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url)
            settings.encode.formats = [.m4b]
            settings.outputDirectory = harness.paths.home + "/out"
            let converter = harness.converter()
            let paused = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let other = try await converter.enqueue(
                Fixtures.path("epub3-fragments.epub"),
                settings: settings,
                priority: 2
            )
            .bookID
            // Another process holds the second book's encode; the first is paused when the run looks.
            let hold = try await EncodeHold(of: other, in: harness.store)
            defer { hold.stopRenewing() }
            try await harness.store.pause(paused)
            let run = Task { try await converter.convert(books: [paused, other]) }
            defer { run.cancel() }
            try await Wait.until("the run waiting for the other process's encode", deadline: .seconds(60)) {
                harness.events.all.contains {
                    if case .waiting(let message) = $0 { message.contains("encode") } else { false }
                }
            }
            try await harness.store.unpause(paused)
            try await Wait.until("the unpaused book converted", deadline: .seconds(60)) {
                try await harness.store.only(paused).state == .completed
            }
            // The other process gives its encode back: this run takes it and ends.
            #expect(try await hold.giveBack())
            #expect(try await run.value == .finished)
            #expect(try await harness.store.only(other).state == .completed)
            #expect(try await harness.store.outputs(book: paused).map(\.format) == [.m4b])
        }
    }

    @Test(
        "a book paused while its encode follows synthesis, and unpaused after the run's synthesis ended, is finished by the same run from the chapter its encode had reached"
    )
    func unpausedWhileFollowed() async throws {
        let server = FakeTTSServer(latency: .milliseconds(30))
        // The table's clock runs a hundred times slower than the wall, so no lease expires though
        // no heartbeat renews one.
        let start = Date().timeIntervalSince1970
        let harness = try PipelineHarness(.sqlite, clock: { start + (Date().timeIntervalSince1970 - start) / 100 })
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url, concurrency: 1)
            settings.encode.formats = [.m4b]
            settings.outputDirectory = harness.paths.home + "/out"
            var converter = harness.converter()
            // No heartbeat comes during the test: the following encode would not hear of the pause,
            // and must not need to.
            converter.heartbeatInterval = .seconds(3600)
            let followed = try await converter.enqueue(Fixtures.path("novella.epub"), settings: settings, priority: 2)
                .bookID
            let other = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            // The server holds chapter 10's first answer until the book is paused, so the pause lands
            // with chapters still to synthesize however slow the machine is.
            let late = try #require(
                try await harness.store.segments(book: followed).first {
                    $0.segment.chapterIndex == 9 && Segment.isSpeakable($0.segment.text)
                }
            )
            server.fail(text: late.segment.text, with: [.delay(.seconds(600))])
            // Another process holds the second book's encode, so the run goes on after its synthesis.
            let hold = try await EncodeHold(of: other, in: harness.store)
            defer { hold.stopRenewing() }
            let run = Task { try await converter.convert(books: [followed, other]) }
            defer { run.cancel() }
            try await Wait.until("a chapter encoded while others are synthesized", deadline: .seconds(120)) {
                harness.events.all.contains { if case .chaptersEncoded = $0 { true } else { false } }
            }
            try await harness.store.pause(followed)
            server.endDelays()
            // The synthesis ends (nothing of its books is left to do), and the encode gives the book
            // back: the lease, asked then, says the book is paused.
            try await Wait.until("the following encode stopped", deadline: .seconds(60)) {
                harness.events.warnings(book: followed).contains { $0.contains("encoding stopped:") }
            }
            #expect(try await harness.store.synthesizedChapters(book: followed).done.count < 13)
            let kept = try await harness.store.encodedChapters(book: followed)
            #expect(kept > 0, "\(harness.events.warnings(book: followed))")
            try await harness.store.unpause(followed)
            try await Wait.until("the unpaused book converted", deadline: .seconds(120)) {
                try await harness.store.only(followed).state == .completed
            }
            #expect(
                harness.events.warnings(book: followed).contains {
                    $0.contains("resuming a stopped encode: m4b continues from chapter \(kept + 1)")
                },
                "\(harness.events.warnings(book: followed))"
            )
            #expect(try await hold.giveBack())
            #expect(try await run.value == .finished)
            let probe = try MediaProbe(try #require(try await harness.store.outputs(book: followed).first).path)
            #expect(probe.chapters.count == 13)
        }
    }

    @Test(
        "a worker whose chapter was taken over while its request was in flight says its lease was lost; its late retry and failure are neither reported as the chapter's nor written into the new holder's history"
    )
    func lateFailureAfterTakeover() async throws {
        // Slow enough that the test takes the chapter over while the first request is in flight.
        let server = FakeTTSServer(latency: .seconds(10))
        let harness = try PipelineHarness()
        // A second handle on the table whose clock runs an hour ahead sees every lease as expired.
        let later = try JobStore(path: harness.paths.database, now: { Date().timeIntervalSince1970 + 3600 })
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url, concurrency: 1)
            settings.voice.timeoutSeconds = 60
            var converter = harness.converter()
            // Only the late answer can tell this worker that its lease is gone.
            converter.heartbeatInterval = .seconds(3600)
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            // A retry, then a failure for good: both come after the takeover.
            server.fail(next: [.status(503, body: "busy"), .status(400, body: "no such voice")])
            let run = Task { try await converter.convert(books: [id]) }
            defer { run.cancel() }
            try await Wait.until("a request in flight", deadline: .seconds(60)) { server.requestCount > 0 }
            // The worker is presumed dead: its lease is rescued, and another worker takes the chapter.
            #expect(try await later.rescueExpiredLeases() == 1)
            let taken = try await harness.store.claim(owner: "other", limit: 1, books: [id])
            #expect(taken.count == 1)
            try await Wait.until("the late failure met the lost lease", deadline: .seconds(60)) {
                harness.events.warnings(book: id).contains { $0.contains("lease was lost") }
            }
            #expect(!harness.events.all.contains { if case .chapterFailed = $0 { true } else { false } })
            #expect(try await harness.store.heartbeat(taken[0]) == .held)
            let log = try await harness.store.events(book: id)
            #expect(!log.contains { $0.kind == "retry" || $0.message.contains("no such voice") }, "\(log)")
            run.cancel()
            #expect(try await run.value == .interrupted)
        }
    }

    @Test("an unwritable audio folder stalls the run (exit 75 territory) and loses nothing")
    func storage() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        try FileManager.default.createDirectory(atPath: harness.paths.audio, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: harness.paths.audio + "/book-1", contents: Data("not a folder".utf8))
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let reason = try await harness.stallReason(converter, book: id, settings: settings)
            #expect(reason.contains("cannot create"))
            #expect(try await harness.store.checkpoints(book: id).isEmpty)
            let claimed = try await harness.store.claim(owner: "check", limit: 10, books: [id])
            #expect(claimed.count == 3 && claimed.allSatisfy { $0.attempt == 1 })
        }
    }

    @Test(
        "a disk that fills up mid-book stalls the run with the system's reason; with room again, resume finishes it and keeps what was saved",
        .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs")
    )
    func diskFull() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        // Room for the first few checkpoints of the book only.
        let disk = try SmallDisk(kilobytes: 64, at: harness.paths.audio)
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url, concurrency: 1)
            let converter = harness.converter()
            let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
            let reason = try await harness.stallReason(converter, book: id, settings: settings)
            #expect(reason.contains("No space left on device"), "\(reason)")
            let saved = try await harness.store.checkpoints(book: id)
            #expect(!saved.isEmpty)
            let files = CheckpointFiles(root: harness.paths.audio)
            #expect(saved.allSatisfy { files.isIntact($0) })
            // The segment that did not fit left no half-written file behind.
            let onDisk = try FileManager.default.subpathsOfDirectory(atPath: harness.paths.audio).filter {
                $0.hasSuffix(".wav") || $0.contains("tmp") || $0.contains("partial")
            }
            #expect(Set(onDisk.map { harness.paths.audio + "/" + $0 }) == Set(saved.map(\.audioPath)), "\(onDisk)")
            let requests = server.requestCount
            try disk.resize(kilobytes: 8192)
            #expect(
                try await converter.synthesize(books: [id], settings: settings, apiKey: nil, concurrency: nil)
                    == .finished
            )
            #expect(try await harness.expectCheckpointsMatchServer(book: id))
            // Only the segments that were not saved were asked for again (plus the one in flight).
            let total = try await harness.store.only(id).segmentsTotal
            #expect(server.requestCount - requests <= total - saved.count + 1)
        }
    }

    @Test("an unreachable server stalls after the patience runs out, naming the problem")
    func unreachable() async throws {
        let harness = try PipelineHarness()
        let settings = PipelineHarness.settings(url: "http://127.0.0.1:9")
        let converter = harness.converter(patience: .milliseconds(300))
        let id = try await converter.enqueue(book, settings: settings, priority: 2).bookID
        let reason = try await harness.stallReason(converter, book: id, settings: settings)
        #expect(reason.contains("connection refused"), "\(reason)")
    }

    @Test(
        "the same file with the same voice is one book; another voice is another book",
        arguments: DatabaseBackend.available
    )
    func dedupe(backend: DatabaseBackend) async throws {
        let harness = try PipelineHarness(backend)
        let converter = harness.converter()
        let a = try await converter.enqueue(
            book,
            settings: PipelineHarness.settings(url: "http://127.0.0.1:1"),
            priority: 2
        )
        let b = try await converter.enqueue(
            book,
            settings: PipelineHarness.settings(url: "http://127.0.0.1:2"),
            priority: 2
        )
        var other = PipelineHarness.settings(url: "http://127.0.0.1:1")
        other.voice.voice = "another"
        let c = try await converter.enqueue(book, settings: other, priority: 2)
        #expect(a.created && !b.created && c.created)
        #expect(a.bookID == b.bookID && c.bookID != a.bookID)
    }
}

@Suite(
    "The built-in espeak-ng voice, end to end",
    .enabled(
        if: Fixtures.corpusHas("the-waste-land.epub"),
        "needs ../shared/corpus/the-waste-land.epub beside the repository"
    )
)
struct BuiltinVoiceTests {
    @Test("a real chapter of The Waste Land is synthesized through the embedded server")
    func realChapter() async throws {
        let harness = try PipelineHarness()
        let (id, chapter) = try await harness.enqueueCorpusChapter("IV. DEATH BY WATER", of: "the-waste-land.epub")
        let settings = ConversionSettings(
            voice: VoiceProfile(name: "builtin", backend: .builtin, sampleRate: 24_000, concurrency: 2),
            maxSegmentCharacters: 400
        )
        let outcome = try await harness.converter().synthesize(
            books: [id],
            settings: settings,
            apiKey: nil,
            concurrency: nil
        )
        #expect(outcome == .finished)
        let records = try await harness.store.checkpoints(book: id)
        #expect(records.count == chapter.segments.count)
        let seconds = Double(records.reduce(0) { $0 + $1.sampleCount }) / 24_000
        // About 400 characters of verse: tens of seconds of speech, not silence and not hours.
        #expect(seconds > 15 && seconds < 120, "\(seconds) s")
        #expect(records.allSatisfy { CheckpointFiles(root: harness.paths.audio).isIntact($0) })
    }
}

@Suite(
    "A real corpus book becomes an M4B with the built-in voice",
    .enabled(
        if: Fixtures.corpusHas("the-waste-land.epub"),
        "needs ../shared/corpus/the-waste-land.epub beside the repository"
    )
)
struct CorpusAudiobookTests {
    @Test("The Waste Land: converted, encoded, decoded by ffmpeg without an error, within ACX's levels")
    func wholeBook() async throws {
        let harness = try PipelineHarness()
        let out = harness.paths.home + "/out"
        var settings = ConversionSettings(
            voice: VoiceProfile(name: "builtin", backend: .builtin, sampleRate: 24_000, concurrency: 2),
            maxSegmentCharacters: 400,
            outputDirectory: out
        )
        settings.encode.formats = [.m4b, .mp3, .flac]
        let converter = harness.converter()
        let source = Fixtures.corpus.appendingPathComponent("the-waste-land.epub").path
        let queued = try await converter.enqueue(source, settings: settings, priority: 1)
        // The book's own stored voice is used: no override.
        let outcome = try await converter.convert(books: [queued.bookID])
        #expect(outcome == .finished)
        #expect(try await harness.store.only(queued.bookID).state == .completed)
        let outputs = try await harness.store.outputs(book: queued.bookID)
        #expect(outputs.map(\.format.rawValue).sorted() == ["flac", "m4b", "mp3"])
        for file in outputs {
            #expect(file.path.hasPrefix(out + "/"))
            let probe = try MediaProbe(file.path)
            #expect(probe.chapters.map(\.title) == queued.book.chapters.map(\.title), "\(file.format)")
            #expect(probe.tags["title"] == queued.book.metadata.title, "\(file.format)")
            #expect(abs(probe.duration - file.seconds) < 0.2, "\(file.format)")
            // Plays through: every sample decodes, with nothing on ffmpeg's error output.
            let samples = try MediaProbe.decode(file.path, sampleRate: 24_000)
            #expect(abs(Double(samples.count) / 24_000 - file.seconds) < 0.2, "\(file.format)")
            let loudness = try MediaProbe.loudness(file.path)
            #expect(abs(loudness.integrated - -18) <= 1, "\(file.format): \(loudness.integrated) LUFS")
            let acx = MediaProbe.acxLevels(samples, sampleRate: 24_000)
            #expect(acx.rms >= -23 && acx.rms <= -18, "\(file.format): RMS \(acx.rms) dB")
            #expect(acx.noiseFloor <= -60, "\(file.format): noise floor \(acx.noiseFloor) dB")
            // ACX's −3 dB peak, sample and true, in every format: M4B too, whose coder once put
            // isolated spikes above full scale into this voice (see AudioFileWriter).
            #expect(loudness.truePeak <= -3.0, "\(file.format): true peak \(loudness.truePeak) dBTP")
            #expect(acx.peak <= -3, "\(file.format): peak \(acx.peak) dB")
        }
        // MP3 on its own gets a higher ceiling (less room for coding overshoot) and still keeps it.
        settings.encode.formats = [.mp3]
        try await harness.store.updateSettings(queued.bookID, json: try settings.json())
        try await harness.store.scheduleEncode(queued.bookID, formats: [.mp3])
        #expect(try await converter.encode(books: [queued.bookID], overwrite: true) == .finished)
        let mp3 = try #require(try await harness.store.outputs(book: queued.bookID).first { $0.format == .mp3 })
        let alone = try MediaProbe.loudness(mp3.path)
        #expect(alone.truePeak <= -3.0, "MP3 alone: true peak \(alone.truePeak) dBTP")
        let aloneLevels = MediaProbe.acxLevels(try MediaProbe.decode(mp3.path, sampleRate: 24_000), sampleRate: 24_000)
        #expect(aloneLevels.peak <= -3 && aloneLevels.rms >= -23 && aloneLevels.rms <= -18, "MP3 alone: \(aloneLevels)")
        #expect(abs(alone.integrated - -18) <= 1, "MP3 alone: \(alone.integrated) LUFS")
    }
}

@Suite(
    "A real Piper TTS server",
    .enabled(
        if: ProcessInfo.processInfo.environment["RECITAL_PIPER_URL"] != nil,
        "set RECITAL_PIPER_URL (.ci/run starts Piper)"
    )
)
struct PiperTests {
    @Test("a short real chapter is converted through Piper's /synthesize")
    func realChapter() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["RECITAL_PIPER_URL"])
        let harness = try PipelineHarness()
        let (id, chapter) = try await harness.enqueueCorpusChapter("IV. DEATH BY WATER", of: "the-waste-land.epub")
        let voice = VoiceProfile(
            name: "piper",
            backend: .piper,
            url: url,
            format: "wav",
            sampleRate: 24_000,
            concurrency: 2,
            timeoutSeconds: 120
        )
        let outcome = try await harness.converter().synthesize(
            books: [id],
            settings: ConversionSettings(voice: voice, maxSegmentCharacters: 400),
            apiKey: nil,
            concurrency: nil
        )
        #expect(outcome == .finished)
        let records = try await harness.store.checkpoints(book: id)
        #expect(records.count == chapter.segments.count)
        let seconds = Double(records.reduce(0) { $0 + $1.sampleCount }) / 24_000
        #expect(seconds > 15 && seconds < 120, "\(seconds) s of speech for \(chapter.characterCount) characters")
    }
}
