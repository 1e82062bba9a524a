import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalMedia

@Suite("Writing M4B audiobooks with Recital's own MP4 index")
struct AudioFileWriterTests {
    static let rate = 24_000

    /// A rising chirp: every stretch of it looks different, so a misplaced start shows as a lag.
    static func chirp(count: Int) -> [Int16] {
        (0..<count).map { index in
            let time = Double(index) / Double(rate)
            return Int16(sin(2 * .pi * (200 * time + 300 * time * time)) * 9_000)
        }
    }

    /// Top-level box types in file order.
    static func topLevelBoxes(_ path: String) throws -> [String] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var types: [String] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            var size = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self))
            if size == 1 { size = bytes[(offset + 8)..<(offset + 16)].reduce(0) { $0 << 8 | Int($1) } }
            guard size >= 8 else { break }
            offset += size
        }
        return types
    }

    static func write(
        samples: [Int16],
        to path: String,
        chapters: [ChapterMark],
        tags: [(String, String)] = [],
        cover: CoverImage? = nil
    ) throws {
        let writer = try AudioFileWriter(
            path: path,
            container: .m4b,
            sampleRate: rate,
            tags: tags,
            chapters: chapters,
            cover: cover
        )
        // Uneven pieces, as the assembler hands them over.
        var offset = 0
        var piece = 700
        while offset < samples.count {
            let end = min(samples.count, offset + piece)
            try writer.write(Array(samples[offset..<end]))
            offset = end
            piece = piece * 7 % 5_003 + 1
        }
        try writer.finish()
    }

    @Test(
        "the index comes before the audio, the duration is the samples written, and playback starts on the first sample",
        arguments: [false, true]
    )
    func startsExactly(wideOffsets: Bool) throws {
        let folder = try Fixtures.temporaryDirectory()
        let path = folder.appendingPathComponent("book.m4b").path
        // Not a whole number of 1024-sample AAC frames.
        let source = Self.chirp(count: 3 * Self.rate + 517)
        try MP4AudiobookWriter.$narrowOffsetLimit.withValue(wideOffsets ? 0 : UInt64(UInt32.max)) {
            try Self.write(
                samples: source,
                to: path,
                chapters: [ChapterMark(title: "Only", start: 0, end: Int64(source.count))]
            )
        }
        #expect(try Self.topLevelBoxes(path) == ["ftyp", "moov", "mdat"])
        let probe = try MediaProbe(path)
        #expect(probe.audioCodec == "aac")
        #expect(probe.channels == 1)
        #expect(probe.sampleRate == Self.rate)
        #expect(abs(probe.duration - Double(source.count) / Double(Self.rate)) < 0.001, "\(probe.duration)")
        let decoded = try MediaProbe.decode(path, sampleRate: Self.rate)
        #expect(decoded.count >= source.count)
        // The encoder's 1024 priming samples are hidden by the edit list: the decoded audio lines up
        // with the source at lag 0, not 1024 samples late.
        let window = 6_000
        let start = Self.rate
        func correlation(_ lag: Int) -> Double {
            var sum = 0.0
            for index in start..<(start + window) { sum += Double(source[index]) * Double(decoded[index + lag]) }
            return sum
        }
        let best = (-1_100...1_100).max { correlation($0) < correlation($1) }
        #expect(best == 0)
    }

    @Test(
        "chapters whose times are known only at the end: written with any times first and given at finish, they read back where they belong in every format, with the cover",
        arguments: AudioContainer.allCases
    )
    func chapterTimesAtFinish(container: AudioContainer) throws {
        let folder = try Fixtures.temporaryDirectory()
        let path = folder.appendingPathComponent("book.\(container.fileExtension)").path
        let picture = folder.appendingPathComponent("cover.png").path
        _ = try ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", picture]
        )
        let cover = try CoverImage.inspect([UInt8](try Data(contentsOf: URL(fileURLWithPath: picture))))
        let source = Self.chirp(count: 7 * Self.rate)
        let titles = (1...12).map { "Chapter \($0): Ünïcode" }
        let starts = titles.indices.map { Int64($0 * 14_000 + ($0 == 0 ? 0 : 7)) }
        let marks = titles.indices.map { index in
            ChapterMark(
                title: titles[index],
                start: starts[index],
                end: index + 1 < starts.count ? starts[index + 1] : Int64(source.count)
            )
        }
        let writer = try AudioFileWriter(
            path: path,
            container: container,
            sampleRate: Self.rate,
            tags: [("title", "Late Marks")],
            chapters: titles.map { ChapterMark(title: $0, start: 0, end: 0) },
            cover: cover
        )
        try writer.write(source)
        try writer.finish(chapters: marks)
        let probe = try MediaProbe(path)
        #expect(probe.chapters.map(\.title) == titles)
        // MP3's ID3 chapters and FLAC's comments count milliseconds.
        let tolerance = container == .m4b ? 0.000_01 : 0.001
        for (index, chapter) in probe.chapters.enumerated() {
            #expect(abs(chapter.start - Double(starts[index]) / Double(Self.rate)) < tolerance, "\(index)")
        }
        #expect(probe.tags["title"] == "Late Marks")
        #expect(probe.hasCover)
        let play = try ProcessResult.run("/usr/bin/ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-f", "null", "-"])
        #expect(play.status == 0 && play.stderr.isEmpty, "\(play.stderr)")
    }

    @Test("chapters land on their exact samples with their full titles, and the tags and cover read back")
    func chaptersAndTags() throws {
        let folder = try Fixtures.temporaryDirectory()
        let path = folder.appendingPathComponent("book.m4b").path
        let picture = folder.appendingPathComponent("cover.png").path
        _ = try ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", picture]
        )
        let cover = try CoverImage.inspect([UInt8](try Data(contentsOf: URL(fileURLWithPath: picture))))
        let source = Self.chirp(count: 6 * Self.rate)
        // A title longer than the 255 bytes the Nero list holds, in two-byte characters.
        let long = String(repeating: "é", count: 200)
        let titles = ["Kapitel 1: Über Größe — 第一章", long, "Three"]
        let starts: [Int64] = [0, 36_011, 100_003]
        let marks = titles.indices.map { index in
            ChapterMark(
                title: titles[index],
                start: starts[index],
                end: index + 1 < starts.count ? starts[index + 1] : Int64(source.count)
            )
        }
        let tags = [
            ("title", "Tone Book, Part 2"), ("artist", "Ada Tone"), ("album_artist", "Ada Tone"),
            ("album", "Tone Book"), ("composer", "builtin"), ("genre", "Audiobook"), ("date", "2024-05-01"),
            ("comment", "About tones."), ("description", "About tones."), ("media_type", "2"), ("track", "2/3"),
        ]
        try Self.write(samples: source, to: path, chapters: marks, tags: tags, cover: cover)
        let probe = try MediaProbe(path)
        #expect(probe.chapters.map(\.title) == titles)
        for (index, chapter) in probe.chapters.enumerated() {
            #expect(abs(chapter.start - Double(starts[index]) / Double(Self.rate)) < 0.000_01)
        }
        #expect(abs((probe.chapters.last?.end ?? 0) - 6) < 0.000_01)
        for (key, value) in tags { #expect(probe.tags[key] == value, "\(key)") }
        #expect(probe.tags["major_brand"] == "M4B ")
        #expect(probe.hasCover)
        // Played through by FFmpeg's decoder without a complaint.
        let play = try ProcessResult.run("/usr/bin/ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-f", "null", "-"])
        #expect(play.status == 0)
        #expect(play.stderr.isEmpty, "\(play.stderr)")
    }

    @Test(
        "the language tag becomes the media header's ISO 639-2 code, undetermined when unknown",
        arguments: [
            ("en", "eng"), ("en-GB", "eng"), ("de_DE", "deu"), ("fra", "fra"), ("", "und"), ("x-klingon", "und"),
        ]
    )
    func language(tag: String, code: String) {
        let packed = MP4AudiobookWriter.packedLanguage(tag)
        let letters = [10, 5, 0].map { Character(Unicode.Scalar(UInt8((packed >> $0) & 0x1F) + 0x60)) }
        #expect(String(letters) == code)
        #expect(MP4AudiobookWriter.packedLanguage(nil) == 0x55C4)
    }
}
