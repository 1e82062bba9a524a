import Foundation
import RecitalModel
import Testing

@Suite("Model values")
struct ModelTests {
    @Test(
        "speaking rate estimates depend on the script",
        arguments: [
            ("en-US", 15.0), ("ja", 6.0), ("zh-Hans", 6.0), ("de", 15.0), (nil, 15.0),
        ] as [(String?, Double)]
    )
    func speakingRate(language: String?, rate: Double) {
        #expect(SpeakingRate(language: language).charactersPerSecond == rate)
    }

    @Test("a 9,000-character English chapter is estimated at ten minutes")
    func estimate() {
        let chapter = Chapter(index: 0, title: "One", text: String(repeating: "a", count: 9000), segments: [])
        #expect(chapter.estimatedDuration(language: "en") == .seconds(600))
    }

    @Test("books round-trip through JSON")
    func codable() throws {
        let book = Book(
            source: "b.epub",
            format: .epub,
            metadata: BookMetadata(title: "T", authors: ["A"], series: Series(name: "S", position: "2")),
            cover: Cover(mediaType: "image/png", data: [1, 2, 3]),
            chapters: [
                Chapter(index: 0, title: "C", text: "x", segments: [Segment(index: 0, text: "x", boundary: .chapter)])
            ],
            diagnostics: [.warning("w")]
        )
        let decoded = try JSONDecoder().decode(Book.self, from: JSONEncoder().encode(book))
        #expect(decoded == book)
    }

    @Test("diagnostic severities order note < warning < error")
    func severity() {
        #expect(Diagnostic.Severity.note < .warning)
        #expect(Diagnostic.Severity.warning < .error)
        #expect(Diagnostic.warning("x").description == "warning: x")
    }

    @Test("backoff grows exponentially, is capped, jittered, and honours Retry-After")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: 0.25)
        #expect(policy.delay(attempt: 1, random: 0.5) == .seconds(1))
        #expect(policy.delay(attempt: 3, random: 0.5) == .seconds(4))
        #expect(policy.delay(attempt: 9, random: 0.5) == .seconds(10))
        #expect(policy.delay(attempt: 3, random: 0) == .seconds(3))
        #expect(policy.delay(attempt: 3, random: 1) == .seconds(5))
        #expect(policy.delay(attempt: 1, serverDelay: .seconds(7), random: 0.9) == .seconds(7))
        #expect(policy.delay(attempt: 1, serverDelay: .seconds(700), random: 0.9) == .seconds(10))
    }
}
