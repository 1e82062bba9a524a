import Foundation
import GRDB
import RecitalTestSupport
import Testing

/// `recital convert`, `resume` and `status` run as child processes against a fake TTS server in
/// this process: real HTTP on loopback, a real SQLite job table, real signals.
@Suite("recital convert and resume, run as processes", .serialized)
struct ConvertCommandTests {
    /// A generated novel of a few hundred segments in several chapters.
    static let novella = Fixtures.path("novella.epub")

    struct Setup {
        let home: String
        var environment: [String: String] { ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"] }
        init() throws { home = try Fixtures.temporaryDirectory().path }

        /// Finished files go into the test's own folder, never the working directory.
        func withOutput(_ arguments: [String]) -> [String] {
            arguments.first == "convert" ? arguments + ["--out", home + "/out"] : arguments
        }

        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await ProcessResult.launch(Fixtures.executable, withOutput(arguments), environment: environment)
        }

        func start(_ arguments: [String]) throws -> BackgroundProcess {
            try BackgroundProcess(Fixtures.executable, withOutput(arguments), environment: environment)
        }

        /// Segment texts and checkpoints of book 1, straight from the job table.
        func segments() throws -> (texts: [String], done: [(text: String, path: String, samples: Int)]) {
            let queue = try DatabaseQueue(path: home + "/recital.sqlite")
            return try queue.read { db in
                let texts = try String.fetchAll(
                    db,
                    sql: "SELECT text FROM segments WHERE book_id = 1 ORDER BY chapter_idx, idx"
                )
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT s.text, c.audio_path, c.sample_count FROM checkpoints c JOIN segments s
                        ON s.book_id = c.book_id AND s.chapter_idx = c.chapter_idx AND s.idx = c.idx
                        WHERE c.book_id = 1 ORDER BY c.chapter_idx, c.idx
                        """
                )
                return (texts, rows.map { ($0["text"], $0["audio_path"], $0["sample_count"]) })
            }
        }

        /// Every segment has a checkpoint whose file holds the server's audio for its text.
        func expectComplete() throws {
            let (texts, done) = try segments()
            #expect(done.count == texts.count)
            #expect(done.map(\.text) == texts)
            for segment in done {
                let bytes = [UInt8](FileManager.default.contents(atPath: segment.path) ?? Data())
                #expect(Array(bytes.dropFirst(44)).count == segment.samples * 2)
                #expect(
                    RecitalTestSupportWAV.samples(bytes) == FakeTTSServer.samples(for: segment.text),
                    "\(segment.path)"
                )
            }
        }
    }

    @Test(
        "SIGKILLed 50 times at random moments, during synthesis and during encodes, then one resume finishes the book exactly as an uninterrupted run"
    )
    func crashes() async throws {
        let server = FakeTTSServer(latency: .milliseconds(10))
        let setup = try Setup()
        let kills = 50
        let book = Fixtures.path("many-chapters.epub")
        let killedWhileEncoding = try await server.serve { url in
            var killedWhileEncoding = 0
            var generator = SystemRandomNumberGenerator()
            for round in 0..<kills {
                let arguments =
                    round == 0
                    ? ["convert", book, "--tts-url", url, "--concurrency", "4", "--format", "m4b"]
                    : ["resume", "--concurrency", "4"]
                let child = try setup.start(arguments)
                // The book must be in the table before the first kill, or there is nothing to resume.
                if round == 0 {
                    try await Wait.until("the book being queued", deadline: .seconds(60)) {
                        child.stderrSoFar.contains("queued book 1")
                    }
                }
                if round % 2 == 1 {
                    // Every other kill waits for an encode to start (or the run to end), so encodes are
                    // interrupted often however fast or loaded the machine is.
                    try await Wait.until("an encode or the end of the run", deadline: .seconds(120)) {
                        child.stderrSoFar.contains("encoding m4b") || !child.process.isRunning
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...400, using: &generator)))
                } else {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 150...1200, using: &generator)))
                }
                child.signal(SIGKILL)
                let killed = try await child.wait()
                if killed.stderr.contains("encoding m4b") { killedWhileEncoding += 1 }
                // A run the kill did not reach ended by itself: it must not have given up on the book
                // (a task rescued into `failed` during the run used to be left failed).
                #expect(
                    killed.status == SIGKILL || killed.status == 0,
                    "round \(round) exited \(killed.status): \(killed.stderr.suffix(400))"
                )
            }
            let final = try await setup.run(["resume", "--concurrency", "4"])
            #expect(final.status == 0, "\(final.stderr)")
            try setup.expectComplete()
            let status = try await setup.run(["status", "--json"])
            #expect(status.stdout.contains(#""state":"completed""#), "\(status.stdout)")
            let m4b = try #require(
                try FileManager.default.contentsOfDirectory(atPath: setup.home + "/out").first { $0.hasSuffix(".m4b") }
            )
            let probe = try MediaProbe(setup.home + "/out/" + m4b)
            #expect(probe.chapters.count == 120)
            let samples = try MediaProbe.decode(setup.home + "/out/" + m4b, sampleRate: 24_000)
            #expect(abs(Double(samples.count) / 24_000 - probe.duration) < 0.2)
            return killedWhileEncoding
        }
        // The kills landed in encodes often enough to use up its attempts more than once.
        #expect(killedWhileEncoding > 8, "only \(killedWhileEncoding) kills landed while encoding")
        let texts = try setup.segments().texts
        #expect(texts.count >= 120)
        var occurrences: [String: Int] = [:]
        for text in texts { occurrences[text, default: 0] += 1 }
        for (text, count) in server.counts {
            #expect(count <= (occurrences[text] ?? 0) + kills, "\(text.prefix(40)) asked \(count) times")
        }
        // Only work in flight when a process died is repeated: up to 4 requests on the wire plus
        // answers already received whose checkpoint was not yet committed.
        #expect(server.requestCount <= texts.count + kills * 8)
    }

    @Test("two processes converting one book on one database never synthesize a segment twice")
    func twoProcesses() async throws {
        let server = FakeTTSServer(latency: .milliseconds(10))
        let setup = try Setup()
        try await server.serve { url in
            // Queue first, so both processes work on the same book from the start.
            let arguments = ["convert", Self.novella, "--tts-url", url, "--concurrency", "3"]
            let first = try setup.start(arguments)
            let second = try setup.start(arguments)
            let results = [try await first.wait(), try await second.wait()]
            for result in results {
                #expect(result.status == 0, "\(result.stderr)")
            }
            try setup.expectComplete()
        }
        let texts = try setup.segments().texts
        var occurrences: [String: Int] = [:]
        for text in texts { occurrences[text, default: 0] += 1 }
        #expect(server.counts == occurrences)
    }

    @Test("SIGINT saves state and exits 130; status works meanwhile; resume finishes without using attempts")
    func interrupt() async throws {
        let server = FakeTTSServer(latency: .milliseconds(30))
        let setup = try Setup()
        try await server.serve { url in
            let child = try setup.start(["convert", Self.novella, "--tts-url", url, "--concurrency", "2"])
            // Well under way: a few segments answered.
            try await Wait.until("a few answers", deadline: .seconds(60)) { server.requestCount >= 4 }
            let status = try await setup.run(["status", "--json"])
            #expect(status.status == 0)
            let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            let books = try #require(object?["books"] as? [[String: Any]])
            let first = try #require(books.first)
            // DESIGN.md's keys, the files among `outputs` that are gone, warnings (skipped segments),
            // and the chapters already encoded.
            #expect(
                Set(first.keys) == [
                    "id", "title", "source", "state", "progress", "chaptersDone", "chaptersTotal", "segmentsDone",
                    "segmentsTotal", "etaSeconds", "outputs", "error", "missingOutputs", "warnings", "chaptersEncoded",
                ]
            )
            #expect(first["state"] as? String == "running")
            child.signal(SIGINT)
            let result = try await child.wait(timeout: .seconds(20))
            #expect(result.status == 130, "\(result.stderr)")
            #expect(result.stderr.contains("recital resume"))
            let attempts = try await DatabaseQueue(path: setup.home + "/recital.sqlite").read { db in
                try Int.fetchAll(db, sql: "SELECT attempt FROM tasks WHERE state != 'completed'")
            }
            #expect(attempts.allSatisfy { $0 == 0 }, "a graceful stop uses no attempt: \(attempts)")
            let resumed = try await setup.start(["resume", Self.novella]).wait()
            #expect(resumed.status == 0, "\(resumed.stderr)")
            try setup.expectComplete()
        }
    }

    @Test(
        "--db postgres://… keeps the job table on PostgreSQL: a book converts there, and status run from another folder reads it"
    )
    func postgres() async throws {
        guard DatabaseBackend.postgresURL != nil else { return }
        let server = FakeTTSServer()
        let setup = try Setup()
        let database = DatabaseBackend.postgres.location(in: setup.home)
        try await server.serve { url in
            let result = try await setup.run([
                "convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--format", "mp3", "--db", database,
            ])
            #expect(result.status == 0, "\(result.stderr.suffix(800))")
            let files = try FileManager.default.contentsOfDirectory(atPath: setup.home + "/out")
            #expect(files.filter { $0.hasSuffix(".mp3") }.count == 1, "\(files)")
        }
        // No SQLite file was made: the rows are on the server.
        #expect(!FileManager.default.fileExists(atPath: setup.home + "/recital.sqlite"))
        let elsewhere = try ProcessResult.run(
            Fixtures.executable,
            ["status", "--json"],
            environment: ["RECITAL_HOME": try Fixtures.temporaryDirectory().path, "RECITAL_DB": database]
        )
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let books = try #require(try JSONSerialization.jsonObject(with: Data(elsewhere.stdout.utf8)) as? [String: Any])
        let list = try #require(books["books"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["state"] as? String == "completed")
    }

    @Test(
        "a scanned PDF converts: its OCR text is what the server is asked to speak, chapter by chapter, into a finished file; --ocr never refuses it with 65"
    )
    func scannedBook() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let book = Fixtures.path("pdf-scanned.pdf")
        try await server.serve { url in
            let result = try await setup.run(["convert", book, "--tts-url", url, "--format", "mp3"])
            #expect(result.status == 0, "\(result.stderr.suffix(800))")
            #expect(result.stderr.contains("pdf-scanned.pdf: OCR 5/5 pages"))
            #expect(result.stderr.contains("(4 chapters)"))
            let spoken = server.bodies.joined(separator: " ")
            #expect(spoken.contains("thirty years Tobias Wren had kept its lamp burning"))
            #expect(spoken.contains("which was the best thing a keeper could hope for"))
            #expect(FileManager.default.fileExists(atPath: setup.home + "/out/The Lighthouse Keeper.mp3"))
        }
        let refused = try await setup.run(["convert", book, "--ocr", "never", "--tts-url", "http://127.0.0.1:9"])
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("\(book): no text layer: this looks like a scanned PDF (read it with --ocr auto)")
        )
    }

    @Test(
        "exit codes: 1 for a permanent server failure, 75 when the server stays unreachable, 65 for unreadable input, 64 for a missing API key"
    )
    func exitCodes() async throws {
        let server = FakeTTSServer()
        server.fail(
            next: Array(
                repeating: .status(401, body: #"{"error":{"message":"Incorrect API key provided"}}"#),
                count: 100
            )
        )
        let book = Fixtures.path("epub2-basic.epub")
        try await server.serve { url in
            let failed = try await Setup().run(["convert", book, "--tts-url", url])
            #expect(failed.status == 1)
            #expect(failed.stdout.contains("Incorrect API key provided"))
        }
        let unreachable = try await Setup().run([
            "convert", book, "--tts-url", "http://127.0.0.1:9", "--patience", "0.5",
        ])
        #expect(unreachable.status == 75)
        #expect(unreachable.stderr.contains("connection refused"))
        let unreadable = try await Setup().run(["convert", Fixtures.path("bad/zip-bomb.epub")])
        #expect(unreadable.status == 65)
        let keyless = try ProcessResult.run(
            Fixtures.executable,
            ["convert", book, "--voice", "openai"],
            environment: ["RECITAL_HOME": try Fixtures.temporaryDirectory().path, "OPENAI_API_KEY": ""]
        )
        #expect(keyless.status == 64)
        #expect(keyless.stderr.contains("OPENAI_API_KEY"))
    }
}

/// Reads the samples of a checkpoint file (mono 16-bit WAV).
enum RecitalTestSupportWAV {
    static func samples(_ bytes: [UInt8]) -> [Int16] {
        stride(from: 44, to: bytes.count - 1, by: 2).map {
            Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)
        }
    }
}

/// The real Piper server (`.ci/run` starts one): it answers HTTP 500 to text without words, which
/// used to hold a book in retry until the patience ran out.
@Suite(
    "recital convert through a real Piper server",
    .enabled(
        if: ProcessInfo.processInfo.environment["RECITAL_PIPER_URL"] != nil,
        "set RECITAL_PIPER_URL to a running Piper server (.ci/run starts one)"
    )
)
struct PiperProcessTests {
    @Test("a story whose scene breaks are `* * *`, `—` and `…` becomes a finished audiobook")
    func sceneBreaks() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["RECITAL_PIPER_URL"])
        let setup = try ConvertCommandTests.Setup()
        let started = ContinuousClock.now
        let result = try await setup.run([
            "convert", Fixtures.path("scene-breaks.epub"), "--tts-url", url, "--tts-backend", "piper", "--format",
            "m4b", "--patience", "600",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(300))
        let out = setup.home + "/out"
        let m4b = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasSuffix(".m4b") })
        let probe = try MediaProbe(out + "/" + m4b)
        #expect(probe.chapters.map(\.title) == ["Chapter 1", "Chapter 2"])
        #expect(probe.duration > 10, "\(probe.duration) s")
    }
}
