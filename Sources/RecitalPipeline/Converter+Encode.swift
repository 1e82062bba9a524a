internal import Foundation
internal import RecitalEncode
internal import RecitalJobs
internal import RecitalMedia
internal import RecitalModel

/// How an encode run ended.
public enum EncodeOutcome: Sendable, Equatable {
    /// Every claimable encode task ran (completed or failed).
    case finished
    /// Checkpoints turned out damaged; their segments are queued for synthesis again.
    case needsSynthesis
    /// Stopped by the user; held tasks were given back.
    case interrupted
}

/// The encode stage of a conversion: for each book whose synthesis is complete, claims its encode
/// tasks (one per format) and writes all those formats in one pass over the checkpoints.
extension Converter {
    func runEncodes(books: [Int64], overwrite: Bool) async throws -> EncodeOutcome {
        var outcome = EncodeOutcome.finished
        for book in books {
            if Task.isCancelled { return .interrupted }
            let tasks = try await store.claim(owner: owner, limit: 16, books: [book], kind: .encode)
            guard !tasks.isEmpty else { continue }
            switch try await encode(book, tasks: tasks, overwrite: overwrite) {
            case .interrupted: return .interrupted
            case .needsSynthesis: outcome = .needsSynthesis
            case .finished: break
            }
        }
        return outcome
    }

    private func encode(_ id: Int64, tasks: [ClaimedTask], overwrite: Bool) async throws -> EncodeOutcome {
        do {
            // A stopped incremental encode goes on from its last chapter rather than from the first.
            if try await resumeStopped(id, tasks: tasks, overwrite: overwrite) {
                return Task.isCancelled ? .interrupted : .finished
            }
            return try await encodeHeld(id, tasks: tasks, overwrite: overwrite)
        } catch {
            // Whatever stopped it before the tasks were settled (the job table, the output folder,
            // a stop before the encoder started), they go back without using an attempt.
            try await release(tasks, reason: "\(error)")
            if Task.isCancelled { return .interrupted }
            throw error
        }
    }

    /// How the encoder's group ended: with the files, or stopped (and why, when it was the lease).
    private enum EncodeEnd: Sendable {
        case written(EncodeReport)
        case stopped(LeaseEnded?)
    }

    private func encodeHeld(_ id: Int64, tasks: [ClaimedTask], overwrite: Bool) async throws -> EncodeOutcome {
        let record = try await store.book(id)
        let settings: ConversionSettings
        do {
            settings = try ConversionSettings.decode(record.settingsJSON, book: id)
        } catch {
            for task in tasks { try await store.failPermanent(task, error: error.description) }
            return .finished
        }
        var encodeSettings = settings.encode
        encodeSettings.formats = tasks.compactMap(\.format)
        let input = try await makeInput(record, settings: settings)
        let folder = settings.outputDirectory ?? FileManager.default.currentDirectoryPath
        var configured = BookEncoder(settings: encodeSettings)
        configured.overwrite = overwrite
        configured.replaceable = Set(try await store.outputs(book: id).map(\.path))
        // Reserved when the book was queued; taken again here in case a file has since appeared
        // under that name (then the book moves to the next free name instead of failing).
        configured.name = try await reserveName(
            id,
            metadata: input.metadata,
            folder: folder,
            encode: encodeSettings,
            overwrite: overwrite
        )
        let encoder = configured
        try await restartEncode(id, tasks: tasks, formats: encodeSettings.formats)
        progress(.encodeStarted(book: id, formats: encodeSettings.formats))
        let progress = self.progress
        do {
            let end = try await withThrowingTaskGroup(of: EncodeReport?.self) { group -> EncodeEnd in
                // The lease: a pause or cancel from any process, or the lease lost to another
                // worker, stops the encoder within one heartbeat.
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeatInterval)
                        for task in tasks {
                            let status = try await store.heartbeat(task)
                            if status != .held { throw LeaseEnded(status: status) }
                        }
                    }
                }
                // Minutes of codec work, on a thread of its own; it stops at its next progress step
                // once cancelled and removes its partial files before returning.
                group.addTask {
                    try await Blocking.thread { cancelled in
                        try encoder.encode(input, into: folder, shouldStop: cancelled) { fraction in
                            progress(.encodeProgress(book: id, fraction: fraction))
                        }
                    }
                }
                defer { group.cancelAll() }
                var lease: LeaseEnded?
                var stopping = false
                while true {
                    do {
                        guard let result = try await group.next() else { break }
                        // Finished, even if a stop came too late for it: its files are kept.
                        if let report = result { return .written(report) }
                    } catch let ended as LeaseEnded {
                        lease = ended
                        stopping = true
                        group.cancelAll()
                    } catch let error as EncodeError where error.code == .interrupted {
                        return .stopped(lease)
                    } catch  where Task.isCancelled && !stopping {
                        // Stopped by the user: wait for the encoder to stop, or to finish.
                        stopping = true
                        group.cancelAll()
                    }
                }
                return .stopped(lease)
            }
            guard case .written(let report) = end else {
                guard case .stopped(let ended?) = end else {
                    // Stopped by the user: the encoder removed its partial files.
                    try await release(tasks, reason: "stopped")
                    return .interrupted
                }
                // Paused or cancelled: a paused book encodes again after `unpause`; a lost lease
                // belongs to another worker now.
                try await settle(tasks, after: ended)
                progress(.warning(book: id, message: "encoding stopped: the book was \(ended.status)"))
                return .finished
            }
            return try await recordFiles(report, of: id, tasks: tasks, settings: settings)
        } catch let error as EncodeError {
            switch error.code {
            case .badSegment:
                // Synthesize that segment again, then encode: give the tasks back without an attempt.
                let broken = try await store.checkpoints(book: id, chapter: error.chapter).filter {
                    $0.index == error.segment
                }
                try await store.discardCheckpoints(broken, reason: error.description)
                for task in tasks { try await store.release(task, reason: error.description) }
                progress(.warning(book: id, message: "\(error.description); it will be synthesized again"))
                return .needsSynthesis
            case .interrupted:
                try await release(tasks, reason: "stopped")
                return .interrupted
            case .exists, .output, .encoder:
                for task in tasks { try await store.failPermanent(task, error: error.description) }
                progress(.encodeFailed(book: id, message: error.description))
                return .finished
            case .unavailable:
                // The job table did not answer mid-encode: the audio is sound, so the encode is
                // tried again later with nothing discarded.
                for task in tasks { try await store.failTransient(task, error: error.description, retryAfter: 30) }
                progress(.warning(book: id, message: "\(error.description); encoding again in 30 s"))
                return .finished
            }
        }
    }

    /// Records a finished encode: each format's files, read back for their checksums, in the same
    /// transaction that completes its task. Done even when a stop came as the encoder finished, so
    /// that no finished file is left unrecorded (and later taken for a stranger's).
    func recordFiles(
        _ report: EncodeReport,
        of id: Int64,
        tasks: [ClaimedTask],
        settings: ConversionSettings
    ) async throws -> EncodeOutcome {
        for diagnostic in report.diagnostics { progress(.warning(book: id, message: diagnostic.message)) }
        let outputs = try await Blocking.io {
            try report.files.map { file in
                // Read back as written: the checksum is what later commands verify the file by.
                let size: Int?
                do {
                    size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int
                } catch {
                    throw PipelineError(.storage, "cannot read back \(file.path)", book: id, cause: error)
                }
                guard let checksum = ContentHash.file(file.path), let size else {
                    throw PipelineError(.storage, "cannot read back \(file.path) to record its checksum", book: id)
                }
                return OutputRecord(
                    format: file.format,
                    part: file.part,
                    path: file.path,
                    checksum: checksum,
                    bytes: size,
                    seconds: file.seconds
                )
            }
        }
        let store = self.store
        let recorded = try await Blocking.uncancelled {
            var all = true
            for task in tasks {
                let mine = outputs.filter { $0.format == task.format }
                if try await !store.completeEncode(task, outputs: mine, keepInTable: settings.outputsInTable) {
                    all = false
                }
            }
            return all
        }
        guard recorded else {
            // Another worker took the encode over (this one was presumed dead): its result stands.
            progress(.warning(book: id, message: "the encode's lease was lost; another worker encodes the book"))
            return .finished
        }
        if !settings.keepSegments {
            do {
                try await checkpointAudio.remove(book: id)
            } catch {
                progress(.warning(book: id, message: "its checkpoint audio could not be removed: \(error)"))
            }
        }
        progress(.encoded(book: id, files: report.files.map(\.path)))
        return Task.isCancelled ? .interrupted : .finished
    }

    /// Says so when an encode of the book stopped part way (a crash, a pause, a lost lease) and its
    /// chapters are now encoded again from the first, and starts the count again.
    func restartEncode(_ id: Int64, tasks: [ClaimedTask], formats: [AudioContainer]) async throws {
        let before = try await store.encodedChapters(book: id)
        guard before > 0 else { return }
        try await store.recordEncodedChapters(tasks, count: 0)
        progress(
            .warning(
                book: id,
                message:
                    "encoding \(formats.map(\.rawValue).joined(separator: ", ")) again from chapter 1: an encode stopped after \(before) chapter\(before == 1 ? "" : "s") and left nothing to continue from"
            )
        )
    }

    /// Settles held tasks after the book was paused or cancelled, or the lease was lost.
    func settle(_ tasks: [ClaimedTask], after ended: LeaseEnded) async throws {
        let store = self.store
        try await Blocking.uncancelled {
            for task in tasks {
                switch ended.status {
                case .cancelled: _ = try await store.cancelHeld(task)
                case .paused: _ = try await store.release(task, reason: "book paused while encoding")
                case .lost, .held: break
                }
            }
        }
    }

    /// Gives held tasks back without using an attempt, even from a cancelled task.
    func release(_ tasks: [ClaimedTask], reason: String) async throws {
        let store = self.store
        try await Blocking.uncancelled {
            for task in tasks { try await store.release(task, reason: reason) }
        }
    }

    /// The book's audio in order, from its segments and their checkpoints.
    func makeInput(_ record: BookRecord, settings: ConversionSettings) async throws -> EncodeBook {
        let checkpoints = try await store.checkpoints(book: record.id)
        var audio: [String: SegmentAudio] = [:]
        for checkpoint in checkpoints {
            audio["\(checkpoint.chapterIndex)/\(checkpoint.index)"] = checkpoint.segmentAudio
        }
        var chapters: [EncodeChapter] = []
        for (title, segment) in try await store.segments(book: record.id) {
            if chapters.last?.index != segment.chapterIndex {
                chapters.append(EncodeChapter(index: segment.chapterIndex, title: title, segments: []))
            }
            chapters[chapters.count - 1].segments.append(
                EncodeSegment(
                    index: segment.index,
                    boundary: segment.boundary,
                    audio: audio["\(segment.chapterIndex)/\(segment.index)"] ?? .file(""),
                    sceneBreak: !Segment.isSpeakable(segment.text)
                )
            )
        }
        var metadata: BookMetadata
        do {
            metadata = try JSONDecoder().decode(BookMetadata.self, from: Data(record.metadataJSON.utf8))
        } catch {
            // Tags then come from the title, authors and language the book row keeps.
            metadata = BookMetadata(title: record.title, authors: record.authors, language: record.language)
            progress(.warning(book: record.id, message: "its stored metadata cannot be read (\(error))"))
        }
        if metadata.title == nil { metadata.title = record.title }
        let cover = try await checkpointAudio.cover(book: record.id)
        let voice = settings.voice
        return EncodeBook(
            metadata: metadata,
            narrator: voice.voice.map { "\(voice.name) (\($0))" } ?? voice.name,
            sampleRate: record.sampleRate,
            chapters: chapters,
            cover: cover,
            storedAudio: checkpointAudio.reader(book: record.id)
        )
    }
}

extension CheckpointRecord {
    /// Where the encoder finds this checkpoint's samples.
    var segmentAudio: SegmentAudio { isInTable ? .stored : .file(audioPath) }
}
