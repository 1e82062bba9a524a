import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalEncode

@Suite("Assembling segments into one stream")
struct AssemblerTests {
    /// A book whose segments exercise every path of the join arithmetic: silence padding longer
    /// than one read of the file's ends, segments that are all silence (first of a chapter, and a
    /// whole chapter of them), a single loud sample, crossfades longer than a segment.
    static func awkwardBook() throws -> EncodeBook {
        let folder = try Fixtures.temporaryDirectory()
        let loudSample: [Int16] = ToneBook.silence(0.4) + [12_000] + ToneBook.silence(0.4)
        let plans: [[(SegmentBoundary, [Int16])]] = [
            [
                (.chapter, ToneBook.silence(0.5)),
                (.clause, ToneBook.silence(0.3) + ToneBook.tone(440, 0.6, envelope: true) + ToneBook.silence(0.5)),
                (.word, ToneBook.tone(500, 0.01)),
                (.clause, loudSample),
                (.sentence, ToneBook.tone(300, 1.2) + ToneBook.silence(0.25) + ToneBook.tone(320, 0.2)),
            ],
            [(.chapter, ToneBook.silence(0.2)), (.paragraph, ToneBook.silence(0.3))],
            [
                (.chapter, ToneBook.tone(350, 0.7, envelope: true)),
                (.word, ToneBook.tone(360, 0.02)),
                (.paragraph, ToneBook.silence(0.02) + ToneBook.tone(370, 0.5)),
            ],
        ]
        let chapters = try plans.enumerated().map { chapter, plan in
            let segments = try plan.enumerated().map { index, piece in
                let path = folder.appendingPathComponent("c\(chapter)-s\(index).wav").path
                try Data(WAV.encode(samples: piece.1, sampleRate: ToneBook.rate)).write(to: URL(fileURLWithPath: path))
                return EncodeSegment(index: index, boundary: piece.0, path: path)
            }
            return EncodeChapter(index: chapter, title: "Chapter \(chapter + 1)", segments: segments)
        }
        return EncodeBook(
            metadata: BookMetadata(title: "Awkward"),
            narrator: nil,
            sampleRate: ToneBook.rate,
            chapters: chapters,
            cover: nil
        )
    }

    static let variations: [(String, @Sendable (inout EncodeSettings) -> Void)] = [
        ("defaults", { _ in }),
        (
            "no crossfade, no fades",
            {
                $0.crossfade = 0; $0.edgeFade = 0
            }
        ),
        ("crossfades longer than segments", { $0.crossfade = 0.5 }),
        ("silence kept beyond the file's ends", { $0.keepSilence = 0.6 }),
        (
            "lead-in, tail and long pauses",
            {
                $0.leadIn = 0.7; $0.tail = 1.1; $0.chapterPause = 2; $0.sentencePause = 0.4
            }
        ),
        ("a threshold that takes quiet tones for silence", { $0.silenceThreshold = -3 }),
    ]

    @Test(
        "the timeline from the checkpoints' ends is exactly the one streaming the whole audio produces",
        arguments: 0..<variations.count
    )
    func timelineMatchesStream(variation: Int) throws {
        var settings = EncodeSettings()
        Self.variations[variation].1(&settings)
        for book in [try Self.awkwardBook(), try ToneBook(chapters: 3).book] {
            let assembler = Assembler(book: book, settings: settings)
            var streamed: Int64 = 0
            let expected = try assembler.run { streamed += Int64($0.count) }
            #expect(expected.totalSamples == streamed)
            #expect(try assembler.timeline() == expected, "\(Self.variations[variation].0)")
        }
    }

    @Test("a book cut in halves keeps every segment once, in order, with its chapter")
    func halves() throws {
        let book = try Self.awkwardBook()
        let halves = book.halves()
        #expect(halves.count == 2)
        func flat(_ books: [EncodeBook]) -> [String] {
            books.flatMap { $0.chapters.flatMap { chapter in chapter.segments.map { "\(chapter.index)/\($0.path)" } } }
        }
        #expect(flat(halves) == flat([book]))
        #expect(flat([halves[0]]).count == 5)
        #expect(halves.allSatisfy { $0.chapters.allSatisfy { !$0.segments.isEmpty } })
        var single = book
        single.chapters = [book.chapters[0]]
        single.chapters[0].segments = [book.chapters[0].segments[0]]
        #expect(single.halves() == [single])
    }

    @Test("a scene break is a pause longer than a paragraph's and never a crossfade; the timeline agrees")
    func sceneBreaks() throws {
        let folder = try Fixtures.temporaryDirectory()
        func book(_ plan: [(SegmentBoundary, Bool)]) throws -> EncodeBook {
            let segments = try plan.enumerated().map { index, piece in
                let path = folder.appendingPathComponent("\(plan.count)-\(index).wav").path
                let samples = piece.1 ? [] : ToneBook.tone(440, 0.5)
                try Data(WAV.encode(samples: samples, sampleRate: ToneBook.rate)).write(to: URL(fileURLWithPath: path))
                return EncodeSegment(index: index, boundary: piece.0, path: path, sceneBreak: piece.1)
            }
            return EncodeBook(
                metadata: BookMetadata(title: "Breaks"),
                narrator: nil,
                sampleRate: ToneBook.rate,
                chapters: [EncodeChapter(index: 0, title: "One", segments: segments)],
                cover: nil
            )
        }
        let settings = EncodeSettings()
        let plain = try book([(.chapter, false), (.paragraph, false), (.clause, false)])
        let broken = try book([
            (.chapter, false), (.paragraph, true), (.paragraph, false), (.paragraph, true), (.clause, false),
        ])
        func length(_ book: EncodeBook) throws -> Int64 {
            let assembler = Assembler(book: book, settings: settings)
            var streamed: Int64 = 0
            let timeline = try assembler.run { streamed += Int64($0.count) }
            #expect(try assembler.timeline() == timeline)
            return streamed
        }
        func samples(_ seconds: Double) -> Int64 { Int64((seconds * Double(ToneBook.rate)).rounded()) }
        // The paragraph pause grows to a scene break's; the clause join becomes a scene break's pause
        // instead of a crossfade.
        let expected = samples(1.2) - samples(settings.paragraphPause) + samples(1.2) + samples(settings.crossfade)
        #expect(try length(broken) - length(plain) == expected)
    }

    @Test("a checkpoint cut short is reported by the timeline pass, naming its chapter and segment")
    func truncated() throws {
        let book = try Self.awkwardBook()
        let path = book.chapters[2].segments[1].path
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 10).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Assembler(book: book, settings: EncodeSettings()).timeline()
            Issue.record("a truncated checkpoint was measured")
        } catch {
            #expect(error.code == .badSegment)
            #expect(error.chapter == 2 && error.segment == 1)
        }
    }
}

@Suite("Softening cuts to digital silence")
struct SofteningTests {
    @Test("a lone sample between runs of silence is faded without upsetting the runs around it")
    func loneSample() {
        // The fade-in zeroes the lone sample, so the run after it starts where the sound was.
        var audio: [Int16] = Array(repeating: 0, count: 480) + [12_000] + Array(repeating: 0, count: 480)
        Assembler.softenCuts(&audio, over: 120)
        #expect(audio.count == 961)
        #expect(audio.allSatisfy { $0 == 0 })
        var speech: [Int16] = Array(repeating: 0, count: 200) + Array(repeating: 9_000, count: 400)
        Assembler.softenCuts(&speech, over: 120)
        #expect(speech[200] == 0 && speech[320] == 9_000, "sound after a run fades in over the length")
    }
}
