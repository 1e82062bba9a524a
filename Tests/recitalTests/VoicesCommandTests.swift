import Foundation
import RecitalTestSupport
import Testing

/// `recital voices`, run as a user would, against a real HTTP server on loopback.
@Suite("recital voices list and test")
struct VoicesCommandTests {
    func run(_ arguments: [String], home: String) async throws -> ProcessResult {
        try await ProcessResult.recital(arguments, home: home)
    }

    @Test(
        "list --json shows shipped and user profiles with backend, URL and languages, which answer now, and a broken profile with its reason"
    )
    func list() async throws {
        let server = FakeTTSServer()
        let home = try Fixtures.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: home + "/voices", withIntermediateDirectories: true)
        try await server.serve { url in
            let profile = #"{"name": "desk", "backend": "openai", "url": "\#(url)", "voice": "v", "languages": ["de"]}"#
            try profile.write(toFile: home + "/voices/desk.json", atomically: true, encoding: .utf8)
            try "{ not json".write(toFile: home + "/voices/broken.json", atomically: true, encoding: .utf8)
            let result = try await run(["voices", "list", "--json"], home: home)
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let voices = try #require(object?["voices"] as? [[String: Any]])
            func voice(_ name: String) -> [String: Any]? { voices.first { $0["name"] as? String == name } }
            #expect(
                Set(voices.compactMap { $0["name"] as? String }).isSuperset(of: ["builtin", "kokoro-fastapi", "desk"])
            )
            #expect(voice("builtin")?["reachable"] as? Bool == true)
            #expect(voice("desk")?["origin"] as? String == "user")
            #expect(voice("desk")?["url"] as? String == url)
            #expect(voice("desk")?["languages"] as? [String] == ["de"])
            #expect(voice("desk")?["reachable"] as? Bool == true)
            #expect(voice("kokoro-fastapi")?["languages"] as? [String] == ["en-US"])
            let broken = try #require(voice("broken"))
            #expect(broken["reachable"] as? Bool == false)
            #expect((broken["problem"] as? String)?.contains("broken.json: not a valid voice profile") == true)
        }
        // The server is gone: the same profile no longer answers, and the plain list says why.
        let after = try await run(["voices", "list"], home: home)
        #expect(after.stdout.contains("desk  (user)  openai"), "\(after.stdout)")
        #expect(after.stdout.contains("does not answer (connection refused)"), "\(after.stdout)")
    }

    @Test("test speaks a sentence into a WAV file and reports the realtime factor; a server that is down exits 75")
    func trial() async throws {
        let home = try Fixtures.temporaryDirectory().path
        let out = home + "/builtin.wav"
        let builtin = try await run(["voices", "test", "builtin", "Hello there, listener.", "--out", out], home: home)
        #expect(builtin.status == 0, "\(builtin.stderr)")
        #expect(builtin.stdout.contains("× realtime;"), "\(builtin.stdout)")
        let probe = try MediaProbe(out)
        #expect(probe.duration > 0.5 && probe.duration < 5, "\(probe.duration) s")

        let server = FakeTTSServer()
        try await server.serve { url in
            let profile = #"{"name": "desk", "backend": "openai", "url": "\#(url)", "voice": "v", "format": "wav"}"#
            try profile.write(toFile: home + "/desk.json", atomically: true, encoding: .utf8)
            let result = try await run(
                ["voices", "test", home + "/desk.json", "--out", home + "/desk.wav"],
                home: home
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(server.bodies.first?.contains("This is Recital, reading with the voice desk.") == true)
            #expect(FileManager.default.fileExists(atPath: home + "/desk.wav"))
        }
        let profile = #"{"name": "gone", "backend": "openai", "url": "http://127.0.0.1:9", "timeoutSeconds": 2}"#
        try profile.write(toFile: home + "/gone.json", atomically: true, encoding: .utf8)
        let down = try await run(["voices", "test", home + "/gone.json", "--out", home + "/gone.wav"], home: home)
        #expect(down.status == 75, "\(down.stderr)")
        #expect(down.stderr.contains("voice 'gone'"))
        #expect(!FileManager.default.fileExists(atPath: home + "/gone.wav"))
        let unknown = try await run(["voices", "test", "nosuch"], home: home)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no voice profile 'nosuch'"))
    }

    @Test(
        "a managed voice whose server does not start stalls the run with the server's own words (exit 75), a resume within the backoff says why, and another voice still converts"
    )
    func managedServerFails() async throws {
        let home = try Fixtures.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: home + "/voices", withIntermediateDirectories: true)
        let profile = #"""
            {"name": "broken", "backend": "piper", "languages": ["en"],
             "managed": {"command": ["/bin/sh", "-c", "echo 'no model in this folder' >&2; exit 3", "{port}"],
                         "readyPath": "/info"}}
            """#
        try profile.write(toFile: home + "/voices/broken.json", atomically: true, encoding: .utf8)
        let result = try await run(
            [
                "convert", Fixtures.path("epub2-basic.epub"), "--voice", "broken", "--out", home + "/out",
                "--patience", "2",
            ],
            home: home
        )
        #expect(result.status == 75, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "voice 'broken' did not start: the server exited with status 3 before it answered: no model in this folder"
            ),
            "\(result.stderr)"
        )
        let log = try String(contentsOfFile: home + "/run/broken.log", encoding: .utf8)
        // Tried again on a new port before giving up, in case the port was taken meanwhile.
        #expect(log.components(separatedBy: "]: started ").count - 1 == 3, "\(log)")

        // Nothing was lost or failed: the book waits for its voice, and a resume in the backoff says why.
        let again = try await run(["resume", "--patience", "2"], home: home)
        #expect(again.status == 75, "\(again.stderr)")
        #expect(again.stderr.contains("to retry: chapter"), "\(again.stderr)")
        #expect(again.stderr.contains("stopped: chapter"), "\(again.stderr)")
        #expect(again.stderr.contains("no model in this folder"), "\(again.stderr)")
        #expect(!again.stderr.contains("held by another process"), "\(again.stderr)")
        let other = try await run(
            ["convert", Fixtures.path("scene-breaks.epub"), "--voice", "builtin", "--out", home + "/out"],
            home: home
        )
        #expect(other.status == 0, "\(other.stderr)")
    }
}
