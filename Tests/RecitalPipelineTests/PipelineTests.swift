import Foundation
import RecitalEncode
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalTestSupport
import Synchronization
import Testing

/// The facade every front end drives, used in-process: real SQLite, real HTTP on loopback.
@Suite("The pipeline facade")
struct PipelineTests {
    @Test(
        "three books on two servers with different voices run in one process: each server hears only its own books' texts, within its own request bound",
        arguments: DatabaseBackend.available
    )
    func perBookVoices(backend: DatabaseBackend) async throws {
        let alpha = FakeTTSServer(latency: .milliseconds(20))
        let beta = FakeTTSServer(latency: .milliseconds(20))
        let harness = try PipelineHarness(backend)
        let pipeline = Pipeline(harness.converter())
        try await alpha.serve { alphaURL in
            try await beta.serve { betaURL in
                var onAlpha = PipelineHarness.settings(url: alphaURL, concurrency: 2)
                onAlpha.voice.voice = "alpha"
                var onBeta = PipelineHarness.settings(url: betaURL, concurrency: 3)
                onBeta.voice.voice = "beta"
                var ids: [Int64] = []
                for (file, settings) in [
                    ("epub2-basic.epub", onAlpha), ("epub3-fragments.epub", onBeta), ("pdf-outline.pdf", onAlpha),
                ] {
                    let read = try await Pipeline.read(Fixtures.path(file), settings: settings)
                    ids.append(try await pipeline.add(read, settings: settings, priority: 2).bookID)
                }
                #expect(try await pipeline.run(books: ids) == .finished)
                let states = try await pipeline.status().map(\.state)
                #expect(states == [.completed, .completed, .completed])

                let texts = try await ids.asyncMap { id in
                    Set(try await harness.store.segments(book: id).map(\.segment.text))
                }
                #expect(Set(alpha.counts.keys) == texts[0].union(texts[2]))
                #expect(Set(beta.counts.keys) == texts[1])
                #expect(alpha.bodies.allSatisfy { $0.contains(#""voice":"alpha""#) })
                #expect(beta.bodies.allSatisfy { $0.contains(#""voice":"beta""#) })
                #expect(alpha.peakInFlight <= 2 && beta.peakInFlight <= 3)
                // Both servers were really used in parallel, not one after the other.
                #expect(alpha.peakInFlight == 2 && beta.peakInFlight >= 2)
            }
        }
    }

    @Test(
        "a voice's global limit holds across machines: two workers, each allowed 4 requests, never have more than 2 at the server together",
        arguments: DatabaseBackend.available
    )
    func globalLimit(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer(latency: .milliseconds(30))
        let harness = try PipelineHarness(backend)
        // Two machines: each its own converter and connection to the one table.
        let machines = [
            Pipeline(harness.converter()),
            Pipeline(
                Converter(
                    store: try JobStore.open(harness.paths.database),
                    paths: harness.paths,
                    owner: "machine-b",
                    progress: { _ in }
                )
            ),
        ]
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url, concurrency: 4)
            settings.voice.globalConcurrency = 2
            var ids: [Int64] = []
            for file in ["many-chapters.epub", "epub2-basic.epub"] {
                let read = try await Pipeline.read(Fixtures.path(file), settings: settings)
                ids.append(try await machines[0].add(read, settings: settings, priority: 2).bookID)
            }
            let books = ids
            try await withThrowingTaskGroup(of: Void.self) { group in
                for machine in machines {
                    group.addTask { _ = try await machine.run(books: books) }
                }
                try await group.waitForAll()
            }
            #expect(try await machines[0].status().map(\.state) == [.completed, .completed])
            #expect(server.peakInFlight <= 2, "peak \(server.peakInFlight)")
            #expect(server.peakInFlight == 2, "the limit is used, not undershot")
        }
    }

    @Test(
        "resume takes back a dead worker's task before it chooses what to retry, so a book whose attempts crashes used up finishes in the same run; status tells crashes from errors"
    )
    func resumeAfterCrashes() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        // A second handle on the table whose clock runs an hour ahead sees every lease as expired.
        let later = try JobStore(path: harness.paths.database, now: { Date().timeIntervalSince1970 + 3600 })
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            let pipeline = Pipeline(harness.converter())
            let id = try await pipeline.add(
                try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings),
                settings: settings,
                priority: 2
            ).bookID
            // Seven workers die holding chapter 1 (each death uses an attempt)…
            for _ in 1..<RetryPolicy.task.maxAttempts {
                _ = try await harness.store.claim(owner: "doomed", limit: 1, books: [id])
                try await later.rescueExpiredLeases()
            }
            // …and an eighth holds it now, in a process that no longer exists.
            try await harness.store.registerWorker(id: "dead", pid: Int32.max, host: ProcessInfo.processInfo.hostName)
            let held = try await harness.store.claim(owner: "dead", limit: 1, books: [id])
            #expect(held.first?.attempt == RetryPolicy.task.maxAttempts)
            #expect(try await pipeline.status(book: id).first?.state == .running)

            let (books, outcome) = try await pipeline.resume()
            #expect(books == [id])
            #expect(outcome == .finished)
            #expect(try await pipeline.status(book: id).first?.state == .completed)
            #expect(try await harness.expectCheckpointsMatchServer(book: id))
        }
        // The same crashes, seen by status: deaths alone, and deaths after an error.
        let other = try PipelineHarness()
        let settings = PipelineHarness.settings(url: "http://127.0.0.1:9")
        let clockAhead = try JobStore(path: other.paths.database, now: { Date().timeIntervalSince1970 + 3600 })
        var errors: [String] = []
        for withError in [false, true] {
            let id = try await Pipeline(other.converter()).add(
                try await Pipeline.read(
                    Fixtures.path(withError ? "epub2-basic.epub" : "pdf-outline.pdf"),
                    settings: settings
                ),
                settings: settings,
                priority: 2
            ).bookID
            // Every chapter is claimed and its worker dies, eight times; with an error first for
            // chapter 1 in the second book.
            for round in 0..<RetryPolicy.task.maxAttempts {
                let claimed = try await other.store.claim(owner: "doomed", limit: 10, books: [id])
                if withError, round == 0, let first = claimed.first {
                    #expect(first.chapterIndex == 0)
                    try await other.store.failTransient(first, error: "HTTP 503: loading", retryAfter: 0)
                }
                try await clockAhead.rescueExpiredLeases()
            }
            let status = try await other.store.only(id)
            #expect(status.state == .failed)
            errors.append(status.error ?? "")
        }
        #expect(errors[0] == "its worker stopped (crashed or was killed) 8 times while synthesizing chapter 1")
        #expect(
            errors[1]
                == "its worker stopped (crashed or was killed) 7 times while synthesizing chapter 1; the last error was: HTTP 503: loading"
        )
    }

    @Test(
        "the event stream tells of every segment and the finished file; reencode writes another format into another folder without the server",
        arguments: DatabaseBackend.available
    )
    func eventsAndReencode(backend: DatabaseBackend) async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness(backend)
        let pipeline = Pipeline(harness.converter())
        let out = harness.paths.home + "/out"
        let id = try await server.serve { url in
            var settings = PipelineHarness.settings(url: url)
            settings.encode.formats = [.flac]
            settings.outputDirectory = out
            let read = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings)
            let id = try await pipeline.add(read, settings: settings, priority: 2).bookID
            #expect(try await pipeline.run(books: [id]) == .finished)
            return id
        }
        var segments = 0
        var written: [String] = []
        for await event in pipeline.events {
            if case .segmentDone = event { segments += 1 }
            if case .encoded(_, let files) = event {
                written = files
                break
            }
        }
        #expect(segments == server.requestCount)
        #expect(written == ["\(out)/Ada Author - A Basic Book.flac"])

        let requests = server.requestCount
        var encode = EncodeSettings()
        encode.formats = [.mp3]
        let elsewhere = harness.paths.home + "/elsewhere"
        let outcome = try await pipeline.reencode(id, encode: encode, outputDirectory: elsewhere, overwrite: false)
        #expect(outcome == .finished)
        #expect(server.requestCount == requests)
        let status = try #require(try await pipeline.status(book: id).first)
        #expect(status.outputs.contains("\(elsewhere)/Ada Author - A Basic Book.mp3"), "\(status.outputs)")
        #expect(try MediaProbe("\(elsewhere)/Ada Author - A Basic Book.mp3").chapters.count == 3)
    }

    @Test(
        "a long-running worker outlives a job table that does not answer: it says so, looks again, and then converts what is queued"
    )
    func workerOutlivesLockedTable() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness()
        let pipeline = Pipeline(harness.converter())
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            // Another process takes the write lock and keeps it for a while.
            let script = """
                import sqlite3, sys, time
                connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                time.sleep(60)
                """
            let holder = try BackgroundProcess("/usr/bin/env", ["python3", "-c", script, harness.paths.database])
            defer { holder.signal(SIGKILL) }
            try await Wait.until("the other process holding the lock", deadline: .seconds(30)) {
                holder.stdoutSoFar.contains("locked")
            }
            let options = WorkOptions(poll: .milliseconds(100), retryAfterStall: .milliseconds(200))
            let worker = Task { try await pipeline.work(options: options) }
            defer { worker.cancel() }
            try await Wait.until("the worker saying the table does not answer", deadline: .seconds(60)) {
                harness.events.all.contains {
                    if case .notice(let message) = $0 { message.contains("looking again") } else { false }
                }
            }
            holder.signal(SIGKILL)
            _ = try await holder.wait()
            let read = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings)
            let id = try await pipeline.add(read, settings: settings, priority: 2).bookID
            try await Wait.until("the worker converting the book", deadline: .seconds(60)) {
                try await pipeline.status(book: id).first?.state == .completed
            }
            worker.cancel()
            do {
                try await worker.value
            } catch is CancellationError {
                // Stopped while waiting for the next look: nothing held.
            }
        }
    }

    @Test(
        "on PostgreSQL a worker that looks once an hour starts a book queued by another process at once: the table notifies it",
        .enabled(if: DatabaseBackend.postgresURL != nil, "needs RECITAL_POSTGRES_URL")
    )
    func notifiedOfWork() async throws {
        let server = FakeTTSServer()
        let harness = try PipelineHarness(.postgres)
        let pipeline = Pipeline(harness.converter())
        // Another process: its own connection to the same table.
        let other = Pipeline(
            Converter(
                store: try JobStore.open(harness.paths.database),
                paths: harness.paths,
                owner: "other",
                progress: { _ in }
            )
        )
        try await server.serve { url in
            let settings = PipelineHarness.settings(url: url)
            let started = Mutex<[Int64]>([])
            let options = WorkOptions(poll: .seconds(3600))
            let worker = Task {
                try await pipeline.work(options: options) { books in
                    started.withLock { $0 += books }
                }
            }
            defer { worker.cancel() }
            // The first look (at start) finds nothing; the worker then waits for an hour or a notification.
            try await Wait.until("the worker registered", deadline: .seconds(30)) {
                !(try await other.workers().isEmpty)
            }
            let read = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings)
            let id = try await other.add(read, settings: settings, priority: 2).bookID
            try await Wait.until("the worker starting the queued book", deadline: .seconds(20)) {
                started.withLock { $0.contains(id) }
            }
            try await Wait.until("the book converted", deadline: .seconds(60)) {
                try await pipeline.status(book: id).first?.state == .completed
            }
            worker.cancel()
            do {
                try await worker.value
            } catch is CancellationError {
                // Stopped while waiting for the next look: nothing held.
            }
        }
    }

    @Test(
        "a book in a language its voice does not speak is queued with a warning, before any request; one it speaks, or a voice that does not say, is not"
    )
    func voiceLanguages() async throws {
        let harness = try PipelineHarness()
        let pipeline = Pipeline(harness.converter())
        // No server answers at this address: the warning comes when the book is queued, not from a request.
        var english = PipelineHarness.settings(url: "http://127.0.0.1:9")
        english.voice.name = "narrator"
        english.voice.languages = ["en-US", "en-GB"]
        let french = try await Pipeline.read(Fixtures.path("languages/fr.epub"), settings: english)
        #expect(french.book.metadata.language == "fr")
        let added = try await pipeline.add(french, settings: english, priority: 2)
        #expect(added.notes == ["warning: the book is in fr, but the voice 'narrator' speaks en-US, en-GB"])
        let basic = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: english)
        #expect(try await pipeline.add(basic, settings: english, priority: 2).notes.isEmpty)
        var unsaid = english
        unsaid.voice.languages = nil
        let spanish = try await Pipeline.read(Fixtures.path("languages/es.epub"), settings: unsaid)
        #expect(try await pipeline.add(spanish, settings: unsaid, priority: 2).notes.isEmpty)
        // Which languages a profile names does not change a sample: the books keep their identity.
        #expect(english.audioHash == unsaid.audioHash)
    }

    @Test(
        "pause, unpause, priority, cancel, retry, history and delete act on the table and the files",
        arguments: DatabaseBackend.available
    )
    func control(backend: DatabaseBackend) async throws {
        let harness = try PipelineHarness(backend)
        let pipeline = Pipeline(harness.converter())
        let settings = PipelineHarness.settings(url: "http://127.0.0.1:9")
        let id = try await pipeline.add(
            try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings),
            settings: settings,
            priority: 2
        ).bookID
        func state() async throws -> BookState? { try await pipeline.status(book: id).first?.state }

        try await pipeline.pause(id)
        #expect(try await state() == .paused)
        #expect(try await harness.store.claim(owner: "w", limit: 9, books: [id]).isEmpty)
        try await pipeline.unpause(id)
        #expect(try await state() == .queued)

        try await pipeline.setPriority(id, 1)
        #expect(try await harness.store.book(id).priority == 1)
        await #expect(throws: PipelineError.self) { try await pipeline.setPriority(id, 7) }

        try await pipeline.cancel(id)
        #expect(try await state() == .cancelled)
        #expect(try await pipeline.retry(id) == 3)
        #expect(try await state() == .queued)
        #expect(try await pipeline.history(book: id).contains { $0.kind == "retry" })

        let folder = CheckpointFiles(root: harness.paths.audio).directory(book: id)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await pipeline.delete(id)
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(try await pipeline.status().isEmpty)
        let missing = await #expect(throws: PipelineError.self) { try await pipeline.pause(id) }
        #expect(missing?.kind == .notFound)
        let unknown = await #expect(throws: PipelineError.self) { try await pipeline.books(named: ["/no/such.epub"]) }
        #expect(unknown?.description == "no book in the job table comes from /no/such.epub")
    }

    @Test(
        "deleting a book cancelled while its encode followed synthesis removes the partial M4B and its packet sizes, kept until then for a retry; another book's partial file stays"
    )
    func deleteRemovesPartials() async throws {
        let server = FakeTTSServer(latency: .milliseconds(30))
        let harness = try PipelineHarness()
        let pipeline = Pipeline(harness.converter())
        try await server.serve { url in
            var settings = PipelineHarness.settings(url: url, concurrency: 1)
            settings.encode.formats = [.m4b, .mp3]
            let out = harness.paths.home + "/out"
            settings.outputDirectory = out
            let read = try await Pipeline.read(Fixtures.path("novella.epub"), settings: settings)
            let id = try await pipeline.add(read, settings: settings, priority: 2).bookID
            let run = Task { try await pipeline.run(books: [id]) }
            defer { run.cancel() }
            try await Wait.until("a chapter encoded while others are synthesized", deadline: .seconds(120)) {
                harness.events.all.contains { if case .chaptersEncoded = $0 { true } else { false } }
            }
            try await pipeline.cancel(id)
            _ = try await run.value
            let kept = try FileManager.default.contentsOfDirectory(atPath: out)
            let partial = try #require(kept.first { $0.hasSuffix(".partial.m4b") }, "\(kept)")
            #expect(kept.contains(partial + ".sizes"), "\(kept)")
            // The partial file of a book of the same name, numbered apart.
            let other = partial.replacingOccurrences(of: ".partial.m4b", with: " (2).partial.m4b")
            #expect(FileManager.default.createFile(atPath: out + "/" + other, contents: Data([1])))
            try await pipeline.delete(id)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [other])
        }
    }
}

@Suite("Pipeline errors")
struct PipelineErrorTests {
    @Test("a job-table failure reaches the front end with its cause: the job error, and SQLite's under it")
    func causes() async throws {
        let harness = try PipelineHarness()
        let pipeline = Pipeline(harness.converter())
        let settings = PipelineHarness.settings(url: "http://127.0.0.1:9")
        let read = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: settings)
        let error = try #require(
            await #expect(throws: PipelineError.self) {
                try await pipeline.add(read, settings: settings, priority: 9)
            }
        )
        #expect(error.kind == .database)
        #expect(error.description.contains("CHECK constraint failed"), "\(error)")
        let jobError = try #require(error.cause as? JobError)
        #expect(jobError.cause != nil)
        // Stored settings that do not decode say why, with the book.
        let broken = await #expect(throws: PipelineError.self) {
            try ConversionSettings.decode(#"{"voice": 3}"#, book: 7)
        }
        #expect(broken?.description.hasPrefix("book 7: its stored settings cannot be read (") == true)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
