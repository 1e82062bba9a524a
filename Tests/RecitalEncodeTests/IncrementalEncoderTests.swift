import Foundation
import RecitalEncode
import RecitalMedia
import RecitalModel
import RecitalTestSupport
import Testing

// One at a time: each test encodes on a thread of the shared cooperative pool.
@Suite("Encoding a book a chapter at a time, as its chapters are synthesized", .serialized)
struct IncrementalEncoderTests {
    /// The book with its chapters' segments held back, as the encoder first sees it.
    static func header(_ book: EncodeBook) -> EncodeBook {
        var header = book
        header.chapters = book.chapters.map { EncodeChapter(index: $0.index, title: $0.title, segments: []) }
        return header
    }

    @Test(
        "chapters given one at a time land where the whole-book encode puts them, with the same length, tags and cover, in every format at once"
    )
    func sameAsWholeBook() throws {
        let tones = try ToneBook(chapters: 5, cover: BookEncoderTests.cover)
        var settings = EncodeSettings()
        settings.formats = [.m4b, .mp3, .flac]
        let whole = try BookEncoder(settings: settings).encode(
            tones.book,
            into: tones.folder.appendingPathComponent("whole").path
        )
        let folder = tones.folder.appendingPathComponent("incremental").path
        let encoder = try IncrementalEncoder(
            book: Self.header(tones.book),
            settings: settings,
            folder: folder,
            name: nil
        )
        for chapter in tones.book.chapters {
            try encoder.add([chapter])
            // Nothing looks finished before the end.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { $0.hasPrefix(".") })
        }
        #expect(encoder.chaptersEncoded == 5)
        let report = try #require(try encoder.finish())
        #expect(
            report.files.map(\.path)
                == whole.files.map { $0.path.replacingOccurrences(of: "/whole/", with: "/incremental/") }
        )
        for (file, reference) in zip(report.files, whole.files) {
            let probe = try MediaProbe(file.path)
            let expected = try MediaProbe(reference.path)
            #expect(probe.chapters.map(\.title) == expected.chapters.map(\.title))
            for (mark, wanted) in zip(probe.chapters, expected.chapters) {
                #expect(abs(mark.start - wanted.start) < 0.000_01, "\(file.format) \(mark.title)")
            }
            #expect(abs(probe.duration - expected.duration) < 0.000_01, "\(file.format)")
            #expect(probe.tags == expected.tags, "\(file.format)")
            #expect(probe.hasCover)
            let measured = try MediaProbe.loudness(file.path)
            #expect(abs(measured.integrated - -18) <= 1, "\(file.format): \(measured.integrated) LUFS")
            if file.format == .flac { #expect(measured.truePeak <= -3.0, "true peak \(measured.truePeak)") }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 3)
    }

    @Test(
        "a chapter given a few segments at a time, as they are checkpointed, gives exactly the samples of it given whole"
    )
    func segmentsAtATime() throws {
        let tones = try ToneBook(chapters: 4)
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let chapters = tones.book.chapters
        var decoded: [[Int16]] = []
        for split in [false, true] {
            let folder = tones.folder.appendingPathComponent(split ? "split" : "whole").path
            let encoder = try IncrementalEncoder(
                book: Self.header(tones.book),
                settings: settings,
                folder: folder,
                name: nil
            )
            try encoder.add([chapters[0]])
            for chapter in chapters.dropFirst() {
                guard split else {
                    try encoder.add([chapter])
                    continue
                }
                // One segment, then the rest, then the end with nothing more.
                try encoder.add(Array(chapter.segments.prefix(1)), of: chapter.index, completes: false)
                #expect(throws: EncodeError.self) { _ = try encoder.finish() }
                try encoder.add(Array(chapter.segments.dropFirst()), of: chapter.index, completes: false)
                try encoder.add([], of: chapter.index, completes: true)
            }
            #expect(encoder.chaptersEncoded == 4)
            let report = try #require(try encoder.finish())
            decoded.append(try MediaProbe.decode(try #require(report.files.first).path, sampleRate: ToneBook.rate))
        }
        #expect(decoded[0].count > ToneBook.rate * 10)
        #expect(decoded[0] == decoded[1])
    }

    @Test(
        "a quiet first chapter misleads the first estimate: the gain follows the louder chapters at their boundaries, and the book ends within 1 LU of the target"
    )
    func quietFirstChapter() throws {
        let folder = try Fixtures.temporaryDirectory()
        var chapters: [EncodeChapter] = []
        for chapter in 0..<6 {
            var segments: [EncodeSegment] = []
            for index in 0..<40 {
                var tone = ToneBook.tone(300 + 25 * Double(index % 9), 0.4, envelope: true)
                // Chapter 1 is 14 dB quieter than the rest.
                if chapter == 0 { tone = tone.map { Int16(Double($0) / 5) } }
                let path = folder.appendingPathComponent("c\(chapter)-s\(index).wav").path
                try Data(WAV.encode(samples: tone, sampleRate: ToneBook.rate)).write(to: URL(fileURLWithPath: path))
                segments.append(EncodeSegment(index: index, boundary: index == 0 ? .chapter : .sentence, path: path))
            }
            chapters.append(EncodeChapter(index: chapter, title: "Chapter \(chapter + 1)", segments: segments))
        }
        let book = EncodeBook(
            metadata: BookMetadata(title: "Quiet Start"),
            narrator: nil,
            sampleRate: ToneBook.rate,
            chapters: chapters,
            cover: nil
        )
        var settings = EncodeSettings()
        settings.formats = [.flac]
        let out = folder.appendingPathComponent("out").path
        let encoder = try IncrementalEncoder(book: Self.header(book), settings: settings, folder: out, name: nil)
        try encoder.add([chapters[0]])
        let first = encoder.gainDB
        for chapter in chapters.dropFirst() { try encoder.add([chapter]) }
        // The estimate moved with the loud chapters, and the gain with it.
        #expect(encoder.gainChanges >= 1)
        #expect(encoder.gainDB < first - 5)
        let path: String
        if let report = try encoder.finish() {
            path = try #require(report.files.first).path
        } else {
            // Too far off: encoded again as a whole, as the pipeline does.
            path = try #require(try BookEncoder(settings: settings).encode(book, into: out).files.first).path
        }
        let measured = try MediaProbe.loudness(path)
        #expect(abs(measured.integrated - -18) <= 1, "\(measured.integrated) LUFS")
        #expect(measured.truePeak <= -3.0, "true peak \(measured.truePeak)")
    }

    @Test("a stop between chapters leaves no file behind, and an existing file is not overwritten unless asked")
    func stopAndExisting() throws {
        let tones = try ToneBook(chapters: 3)
        var settings = EncodeSettings()
        settings.formats = [.m4b, .mp3]
        let folder = tones.folder.appendingPathComponent("out").path
        let encoder = try IncrementalEncoder(
            book: Self.header(tones.book),
            settings: settings,
            folder: folder,
            name: nil
        )
        try encoder.add([tones.book.chapters[0]])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 2)
        #expect(throws: EncodeError.self) { try encoder.add([tones.book.chapters[1]], shouldStop: { true }) }
        encoder.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)

        FileManager.default.createFile(atPath: folder + "/Ada Tone - Tone Book.mp3", contents: Data([1]))
        let refused = #expect(throws: EncodeError.self) {
            _ = try IncrementalEncoder(book: Self.header(tones.book), settings: settings, folder: folder, name: nil)
        }
        #expect(refused?.code == .exists)
    }

    @Test(
        "a stopped encode is taken up at its last checkpoint: the M4B keeps the chapters it had and continues, the MP3 is encoded again, and both match an encode that never stopped"
    )
    func resumeAtCheckpoint() throws {
        let tones = try ToneBook(chapters: 6, cover: BookEncoderTests.cover)
        var settings = EncodeSettings()
        settings.formats = [.m4b, .mp3]
        let chapters = tones.book.chapters
        func encoder(_ folder: String, resuming: IncrementalEncoder.ResumePoint? = nil) throws -> IncrementalEncoder {
            try IncrementalEncoder(
                book: Self.header(tones.book),
                settings: settings,
                folder: tones.folder.appendingPathComponent(folder).path,
                name: nil,
                resuming: resuming
            )
        }
        let straight = try encoder("straight")
        try straight.add(Array(chapters[0..<2]))
        for chapter in chapters[2...] { try straight.add([chapter]) }
        let reference = try #require(try straight.finish())

        let stopped = try encoder("resumed")
        try stopped.add(Array(chapters[0..<2]))
        try stopped.add([chapters[2]])
        let saved = try #require(try stopped.checkpoint())
        // Part of the next chapter was written when it stopped: it is cut off again.
        try stopped.add(Array(chapters[3].segments.prefix(2)), of: chapters[3].index, completes: false)
        stopped.suspend()
        let point = try JSONDecoder().decode(
            IncrementalEncoder.ResumePoint.self,
            from: try JSONEncoder().encode(saved)
        )
        #expect(point.chapters == 3)
        #expect(point.files.map(\.format) == [.m4b])
        let m4bPoint = try #require(point.files.first?.checkpoint)

        // Audio that changed since the point (a segment synthesized again) is refused, and the
        // files can still be taken up after.
        var changed = point
        changed.samples += 1
        let refused = try encoder("resumed", resuming: changed)
        #expect(throws: EncodeError.self) { try refused.resume(Array(chapters[0..<3])) }
        refused.suspend()

        let resumed = try encoder("resumed", resuming: point)
        try resumed.resume(Array(chapters[0..<3]))
        #expect(resumed.continued == [.m4b])
        for chapter in chapters[3...] { try resumed.add([chapter]) }
        let report = try #require(try resumed.finish())
        let folder = tones.folder.appendingPathComponent("resumed").path
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                == report.files.map { ($0.path as NSString).lastPathComponent }.sorted()
        )

        for (file, expected) in zip(report.files, reference.files) {
            let probe = try MediaProbe(file.path)
            let wanted = try MediaProbe(expected.path)
            #expect(probe.chapters == wanted.chapters, "\(file.format)")
            #expect(abs(probe.duration - wanted.duration) < 0.000_01, "\(file.format)")
            #expect(probe.tags == wanted.tags, "\(file.format)")
            #expect(probe.hasCover)
        }
        // Encoded again from the start, the MP3 is the same file byte for byte.
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: report.files[1].path))
                == Data(contentsOf: URL(fileURLWithPath: reference.files[1].path))
        )
        // The M4B's audio up to the checkpoint is what was written before the stop; after it, an
        // encoding of the same samples (a frame out of step would differ by as much as the signal).
        let audio = try MediaProbe.decode(report.files[0].path, sampleRate: ToneBook.rate)
        let wanted = try MediaProbe.decode(reference.files[0].path, sampleRate: ToneBook.rate)
        #expect(audio.count == wanted.count)
        let kept = (m4bPoint.packets - 2) * 1024
        #expect(kept > ToneBook.rate * 5)
        #expect(audio[0..<kept] == wanted[0..<kept])
        let after = kept..<min(audio.count, kept + ToneBook.rate * 5)
        var signal = 0.0
        var noise = 0.0
        for index in after {
            signal += Double(wanted[index]) * Double(wanted[index])
            let difference = Double(audio[index]) - Double(wanted[index])
            noise += difference * difference
        }
        let snr = 10 * log10(signal / max(noise, 1))
        #expect(snr > 20, "\(snr) dB")
    }

    /// What can be wrong with a partial M4B and its packet sizes.
    enum Damage: String, CaseIterable, Sendable {
        /// The sizes file is gone.
        case sizesRemoved
        /// `finish` had begun (it writes the mdat size, then moves the audio).
        case finishing
    }

    @Test(
        "a partial M4B that does not fit its resume point is encoded again from the start, and says so",
        arguments: Damage.allCases
    )
    func resumeRefused(_ damage: Damage) throws {
        let tones = try ToneBook(chapters: 3)
        var settings = EncodeSettings()
        settings.formats = [.m4b]
        let folder = tones.folder.appendingPathComponent("out").path
        let stopped = try IncrementalEncoder(
            book: Self.header(tones.book),
            settings: settings,
            folder: folder,
            name: nil
        )
        try stopped.add([tones.book.chapters[0], tones.book.chapters[1]])
        let point = try #require(try stopped.checkpoint())
        stopped.suspend()
        let sizes = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".sizes") }
        )
        let expected: String
        switch damage {
        case .sizesRemoved:
            try FileManager.default.removeItem(atPath: folder + "/" + sizes)
            expected = "packet sizes"
        case .finishing:
            // The mdat box's 64-bit size, after the 32-byte ftyp box and its 8-byte header.
            let partial = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/" + sizes.dropLast(6)))
            try partial.seek(toOffset: 32 + 8)
            try partial.write(contentsOf: Data([0, 0, 0, 0, 0, 1, 0, 0]))
            try partial.close()
            expected = "being finished"
        }
        let resumed = try IncrementalEncoder(
            book: Self.header(tones.book),
            settings: settings,
            folder: folder,
            name: nil,
            resuming: point
        )
        try resumed.resume([tones.book.chapters[0], tones.book.chapters[1]])
        #expect(resumed.continued.isEmpty)
        #expect(
            resumed.diagnostics.contains {
                $0.message.contains("m4b encoded from the start") && $0.message.contains(expected)
            },
            "\(resumed.diagnostics)"
        )
        try resumed.add([tones.book.chapters[2]])
        let report = try #require(try resumed.finish())
        #expect(try MediaProbe(report.files[0].path).chapters.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 1)
    }
}
