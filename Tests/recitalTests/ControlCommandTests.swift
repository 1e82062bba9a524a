import Foundation
import GRDB
import RecitalModel
import RecitalSpeech
import RecitalTestSupport
import Testing

@Suite("recital retry, pause, unpause, cancel, speech-server and a locked database", .serialized)
struct ControlCommandTests {
    typealias Setup = ConvertCommandTests.Setup

    @Test("a failed book shows its error in status; retry and resume finish it")
    func retry() async throws {
        let server = FakeTTSServer()
        server.fail(next: Array(repeating: .status(403, body: #"{"detail":"quota exceeded for voice"}"#), count: 3))
        let setup = try Setup()
        let book = Fixtures.path("epub2-basic.epub")
        try await server.serve { url in
            let failed = try await setup.run(["convert", book, "--tts-url", url, "--concurrency", "1"])
            #expect(failed.status == 1)
            let status = try await setup.run(["status", "1"])
            #expect(status.stdout.contains("failed"))
            #expect(status.stdout.contains("quota exceeded for voice"))
            #expect(try await setup.run(["retry", "1"]).stdout.contains("queued again"))
            let resumed = try await setup.run(["resume", "1"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try await setup.run(["status", "1"]).stdout.contains("completed"))
        }
    }

    @Test("pause, unpause and cancel change the book's state; an unknown book is an error")
    func control() async throws {
        let setup = try Setup()
        let book = Fixtures.path("epub2-basic.epub")
        // Queue without a reachable server: the book waits, nothing is lost.
        let queued = try await setup.run(["convert", book, "--tts-url", "http://127.0.0.1:9", "--patience", "0.3"])
        #expect(queued.status == 75)
        #expect(try await setup.run(["pause", "1"]).stdout == "book 1 paused\n")
        #expect(try await setup.run(["status", "1"]).stdout.contains("paused"))
        #expect(try await setup.run(["unpause", "1"]).status == 0)
        #expect(try await setup.run(["status", "1", "--json"]).stdout.contains(#""state":"queued""#))
        #expect(try await setup.run(["cancel", "1"]).status == 0)
        let json = try await setup.run(["status", "--json"])
        #expect(json.stdout.contains(#""state":"cancelled""#))
        let missing = try await setup.run(["pause", "99"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no book 99"))
    }

    @Test("delete refuses a book a process is converting, and deletes it once cancelled")
    func deleteRunning() async throws {
        let server = FakeTTSServer(latency: .milliseconds(200))
        let setup = try Setup()
        try await server.serve { url in
            let child = try setup.start([
                "convert", Fixtures.path("epub2-basic.epub"), "--tts-url", url, "--concurrency", "1",
            ])
            try await Wait.until("the book running", deadline: .seconds(60)) {
                try await setup.run(["status", "1", "--json"]).stdout.contains(#""state":"running""#)
            }
            let refused = try await setup.run(["delete", "1"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("a running book cannot be asked to delete; cancel or pause it first"))
            #expect(try await setup.run(["cancel", "1"]).status == 0)
            _ = try await child.wait(timeout: .seconds(60))
            #expect(try await setup.run(["delete", "1"]).stdout == "book 1 deleted\n")
            #expect(try await setup.run(["status", "1"]).status == 1)
        }
    }

    @Test("speech-server serves the built-in voice until SIGTERM")
    func speechServer() async throws {
        let child = try BackgroundProcess(Fixtures.executable, ["speech-server", "--port", "0"])
        var port: Int?
        try await Wait.until("the server saying where it listens", deadline: .seconds(30)) {
            let log = child.stderrSoFar
            if let range = log.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last ?? "")
            }
            return port != nil
        }
        let bound = try #require(port)
        let client = try HTTPSpeechClient(
            profile: VoiceProfile(name: "builtin", backend: .builtin, url: "http://127.0.0.1:\(bound)")
        )
        let audio = try await client.synthesize(SynthesisRequest(text: "Chapter one.", language: "en")) { _, _, _ in }
        #expect(audio.duration > 0.3)
        child.signal(SIGTERM)
        let result = try await child.wait(timeout: .seconds(20))
        #expect(result.status == 0)
    }

    @Test("a database held by another process's write lock fails with 'locked' and exit 75, without damage")
    func locked() async throws {
        let setup = try Setup()
        let book = Fixtures.path("epub2-basic.epub")
        _ = try await setup.run(["convert", book, "--tts-url", "http://127.0.0.1:9", "--patience", "0.1"])
        // Another process takes the write lock and keeps it.
        let script = """
            import sqlite3, sys, time
            connection = sqlite3.connect(sys.argv[1], isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(300)
            """
        let holder = try BackgroundProcess("/usr/bin/env", ["python3", "-c", script, setup.home + "/recital.sqlite"])
        try await Wait.until("the other process holding the lock", deadline: .seconds(30)) {
            holder.stdoutSoFar.contains("locked")
        }
        // It waits out the busy timeout (30 s), then gives up.
        let result = try await setup.run(["pause", "1"])
        holder.signal(SIGKILL)
        _ = try await holder.wait()
        #expect(result.status == 75)
        #expect(result.stderr.contains("locked"), "\(result.stderr)")
        #expect(try await setup.run(["status", "1"]).stdout.contains("queued"))
    }
}
