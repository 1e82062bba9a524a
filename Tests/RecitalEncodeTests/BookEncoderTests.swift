import Foundation
import RecitalEncode
import RecitalMedia
import RecitalModel
import RecitalTestSupport
import Testing

/// A book of tone "speech" written as checkpoint files: each chapter opens with a segment padded by
/// silence (to be trimmed) and continues with segments joined by crossfades and pauses.
struct ToneBook {
    static let rate = 24_000
    let folder: URL
    let book: EncodeBook

    init(chapters: Int = 3, title: String = "Tone Book", cover: [UInt8]? = nil) throws {
        folder = try Fixtures.temporaryDirectory()
        var encodeChapters: [EncodeChapter] = []
        for chapter in 0..<chapters {
            let plan: [(SegmentBoundary, [Int16])] = [
                (
                    .chapter,
                    Self.silence(0.3) + Self.tone(330 + 40 * Double(chapter), 0.8, envelope: true) + Self.silence(0.3)
                ),
                (.clause, Self.tone(520, 0.6)),
                (.sentence, Self.tone(410, 0.5)),
                (.paragraph, Self.tone(610, 0.7)),
            ]
            var segments: [EncodeSegment] = []
            for (index, (boundary, samples)) in plan.enumerated() {
                let path = folder.appendingPathComponent("c\(chapter)-s\(index).wav").path
                try Data(WAV.encode(samples: samples, sampleRate: Self.rate)).write(to: URL(fileURLWithPath: path))
                segments.append(EncodeSegment(index: index, boundary: boundary, path: path))
            }
            encodeChapters.append(EncodeChapter(index: chapter, title: "Chapter \(chapter + 1)", segments: segments))
        }
        book = EncodeBook(
            metadata: BookMetadata(
                title: title,
                authors: ["Ada Tone"],
                language: "en",
                date: "2024",
                description: "A book of tones."
            ),
            narrator: "builtin",
            sampleRate: Self.rate,
            chapters: encodeChapters,
            cover: cover
        )
    }

    /// A one-chapter book of the given segments, written as checkpoint files in `folder`.
    static func oneChapter(_ title: String, _ pieces: [[Int16]], in folder: URL) throws -> EncodeBook {
        var segments: [EncodeSegment] = []
        for (index, samples) in pieces.enumerated() {
            let path = folder.appendingPathComponent("s\(index).wav").path
            try Data(WAV.encode(samples: samples, sampleRate: rate)).write(to: URL(fileURLWithPath: path))
            segments.append(EncodeSegment(index: index, boundary: index == 0 ? .chapter : .sentence, path: path))
        }
        return EncodeBook(
            metadata: BookMetadata(title: title),
            narrator: nil,
            sampleRate: rate,
            chapters: [EncodeChapter(index: 0, title: "One", segments: segments)],
            cover: nil
        )
    }

    static func silence(_ seconds: Double) -> [Int16] { Array(repeating: 0, count: Int(seconds * Double(rate))) }

    /// A sine that starts and ends mid-wave (a hard edge), or with 10 ms fades like spoken words.
    static func tone(_ frequency: Double, _ seconds: Double, envelope: Bool = false) -> [Int16] {
        let count = Int(seconds * Double(rate))
        let fade = Double(rate) / 100
        return (0..<count).map { index in
            var value = sin(2 * .pi * frequency * Double(index + 37) / Double(rate)) * 9000
            if envelope { value *= min(1, Double(index) / fade, Double(count - index) / fade) }
            return Int16(value)
        }
    }
}

@Suite("Encoding checkpointed audio into audiobook files")
struct BookEncoderTests {
    static let cover: [UInt8] = {
        // A real PNG made by FFmpeg's own encoder, so the cover path is tested with an ordinary file.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cover-\(UUID().uuidString).png").path
        _ = try? ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x320", "-frames:v", "1", path]
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        return [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    }()

    @Test("each format carries the chapters, tags and cover that ffprobe reads", arguments: AudioContainer.allCases)
    func containers(format: AudioContainer) throws {
        let tones = try ToneBook(cover: Self.cover)
        var settings = EncodeSettings()
        settings.formats = [format]
        let out = tones.folder.appendingPathComponent("out").path
        let report = try BookEncoder(settings: settings).encode(tones.book, into: out)
        let file = try #require(report.files.first)
        #expect(report.files.count == 1)
        #expect(file.path == out + "/Ada Tone - Tone Book.\(format.rawValue)")
        let probe = try MediaProbe(file.path)
        #expect(probe.chapters.map(\.title) == ["Chapter 1", "Chapter 2", "Chapter 3"])
        #expect(probe.chapters.first?.start == 0)
        #expect(abs(probe.duration - file.seconds) < 0.1)
        #expect(probe.tags["title"] == "Tone Book")
        #expect(probe.tags["artist"] == "Ada Tone")
        #expect(probe.tags["album"] == "Tone Book")
        #expect(probe.tags["genre"] == "Audiobook")
        #expect(probe.tags["composer"] == "builtin")
        #expect(probe.tags["date"]?.hasPrefix("2024") == true)
        #expect(probe.hasCover)
        #expect(probe.channels == 1)
        switch format {
        case .m4b:
            #expect(probe.audioCodec == "aac")
            #expect(probe.tags["major_brand"] == "M4B ")
            #expect(probe.tags["media_type"] == "2")
            // MP4 keeps the language in the track's media header, as an ISO 639-2 code.
            #expect(probe.tags["language"] == "eng")
        case .mp3:
            #expect(probe.audioCodec == "mp3")
            #expect(probe.tags["language"] == "en")
        case .flac:
            #expect(probe.audioCodec == "flac")
            #expect(probe.tags["language"] == "en")
        }
        // Nothing but the finished file is left in the folder.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [(file.path as NSString).lastPathComponent])
    }

    @Test("chapter starts land within 50 ms of each chapter's first sound", arguments: AudioContainer.allCases)
    func chapterStarts(format: AudioContainer) throws {
        let tones = try ToneBook(chapters: 4)
        var settings = EncodeSettings()
        settings.formats = [format]
        let report = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("out").path
        )
        let path = try #require(report.files.first?.path)
        let probe = try MediaProbe(path)
        let samples = try MediaProbe.decode(path, sampleRate: ToneBook.rate)
        // Onsets: sound after at least a second of silence (only chapter pauses are that long).
        var onsets: [Double] = []
        var quiet = ToneBook.rate
        for (index, sample) in samples.enumerated() {
            if abs(Int(sample)) > 300 {
                if quiet >= ToneBook.rate / 2 && (onsets.isEmpty || quiet >= ToneBook.rate) {
                    onsets.append(Double(index) / Double(ToneBook.rate))
                }
                quiet = 0
            } else {
                quiet += 1
            }
        }
        try #require(onsets.count == 4, "onsets \(onsets)")
        try #require(probe.chapters.count == 4)
        #expect(probe.chapters[0].start == 0)
        for chapter in 1..<4 {
            #expect(
                abs(probe.chapters[chapter].start - onsets[chapter]) < 0.05,
                "chapter \(chapter): \(probe.chapters[chapter].start) vs \(onsets[chapter])"
            )
        }
        // Chapters are contiguous and the last one ends with the audio.
        for chapter in 1..<4 { #expect(abs(probe.chapters[chapter].start - probe.chapters[chapter - 1].end) < 0.002) }
        #expect(abs((probe.chapters.last?.end ?? 0) - probe.duration) < 0.1)
    }

    @Test("joins never click: no sample-to-sample jump beyond what the tones themselves make")
    func noClicks() throws {
        let tones = try ToneBook()
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let report = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("out").path
        )
        let samples = try MediaProbe.decode(try #require(report.files.first?.path), sampleRate: ToneBook.rate)
        let peak = Double(samples.map { abs(Int($0)) }.max() ?? 0)
        // The steepest tone (610 Hz) moves at most peak x 2 pi f / rate per sample.
        let natural = peak * 2 * .pi * 610 / Double(ToneBook.rate)
        let worst = MediaProbe.largestStep(samples)
        #expect(worst < natural * 1.25, "largest step \(worst), tones alone reach \(natural)")

        // The same book joined plainly (no crossfade, no edge fades) does click: the check can fail.
        var plain = settings
        plain.crossfade = 0
        plain.edgeFade = 0
        let clicking = try BookEncoder(settings: plain).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("plain").path
        )
        let raw = try MediaProbe.decode(try #require(clicking.files.first?.path), sampleRate: ToneBook.rate)
        #expect(MediaProbe.largestStep(raw) > natural * 1.25)
    }

    @Test("loudness lands within 1 LU of the target with true peak at or under the ceiling", arguments: [-18.0, -23.0])
    func loudness(target: Double) throws {
        let tones = try ToneBook()
        var settings = EncodeSettings()
        settings.formats = [.flac, .m4b]
        settings.loudness = target
        let report = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("out").path
        )
        for file in report.files {
            let measured = try MediaProbe.loudness(file.path)
            #expect(abs(measured.integrated - target) <= 1, "\(file.format): \(measured.integrated) LUFS")
            if file.format == .flac { #expect(measured.truePeak <= -3.0, "true peak \(measured.truePeak)") }
        }
        // The estimate held: the audio was encoded once.
        #expect(report.encodings == 1)
        #expect(abs((report.outputLoudness ?? 0) - target) <= BookEncoder.loudnessTolerance)
    }

    @Test("a book whose level the spread sample misjudges is encoded again and lands on the target")
    func misleadingSample() throws {
        let folder = try Fixtures.temporaryDirectory()
        let pieces = (0..<320).map { index in
            // The loudness estimate samples every eighth segment: those are 12 dB quieter.
            let tone = ToneBook.tone(300 + 20 * Double(index % 7), 0.3, envelope: true)
            return index % 8 == 0 ? tone.map { Int16(Double($0) / 4) } : tone
        }
        let book = try ToneBook.oneChapter("Uneven", pieces, in: folder)
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let report = try BookEncoder(settings: settings).encode(book, into: folder.appendingPathComponent("out").path)
        #expect(report.encodings == 2)
        #expect(report.diagnostics.isEmpty)
        let file = try #require(report.files.first)
        let measured = try MediaProbe.loudness(file.path)
        #expect(abs(measured.integrated - -18) <= BookEncoder.loudnessTolerance, "\(measured.integrated) LUFS")
        #expect(measured.truePeak <= -3.0, "true peak \(measured.truePeak)")
        // Nothing of the first encoding is left beside the file.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out").path)
        #expect(left == [(file.path as NSString).lastPathComponent])
    }

    @Test("loud bursts in quiet audio are held under the true-peak ceiling while the loudness target is met")
    func limiting() throws {
        let folder = try Fixtures.temporaryDirectory()
        let pieces = (0..<6).map { index in
            // Quiet speech level with a short burst near full scale: reaching the target needs gain
            // that would push the bursts far over the ceiling.
            var samples = ToneBook.tone(300 + 30 * Double(index), 2.0, envelope: true).map { Int16(Double($0) / 4) }
            let burst = ToneBook.tone(1200, 0.05, envelope: true).map { Int16(Double($0) * 3.4) }
            samples.replaceSubrange(24_000..<(24_000 + burst.count), with: burst)
            return samples
        }
        let book = try ToneBook.oneChapter("Bursts", pieces, in: folder)
        var settings = EncodeSettings()
        settings.formats = [.flac]
        settings.loudness = -16
        let report = try BookEncoder(settings: settings).encode(book, into: folder.appendingPathComponent("out").path)
        #expect((report.gainDB) > 6, "the test needs real gain: \(report.gainDB) dB")
        let file = try #require(report.files.first)
        let measured = try MediaProbe.loudness(file.path)
        #expect(measured.truePeak <= -3.0, "true peak \(measured.truePeak)")
        #expect(abs(measured.integrated - -16) <= 1, "\(measured.integrated) LUFS")
    }

    @Test("a voice's own cut from sound to digital silence inside a segment is faded, not kept as a click")
    func cutsInsideSegments() throws {
        let folder = try Fixtures.temporaryDirectory()
        // Two "words" that stop and start mid-wave around 100 ms of exact zeros, as espeak-ng's do.
        let samples = ToneBook.tone(400, 0.5) + ToneBook.silence(0.1) + ToneBook.tone(400, 0.5)
        let book = try ToneBook.oneChapter("Cut", [samples], in: folder)
        func largestStep(_ settings: EncodeSettings, _ name: String) throws -> Double {
            let report = try BookEncoder(settings: settings).encode(
                book,
                into: folder.appendingPathComponent(name).path
            )
            let decoded = try MediaProbe.decode(try #require(report.files.first?.path), sampleRate: ToneBook.rate)
            let peak = Double(decoded.map { abs(Int($0)) }.max() ?? 1)
            return MediaProbe.largestStep(decoded) / peak
        }
        var settings = EncodeSettings()
        settings.formats = [.flac]
        // A 400 Hz sine moves at most 2π·400/24000 ≈ 0.105 of its peak per sample.
        let natural = 2 * Double.pi * 400 / Double(ToneBook.rate)
        #expect(try largestStep(settings, "soft") < natural * 1.25)
        // Without edge fades the cut stays: the check can fail.
        settings.edgeFade = 0
        settings.crossfade = 0
        #expect(try largestStep(settings, "hard") > natural * 2)
    }

    @Test("one pass writes several formats with identical chapters")
    func severalFormats() throws {
        let tones = try ToneBook()
        var settings = EncodeSettings()
        settings.formats = [.m4b, .mp3, .flac]
        let report = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("out").path
        )
        #expect(report.files.map(\.format) == [.m4b, .mp3, .flac])
        let starts = try report.files.map { try MediaProbe($0.path).chapters.map(\.start) }
        for other in starts.dropFirst() {
            #expect(zip(other, starts[0]).allSatisfy { abs($0 - $1) < 0.002 })
        }
    }

    @Test("one file per chapter, and parts at chapter boundaries for long books")
    func splitting() throws {
        let tones = try ToneBook(chapters: 3)
        var settings = EncodeSettings()
        settings.formats = [.mp3]
        settings.splitChapters = true
        let byChapter = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("chapters").path
        )
        #expect(
            byChapter.files.map { ($0.path as NSString).lastPathComponent } == [
                "Ada Tone - Tone Book - 1 Chapter 1.mp3", "Ada Tone - Tone Book - 2 Chapter 2.mp3",
                "Ada Tone - Tone Book - 3 Chapter 3.mp3",
            ]
        )
        #expect(try MediaProbe(byChapter.files[1].path).chapters.map(\.title) == ["Chapter 2"])

        // Each chapter lasts about 5 s; at most 0.003 h (10.8 s) per part gives two parts.
        settings.splitChapters = false
        settings.maxHours = 0.003
        let parts = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("parts").path
        )
        #expect(parts.files.count == 2)
        let first = try MediaProbe(parts.files[0].path)
        #expect(first.tags["title"] == "Tone Book (Part 1)")
        #expect(first.chapters.map(\.title) == ["Chapter 1", "Chapter 2"])
        #expect(try MediaProbe(parts.files[1].path).chapters.map(\.title) == ["Chapter 3"])
        #expect(parts.files.allSatisfy { $0.seconds <= 10.8 })
    }

    @Test("titles with slashes and control characters give one safe file name")
    func hostileTitle() throws {
        let tones = try ToneBook(chapters: 1, title: "../../etc/pass\u{0007}wd\nNight: Part/Two")
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let out = tones.folder.appendingPathComponent("out").path
        let report = try BookEncoder(settings: settings).encode(tones.book, into: out)
        let file = try #require(report.files.first)
        #expect((file.path as NSString).deletingLastPathComponent == out)
        #expect((file.path as NSString).lastPathComponent == "Ada Tone - etc-pass wd Night- Part-Two.flac")
        #expect(try MediaProbe(file.path).tags["title"] == "../../etc/pass wd Night: Part/Two")
    }

    @Test("an existing file is kept unless overwriting is asked for")
    func existingOutput() throws {
        let tones = try ToneBook(chapters: 1)
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let out = tones.folder.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let existing = out + "/Ada Tone - Tone Book.flac"
        try Data("mine".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(throws: EncodeError.self) { try BookEncoder(settings: settings).encode(tones.book, into: out) }
        #expect(FileManager.default.contents(atPath: existing) == Data("mine".utf8))
        var encoder = BookEncoder(settings: settings)
        encoder.overwrite = true
        _ = try encoder.encode(tones.book, into: out)
        #expect(try MediaProbe(existing).audioCodec == "flac")
    }

    @Test("a corrupt cover is skipped with a warning; a broken checkpoint names its chapter and segment")
    func badInputs() throws {
        var damaged = Self.cover
        damaged.replaceSubrange(60..<damaged.count, with: [UInt8](repeating: 7, count: damaged.count - 60))
        let tones = try ToneBook(chapters: 2, cover: damaged)
        var settings = EncodeSettings()
        settings.formats = [.m4b]
        let out = tones.folder.appendingPathComponent("out").path
        let report = try BookEncoder(settings: settings).encode(tones.book, into: out)
        #expect(report.diagnostics.contains { $0.message.hasPrefix("cover image skipped") })
        #expect(try MediaProbe(try #require(report.files.first?.path)).hasCover == false)

        try Data("not audio".utf8).write(to: URL(fileURLWithPath: tones.book.chapters[1].segments[2].path))
        var encoder = BookEncoder(settings: settings)
        encoder.overwrite = true
        do {
            _ = try encoder.encode(tones.book, into: tones.folder.appendingPathComponent("again").path)
            Issue.record("a broken checkpoint was encoded")
        } catch {
            #expect(error.code == .badSegment)
            #expect(error.chapter == 1 && error.segment == 2)
            #expect(error.message.hasPrefix("chapter 2, segment 3:"))
        }
        // Nothing that looks finished is left behind.
        let left =
            (try? FileManager.default.contentsOfDirectory(atPath: tones.folder.appendingPathComponent("again").path))
            ?? []
        #expect(left.isEmpty)
    }

    @Test("an output folder that cannot be written fails with its path")
    func unwritableFolder() throws {
        let tones = try ToneBook(chapters: 1)
        let blocker = tones.folder.appendingPathComponent("file").path
        try Data().write(to: URL(fileURLWithPath: blocker))
        do {
            _ = try BookEncoder(settings: EncodeSettings()).encode(tones.book, into: blocker + "/out")
            Issue.record("encoded into a folder below a file")
        } catch {
            #expect(error.code == .output)
            #expect(error.message.contains(blocker))
            // The system's own error is kept and shown: "what: why (cause)".
            let cause = try #require(error.cause)
            #expect(error.description == "\(error.message) (\(cause))")
            #expect(error.description.contains("\(cause)"))
        }
    }

    @Test(
        "a disk that fills up fails the encode with the system's reason, leaves nothing, and a retry with room succeeds",
        .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"),
        arguments: AudioContainer.allCases
    )
    func diskFull(format: AudioContainer) throws {
        let tones = try ToneBook()
        let disk = try SmallDisk(kilobytes: 16)
        var settings = EncodeSettings()
        settings.formats = [format]
        do {
            _ = try BookEncoder(settings: settings).encode(tones.book, into: disk.path)
            Issue.record("encoded \(format) onto a full disk")
        } catch {
            #expect(error.code == .output)
            #expect(error.description.contains("No space left on device"), "\(error)")
            #expect(error.message.contains(disk.path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).isEmpty)
        try disk.resize(kilobytes: 4096)
        let report = try BookEncoder(settings: settings).encode(tones.book, into: disk.path)
        #expect(try MediaProbe(report.files[0].path).chapters.count == 3)
    }
}
