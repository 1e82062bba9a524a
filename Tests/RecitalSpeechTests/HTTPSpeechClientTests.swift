import AsyncHTTPClient
import Foundation
import NIOCore
import RecitalMedia
import RecitalModel
import RecitalTestSupport
import Synchronization
import Testing

@testable import RecitalSpeech

@Suite("Synthesis through HTTP TTS servers (real HTTP on loopback)")
struct HTTPSpeechClientTests {
    static let text = "It was the best of times, it was the worst of times."

    func client(
        _ url: String,
        backend: VoiceProfile.Backend = .openai,
        key: String? = nil,
        // Long: the fake server's handlers share the test process's two cooperative threads with
        // every synchronous test of the run; tests of timeouts give their own.
        timeout: Double = 60,
        clock: TestClock = TestClock()
    ) throws -> HTTPSpeechClient {
        try HTTPSpeechClient(
            profile: VoiceProfile(name: "test", backend: backend, url: url, voice: "v1", timeoutSeconds: timeout),
            apiKey: key,
            clock: clock,
            random: { 0.5 }
        )
    }

    @Test("a normal answer decodes to the server's samples at the book's rate")
    func normal() async throws {
        let server = FakeTTSServer()
        let audio = try await server.serve { url in
            try await self.client(url).synthesize(SynthesisRequest(text: Self.text)) { _, _, _ in }
        }
        #expect(audio.sampleRate == 24_000)
        #expect(audio.samples == FakeTTSServer.samples(for: Self.text))
        let body = try #require(server.bodies.first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(json["input"] as? String == Self.text)
        #expect(json["voice"] as? String == "v1")
        #expect(json["response_format"] as? String == "wav")
    }

    @Test(
        "every transient fault is retried and ends in correct audio",
        arguments: [
            FakeTTSServer.Fault.status(500, body: "<html><title>500 Internal Server Error</title></html>"),
            .status(503, body: #"{"error":{"message":"model loading","type":"server_error"}}"#, retryAfter: 2),
            .status(429, body: #"{"error":{"message":"Rate limit","type":"requests"}}"#, retryAfter: 7),
            .reset,
            .truncated,
            .notAudio,
            .tooShort,
        ]
    )
    func transient(fault: FakeTTSServer.Fault) async throws {
        let server = FakeTTSServer()
        server.fail(next: [fault, fault])
        let clock = TestClock()
        let retries = Mutex<[String]>([])
        let audio = try await server.serve { url in
            try await self.client(url, clock: clock).synthesize(SynthesisRequest(text: Self.text)) { error, _, _ in
                retries.withLock { $0.append(error.message) }
            }
        }
        #expect(audio.samples == FakeTTSServer.samples(for: Self.text))
        #expect(server.requestCount == 3)
        #expect(retries.withLock { $0.count } == 2)
        #expect(clock.sleeps.count == 2)
        if case .status(_, _, let retryAfter?) = fault {
            #expect(clock.sleeps.allSatisfy { abs($0.seconds - Double(retryAfter)) < 0.5 }, "Retry-After honoured")
        }
    }

    @Test(
        "permanent failures fail at once with the server's own message",
        arguments: [
            (
                401,
                #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                "Incorrect API key provided"
            ),
            (
                400,
                #"{"detail":{"error":"validation_error","message":"Voice 'zz' not found. Available voices: af_heart","type":"invalid_request_error"}}"#,
                "Voice 'zz' not found"
            ),
            (
                422, #"{"detail":[{"loc":["body","input"],"msg":"field required","type":"value_error.missing"}]}"#,
                "body.input: field required"
            ),
            (404, "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "404 Not Found"),
            (403, #"{"message":"forbidden voice","code":403,"type":"PermissionError"}"#, "forbidden voice"),
        ] as [(Int, String, String)]
    )
    func permanent(status: Int, body: String, message: String) async throws {
        let server = FakeTTSServer()
        server.fail(next: [.status(status, body: body)])
        let clock = TestClock()
        try await server.serve { url in
            do {
                _ = try await self.client(url, clock: clock).synthesize(SynthesisRequest(text: Self.text)) { _, _, _ in
                }
                Issue.record("synthesis succeeded")
            } catch let error as SpeechError {
                #expect(error.kind == .permanent)
                #expect(error.httpStatus == status)
                #expect(error.message.contains(message), "\(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
        #expect(server.requestCount == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test("a server that keeps failing gives up after the policy's attempts with the last error")
    func givesUp() async throws {
        let server = FakeTTSServer()
        server.fail(next: Array(repeating: .status(502, body: "bad gateway"), count: 10))
        try await server.serve { url in
            do {
                _ = try await self.client(url).synthesize(SynthesisRequest(text: Self.text)) { _, _, _ in }
                Issue.record("synthesis succeeded")
            } catch let error as SpeechError {
                #expect(error.kind == .transient)
                #expect(error.message.contains("HTTP 502"))
            }
        }
        #expect(server.requestCount == RetryPolicy.request.maxAttempts)
    }

    @Test("the API key goes in the Authorization header and never into messages")
    func apiKey() async throws {
        let server = FakeTTSServer()
        server.fail(next: [.status(401, body: #"{"error":{"message":"bad key"}}"#)])
        let secret = "sk-test-1234567890"
        try await server.serve { url in
            do {
                _ = try await self.client(url, key: secret).synthesize(SynthesisRequest(text: Self.text)) { _, _, _ in }
            } catch let error as SpeechError {
                #expect(!error.message.contains(secret))
            }
        }
        #expect(server.authorizations == ["Bearer \(secret)"])
    }

    @Test("Piper and Coqui requests use their own routes and fields")
    func otherBackends() async throws {
        let server = FakeTTSServer()
        let (piper, coqui) = try await server.serve { url in
            let piper = try await self.client(url, backend: .piper).synthesize(SynthesisRequest(text: "Piper speaks."))
            { _, _, _ in }
            let coqui = try await self.client(url, backend: .coqui).synthesize(
                SynthesisRequest(text: "Coqui speaks.", language: "en-US")
            ) { _, _, _ in }
            return (piper, coqui)
        }
        #expect(piper.samples == FakeTTSServer.samples(for: "Piper speaks."))
        #expect(coqui.samples == FakeTTSServer.samples(for: "Coqui speaks."))
        #expect(server.bodies[0].contains(#""text":"Piper speaks.""#))
        #expect(server.bodies[1].contains("speaker_id=v1") && server.bodies[1].contains("language_id=en"))
    }

    @Test("an unreachable server is a transient failure that says so")
    func unreachable() async throws {
        let clock = TestClock()
        do {
            _ = try await client("http://127.0.0.1:9", clock: clock).synthesize(SynthesisRequest(text: Self.text)) {
                _,
                _,
                _ in
            }
            Issue.record("reached port 9")
        } catch let error as SpeechError {
            #expect(error.kind == .transient)
            #expect(error.message.contains("127.0.0.1:9"))
            // The transport's own error is kept, and the words come from its type and code.
            #expect(error.cause != nil)
            #expect(error.message.contains("connection refused (is the server running?)"), "\(error.message)")
        }
    }

    /// An error whose text reads like a refused connection, but is not one.
    struct Lookalike: Error, CustomStringConvertible {
        var description: String { "connectionRefused ECONNRESET readTimeout" }
    }

    @Test("transport failures are told apart by their type and code, never by searching their text")
    func transportWords() {
        #expect(HTTPSpeechClient.describe(HTTPClientError.readTimeout) == "no answer before the timeout")
        #expect(
            HTTPSpeechClient.describe(HTTPClientError.remoteConnectionClosed)
                == "the server closed the connection before answering"
        )
        #expect(
            HTTPSpeechClient.describe(IOError(errnoCode: ECONNRESET, reason: "read"))
                == "the server closed the connection before answering"
        )
        #expect(
            HTTPSpeechClient.describe(IOError(errnoCode: ECONNREFUSED, reason: "connect"))
                == "connection refused (is the server running?)"
        )
        #expect(HTTPSpeechClient.describe(Lookalike()) == Lookalike().description)
    }

    @Test("a server that hangs is cut off by the request timeout")
    func hangs() async throws {
        let server = FakeTTSServer()
        server.fail(next: [.delay(.seconds(3))])
        try await server.serve { url in
            let started = ContinuousClock.now
            do {
                _ = try await self.client(url, timeout: 0.5).once(SynthesisRequest(text: Self.text))
                Issue.record("no timeout")
            } catch let error as SpeechError {
                #expect(error.kind == .transient)
                #expect(error.message.contains("timeout"), "\(error.message)")
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("status codes are classified as DESIGN.md says", arguments: [408, 409, 425, 429, 500, 502, 503, 504])
    func transientStatuses(status: Int) {
        #expect(SpeechError.kind(ofStatus: status) == .transient)
    }

    @Test("permanent status codes", arguments: [400, 401, 403, 404, 422])
    func permanentStatuses(status: Int) {
        #expect(SpeechError.kind(ofStatus: status) == .permanent)
    }

    @Test("audio is recognised by its bytes, not its Content-Type")
    func sniffing() {
        #expect(AudioSniffer.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)) == .wav)
        #expect(AudioSniffer.sniff(Array("fLaC".utf8)) == .flac)
        #expect(AudioSniffer.sniff(Array("OggS".utf8)) == .ogg)
        #expect(AudioSniffer.sniff(Array("ID3\u{3}".utf8)) == .mp3)
        #expect(AudioSniffer.sniff([0xFF, 0xFB, 0x90]) == .mp3)
        #expect(AudioSniffer.sniff([0xFF, 0xF1, 0x50]) == .aac)
        #expect(AudioSniffer.sniff(Array("<html>".utf8)) == nil)
        #expect(AudioSniffer.looksLikeText(Array(#"{"error":1}"#.utf8)))
    }

    @Test("a URL that is not http(s) is refused up front")
    func badURL() {
        #expect(throws: SpeechError.self) {
            try HTTPSpeechClient(profile: VoiceProfile(name: "x", backend: .openai, url: "ftp://host"))
        }
    }
}
