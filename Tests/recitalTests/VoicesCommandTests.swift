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
}
