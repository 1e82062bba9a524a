import Foundation
import RecitalTestSupport
import Testing

@Suite("recital convert writes audiobooks; encode and delete", .serialized)
struct EncodeCommandTests {
    typealias Setup = ConvertCommandTests.Setup

    @Test("convert ends with an M4B; status lists it; encode adds formats from checkpoints; delete forgets the book")
    func lifecycle() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let book = Fixtures.path("epub2-basic.epub")
        let out = setup.home + "/out"
        try await server.serve { url in
            let converted = try await setup.run(["convert", book, "--tts-url", url])
            #expect(converted.status == 0, "\(converted.stderr)")
            let files = try FileManager.default.contentsOfDirectory(atPath: out)
            let m4b = try #require(files.first { $0.hasSuffix(".m4b") })
            #expect(files == [m4b])
            let probe = try MediaProbe(out + "/" + m4b)
            #expect(probe.chapters.count == 3)
            #expect(probe.tags["genre"] == "Audiobook")
            let status = try await setup.run(["status", "1", "--json"])
            #expect(status.stdout.contains(m4b))
            #expect(status.stdout.contains("\"completed\""))
        }
        let requests = server.requestCount

        // Re-encoding never asks the server for anything: it is not even running now.
        let encoded = try await setup.run(["encode", "1", "--format", "mp3,flac", "--out", out])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        #expect(server.requestCount == requests)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names.filter { $0.hasSuffix(".mp3") || $0.hasSuffix(".flac") }.count == 2)
        #expect(!names.contains { $0.contains(".partial") })
        let flac = try #require(names.first { $0.hasSuffix(".flac") })
        #expect(try MediaProbe(out + "/" + flac).chapters.count == 3)
        // Encoding again replaces this book's own files without --overwrite.
        #expect(try await setup.run(["encode", "1", "--format", "flac", "--out", out]).status == 0)

        let deleted = try await setup.run(["delete", "1"])
        #expect(deleted.stdout == "book 1 deleted\n")
        #expect(!FileManager.default.fileExists(atPath: setup.home + "/audio/book-1"))
        #expect(FileManager.default.fileExists(atPath: out + "/" + flac))
        #expect(try await setup.run(["status", "1"]).status != 0)
    }

    @Test("an existing file of someone else's is never overwritten: the book takes the next free name")
    func existingFile() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let out = setup.home + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let mine = out + "/Ada Author - A Basic Book.m4b"
        try Data("my own file".utf8).write(to: URL(fileURLWithPath: mine))
        try await server.serve { url in
            let converted = try await setup.run(["convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url])
            #expect(converted.status == 0, "\(converted.stderr)")
            #expect(converted.stdout.contains(out + "/Ada Author - A Basic Book (2).m4b"), "\(converted.stdout)")
        }
        #expect(FileManager.default.contents(atPath: mine) == Data("my own file".utf8))
        #expect(try MediaProbe(out + "/Ada Author - A Basic Book (2).m4b").chapters.count == 3)
    }

    @Test(
        "chapters finished out of order: the encode waits at the gap, never reorders, and takes the chapters finished ahead once it closes"
    )
    func outOfOrder() async throws {
        let server = FakeTTSServer(latency: .milliseconds(5))
        let setup = try Setup()
        let out = setup.home + "/out"
        // Chapter 3's first answer is held back until three chapters after it are synthesized.
        let inspected = try await setup.run(["inspect", ConvertCommandTests.novella, "--json", "--text"])
        let book = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any]
        let third = try #require((book?["chapters"] as? [[String: Any]])?[2]["text"] as? String)
        // It opens with its heading, spoken as a segment of its own.
        let heading = try #require(third.split(separator: "\n").first.map(String.init))
        server.fail(textStartingWith: heading, with: [.delay(.seconds(600))])
        try await server.serve { url in
            let child = try setup.start([
                "convert", ConvertCommandTests.novella, "--tts-url", url, "--format", "m4b", "--out", out,
            ])
            defer { child.signal(SIGKILL) }
            func synthesized(_ text: String) -> [Int] {
                text.split(separator: "\n").compactMap { line in
                    guard line.hasSuffix(" synthesized"), let range = line.range(of: "chapter ") else { return nil }
                    return Int(line[range.upperBound...].prefix { $0.isNumber })
                }
            }
            try await Wait.until("three chapters after chapter 3 synthesized", deadline: .seconds(300)) {
                synthesized(child.stderrSoFar).filter { $0 > 3 }.count >= 3
            }
            #expect(!synthesized(child.stderrSoFar).contains(3))
            server.endDelays()
            let converted = try await child.wait()
            #expect(converted.status == 0, "\(converted.stderr)")
            let lines = converted.stderr.split(separator: "\n").map(String.init)
            let gapClosed = try #require(lines.firstIndex { $0.hasSuffix("chapter 3 synthesized") }, "\(lines)")
            // No chapter after the gap went into the file before it closed: book order, always.
            func encoded(_ line: String) -> Int? {
                guard let range = line.range(of: #"(\d+)/13 chapters encoded"#, options: .regularExpression) else {
                    return nil
                }
                return Int(line[range].prefix { $0.isNumber })
            }
            #expect(lines[..<gapClosed].compactMap(encoded).allSatisfy { $0 <= 2 }, "\(lines)")
            #expect(lines[gapClosed...].compactMap(encoded).last == 13, "\(lines)")
        }
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasSuffix(".m4b") })
        let chapters = try MediaProbe(out + "/" + file).chapters
        #expect(chapters.map(\.title) == (1...13).map { "Chapter \($0)" })
        #expect(zip(chapters, chapters.dropFirst()).allSatisfy { $0.start < $1.start })
    }

    @Test(
        "killed while encoding alongside synthesis, after status showed chapters encoded: no file looks finished, and resume finishes the book repeating only requests in flight"
    )
    func killedWhileEncoding() async throws {
        // Slow enough that chapters arrive one after another while the encode follows them.
        let server = FakeTTSServer(latency: .milliseconds(60))
        let setup = try Setup()
        let out = setup.home + "/out"
        try await server.serve { url in
            let child = try setup.start([
                "convert", ConvertCommandTests.novella, "--tts-url", url, "--format", "m4b,mp3", "--concurrency", "1",
            ])
            // Killed once the file is being written and some chapters are in it, before the book is done.
            let shown = try await setup.statusOnceEncoding()
            #expect(shown["chaptersEncoded"] as? Int ?? 0 < shown["chaptersTotal"] as? Int ?? 0, "\(shown)")
            #expect(shown["chaptersDone"] as? Int ?? 0 >= shown["chaptersEncoded"] as? Int ?? 0, "\(shown)")
            child.signal(SIGKILL)
            let killed = try await child.wait()
            try #require(killed.status != 0, "the encode finished before it could be killed")
            #expect(killed.stderr.contains("chapters encoded"), "\(killed.stderr)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            #expect(!left.contains { !$0.hasPrefix(".") }, "\(left)")
            // The partial M4B stays, with its packet sizes, to be continued.
            #expect(left.contains { $0.hasSuffix(".partial.m4b.sizes") }, "\(left)")
            let kept = shown["chaptersEncoded"] as? Int ?? 0

            let resumed = try await setup.run(["resume"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            // What is kept, what is encoded again, and why, is said.
            let resumedAt = try #require(
                resumed.stderr.firstMatch(
                    of:
                        /resuming a stopped encode: m4b continues from chapter (\d+) \((\d+) chapters? kept\); mp3 is encoded again from chapter 1/
                ),
                "\(resumed.stderr)"
            )
            #expect(Int(resumedAt.output.2) ?? 0 >= kept)
            #expect(Int(resumedAt.output.1) == (Int(resumedAt.output.2) ?? 0) + 1)
            let total = shown["segmentsTotal"] as? Int ?? 0
            // One request was in flight when the process died.
            #expect(server.requestCount <= total + 1, "\(server.requestCount) requests for \(total) segments")
            let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            #expect(files.count == 2 && files.allSatisfy { !$0.hasPrefix(".") }, "\(files)")
            let m4b = try MediaProbe(out + "/" + (try #require(files.first { $0.hasSuffix(".m4b") })))
            let mp3 = try MediaProbe(out + "/" + (try #require(files.first { $0.hasSuffix(".mp3") })))
            #expect(m4b.chapters.count == 13)
            // The continued M4B and the MP3 encoded whole again hold the same assembly (an MP3's
            // length as ffprobe reads it is whole frames, with the encoder's delay and padding).
            #expect(abs(m4b.duration - mp3.duration) < 0.1, "\(m4b.duration) \(mp3.duration)")
            for (continued, whole) in zip(m4b.chapters, mp3.chapters) {
                #expect(abs(continued.start - whole.start) < 0.001, "\(continued.title)")
            }
        }
    }
}

/// `cancel` and `pause` from another process while a book encodes: the encode stops within one
/// heartbeat (1 s here) and leaves no file, and the book is cancelled or paused. The stop takes
/// about 1.5 s; the bound allows a loaded 2-core machine's scheduling on top, and stays well short of
/// the encode's own length (it would write the files, which the tests also rule out).
@Suite("Stopping an encode from another process", .serialized)
struct EncodeControlTests {
    /// A heartbeat, plus time for a loaded machine to schedule the stopping process and its exit.
    static let stopBound = Duration.seconds(1 + 4)

    /// A heartbeat of one second, so that a stop is seen quickly.
    static func setup() throws -> (ConvertCommandTests.Setup, [String: String]) {
        let setup = try ConvertCommandTests.Setup()
        var environment = setup.environment
        environment["RECITAL_HEARTBEAT_SECONDS"] = "1"
        return (setup, environment)
    }

    /// Starts converting the 21-minute novella into M4B and MP3 and returns once it is encoding.
    static func encoding(
        _ setup: ConvertCommandTests.Setup,
        _ environment: [String: String],
        url: String
    ) async throws -> BackgroundProcess {
        let child = try BackgroundProcess(
            Fixtures.executable,
            [
                "convert", Fixtures.path("novella.epub"), "--tts-url", url, "--format", "m4b,mp3", "--out",
                setup.home + "/out",
            ],
            environment: environment
        )
        // Well into the encode: past the first pass, into writing the files.
        try await Wait.until("the files being written", deadline: .seconds(120)) {
            let written = (try? FileManager.default.contentsOfDirectory(atPath: setup.home + "/out")) ?? []
            return written.filter { $0.contains(".partial") }.count == 2
        }
        return child
    }

    static func bookState(_ setup: ConvertCommandTests.Setup) async throws -> String {
        let status = try await setup.run(["status", "1", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return ((object?["books"] as? [[String: Any]])?.first?["state"] as? String) ?? ""
    }

    @Test("cancel stops an encode of 21 minutes of audio within a heartbeat and a few seconds, leaving no file")
    func cancel() async throws {
        let server = FakeTTSServer()
        let (setup, environment) = try Self.setup()
        try await server.serve { url in
            let child = try await Self.encoding(setup, environment, url: url)
            let cancelled = try await ProcessResult.launch(
                Fixtures.executable,
                ["cancel", "1"],
                environment: environment
            )
            #expect(cancelled.status == 0, "\(cancelled.stderr)")
            let asked = ContinuousClock.now
            let result = try await child.wait()
            #expect(ContinuousClock.now - asked < Self.stopBound, "the encode went on after the cancel")
            #expect(result.stderr.contains("encoding stopped: the book was cancelled"), "\(result.stderr)")
            #expect(!result.stderr.contains("wrote "), "\(result.stderr)")
        }
        // Nothing looks finished; an encode following synthesis keeps its partial files for a retry.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: setup.home + "/out")) ?? []
        #expect(left.allSatisfy { $0.hasPrefix(".") && $0.contains(".partial.") }, "\(left)")
        #expect(try await Self.bookState(setup) == "cancelled")
    }

    @Test("pause stops an encode within a heartbeat and a few seconds; after unpause, resume encodes the book")
    func pause() async throws {
        let server = FakeTTSServer()
        let (setup, environment) = try Self.setup()
        try await server.serve { url in
            let child = try await Self.encoding(setup, environment, url: url)
            let paused = try await ProcessResult.launch(Fixtures.executable, ["pause", "1"], environment: environment)
            #expect(paused.status == 0, "\(paused.stderr)")
            let asked = ContinuousClock.now
            let result = try await child.wait()
            #expect(ContinuousClock.now - asked < Self.stopBound, "the encode went on after the pause")
            #expect(result.stderr.contains("encoding stopped: the book was paused"), "\(result.stderr)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: setup.home + "/out")) ?? []
            #expect(left.allSatisfy { $0.hasPrefix(".") && $0.contains(".partial.") }, "\(left)")
            #expect(try await Self.bookState(setup) == "paused")
            let requests = server.requestCount

            #expect(
                try await ProcessResult.launch(Fixtures.executable, ["unpause", "1"], environment: environment).status
                    == 0
            )
            #expect(try await Self.bookState(setup) == "running")
            let resumed = try await ProcessResult.launch(Fixtures.executable, ["resume"], environment: environment)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            // Synthesis carries on where the pause left it: only what was in flight when the pause
            // came is asked again (four chapters, each with a window of requests on the wire or
            // answered and not yet committed).
            #expect(server.requestCount >= requests)
            let texts = try setup.segments().texts
            #expect(server.requestCount <= texts.count + 16, "\(server.requestCount) requests, \(texts.count) segments")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: setup.home + "/out").sorted()
        #expect(files.count == 2 && files.allSatisfy { !$0.hasPrefix(".") }, "\(files)")
        #expect(try await Self.bookState(setup) == "completed")
    }

    /// Starts converting the novella slowly enough that the encode follows synthesis, and returns
    /// once `status` shows chapters encoded, with how many.
    static func following(
        _ setup: ConvertCommandTests.Setup,
        _ environment: [String: String],
        url: String
    ) async throws -> (BackgroundProcess, encoded: Int) {
        let child = try BackgroundProcess(
            Fixtures.executable,
            [
                "convert", Fixtures.path("novella.epub"), "--tts-url", url, "--format", "m4b,mp3", "--concurrency", "1",
                "--out", setup.home + "/out",
            ],
            environment: environment
        )
        let encoded = try await setup.statusOnceEncoding()["chaptersEncoded"] as? Int ?? 0
        return (child, encoded)
    }

    /// After a stop during an encode that follows synthesis: only the partial M4B (with its packet
    /// sizes) and MP3 are left. `again` makes the book workable, then `resume` must continue the
    /// M4B after at least `encoded` chapters and finish both files.
    static func continues(
        _ setup: ConvertCommandTests.Setup,
        _ environment: [String: String],
        encoded: Int,
        after again: [String]
    ) async throws {
        let out = setup.home + "/out"
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(left.allSatisfy { $0.hasPrefix(".") }, "\(left)")
        #expect(left.contains { $0.hasSuffix(".partial.m4b.sizes") }, "\(left)")
        #expect(try await ProcessResult.launch(Fixtures.executable, again, environment: environment).status == 0)
        let resumed = try await ProcessResult.launch(Fixtures.executable, ["resume"], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let line = try #require(
            resumed.stderr.firstMatch(of: /resuming a stopped encode: m4b continues from chapter (\d+)/),
            "\(resumed.stderr)"
        )
        #expect(Int(line.output.1) ?? 0 > encoded, "\(resumed.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files.count == 2 && files.allSatisfy { !$0.hasPrefix(".") }, "\(files)")
        let m4b = try #require(files.first { $0.hasSuffix(".m4b") })
        #expect(try MediaProbe(out + "/" + m4b).chapters.count == 13)
        #expect(try await bookState(setup) == "completed")
    }

    /// A stop from another process, and what makes the book workable again after it.
    enum Stop: String, CaseIterable, Sendable {
        case pause, cancel
        var state: String { self == .pause ? "paused" : "cancelled" }
        var again: String { self == .pause ? "unpause" : "retry" }
    }

    @Test(
        "paused or cancelled while encoding alongside synthesis: stopped within a heartbeat, the partial M4B is kept, and after unpause or retry resume continues it from its last chapter",
        arguments: Stop.allCases
    )
    func stopWhileFollowing(_ stop: Stop) async throws {
        let server = FakeTTSServer(latency: .milliseconds(60))
        let (setup, environment) = try Self.setup()
        try await server.serve { url in
            let (child, encoded) = try await Self.following(setup, environment, url: url)
            let asking = try await ProcessResult.launch(
                Fixtures.executable,
                [stop.rawValue, "1"],
                environment: environment
            )
            #expect(asking.status == 0, "\(asking.stderr)")
            let asked = ContinuousClock.now
            let result = try await child.wait()
            #expect(ContinuousClock.now - asked < Self.stopBound, "the encode went on after the \(stop)")
            #expect(result.stderr.contains("encoding stopped: the book was \(stop.state)"), "\(result.stderr)")
            #expect(try await Self.bookState(setup) == stop.state)
            try await Self.continues(setup, environment, encoded: encoded, after: [stop.again, "1"])
        }
    }
}

extension ConvertCommandTests.Setup {
    /// Waits until `status --json` shows book 1 with a chapter encoded, and returns what it showed.
    func statusOnceEncoding() async throws -> [String: Any] {
        var shown: [String: Any] = [:]
        try await Wait.until("chapters encoded while others are synthesized", deadline: .seconds(180)) {
            let status = try await run(["status", "1", "--json"])
            let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            shown = (object?["books"] as? [[String: Any]])?.first ?? [:]
            return shown["chaptersEncoded"] as? Int ?? 0 >= 1
        }
        return shown
    }
}
