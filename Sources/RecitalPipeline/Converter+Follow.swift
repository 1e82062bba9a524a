internal import Foundation
internal import RecitalEncode
internal import RecitalJobs
internal import RecitalMedia
internal import RecitalModel

/// Encoding that follows synthesis: while a book's chapters are being synthesized (by this process
/// or any other), its encode tasks are held here and each segment goes into the files as soon as it
/// and every segment before it are checkpointed, so the files are finished moments after the last
/// one. Whatever this cannot finish (a stop, a lost lease, a failure, a loudness the running
/// estimate missed) is given back without using an attempt, for the whole-book encode to do.
extension Converter {
    /// Follows the books one after another until each is encoded or given back. It stops taking
    /// new books once `synthesisEnded` is set: the whole-book encode is better for books already
    /// synthesized.
    func followSynthesis(books: [Int64], overwrite: Bool, synthesisEnded: StopFlag) async throws {
        for book in books {
            if Task.isCancelled || synthesisEnded.isSet { return }
            try await follow(book, overwrite: overwrite, synthesisEnded: synthesisEnded)
        }
    }

    private func follow(_ id: Int64, overwrite: Bool, synthesisEnded: StopFlag) async throws {
        let record = try await store.book(id)
        guard let settings = Self.followable(record) else { return }
        let chapters = try await store.chapters(book: id)
        // A short book is encoded whole in seconds once synthesized; following it would mostly
        // wait for the first estimate's minutes of audio.
        guard chapters.reduce(0, { $0 + $1.segmentsTotal }) >= Self.followFrom else { return }
        let synthesized = try await store.synthesizedChapters(book: id)
        guard synthesized.done.count < chapters.count, !synthesized.blocked else { return }
        let tasks = try await store.claim(owner: owner, limit: 16, books: [id], kind: .encode, early: true)
        guard !tasks.isEmpty else { return }
        // A stop of an earlier follow (a pause, a crash) may have left a point to take up.
        let held = HeldEncode(
            record: record,
            settings: settings,
            tasks: tasks,
            resume: try await store.encodeResume(book: id)
        )
        do {
            try await followHeld(held, overwrite: overwrite, synthesisEnded: synthesisEnded)
        } catch {
            // A failure (not a stop) leaves nothing to take up: the whole-book encode starts over.
            if !Task.isCancelled, !(error is JobError) { try await store.recordEncodedChapters(tasks, count: 0) }
            try await release(tasks, reason: "encoding alongside synthesis stopped: \(error)")
            if Task.isCancelled { return }
            if error is JobError { throw error }
            progress(.warning(book: id, message: "\(error); the book will be encoded once its synthesis is complete"))
        }
    }

    /// The book's settings, when its encode can follow synthesis: parts and per-chapter files are
    /// planned from the whole book's length, so those books are encoded whole.
    private static func followable(_ record: BookRecord) -> ConversionSettings? {
        guard let settings = ConversionSettings.decode(record.settingsJSON), !settings.encode.splitChapters,
            settings.encode.maxHours == nil
        else { return nil }
        return settings
    }

    /// Takes up the book's stopped incremental encode, when one left a resume point, with the
    /// claimed `tasks` (the book's synthesis is complete). Returns false, holding the tasks still,
    /// when there is none.
    func resumeStopped(_ id: Int64, tasks: [ClaimedTask], overwrite: Bool) async throws -> Bool {
        guard let resume = try await store.encodeResume(book: id) else { return false }
        let record = try await store.book(id)
        guard let settings = Self.followable(record) else { return false }
        // Its synthesis is complete: a chapter found missing is not waited for.
        let complete = StopFlag()
        complete.set()
        let held = HeldEncode(record: record, settings: settings, tasks: tasks, resume: resume)
        do {
            try await followHeld(held, overwrite: overwrite, synthesisEnded: complete)
            return true
        } catch {
            if Task.isCancelled || error is JobError { throw error }
            // It cannot be taken up (its files, its audio): the whole-book encode starts over
            // with the same tasks, and deals with the failure if it is the book's.
            try await store.recordEncodedChapters(tasks, count: 0)
            progress(.warning(book: id, message: "the stopped encode cannot be taken up: \(error); encoding it whole"))
            return false
        }
    }

    /// A book whose encode tasks this process holds, with what following it needs.
    private struct HeldEncode {
        let record: BookRecord
        let settings: ConversionSettings
        let tasks: [ClaimedTask]
        /// The resume point a stopped encode of the book left, as stored.
        let resume: String?
    }

    /// Why a followed encode ended early, when it gives its tasks back.
    private enum Handback: Error, Sendable, CustomStringConvertible {
        case blocked
        case lease(LeaseEnded)
        case loudness(Double?)
        /// The run's synthesis has ended, the lease is held, and chapters of the book are still to
        /// be synthesized (unpaused or retried since it ended): nothing in this run would do them
        /// while the encode waited.
        case unsynthesized

        var description: String {
            switch self {
            case .blocked: "a chapter cannot be synthesized"
            case .unsynthesized: "chapters are still to be synthesized, and this run's synthesis has ended"
            case .lease(let ended):
                ended.status == .lost
                    ? "its lease was lost (another worker took the encode over)" : "the book was \(ended.status)"
            case .loudness(let estimate):
                "the running loudness estimate missed the target"
                    + (estimate.map { String(format: " (last estimate %.1f LUFS)", $0) } ?? "")
            }
        }
    }

    /// - Parameter synthesisEnded: set once this run's synthesis has ended.
    private func followHeld(_ held: HeldEncode, overwrite: Bool, synthesisEnded: StopFlag) async throws {
        let (record, settings, tasks) = (held.record, held.settings, held.tasks)
        let id = record.id
        var encodeSettings = settings.encode
        encodeSettings.formats = tasks.compactMap(\.format)
        let input = try await makeInput(record, settings: settings)
        let folder = settings.outputDirectory ?? FileManager.default.currentDirectoryPath
        let name = try await reserveName(
            id,
            metadata: input.metadata,
            folder: folder,
            encode: encodeSettings,
            overwrite: overwrite
        )
        var header = input
        header.chapters = input.chapters.map { EncodeChapter(index: $0.index, title: $0.title, segments: []) }
        let resuming = held.resume.flatMap { resumePoint($0, book: id, chapters: input.chapters.count) }
        let encoder = SharedEncoder(
            try IncrementalEncoder(
                book: header,
                settings: encodeSettings,
                folder: folder,
                name: name,
                replaceable: Set(try await store.outputs(book: id).map(\.path)),
                overwrite: overwrite,
                resuming: resuming
            )
        )
        do {
            if resuming == nil { try await restartEncode(id, tasks: tasks, formats: encodeSettings.formats) }
            progress(.encodeStarted(book: id, formats: encodeSettings.formats))
            let report = try await heartbeating(tasks) {
                try await feed(
                    encoder,
                    id: id,
                    book: input,
                    tasks: tasks,
                    resuming: resuming,
                    synthesisEnded: synthesisEnded
                )
            }
            _ = try await recordFiles(report, of: id, tasks: tasks, settings: settings)
        } catch let handback as Handback {
            switch handback {
            case .lease, .unsynthesized:
                // Paused, cancelled, taken over, or waiting for chapters that this run will not
                // synthesize: the partial files stay for the encode that takes the book up (the
                // resume point says where), and the tasks are settled as the whole-book encode
                // settles them.
                encoder.suspend()
                if case .lease(let ended) = handback {
                    try await settle(tasks, after: ended)
                } else {
                    try await release(tasks, reason: handback.description)
                }
                progress(.warning(book: id, message: "encoding stopped: \(handback)"))
                return
            case .blocked, .loudness: break
            }
            encoder.abandon()
            // Given back to be encoded whole: not a stopped encode to take up or to call a restart.
            try await store.recordEncodedChapters(tasks, count: 0)
            try await release(tasks, reason: handback.description)
            // A blocked book cannot be finished now; its chapters report why.
            if case .loudness = handback {
                progress(
                    .warning(book: id, message: "encoding alongside synthesis stopped: \(handback); encoding it whole")
                )
            }
        } catch {
            // Stopped by the user: resumed later from the last chapter, as after a crash.
            if Task.isCancelled { encoder.suspend() } else { encoder.abandon() }
            throw error
        }
    }

    /// The stored resume point `text`, if it fits a book of `chapters` chapters.
    private func resumePoint(_ text: String, book id: Int64, chapters: Int) -> IncrementalEncoder.ResumePoint? {
        let point: IncrementalEncoder.ResumePoint
        do {
            point = try JSONDecoder().decode(IncrementalEncoder.ResumePoint.self, from: Data(text.utf8))
        } catch {
            progress(
                .warning(
                    book: id,
                    message: "encoding from chapter 1: the stopped encode's resume point is unreadable (\(error))"
                )
            )
            return nil
        }
        guard point.chapters > 0, point.chapters <= chapters else {
            progress(
                .warning(
                    book: id,
                    message:
                        "encoding from chapter 1: the stopped encode's resume point is after chapter \(point.chapters) of \(chapters)"
                )
            )
            return nil
        }
        return point
    }

    /// Says how a resumed encode goes on: which files continue after the chapters already encoded,
    /// and which are encoded again from the first.
    private func announceResume(_ id: Int64, after chapters: Int, continued: [AudioContainer], all: [AudioContainer]) {
        let again = all.filter { !continued.contains($0) }
        var parts: [String] = []
        if !continued.isEmpty {
            parts.append(
                "\(continued.map(\.rawValue).joined(separator: ", ")) continues from chapter \(chapters + 1) (\(chapters) chapter\(chapters == 1 ? "" : "s") kept)"
            )
        }
        for refused in [true, false] {
            let formats = again.filter { AudioFileWriter.canContinue($0) == refused }
            guard !formats.isEmpty else { continue }
            let why =
                refused ? "its partial file does not fit the resume point" : "such a file cannot be continued safely"
            parts.append("\(formats.map(\.rawValue).joined(separator: ", ")) is encoded again from chapter 1 (\(why))")
        }
        progress(.warning(book: id, message: "resuming a stopped encode: " + parts.joined(separator: "; ")))
    }

    /// Feeds the book in order as it is synthesized: first whole chapters enough for the first
    /// loudness estimate, then each segment as soon as it and every one before it are checkpointed.
    private func feed(
        _ encoder: SharedEncoder,
        id: Int64,
        book: EncodeBook,
        tasks: [ClaimedTask],
        resuming: IncrementalEncoder.ResumePoint?,
        synthesisEnded: StopFlag
    ) async throws -> EncodeReport {
        let total = book.chapters.count
        var next = 0
        // Segments of chapter `next` already given.
        var fed = 0
        // Waits for audio not yet checkpointed, unless the run's synthesis has ended. It ends when
        // no chapter of its books (those not paused, cancelled or failed) waits or is held by any
        // process, so what is still missing then would never come while this waited: the lease
        // says whether the book is paused or cancelled, and if it is neither (unpaused, retried
        // since), the book is given back for the run to synthesize again.
        func wait(ended: Bool) async throws {
            if ended {
                try await renew(tasks)
                throw Handback.unsynthesized
            }
            try await Task.sleep(for: Self.followPoll)
        }
        while next < total || resuming != nil && next == 0 {
            // Looked at before the table, so that the table is read after the synthesis's last look.
            let ended = synthesisEnded.isSet
            let synthesized = try await store.synthesizedChapters(book: id)
            if synthesized.blocked {
                // A cancelled book's chapters are cancelled too: that is the lease's news to tell.
                try await renew(tasks)
                throw Handback.blocked
            }
            if let resuming, next == 0 {
                // The chapters the stopped encode had written, assembled again (they were synthesized).
                let count = resuming.chapters
                let (chapters, _) = try await encodeChapters(book.chapters[0..<count].map(\.index), id: id, book: book)
                let point = try await Blocking.thread { cancelled in
                    try encoder.resume(chapters, shouldStop: cancelled)
                    return try encoder.checkpoint()
                }
                announceResume(id, after: count, continued: encoder.continued, all: encoder.formats)
                next = count
                try await encoded(next, of: total, id: id, tasks: tasks, point: point)
                continue
            }
            if next == 0 && fed == 0 {
                var ready: [Int] = []
                while ready.count < total, synthesized.done.contains(book.chapters[ready.count].index) {
                    ready.append(book.chapters[ready.count].index)
                }
                let (chapters, seconds) = try await encodeChapters(ready, id: id, book: book)
                // The first gain is estimated from a few minutes of audio, or the whole book if shorter.
                guard !ready.isEmpty, ready.count == total || seconds >= IncrementalEncoder.firstEstimateSeconds else {
                    try await wait(ended: ended)
                    continue
                }
                let point = try await Blocking.thread { cancelled in
                    try encoder.add(chapters, shouldStop: cancelled)
                    return try encoder.checkpoint()
                }
                next = ready.count
                try await encoded(next, of: total, id: id, tasks: tasks, point: point)
                continue
            }
            let chapter = book.chapters[next]
            let complete = synthesized.done.contains(chapter.index)
            let audio = try await store.checkpoints(book: id, chapter: chapter.index).reduce(into: [:]) {
                $0[$1.index] = $1.segmentAudio
            }
            // The segments ready now, in order: checkpointed or with nothing to speak; all of them
            // once the chapter is complete (a missing checkpoint is then the encoder's to report).
            var ready: [EncodeSegment] = []
            var position = fed
            while position < chapter.segments.count {
                var segment = chapter.segments[position]
                if let found = audio[segment.index] {
                    segment.audio = found
                } else if !segment.sceneBreak && !complete {
                    break
                }
                ready.append(segment)
                position += 1
            }
            let completes = complete && position == chapter.segments.count
            guard !ready.isEmpty || completes else {
                try await wait(ended: ended)
                continue
            }
            let segments = ready
            let point = try await Blocking.thread { cancelled in
                try encoder.add(segments, of: chapter.index, completes: completes, shouldStop: cancelled)
                return completes ? try encoder.checkpoint() : nil
            }
            fed = position
            if completes {
                next += 1
                fed = 0
                try await encoded(next, of: total, id: id, tasks: tasks, point: point)
            }
        }
        guard let report = try await Blocking.thread({ _ in try encoder.finish() }) else {
            throw Handback.loudness(encoder.estimate)
        }
        return report
    }

    /// Books of fewer segments are encoded whole after synthesis.
    static let followFrom = 100

    /// How often a following encode looks for newly checkpointed segments.
    static let followPoll = Duration.milliseconds(250)

    /// Records the chapters encoded so far, and where a stopped encode would be taken up.
    private func encoded(
        _ count: Int,
        of total: Int,
        id: Int64,
        tasks: [ClaimedTask],
        point: IncrementalEncoder.ResumePoint?
    ) async throws {
        let resume = try point.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await store.recordEncodedChapters(tasks, count: count, resume: resume)
        progress(.chaptersEncoded(book: id, count: count, total: total))
    }

    /// Runs `body` while renewing the tasks' lease every heartbeat; a pause, a cancel or a lost
    /// lease stops `body` (cancelled) and is thrown as ``Handback/lease(_:)``.
    private func heartbeating<T: Sendable>(
        _ tasks: [ClaimedTask],
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    try await Task.sleep(for: heartbeatInterval)
                    try await renew(tasks)
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    private func renew(_ tasks: [ClaimedTask]) async throws {
        for task in tasks {
            let status = try await store.heartbeat(task)
            if status != .held { throw Handback.lease(LeaseEnded(status: status)) }
        }
    }

    /// The chapters with their segments' audio as the checkpoints now have it, and the seconds of
    /// audio those checkpoints hold.
    private func encodeChapters(
        _ indexes: [Int],
        id: Int64,
        book: EncodeBook
    ) async throws -> (chapters: [EncodeChapter], seconds: Double) {
        var chapters: [EncodeChapter] = []
        var seconds = 0.0
        for index in indexes {
            guard var chapter = book.chapters.first(where: { $0.index == index }) else { continue }
            var audio: [Int: SegmentAudio] = [:]
            for checkpoint in try await store.checkpoints(book: id, chapter: index) {
                audio[checkpoint.index] = checkpoint.segmentAudio
                seconds += Double(checkpoint.sampleCount) / Double(max(1, checkpoint.sampleRate))
            }
            for position in chapter.segments.indices {
                chapter.segments[position].audio = audio[chapter.segments[position].index] ?? .file("")
            }
            chapters.append(chapter)
        }
        return (chapters, seconds)
    }
}

/// The incremental encoder, used by one thread at a time: the follower hands it to a thread for
/// each batch of chapters and waits for that thread before touching it again.
private final class SharedEncoder: @unchecked Sendable {
    private let encoder: IncrementalEncoder
    init(_ encoder: IncrementalEncoder) { self.encoder = encoder }

    func add(_ chapters: [EncodeChapter], shouldStop: @escaping @Sendable () -> Bool) throws {
        try encoder.add(chapters, shouldStop: shouldStop)
    }
    func add(
        _ segments: [EncodeSegment],
        of chapter: Int,
        completes: Bool,
        shouldStop: @escaping @Sendable () -> Bool
    ) throws {
        try encoder.add(segments, of: chapter, completes: completes, shouldStop: shouldStop)
    }
    func resume(_ chapters: [EncodeChapter], shouldStop: @escaping @Sendable () -> Bool) throws {
        try encoder.resume(chapters, shouldStop: shouldStop)
    }
    func checkpoint() throws -> IncrementalEncoder.ResumePoint? { try encoder.checkpoint() }
    func finish() throws -> EncodeReport? { try encoder.finish() }
    func abandon() { encoder.abandon() }
    func suspend() { encoder.suspend() }
    var estimate: Double? { encoder.estimate }
    var continued: [AudioContainer] { encoder.continued }
    var formats: [AudioContainer] { encoder.settings.formats }
}
