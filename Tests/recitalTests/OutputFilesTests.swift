import Foundation
import RecitalTestSupport
import Testing

/// What `convert` promises about its files: every file it asks for exists when it says done, in the
/// folder it asks for, and no name taken by another file or book fails a finished book.
@Suite("recital convert's finished files", .serialized)
struct OutputFilesTests {
    typealias Setup = ConvertCommandTests.Setup

    /// Runs `recital` with exactly these arguments (no folder added).
    static func run(_ setup: Setup, _ arguments: [String]) async throws -> ProcessResult {
        try await ProcessResult.launch(Fixtures.executable, arguments, environment: setup.environment)
    }

    static func files(in folder: String, ending suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    @Test(
        "converting a book again writes what this command asks for: a new format, another folder, a deleted or changed file, removed checkpoints"
    )
    func convertAgain() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let book = Fixtures.path("epub2-basic.epub")
        let out = setup.home + "/out"
        let other = setup.home + "/other"
        let name = "Ada Author - A Basic Book"
        try await server.serve { url in
            func convert(_ format: String, into folder: String) async throws -> ProcessResult {
                let result = try await Self.run(
                    setup,
                    ["convert", book, "--tts-url", url, "--format", format, "--out", folder]
                )
                #expect(result.status == 0, "\(result.stderr)")
                return result
            }
            _ = try await convert("mp3", into: out)
            #expect(Self.files(in: out, ending: ".mp3") == ["\(name).mp3"])
            let requests = server.requestCount

            let newFormat = try await convert("m4b", into: out)
            #expect(newFormat.stderr.contains("m4b has not been encoded yet"), "\(newFormat.stderr)")
            #expect(newFormat.stderr.contains("encoding m4b again from the checkpoints"))
            #expect(Self.files(in: out, ending: ".m4b") == ["\(name).m4b"])
            #expect(newFormat.stdout.contains("\(out)/\(name).m4b"))

            let elsewhere = try await convert("m4b", into: other)
            #expect(elsewhere.stderr.contains("m4b was written to \(out), not \(other)"), "\(elsewhere.stderr)")
            #expect(Self.files(in: other, ending: ".m4b") == ["\(name).m4b"])

            try FileManager.default.removeItem(atPath: "\(other)/\(name).m4b")
            let deleted = try await convert("m4b", into: other)
            #expect(deleted.stderr.contains("\(other)/\(name).m4b no longer exists"), "\(deleted.stderr)")
            #expect(try MediaProbe("\(other)/\(name).m4b").chapters.count == 3)

            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(other)/\(name).m4b"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("tampered".utf8))
            try handle.close()
            let changed = try await convert("m4b", into: other)
            #expect(changed.stderr.contains("has changed since it was written"), "\(changed.stderr)")
            #expect(try MediaProbe("\(other)/\(name).m4b").chapters.count == 3)
            // Nothing so far needed the server again.
            #expect(server.requestCount == requests)

            // Without checkpoint audio the book is synthesized again, and the command says so.
            try FileManager.default.removeItem(atPath: setup.home + "/audio/book-1")
            try FileManager.default.removeItem(atPath: "\(other)/\(name).m4b")
            let resynthesized = try await convert("m4b", into: other)
            #expect(resynthesized.stderr.contains("checkpoint audio is gone"), "\(resynthesized.stderr)")
            #expect(server.requestCount > requests)
            #expect(try MediaProbe("\(other)/\(name).m4b").chapters.count == 3)

            // Asking again for what exists and is intact does nothing but say so.
            let again = server.requestCount
            let nothing = try await convert("m4b", into: other)
            #expect(!nothing.stderr.contains("again"), "\(nothing.stderr)")
            #expect(server.requestCount == again)
        }
        // status never lists a file that is gone without saying so.
        try FileManager.default.removeItem(atPath: "\(out)/\(name).mp3")
        let status = try await Self.run(setup, ["status", "1"])
        #expect(status.stdout.contains("\(out)/\(name).mp3 (missing)"), "\(status.stdout)")
        let json = try await Self.run(setup, ["status", "1", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let books = try #require(object["books"] as? [[String: Any]])
        #expect(books.first?["missingOutputs"] as? [String] == ["\(out)/\(name).mp3"])
    }

    @Test(
        "untitled books take their file names; two books of one title and author, or a file of someone else's, never fail a book: the next free name is taken"
    )
    func names() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let out = setup.home + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let foreign = out + "/Ada Author - A Basic Book.mp3"
        try Data("my own file".utf8).write(to: URL(fileURLWithPath: foreign))
        try await server.serve { url in
            let result = try await Self.run(
                setup,
                [
                    "convert", Fixtures.path("annual_report-2024.pdf"),
                    Fixtures.path("untitled/annual_report-2024.pdf"),
                    Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--format", "mp3", "--out", out,
                ]
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("“annual report 2024” is taken in \(out)"), "\(result.stderr)")
            #expect(result.stderr.contains("“Ada Author - A Basic Book” is taken in \(out)"))
        }
        #expect(
            Self.files(in: out, ending: ".mp3") == [
                "Ada Author - A Basic Book (2).mp3", "Ada Author - A Basic Book.mp3", "annual report 2024 (2).mp3",
                "annual report 2024.mp3",
            ]
        )
        #expect(FileManager.default.contents(atPath: foreign) == Data("my own file".utf8))
        #expect(try MediaProbe(out + "/annual report 2024.mp3").tags["title"] == "annual report 2024")
        // Encoding a book again keeps its own name: its earlier file is replaced, not renamed.
        let encoded = try await Self.run(setup, ["encode", "3", "--format", "mp3", "--out", out])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        #expect(Self.files(in: out, ending: ".mp3").count == 4)
        #expect(encoded.stdout.contains("Ada Author - A Basic Book (2).mp3"))
    }

    @Test("--overwrite keeps its meaning: a file in the way is replaced instead of taking another name")
    func overwrite() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let out = setup.home + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let foreign = out + "/Ada Author - A Basic Book.flac"
        try Data("my own file".utf8).write(to: URL(fileURLWithPath: foreign))
        try await server.serve { url in
            let result = try await Self.run(
                setup,
                [
                    "convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--format", "flac", "--out", out,
                    "--overwrite",
                ]
            )
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(Self.files(in: out, ending: ".flac") == ["Ada Author - A Basic Book.flac"])
        #expect(try MediaProbe(foreign).chapters.count == 3)
    }

    @Test("two processes queuing two books of one title and author into one folder at once take two names")
    func concurrentNames() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let out = setup.home + "/out"
        try await server.serve { url in
            let children = try [Fixtures.path("novella.epub"), Fixtures.path("many-chapters.epub")].map { book in
                try BackgroundProcess(
                    Fixtures.executable,
                    ["convert", book, "--tts-url", url, "--format", "flac", "--out", out],
                    environment: setup.environment
                )
            }
            var notes = 0
            for child in children {
                let result = try await child.wait()
                #expect(result.status == 0, "\(result.stderr)")
                // The name is settled when the book is queued, not discovered after synthesis.
                let queued = result.stderr.components(separatedBy: "synthesizing").first ?? ""
                if queued.contains("“Bench Mark - A Large Generated Book” is taken in \(out)") { notes += 1 }
            }
            #expect(notes == 1)
        }
        let names = Self.files(in: out, ending: ".flac")
        #expect(names == ["Bench Mark - A Large Generated Book (2).flac", "Bench Mark - A Large Generated Book.flac"])
        let chapters = try names.map { try MediaProbe(out + "/" + $0).chapters.count }.sorted()
        #expect(chapters.count == 2 && chapters.last == 120 && chapters.first != 120)
    }
}
