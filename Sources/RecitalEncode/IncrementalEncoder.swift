internal import Foundation
public import RecitalMedia
public import RecitalModel

/// Encodes a book while it is still being synthesized: chapters are given in book order as they
/// become ready, assembled as ``BookEncoder`` assembles them (the same samples, the same chapter
/// positions) and fed to every format's encoder at once, so that once the last chapter is given
/// only its own audio and the files' indexes are left to write.
///
/// The loudness is estimated from what has been given so far: the first call's chapters set the
/// gain, and it changes between chapters only when the estimate over everything given moves by more
/// than ``BookEncoder/loudnessTolerance``; the limiter holds the peaks throughout. ``finish()``
/// measures what was written; a book the running estimate misjudged by more than
/// ``loudnessTolerance`` is left for ``BookEncoder`` to encode again, as it would have been.
///
/// One file per format (no parts). Files are written under temporary names and renamed only when
/// complete; ``abandon()`` removes them. ``checkpoint()`` after a chapter says where the encode can
/// be taken up again by a later encoder (``resume(_:shouldStop:)``) once ``suspend()`` or a crash
/// left the partial files: M4B continues its file, the other formats are encoded again from the
/// start (``AudioFileWriter/canContinue(_:)``). Not thread-safe: one caller at a time.
public final class IncrementalEncoder {
    /// Where a stopped encode can be taken up: after its first `chapters` chapters, with the gain
    /// each of them began with, and the checkpoints of the files that can be continued.
    public struct ResumePoint: Sendable, Equatable, Codable {
        /// In dB, one per chapter encoded.
        public var gains: [Double]
        /// The samples those chapters assembled to: audio that changed since (a segment synthesized
        /// again) assembles to other samples, and the files cannot be continued.
        public var samples: Int64
        public var files: [FileCheckpoint]
        /// The chapters encoded before the stop.
        public var chapters: Int { gains.count }
    }

    public struct FileCheckpoint: Sendable, Equatable, Codable {
        public var format: AudioContainer
        public var checkpoint: AudioFileWriter.Checkpoint
    }

    public let settings: EncodeSettings
    private let book: EncodeBook
    private let folder: String
    private let base: String
    private var stream: Assembler.Stream
    private var writers: [AudioFileWriter] = []
    private var temporaries: [String] = []
    private var files: [EncodedFile] = []
    private var limiter: PeakLimiter?
    private var cover: CoverImage?
    /// The assembled audio before any gain: what the estimate is made from.
    private var source: LoudnessMeter
    /// What the encoders were given.
    private var written: WrittenMeter
    private var limited: [Int16] = []
    /// Asked between batches while ``add(_:shouldStop:)`` runs.
    private var stop: () -> Bool = { false }
    public private(set) var diagnostics: [Diagnostic] = []
    /// The gain in use, and the estimate it came from.
    public private(set) var gainDB = 0.0
    public private(set) var estimate: Double?
    /// How often the gain changed after the first chapters.
    public private(set) var gainChanges = 0
    /// Chapters encoded so far (the first `chaptersEncoded` of the book).
    public private(set) var chaptersEncoded = 0
    /// The gain each chapter began with, in dB.
    private var gains: [Double] = []
    /// Where this encoder takes up a stopped one, if it does.
    private let resuming: ResumePoint?
    /// The formats whose partial files were continued by ``resume(_:shouldStop:)``; the others were
    /// encoded from the start.
    public private(set) var continued: [AudioContainer] = []
    /// Seconds of audio encoded so far.
    public var secondsEncoded: Double { Double(stream.position) / Double(book.sampleRate) }

    /// How far the finished file may be from the target before the book is encoded again as a whole.
    public static let loudnessTolerance = 1.0
    /// Audio the first gain is estimated from, at least (or the whole book, if shorter).
    public static let firstEstimateSeconds = 180.0

    /// - Parameters:
    ///   - book: the book's tags, cover, sample rate, stored audio, and every chapter with its title
    ///     (their segments are given later, with ``add(_:shouldStop:)``).
    ///   - name: the files' name without extension, as ``BookEncoder/name``.
    ///   - replaceable: existing files that may be replaced; any, with `overwrite`.
    public init(
        book: EncodeBook,
        settings: EncodeSettings,
        folder: String,
        name: String?,
        replaceable: Set<String> = [],
        overwrite: Bool = false,
        resuming: ResumePoint? = nil
    ) throws(EncodeError) {
        self.book = book
        self.resuming = resuming
        self.settings = settings
        self.folder = folder
        base = name ?? OutputName.base(title: book.metadata.title, authors: book.metadata.authors)
        stream = Assembler.Stream(Assembler(book: book, settings: settings))
        source = LoudnessMeter(sampleRate: book.sampleRate)
        written = WrittenMeter(sampleRate: book.sampleRate)
        try BookEncoder(settings: settings).prepare(folder)
        for format in settings.formats {
            let path = self.path(format)
            if FileManager.default.fileExists(atPath: path), !overwrite, !replaceable.contains(path) {
                throw EncodeError(.exists, "\(path) already exists (use --overwrite to replace it)")
            }
        }
        if let bytes = book.cover {
            do {
                cover = try CoverImage.inspect(bytes)
            } catch {
                diagnostics.append(Diagnostic(.warning, "cover image skipped: \(error.message)"))
            }
        }
    }

    deinit { if !temporaries.isEmpty { abandon() } }

    /// The partial file of `format`, which a later encoder may continue.
    private func temporary(_ format: AudioContainer) -> String {
        (folder as NSString).appendingPathComponent(OutputName.partial(base, format))
    }

    /// Every file a stopped encode of the book whose files are named `name` may have kept in
    /// `folder` (``suspend()``, or a crash): the partial files and what was kept beside them.
    public static func partialFiles(folder: String, name: String) -> [String] {
        AudioContainer.allCases.flatMap { format in
            let path = (folder as NSString).appendingPathComponent(OutputName.partial(name, format))
            return [path] + AudioFileWriter.sidecars(of: path, container: format)
        }
    }

    private func path(_ format: AudioContainer) -> String {
        (folder as NSString).appendingPathComponent("\(base).\(format.fileExtension)")
    }

    /// Encodes the next chapters of the book (they must follow those given before). The first call
    /// estimates the gain from its own chapters, so it should bring ``firstEstimateSeconds`` of audio
    /// where the book has them.
    /// - Throws: ``EncodeError`` with ``EncodeError/Code/interrupted`` once `shouldStop` says so.
    public func add(_ chapters: [EncodeChapter], shouldStop: @escaping () -> Bool = { false }) throws(EncodeError) {
        guard !chapters.isEmpty else { return }
        stop = shouldStop
        defer { stop = { false } }
        if limiter == nil {
            var probe = stream
            var meter = LoudnessMeter(sampleRate: book.sampleRate)
            for chapter in chapters {
                if shouldStop() { throw EncodeError(.interrupted, "encoding stopped") }
                try probe.add(chapter) { meter.add($0) }
            }
            estimate = meter.integrated
            gainDB = estimate.map { settings.loudness - $0 } ?? 0
            limiter = PeakLimiter(
                gain: pow(10, gainDB / 20),
                ceilingDBFS: settings.limiterCeiling,
                sampleRate: book.sampleRate
            )
            try open()
        } else {
            try requireChapterBoundary()
            updateGain()
        }
        for chapter in chapters { try encodeChapter(chapter) }
    }

    /// Encodes one whole chapter at the gain in use, which a resume point keeps.
    private func encodeChapter(_ chapter: EncodeChapter) throws(EncodeError) {
        if stop() { throw EncodeError(.interrupted, "encoding stopped") }
        gains.append(gainDB)
        try encode { stream, sink throws(EncodeError) in try stream.add(chapter, to: sink) }
        chaptersEncoded += 1
    }

    /// Takes up the stopped encode this encoder was made to resume: `chapters` are the book's first
    /// ``ResumePoint/chapters``, which are assembled again with the gains they had, so that every
    /// sample after them is what the stopped encode would have made. Files that can be continued
    /// pass over what they hold; the others are encoded from the start. Later chapters follow with
    /// ``add(_:shouldStop:)`` or ``add(_:of:completes:shouldStop:)``.
    public func resume(_ chapters: [EncodeChapter], shouldStop: @escaping () -> Bool = { false }) throws(EncodeError) {
        guard let resuming, limiter == nil, chapters.count == resuming.chapters, resuming.chapters > 0
        else { throw EncodeError(.encoder, "\(folder): no encode to resume after \(chapters.count) chapters") }
        stop = shouldStop
        defer { stop = { false } }
        gainDB = resuming.gains[0]
        limiter = PeakLimiter(
            gain: pow(10, gainDB / 20),
            ceilingDBFS: settings.limiterCeiling,
            sampleRate: book.sampleRate
        )
        try open()
        for (chapter, gain) in zip(chapters, resuming.gains) {
            if gain != gainDB {
                gainDB = gain
                limiter?.gain = pow(10, gain / 20)
                gainChanges += 1
            }
            try encodeChapter(chapter)
        }
        estimate = source.integrated
        guard stream.position == resuming.samples else {
            throw EncodeError(
                .encoder,
                "\(folder): the \(chapters.count) chapters encoded before now assemble to \(stream.position) samples, not \(resuming.samples): their audio changed"
            )
        }
    }

    /// Where a later encoder could take this one up, between chapters; nil before the first.
    public func checkpoint() throws(EncodeError) -> ResumePoint? {
        guard limiter != nil, openChapter == nil, chaptersEncoded > 0 else { return nil }
        var saved: [FileCheckpoint] = []
        for writer in writers {
            do {
                if let checkpoint = try writer.checkpoint() {
                    saved.append(FileCheckpoint(format: writer.container, checkpoint: checkpoint))
                }
            } catch {
                throw EncodeError(.output, "\(temporary(writer.container)): cannot save a checkpoint", cause: error)
            }
        }
        return ResumePoint(gains: gains, samples: stream.position, files: saved)
    }

    /// Stops, keeping the partial files that a later encoder can continue from the last
    /// ``checkpoint()``; the others are removed (they will be encoded from the start).
    public func suspend() {
        writers = []
        for format in settings.formats where !AudioFileWriter.canContinue(format) {
            let path = temporary(format)
            // A file that cannot be removed is only left behind under its hidden temporary name.
            if FileManager.default.fileExists(atPath: path) { _ = unlink(path) }
        }
        temporaries = []
        sidecars = []
    }

    /// Encodes the next segments of chapter `chapter` (the one after the last completed, or the one
    /// in progress), so that a chapter is written as its segments arrive; `completes` ends it. The
    /// first chapters must come through ``add(_:shouldStop:)``, which sets the gain.
    public func add(
        _ segments: [EncodeSegment],
        of chapter: Int,
        completes: Bool,
        shouldStop: @escaping () -> Bool = { false }
    ) throws(EncodeError) {
        guard limiter != nil else { throw EncodeError(.encoder, "\(folder): the first chapters set the gain") }
        stop = shouldStop
        defer { stop = { false } }
        if openChapter == nil {
            updateGain()
            gains.append(gainDB)
            openChapter = chapter
        } else if openChapter != chapter {
            throw EncodeError(
                .encoder,
                "\(folder): chapter \(chapter + 1) given before chapter \(openChapter! + 1) ended"
            )
        }
        try encode { stream, sink throws(EncodeError) in try stream.add(segments, of: chapter, to: sink) }
        if completes {
            stream.endChapter()
            openChapter = nil
            chaptersEncoded += 1
        }
    }

    /// The chapter begun by ``add(_:of:completes:shouldStop:)`` and not yet ended.
    private var openChapter: Int?

    private func requireChapterBoundary() throws(EncodeError) {
        if let openChapter {
            throw EncodeError(.encoder, "\(folder): chapter \(openChapter + 1) is not finished")
        }
    }

    /// Where a chapter begins: the gain follows the estimate over everything given so far, when it
    /// has moved by more than the tolerance.
    private func updateGain() {
        guard let now = source.integrated else { return }
        estimate = now
        let wanted = settings.loudness - now
        if abs(wanted - gainDB) > BookEncoder.loudnessTolerance {
            gainDB = wanted
            limiter?.gain = pow(10, wanted / 20)
            gainChanges += 1
        }
    }

    /// Writes the end of the book and the files' chapter marks, and measures what was written.
    /// Returns nil when that is more than ``loudnessTolerance`` off the target: the files are then
    /// removed, for the book to be encoded again as a whole.
    public func finish() throws(EncodeError) -> EncodeReport? {
        guard limiter != nil else { throw EncodeError(.encoder, "\(folder): no chapter was encoded") }
        try requireChapterBoundary()
        var timeline: Timeline?
        try encode(last: true) { stream, sink throws(EncodeError) in timeline = try stream.finish(to: sink) }
        guard let timeline else { throw EncodeError(.encoder, "\(folder): the assembly gave no timeline") }
        let marks = timeline.chapterStarts.indices.map { index in
            ChapterMark(
                title: BookEncoder.tagText(title(index)),
                start: timeline.chapterStarts[index],
                end: index + 1 < timeline.chapterStarts.count
                    ? timeline.chapterStarts[index + 1] : timeline.totalSamples
            )
        }
        let seconds = Double(timeline.totalSamples) / Double(book.sampleRate)
        for index in files.indices { files[index].seconds = seconds }
        for writer in writers {
            do { try writer.finish(chapters: marks) } catch {
                throw EncodeError(.output, "\(folder): cannot finish writing", cause: error)
            }
        }
        writers = []
        let output = written.integrated
        if let output, abs(settings.loudness - output) > Self.loudnessTolerance {
            abandon()
            return nil
        }
        let encoder = BookEncoder(settings: settings)
        for (index, file) in files.enumerated() { try encoder.rename(temporaries[index], to: file.path) }
        temporaries = []
        return EncodeReport(
            files: files,
            diagnostics: diagnostics,
            measuredLoudness: estimate,
            gainDB: gainDB,
            outputLoudness: output,
            encodings: 1
        )
    }

    /// Removes the partial files (a stopped or failed encode).
    public func abandon() {
        writers = []
        for path in temporaries + sidecars where FileManager.default.fileExists(atPath: path) {
            // A file that cannot be removed is only left behind under its hidden temporary name.
            _ = unlink(path)
        }
        temporaries = []
        sidecars = []
    }

    /// Files kept beside the partial ones (M4B's packet sizes).
    private var sidecars: [String] = []

    private func title(_ index: Int) -> String {
        book.chapters.indices.contains(index) ? book.chapters[index].title : "Chapter \(index + 1)"
    }

    private func open() throws(EncodeError) {
        // Titles now; the times are known when the book ends.
        let placeholders = book.chapters.indices.map {
            ChapterMark(title: BookEncoder.tagText(self.title($0)), start: 0, end: 0)
        }
        let bookTitle = book.metadata.title ?? "Untitled"
        for format in settings.formats {
            let final = path(format)
            let temporary = self.temporary(format)
            temporaries.append(temporary)
            sidecars += AudioFileWriter.sidecars(of: temporary, container: format)
            func writer(resuming: AudioFileWriter.Checkpoint?) throws(MediaError) -> AudioFileWriter {
                try AudioFileWriter(
                    path: temporary,
                    container: format,
                    sampleRate: book.sampleRate,
                    options: EncoderOptions(bitRate: settings.bitRate, mp3Quality: settings.mp3Quality),
                    tags: BookEncoder.tags(book, title: bookTitle, part: 1, of: 1),
                    chapters: placeholders,
                    cover: cover,
                    resuming: resuming
                )
            }
            do {
                var opened: AudioFileWriter?
                if let saved = resuming?.files.first(where: { $0.format == format }) {
                    do {
                        opened = try writer(resuming: saved.checkpoint)
                        continued.append(format)
                    } catch {
                        diagnostics.append(Diagnostic(.warning, "\(format.rawValue) encoded from the start: \(error)"))
                    }
                }
                writers.append(try opened ?? writer(resuming: nil))
            } catch {
                abandon()
                throw EncodeError(.output, "\(final): cannot start writing", cause: error)
            }
            files.append(EncodedFile(format: format, part: 1, path: final, seconds: 0, chapters: book.chapters.count))
        }
    }

    /// Runs `body` on the assembly, with the limited audio going to the encoders on a second thread;
    /// `last` also empties the limiter. Nothing is left in hand when it returns.
    private func encode(
        last: Bool = false,
        _ body: (inout Assembler.Stream, Assembler.Stream.Sink) throws(EncodeError) -> Void
    ) throws(EncodeError) {
        guard let limiter else { return }
        let writers = self.writers
        let meter = written
        let folder = self.folder
        try overlapped(
            consume: { batch throws(EncodeError) in
                try batch.withUnsafeBufferPointer { piece throws(EncodeError) in
                    try BookEncoder.write(piece, to: writers, measuredBy: meter, folder: folder)
                }
            },
            produce: { given throws(EncodeError) in
                // The sink below calls it; both only run while `produce` does.
                try withoutActuallyEscaping(given) { send throws(EncodeError) in
                    var batch: [Int16] = []
                    batch.reserveCapacity(BookEncoder.batchSize)
                    let stop = self.stop
                    func take(_ samples: UnsafeBufferPointer<Int16>, end: Bool = false) throws(EncodeError) {
                        batch.append(contentsOf: samples)
                        guard batch.count >= BookEncoder.batchSize || (end && !batch.isEmpty) else { return }
                        if stop() { throw EncodeError(.interrupted, "encoding stopped") }
                        try send(batch)
                        batch = []
                    }
                    try body(&stream) { samples throws(EncodeError) in
                        source.add(samples)
                        limiter.process(samples, into: &limited)
                        try limited.withUnsafeBufferPointer { buffer throws(EncodeError) in try take(buffer) }
                    }
                    if last {
                        limiter.flush(&limited)
                        try limited.withUnsafeBufferPointer { buffer throws(EncodeError) in try take(buffer) }
                    }
                    try take(UnsafeBufferPointer(start: nil, count: 0), end: true)
                }
            }
        )
    }
}
