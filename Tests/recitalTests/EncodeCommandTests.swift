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

    @Test("killed while encoding: no file looks finished, and resume encodes again without synthesizing")
    func killedWhileEncoding() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        let out = setup.home + "/out"
        try await server.serve { url in
            let child = try setup.start([
                "convert", ConvertCommandTests.novella, "--tts-url", url, "--format", "mp3", "--concurrency", "4",
            ])
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                let text = (try? String(contentsOf: child.stderrURL, encoding: .utf8)) ?? ""
                if text.contains("encoding mp3") { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(300))
            child.signal(SIGKILL)
            let killed = try await child.wait()
            try #require(killed.status != 0, "the encode finished before it could be killed")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            #expect(!left.contains { !$0.hasPrefix(".") }, "\(left)")

            let requests = server.requestCount
            let resumed = try await setup.run(["resume"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(server.requestCount == requests)
            let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix(".") }
            let mp3 = try #require(files.first, "\(resumed.stderr)")
            #expect(files.count == 1 && mp3.hasSuffix(".mp3"))
            #expect(try MediaProbe(out + "/" + mp3).chapters.count > 1)
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: out)).contains { $0.contains(".partial") })
        }
    }
}
