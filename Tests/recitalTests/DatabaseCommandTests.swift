import Foundation
import RecitalTestSupport
import Testing

/// `recital db copy`, run as a user would, between real SQLite files and a real PostgreSQL server.
@Suite("Moving a library between job tables")
struct DatabaseCommandTests {
    func run(_ arguments: [String], home: String) async throws -> ProcessResult {
        try await ProcessResult.recital(arguments, home: home)
    }

    @Test(
        "a library goes from SQLite to PostgreSQL with its audio inside the table, is encoded there with no file of the old home, and comes back into files",
        .enabled(if: DatabaseBackend.postgresURL != nil, "needs RECITAL_POSTGRES_URL")
    )
    func roundTrip() async throws {
        let server = FakeTTSServer()
        let first = try Fixtures.temporaryDirectory().path
        try await server.serve { url in
            let converted = try await run(
                [
                    "convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--format", "mp3", "--out",
                    first + "/out",
                ],
                home: first
            )
            #expect(converted.status == 0, "\(converted.stderr.suffix(800))")
        }
        let mp3 = try #require(
            try FileManager.default.contentsOfDirectory(atPath: first + "/out").first { $0.hasSuffix(".mp3") }
        )
        let spoken = try MediaProbe(first + "/out/" + mp3).duration

        let cluster = DatabaseBackend.postgres.location(in: first)
        let copied = try await run(["db", "copy", "--to", cluster], home: first)
        #expect(copied.status == 0, "\(copied.stderr.suffix(800))")
        #expect(copied.stdout.contains("copied 1 book ("), "\(copied.stdout)")
        #expect(copied.stdout.contains("segments' audio moved"), "\(copied.stdout)")
        let again = try await run(["db", "copy", "--to", cluster], home: first)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds 1 book; copy into an empty job table"), "\(again.stderr)")

        // No disk of the first machine: its checkpoint files are gone; the table has the audio.
        try FileManager.default.removeItem(atPath: first + "/audio")
        let second = try Fixtures.temporaryDirectory().path
        let encoded = try await run(
            ["encode", "1", "--db", cluster, "--format", "m4b", "--out", second + "/out"],
            home: second
        )
        #expect(encoded.status == 0, "\(encoded.stderr.suffix(800))")
        let m4b = try #require(
            try FileManager.default.contentsOfDirectory(atPath: second + "/out").first { $0.hasSuffix(".m4b") }
        )
        let probe = try MediaProbe(second + "/out/" + m4b)
        #expect(abs(probe.duration - spoken) < 0.5, "\(probe.duration) s against \(spoken) s")
        #expect(probe.hasCover == (try MediaProbe(first + "/out/" + mp3).hasCover))

        // And back: a SQLite table on a third machine, its audio in files there.
        let third = try Fixtures.temporaryDirectory().path
        let back = try await run(["db", "copy", "--from", cluster, "--to", third + "/recital.sqlite"], home: third)
        #expect(back.status == 0, "\(back.stderr.suffix(800))")
        let wavs =
            FileManager.default.enumerator(atPath: third + "/audio")?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".wav") } ?? []
        #expect(!wavs.isEmpty)
        let flac = try await run(["encode", "1", "--format", "flac", "--out", third + "/out"], home: third)
        #expect(flac.status == 0, "\(flac.stderr.suffix(800))")
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: third + "/out").first { $0.hasSuffix(".flac") }
        )
        #expect(abs(try MediaProbe(third + "/out/" + file).duration - spoken) < 0.5)
        let status = try await run(["status", "--json"], home: third)
        #expect(status.stdout.contains("\"completed\""), "\(status.stdout.prefix(400))")
    }

    @Test(
        "--audio-store keeps segment audio as files in a shared folder instead of the table: durable WAV files there, none in either home, and another home encodes from them",
        .enabled(if: DatabaseBackend.postgresURL != nil, "needs RECITAL_POSTGRES_URL")
    )
    func sharedAudioFolder() async throws {
        let server = FakeTTSServer()
        let first = try Fixtures.temporaryDirectory().path
        let shared = try Fixtures.temporaryDirectory().path + "/nfs"
        let cluster = DatabaseBackend.postgres.location(in: first)
        try await server.serve { url in
            let converted = try await run(
                [
                    "convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--format", "mp3", "--out",
                    first + "/out", "--db", cluster, "--audio-store", shared,
                ],
                home: first
            )
            #expect(converted.status == 0, "\(converted.stderr.suffix(800))")
        }
        let files = FileManager.default.enumerator(atPath: shared)?.compactMap { $0 as? String } ?? []
        let status = try await run(["status", "--json", "--db", cluster], home: first)
        let books = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let total = try #require((books?["books"] as? [[String: Any]])?.first?["segmentsTotal"] as? Int)
        // One file per segment (a segment with nothing to speak still has its empty one).
        #expect(files.filter { $0.hasSuffix(".wav") }.count == total, "\(files)")
        #expect(!files.contains { $0.contains(".tmp") })
        #expect(!FileManager.default.fileExists(atPath: first + "/audio"))
        let second = try Fixtures.temporaryDirectory().path
        let encoded = try await ProcessResult.launch(
            Fixtures.executable,
            ["encode", "1", "--format", "flac", "--out", second + "/out"],
            environment: ["RECITAL_HOME": second, "RECITAL_DB": cluster, "RECITAL_AUDIO_STORE": shared, "TERM": "dumb"]
        )
        #expect(encoded.status == 0, "\(encoded.stderr.suffix(800))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: second + "/out").contains { $0.hasSuffix(".flac") })
    }

    @Test("copying from a job table that does not exist says so, and makes nothing")
    func missingSource() async throws {
        let home = try Fixtures.temporaryDirectory().path
        let result = try await run(
            ["db", "copy", "--from", home + "/none.sqlite", "--to", home + "/new.sqlite"],
            home: home
        )
        #expect(result.status == 66)
        #expect(result.stderr.contains("\(home)/none.sqlite: no such job table"))
        #expect(!FileManager.default.fileExists(atPath: home + "/new.sqlite"))
    }

    @Test("a PostgreSQL server that cannot be reached or has no such database is named with the reason, in one line")
    func unreachableServer() async throws {
        let home = try Fixtures.temporaryDirectory().path
        // Port 1 on loopback: nothing listens there.
        let refused = try await run(["status", "--db", "postgres://recital@127.0.0.1:1/recital"], home: home)
        #expect(refused.status != 0)
        #expect(
            refused.stderr == "recital: error: cannot connect to PostgreSQL at 127.0.0.1:1: Connection refused\n",
            "\(refused.stderr)"
        )
        guard let server = DatabaseBackend.postgresURL, let url = URLComponents(string: server) else { return }
        let missing = try await run(
            ["status", "--db", "postgres://recital@127.0.0.1:\(url.port ?? 5432)/no_such_library"],
            home: home
        )
        #expect(missing.status != 0)
        #expect(
            missing.stderr.contains("at 127.0.0.1:\(url.port ?? 5432): database \"no_such_library\" does not exist")
        )
    }
}
