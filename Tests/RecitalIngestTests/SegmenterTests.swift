import Foundation
import RecitalModel
import Testing

@testable import RecitalIngest

@Suite("Segmentation for speech")
struct SegmenterTests {
    private func sentences(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return Segmenter.sentences(in: scalars, range: 0..<scalars.count).map {
            Segmenter.string(scalars, Segmenter.trimmed($0, in: scalars))
        }
    }

    @Test("sentences end at terminal punctuation but not after abbreviations, initials or decimals")
    func abbreviations() {
        #expect(
            sentences("Mr. Smith met Dr. Jones at 3.15 p.m. yesterday. J. R. R. Tolkien wrote, e.g. novels. Done!")
                == ["Mr. Smith met Dr. Jones at 3.15 p.m. yesterday.", "J. R. R. Tolkien wrote, e.g. novels.", "Done!"]
        )
    }

    @Test("closing quotes stay with their sentence")
    func quotes() {
        #expect(sentences("“Stop!” she cried. “Why?” he asked.") == ["“Stop!” she cried.", "“Why?” he asked."])
    }

    @Test("CJK sentences split at full-width terminators without spaces")
    func cjk() {
        #expect(sentences("今日は晴れです。明日は雨でしょう！本当？") == ["今日は晴れです。", "明日は雨でしょう！", "本当？"])
    }

    @Test("short sentences are packed up to the maximum; boundaries are recorded")
    func packing() {
        let segmenter = Segmenter(options: SegmentationOptions(maxCharacters: 40))
        let segments = segmenter.segments(of: "One two. Three four. Five six seven eight nine.\n\nNew paragraph here.")
        #expect(segments.map(\.text) == ["One two. Three four.", "Five six seven eight nine.", "New paragraph here."])
        #expect(segments.map(\.boundary) == [.chapter, .sentence, .paragraph])
        #expect(segments.map(\.index) == [0, 1, 2])
    }

    @Test("a long sentence splits at clause punctuation, then between words, never inside a word")
    func longSentence() {
        let clause = "word " + String(repeating: "alpha beta gamma ", count: 4) + "end, "
        let text = String(repeating: clause, count: 6) + "and finally a full stop."
        let segments = Segmenter(options: SegmentationOptions(maxCharacters: 100)).segments(of: text)
        #expect(segments.allSatisfy { $0.text.count <= 100 })
        #expect(segments.dropFirst().contains { $0.boundary == .clause })
        let rejoined = segments.map(\.text).joined(separator: " ")
        #expect(TextCompareLite.words(rejoined) == TextCompareLite.words(text))
        let unspaced = String(repeating: "abcdefghij", count: 30)
        let words = Segmenter(options: SegmentationOptions(maxCharacters: 100)).segments(of: "x " + unspaced + " y.")
        #expect(words.allSatisfy { $0.text.count <= 100 })
        #expect(words.map(\.text).joined().replacingOccurrences(of: " ", with: "") == "x" + unspaced + "y.")
    }

    @Test("no segment is empty and nothing is lost", arguments: [20, 50, 400])
    func lossless(limit: Int) {
        let text =
            "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.\n\nIt is a way I have of driving off the spleen, and regulating the circulation.\n\n吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
        let segments = Segmenter(options: SegmentationOptions(maxCharacters: limit)).segments(of: text)
        #expect(segments.allSatisfy { !$0.text.isEmpty && $0.text.count <= max(limit, 20) })
        let squeeze = { (s: String) in s.filter { !$0.isWhitespace } }
        #expect(squeeze(segments.map(\.text).joined()) == squeeze(text))
        #expect(segments.filter { $0.boundary == .paragraph }.count == 2)
    }

    @Test("the maximum is lowered to a backend's hard limit")
    func backendLimit() {
        #expect(SegmentationOptions(maxCharacters: 5000).limited(to: 4096).maxCharacters == 4096)
        #expect(SegmentationOptions(maxCharacters: 400).limited(to: 4096).maxCharacters == 400)
    }
}

enum TextCompareLite {
    static func words(_ text: String) -> [Substring] { text.split(whereSeparator: { $0.isWhitespace || $0 == "," }) }
}
