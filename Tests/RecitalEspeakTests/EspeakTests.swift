import RecitalEspeak
import Testing

@Suite("espeak-ng")
struct EspeakTests {
    @Test("speaks text at its native rate; longer text gives longer audio")
    func speak() async throws {
        let short = try await Espeak.shared.synthesize("Hello.", language: "en")
        let long = try await Espeak.shared.synthesize(
            "Hello there, this is a much longer sentence to speak.",
            language: "en"
        )
        #expect(short.sampleRate == 22_050)
        #expect(long.samples.count > short.samples.count * 2)
    }

    @Test("faster speed gives shorter audio; unknown languages fall back to English")
    func speedAndFallback() async throws {
        let text = "The quick brown fox jumps over the lazy dog."
        let normal = try await Espeak.shared.synthesize(text, language: "en", speed: 1)
        let fast = try await Espeak.shared.synthesize(text, language: "en", speed: 2)
        let unknown = try await Espeak.shared.synthesize(text, language: "xx-YY", speed: 1)
        #expect(fast.samples.count < normal.samples.count * 3 / 4)
        #expect(!unknown.samples.isEmpty)
    }
}
