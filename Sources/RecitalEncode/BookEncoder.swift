internal import Dispatch
internal import Foundation
public import RecitalMedia
public import RecitalModel
internal import Synchronization

/// One finished audiobook file.
public struct EncodedFile: Sendable, Equatable, Codable {
    public var format: AudioContainer
    /// 1-based part (or chapter, with one file per chapter); 1 for a single file.
    public var part: Int
    public var path: String
    public var seconds: Double
    public var chapters: Int
}

public struct EncodeReport: Sendable, Equatable {
    public var files: [EncodedFile]
    /// Problems that did not stop the encode (a cover that was skipped).
    public var diagnostics: [Diagnostic]
    /// Integrated loudness estimated before levelling, the gain applied, and the loudness of
    /// what was written, for the log.
    public var measuredLoudness: Double?
    public var gainDB: Double
    public var outputLoudness: Double?
    /// How many times the audio was encoded: 2 when the first result missed the target.
    public var encodings: Int
}

/// Turns a book's checkpointed segments into finished audiobook files: a first pass finds the
/// chapter positions and estimates the loudness from a spread sample of the stitched audio; a
/// second pass levels it, feeds every requested format at once and measures what it writes. Only
/// when that misses the target by more than ``loudnessTolerance`` is the audio encoded again with
/// the measured correction (a second miss is kept, with a warning). Files are written under
/// temporary names and renamed only when all of them are complete, so an interrupted encode never
/// leaves a file that looks finished.
public struct BookEncoder: Sendable {
    public let settings: EncodeSettings
    /// Existing files with these paths may be replaced (outputs of an earlier encode of this book).
    public var replaceable: Set<String> = []
    /// Replace any existing file.
    public var overwrite = false
    /// The name the files take (without extension), reserved for the book in the job table; by
    /// default `Author - Title`.
    public var name: String?

    public init(settings: EncodeSettings) { self.settings = settings }

    private struct Part {
        var number: Int
        var start: Int64
        var end: Int64
        var chapters: Range<Int>
        var name: String
        var title: String
    }

    public func encode(
        _ book: EncodeBook,
        into folder: String,
        shouldStop: @Sendable () -> Bool = { false },
        progress: (Double) -> Void = { _ in }
    ) throws(EncodeError) -> EncodeReport {
        try prepare(folder)
        var diagnostics: [Diagnostic] = []
        var cover: CoverImage?
        if let bytes = book.cover {
            do {
                cover = try CoverImage.inspect(bytes)
            } catch {
                diagnostics.append(Diagnostic(.warning, "cover image skipped: \(error.message)"))
            }
        }
        let assembler = Assembler(book: book, settings: settings)

        // Pass 1: chapter positions of exactly the stream pass 2 will encode, and the gain from a
        // spread sample (all of a short book), measured after the limiter it will go through.
        let timeline = try assembler.timeline()
        let segments = book.chapters.reduce(0) { $0 + $1.segments.count }
        let sample = segments >= Self.sampledFrom ? book.sampled(every: Self.sampleStride) : book
        let meter = try measure(sample, gainDB: nil, stop: shouldStop)
        let measured = meter.integrated
        var gainDB = try levelling(sample, measured: measured, peak: meter.peak, stop: shouldStop)
        let parts = plan(book, timeline)
        let targets = parts.flatMap { part in
            settings.formats.map {
                (part, $0, (folder as NSString).appendingPathComponent("\(part.name).\($0.fileExtension)"))
            }
        }
        for (_, _, path) in targets where FileManager.default.fileExists(atPath: path) {
            if !overwrite && !replaceable.contains(path) {
                throw EncodeError(.exists, "\(path) already exists (use --overwrite to replace it)")
            }
        }

        // Pass 2: level, limit, and write every format of the current part.
        var temporaries: [String] = []
        var writers: [AudioFileWriter] = []
        var files: [EncodedFile] = []
        var partIndex = 0
        var position: Int64 = 0
        let total = max(1, timeline.totalSamples)
        var lastReport = 0.0
        func open(_ part: Part) throws(EncodeError) {
            writers = []
            for format in settings.formats {
                let final = (folder as NSString).appendingPathComponent("\(part.name).\(format.fileExtension)")
                let temporary = (folder as NSString).appendingPathComponent(OutputName.partial(part.name, format))
                temporaries.append(temporary)
                do {
                    writers.append(
                        try AudioFileWriter(
                            path: temporary,
                            container: format,
                            sampleRate: book.sampleRate,
                            options: EncoderOptions(bitRate: settings.bitRate, mp3Quality: settings.mp3Quality),
                            tags: tags(book, part: part, of: parts.count),
                            chapters: marks(book, timeline, part),
                            cover: cover
                        )
                    )
                } catch {
                    throw EncodeError(.output, "\(final): cannot start writing", cause: error)
                }
                files.append(
                    EncodedFile(
                        format: format,
                        part: part.number,
                        path: final,
                        seconds: Double(part.end - part.start) / Double(book.sampleRate),
                        chapters: part.chapters.count
                    )
                )
            }
        }
        var written = WrittenMeter(sampleRate: book.sampleRate)
        // Each batch is encoded by every format at once, one core each, while the written audio is
        // measured beside them: the meter takes whichever core the encoders leave.
        func write(_ piece: UnsafeBufferPointer<Int16>) throws(EncodeError) {
            try Self.write(piece, to: writers, measuredBy: written, folder: folder)
        }
        func close() throws(EncodeError) {
            for writer in writers {
                do { try writer.finish() } catch {
                    throw EncodeError(.output, "\(folder): cannot finish writing", cause: error)
                }
            }
            writers = []
        }
        /// Writes a batch, moving on to the next part's files at its first sample.
        func route(_ batch: [Int16]) throws(EncodeError) {
            try batch.withUnsafeBufferPointer { samples throws(EncodeError) in
                var offset = 0
                while offset < samples.count {
                    if position >= parts[partIndex].end, partIndex + 1 < parts.count {
                        try close()
                        partIndex += 1
                        try open(parts[partIndex])
                    }
                    let room =
                        partIndex + 1 < parts.count ? Int(parts[partIndex].end - position) : samples.count - offset
                    let count = min(room, samples.count - offset)
                    try write(UnsafeBufferPointer(rebasing: samples[offset..<(offset + count)]))
                    offset += count
                    position += Int64(count)
                }
            }
        }
        /// Writes every file under its temporary name and returns the loudness of what it wrote.
        func writeAll(gainDB: Double) throws(EncodeError) -> Double? {
            (temporaries, files, partIndex, position, lastReport) = ([], [], 0, 0, 0)
            let limiter = PeakLimiter(
                gain: pow(10, gainDB / 20),
                ceilingDBFS: settings.limiterCeiling,
                sampleRate: book.sampleRate
            )
            written = WrittenMeter(sampleRate: book.sampleRate)
            try open(parts[0])
            let streamed = try stream(
                assembler,
                limiter: limiter,
                sent: { produced throws(EncodeError) in
                    let done = Double(produced) / Double(total)
                    guard done - lastReport >= 0.01 else { return }
                    lastReport = done
                    progress(done)
                    if shouldStop() { throw EncodeError(.interrupted, "encoding stopped") }
                },
                consume: route
            )
            // The chapter marks came from the checkpoints' ends before the audio was written; they
            // hold only if the stream ended where they said.
            guard streamed == timeline else {
                throw EncodeError(.encoder, "\(folder): the checkpoints changed while they were encoded; encode again")
            }
            try close()
            return written.integrated
        }
        var output: Double?
        var encodings = 0
        do throws(EncodeError) {
            while true {
                encodings += 1
                output = try writeAll(gainDB: gainDB)
                guard let missed = output.map({ settings.loudness - $0 }), abs(missed) > Self.loudnessTolerance
                else { break }
                guard encodings < 2 else {
                    let off = String(format: "%.1f", abs(missed))
                    diagnostics.append(Diagnostic(.warning, "loudness is \(off) LU off the target after two encodings"))
                    break
                }
                // The sample misled (a book whose level changes): level the whole book from the
                // measured correction, then encode again.
                for path in temporaries { try? FileManager.default.removeItem(atPath: path) }
                gainDB = try corrected(book, from: gainDB + missed, stop: shouldStop)
            }
            for (index, file) in files.enumerated() {
                try rename(temporaries[index], to: file.path)
            }
        } catch {
            writers = []
            for path in temporaries { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        progress(1)
        return EncodeReport(
            files: files,
            diagnostics: diagnostics,
            measuredLoudness: measured,
            gainDB: gainDB,
            outputLoudness: output,
            encodings: encodings
        )
    }

    /// Encodes one batch in every format at once, one core each, while `meter` measures it beside
    /// them on whichever core the encoders leave.
    static func write(
        _ piece: UnsafeBufferPointer<Int16>,
        to writers: [AudioFileWriter],
        measuredBy meter: WrittenMeter,
        folder: String
    ) throws(EncodeError) {
        let failures = Mutex<[MediaError]>([])
        let current = WriterSet(writers: writers)
        let shared = UnsafeSendableBuffer(piece)
        DispatchQueue.concurrentPerform(iterations: current.writers.count + 1) { index in
            guard index < current.writers.count else { return meter.add(shared.buffer) }
            do throws(MediaError) { try current.writers[index].write(shared.buffer) } catch {
                failures.withLock { $0.append(error) }
            }
        }
        if let failure = failures.withLock({ $0.first }) {
            throw EncodeError(.output, "\(folder): cannot write the audio", cause: failure)
        }
    }

    /// Books of at least this many segments estimate their loudness from every `sampleStride`th
    /// segment; what pass 2 writes is measured, and a book the sample misjudged is encoded again.
    static let sampledFrom = 240
    static let sampleStride = 8

    /// How far the written audio may be from the target loudness, LU (EBU R 128's tolerance for
    /// programmes), before it is encoded again.
    public static let loudnessTolerance = 0.5

    /// The gain that brings the book to the target loudness. When the limiter will have to hold
    /// peaks down, it takes loudness away too, so the limited stream is measured again and the gain
    /// corrected until it lands within 0.3 LU (a few passes at most; none when nothing is limited).
    private func levelling(
        _ book: EncodeBook,
        measured: Double?,
        peak: Int,
        stop: @Sendable () -> Bool
    ) throws(EncodeError) -> Double {
        guard let measured else { return 0 }
        let gainDB = settings.loudness - measured
        // Peaks between samples can stand above the samples by up to the interpolator's bound.
        let ceiling = pow(10, settings.limiterCeiling / 20) * 32768
        guard Double(peak) * pow(10, gainDB / 20) * Interpolator.bound > ceiling else { return gainDB }
        return try corrected(book, from: gainDB, stop: stop)
    }

    /// Measures the limited stream at a gain and corrects the gain until the stream lands within
    /// 0.3 LU of the target (a few passes; limiting is what takes loudness away).
    private func corrected(
        _ book: EncodeBook,
        from start: Double,
        stop: @Sendable () -> Bool
    ) throws(EncodeError) -> Double {
        var gainDB = start
        for _ in 0..<4 {
            let meter = try measure(book, gainDB: gainDB, stop: stop)
            guard let result = meter.integrated, abs(settings.loudness - result) > 0.3 else { break }
            gainDB += settings.loudness - result
        }
        return gainDB
    }

    /// The loudness of `book` as assembled, through the limiter at `gainDB` when given. Its two
    /// halves are measured on two cores: an estimate can afford the seam (the second half opens
    /// like a chapter, with a lead-in that the meter's gate leaves out).
    /// Measuring a whole long book takes a while, so a stop is honoured within it too.
    private func measure(
        _ book: EncodeBook,
        gainDB: Double?,
        stop: @Sendable () -> Bool
    ) throws(EncodeError) -> LoudnessMeter {
        let halves = book.halves()
        let results = Mutex<[Result<LoudnessMeter, EncodeError>?]>(Array(repeating: nil, count: halves.count))
        DispatchQueue.concurrentPerform(iterations: halves.count) { index in
            let result = Result { () throws(EncodeError) -> LoudnessMeter in
                var meter = LoudnessMeter(sampleRate: book.sampleRate)
                let limiter = gainDB.map {
                    PeakLimiter(
                        gain: pow(10, $0 / 20),
                        ceilingDBFS: settings.limiterCeiling,
                        sampleRate: book.sampleRate
                    )
                }
                var limited: [Int16] = []
                _ = try Assembler(book: halves[index], settings: settings).run { samples throws(EncodeError) in
                    if stop() { throw EncodeError(.interrupted, "encoding stopped") }
                    guard let limiter else { return meter.add(samples) }
                    limiter.process(samples, into: &limited)
                    limited.withUnsafeBufferPointer { meter.add($0) }
                }
                limiter?.flush(&limited)
                limited.withUnsafeBufferPointer { meter.add($0) }
                return meter
            }
            results.withLock { $0[index] = result }
        }
        var merged = LoudnessMeter(sampleRate: book.sampleRate)
        for result in results.withLock({ $0 }) {
            guard let result else { continue }
            merged.append(try result.get())
        }
        return merged
    }

    /// Streams the assembled book through `limiter` to `consume` in batches on a
    /// second thread (see ``overlapped(consume:produce:)``); `sent` hears how many samples have
    /// been handed over after each batch and may stop the stream by throwing.
    private func stream(
        _ assembler: Assembler,
        limiter: PeakLimiter,
        sent: (Int64) throws(EncodeError) -> Void,
        consume: ([Int16]) throws(EncodeError) -> Void
    ) throws(EncodeError) -> Timeline {
        try overlapped(consume: consume) { send throws(EncodeError) in
            var batch: [Int16] = []
            var limited: [Int16] = []
            var produced: Int64 = 0
            func add(_ samples: UnsafeBufferPointer<Int16>, last: Bool = false) throws(EncodeError) {
                batch.append(contentsOf: samples)
                guard batch.count >= Self.batchSize || (last && !batch.isEmpty) else { return }
                produced += Int64(batch.count)
                try send(batch)
                batch = []
                batch.reserveCapacity(Self.batchSize)
                try sent(produced)
            }
            let timeline = try assembler.run { samples throws(EncodeError) in
                limiter.process(samples, into: &limited)
                try limited.withUnsafeBufferPointer { buffer throws(EncodeError) in try add(buffer) }
            }
            limiter.flush(&limited)
            try limited.withUnsafeBufferPointer { buffer throws(EncodeError) in try add(buffer, last: true) }
            return timeline
        }
    }

    /// Five seconds at 24 kHz: large enough that handing a batch over, or encoding it in several
    /// formats at once, costs nothing next to the work on it.
    static let batchSize = 120_000

    func prepare(_ folder: String) throws(EncodeError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw EncodeError(.output, "\(folder): cannot create the output folder", cause: error)
        }
        guard access(folder, W_OK) == 0 else {
            throw EncodeError(.output, "\(folder): output folder is not writable")
        }
    }

    func rename(_ from: String, to: String) throws(EncodeError) {
        guard Foundation.rename(from, to) == 0 else {
            throw EncodeError(
                .output,
                "\(to): cannot move the finished file into place (\(String(cString: strerror(errno))))"
            )
        }
    }

    /// Splits the timeline into files at chapter starts.
    private func plan(_ book: EncodeBook, _ timeline: Timeline) -> [Part] {
        let starts = timeline.chapterStarts
        let base = name ?? OutputName.base(title: book.metadata.title, authors: book.metadata.authors)
        let title = book.metadata.title ?? "Untitled"
        func end(_ chapter: Int) -> Int64 { chapter + 1 < starts.count ? starts[chapter + 1] : timeline.totalSamples }
        var ranges: [Range<Int>] = []
        if settings.splitChapters {
            ranges = starts.indices.map { $0..<($0 + 1) }
        } else if let hours = settings.maxHours, hours > 0 {
            let limit = Int64(hours * 3600 * Double(book.sampleRate))
            var first = 0
            for chapter in starts.indices.dropFirst() where end(chapter) - (first == 0 ? 0 : starts[first]) > limit {
                ranges.append(first..<chapter)
                first = chapter
            }
            ranges.append(first..<starts.count)
        } else {
            ranges = [0..<max(1, starts.count)]
        }
        let width = String(ranges.count).count
        return ranges.enumerated().map { number, range in
            let start = number == 0 ? 0 : starts[range.lowerBound]
            let finish = number == ranges.count - 1 ? timeline.totalSamples : starts[range.upperBound]
            var name = base
            var partTitle = title
            if ranges.count > 1 {
                let padded = String(repeating: "0", count: width - String(number + 1).count) + String(number + 1)
                if settings.splitChapters {
                    let chapterTitle =
                        book.chapters.indices.contains(range.lowerBound) ? book.chapters[range.lowerBound].title : ""
                    name = OutputName.limit("\(base) - \(padded) \(OutputName.clean(chapterTitle))")
                    partTitle = "\(title) - \(chapterTitle)"
                } else {
                    name = OutputName.limit("\(base) - Part \(number + 1)")
                    partTitle = "\(title) (Part \(number + 1))"
                }
            }
            return Part(number: number + 1, start: start, end: finish, chapters: range, name: name, title: partTitle)
        }
    }

    private func marks(_ book: EncodeBook, _ timeline: Timeline, _ part: Part) -> [ChapterMark] {
        part.chapters.map { chapter in
            let start = chapter == part.chapters.lowerBound ? part.start : timeline.chapterStarts[chapter]
            let end = chapter + 1 < part.chapters.upperBound ? timeline.chapterStarts[chapter + 1] : part.end
            let title =
                book.chapters.indices.contains(chapter) ? book.chapters[chapter].title : "Chapter \(chapter + 1)"
            return ChapterMark(title: Self.tagText(title), start: start - part.start, end: end - part.start)
        }
    }

    private func tags(_ book: EncodeBook, part: Part, of count: Int) -> [(String, String)] {
        Self.tags(book, title: part.title, part: part.number, of: count)
    }

    /// The file's tags: the book's metadata, with `title` as the file's own title.
    static func tags(_ book: EncodeBook, title: String, part: Int, of count: Int) -> [(String, String)] {
        let metadata = book.metadata
        let authors = metadata.authors.joined(separator: ", ")
        var tags: [(String, String)] = [
            ("title", title),
            ("artist", authors),
            ("album_artist", authors),
            ("album", metadata.title ?? ""),
            ("composer", book.narrator ?? ""),
            ("genre", "Audiobook"),
            ("date", metadata.date ?? ""),
            ("comment", metadata.description ?? ""),
            ("language", metadata.language ?? ""),
            ("publisher", metadata.publisher ?? ""),
            ("media_type", "2"),
        ]
        // MP4 reads `desc`; FLAC folds both keys into one DESCRIPTION comment (same text).
        tags.append(("description", metadata.description ?? ""))
        if count > 1 { tags.append(("track", "\(part)/\(count)")) }
        if let narrator = book.narrator { tags.append(("narrator", narrator)) }
        return tags.map { ($0.0, Self.tagText($0.1)) }
    }

    /// Tag text without control characters (they break ID3 and MP4 readers).
    static func tagText(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }
            )
        )
    }
}

/// A read-only view of samples shared by the encoders of one batch, which only read it while the
/// batch is held still by `flush`.
struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Int16>
    init(_ buffer: UnsafeBufferPointer<Int16>) { self.buffer = buffer }
}

/// The meter of the written audio: one iteration of the parallel loop uses it, and the loop returns
/// before anyone else does.
final class WrittenMeter: @unchecked Sendable {
    private var meter: LoudnessMeter
    init(sampleRate: Int) { meter = LoudnessMeter(sampleRate: sampleRate) }
    func add(_ samples: UnsafeBufferPointer<Int16>) { meter.add(samples) }
    var integrated: Double? { meter.integrated }
}

/// The writers of one batch: iteration `i` of the parallel loop touches writer `i` only, and the
/// loop returns before anyone else uses them.
struct WriterSet: @unchecked Sendable {
    let writers: [AudioFileWriter]
}
