import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalSpeech

@Suite("The built-in espeak-ng speech server")
struct BuiltinSpeechServerTests {
    @Test("speaks English and German through the OpenAI route over real HTTP")
    func speaks() async throws {
        let (portStream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = BuiltinSpeechServer.application(port: 0) { continuation.yield($0) }
        try await withRunningApplication(app, ports: portStream, grace: .seconds(1)) { port in
            let profile = VoiceProfile(name: "builtin", backend: .builtin, url: "http://127.0.0.1:\(port)")
            let client = try HTTPSpeechClient(profile: profile)
            let english = try await client.synthesize(SynthesisRequest(text: "Call me Ishmael.", language: "en-US")) {
                _,
                _,
                _ in
            }
            let german = try await client.synthesize(
                SynthesisRequest(text: "Guten Morgen, liebe Leser.", language: "de")
            ) { _, _, _ in }
            #expect(english.sampleRate == 24_000)
            #expect(english.duration > 0.5 && english.duration < 5)
            #expect(german.duration > 0.5)
            let peak = english.samples.map { abs(Int($0)) }.max() ?? 0
            #expect(peak > 1000, "audible speech")
            do {
                _ = try await client.once(SynthesisRequest(text: "   "))
                Issue.record("empty text accepted")
            } catch let error as SpeechError {
                #expect(error.kind == .permanent)
                #expect(error.message.contains("empty"))
            }
        }
    }
}
