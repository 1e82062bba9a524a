internal import Foundation
public import RecitalEncode
public import RecitalJobs
internal import RecitalMedia
internal import RecitalModel

/// Where segment audio and covers are kept.
public enum AudioPlacement: Sendable, Equatable {
    /// WAV files under a folder: the home's `audio`, or one every worker shares (`--audio-store DIR`).
    case folder(String)
    /// The job table itself, packed losslessly, in each checkpoint's own transaction: what lets
    /// every machine of a PostgreSQL cluster synthesize and encode any book.
    case jobTable
}

/// A book's checkpoint audio wherever it is kept: written durably before (or with) its checkpoint
/// row, checked, read back for encoding and previews, and removed. A checkpoint's own record says
/// where its audio went, so books written under either placement stay readable.
public struct CheckpointAudio: Sendable {
    public let placement: AudioPlacement
    let store: JobStore
    /// Where files go, and where files of checkpoints recorded with a path are.
    let files: CheckpointFiles

    public init(paths: RecitalPaths, store: JobStore) {
        placement = paths.placement
        self.store = store
        files = CheckpointFiles(root: paths.audio)
    }

    /// Makes a segment's audio durable and records its checkpoint under the task's lease; false when
    /// the lease was lost (nothing recorded).
    func record(
        _ audio: PCMAudio,
        segment: SegmentWork,
        task: ClaimedTask
    ) async throws -> Bool {
        let files = self.files
        var record = CheckpointRecord(
            bookID: task.bookID,
            chapterIndex: segment.chapterIndex,
            index: segment.index,
            textHash: segment.textHash,
            audioPath: "",
            checksum: "",
            sampleCount: audio.samples.count,
            sampleRate: audio.sampleRate
        )
        switch placement {
        case .folder:
            let path = files.path(book: task.bookID, chapter: segment.chapterIndex, segment: segment.index)
            record.audioPath = path
            record.checksum = try await Blocking.io {
                try files.write(samples: audio.samples, sampleRate: audio.sampleRate, to: path)
            }
            return try await store.recordCheckpoint(record, for: task)
        case .jobTable:
            let (packed, checksum) = try await Blocking.io {
                (
                    PackedPCM.pack(audio.samples),
                    ContentHash.checksum(WAV.encode(samples: audio.samples, sampleRate: audio.sampleRate))
                )
            }
            record.checksum = checksum
            return try await store.recordCheckpoint(record, audio: packed, for: task)
        }
    }

    /// A cheap check for many checkpoints at once: the file of its size, or the table's row.
    public func isPresent(_ record: CheckpointRecord) -> Bool {
        record.isInTable ? record.audioInTable : files.isPresent(record)
    }

    /// Whether a checkpoint's audio is there and unchanged. The table's row was written in the
    /// checkpoint's own transaction, so its presence is enough.
    public func isIntact(_ record: CheckpointRecord) -> Bool {
        record.isInTable ? record.audioInTable : files.isIntact(record)
    }

    /// A checkpoint's samples.
    /// - Throws: ``PipelineError`` `.storage` naming the checkpoint when its audio cannot be read.
    public func samples(_ record: CheckpointRecord) async throws -> [Int16] {
        let name = "chapter \(record.chapterIndex + 1), segment \(record.index + 1)"
        if record.isInTable {
            let bytes = try await store.tableAudio(
                book: record.bookID,
                chapter: record.chapterIndex,
                segment: record.index
            )
            guard let bytes, let samples = PackedPCM.unpack(bytes) else {
                throw PipelineError(.storage, "the audio of \(name) is missing from the job table", book: record.bookID)
            }
            return samples
        }
        let path = record.audioPath
        return try await Blocking.io {
            guard let data = FileManager.default.contents(atPath: path), WAV.parse([UInt8](data)) != nil else {
                throw PipelineError(.storage, "the audio of \(name), \(path), cannot be read", book: record.bookID)
            }
            return WAV.samples([UInt8](data))
        }
    }

    /// What the encoder reads stored segments through.
    func reader(book: Int64) -> any StoredSegmentAudio { TableReader(store: store, book: book) }

    /// Removes a book's checkpoint audio (both kinds) and its kept cover; its checkpoints stay.
    func remove(book: Int64) async throws {
        let folder = files.directory(book: book)
        do {
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
        } catch {
            throw PipelineError(.storage, "cannot remove its checkpoint audio in \(folder)", book: book, cause: error)
        }
        try await store.removeTableAudio(book: book)
    }

    /// Keeps the cover with the checkpoint audio, so that encoding never needs the source file.
    func saveCover(_ bytes: [UInt8], book: Int64) async throws {
        switch placement {
        case .jobTable:
            try await store.saveCover(bytes, book: book)
        case .folder:
            let folder = files.directory(book: book)
            try await Blocking.io {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/cover"), options: .atomic)
            }
        }
    }

    /// The kept cover: the job table's, else the file's.
    func cover(book: Int64) async throws -> [UInt8]? {
        if let cover = try await store.cover(book: book) { return cover }
        let path = "\(files.directory(book: book))/cover"
        return try await Blocking.io { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }
    }

    private struct TableReader: StoredSegmentAudio {
        let store: JobStore
        let book: Int64

        func samples(chapter: Int, segment: Int) throws -> [Int16]? {
            try store.tableAudioNow(book: book, chapter: chapter, segment: segment).flatMap(PackedPCM.unpack)
        }
    }
}
