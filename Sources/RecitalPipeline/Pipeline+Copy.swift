internal import Foundation
internal import RecitalJobs
internal import RecitalModel

/// What `recital db copy` did.
public struct LibraryCopy: Sendable, Equatable {
    public var books: Int
    public var segments: Int
    public var checkpoints: Int
    /// Checkpoints whose audio moved between a file and the job table on the way.
    public var audioMoved: Int
    /// Checkpoints whose audio was not found: their segments are synthesized again when resumed.
    public var audioMissing: Int
}

extension Pipeline {
    /// Copies this job table (every book, its checkpoints and their audio, tasks, history, files and
    /// watched files) into the empty job table of `target`, then moves checkpoint audio to where
    /// `target` keeps it: into the table for PostgreSQL, into files for SQLite (or its
    /// `--audio-store`). This job table is left as it was.
    /// - Parameter progress: hears what is being copied, a line at a time.
    /// - Throws: ``PipelineError`` `.invalidRequest` when the target holds books already or work is
    ///   held here by a running worker; `.database` or `.storage` with the reason otherwise.
    public func copy(
        to target: RecitalPaths,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> LibraryCopy {
        try target.prepare()
        let destination = try await jobs { try JobStore.open(target.database) }
        let counts = try await jobs {
            try await store.copyAll(to: destination) { table, rows in progress("\(table): \(rows) rows") }
        }
        let here = converter.checkpointAudio
        let there = CheckpointAudio(paths: target, store: destination)
        var moved = 0
        var missing = 0
        for book in try await jobs({ try await destination.bookIDs() }) {
            for record in try await jobs({ try await destination.checkpoints(book: book) }) {
                switch there.placement {
                case .jobTable where !record.isInTable:
                    let samples: [Int16]
                    do {
                        samples = try await here.samples(record)
                    } catch let error as PipelineError where error.kind == .storage {
                        // Its file is gone (or on another machine): the path stays, no worker finds
                        // it, and the segment is synthesized again.
                        missing += 1
                        progress("\(error.message): it will be synthesized again")
                        continue
                    }
                    let packed = PackedPCM.pack(samples)
                    try await jobs { try await destination.relocateAudio(record, path: "", packed: packed) }
                    moved += 1
                case .folder where record.isInTable:
                    guard record.audioInTable else {
                        missing += 1
                        continue
                    }
                    let samples = try await there.samples(record)
                    let path = there.files.path(book: book, chapter: record.chapterIndex, segment: record.index)
                    let files = there.files
                    _ = try await Blocking.io {
                        try files.write(samples: samples, sampleRate: record.sampleRate, to: path)
                    }
                    try await jobs { try await destination.relocateAudio(record, path: path, packed: nil) }
                    moved += 1
                default:
                    continue
                }
            }
            try await moveCover(book: book, from: here, to: there)
            progress("book \(book): audio in place")
        }
        return LibraryCopy(
            books: counts["books"] ?? 0,
            segments: counts["segments"] ?? 0,
            checkpoints: counts["checkpoints"] ?? 0,
            audioMoved: moved,
            audioMissing: missing
        )
    }

    /// A cover goes where the target keeps covers: the table, or a file beside the book's audio.
    private func moveCover(book: Int64, from here: CheckpointAudio, to there: CheckpointAudio) async throws {
        switch there.placement {
        case .jobTable:
            // A table-to-table copy has carried it already.
            guard try await jobs({ try await there.store.cover(book: book) }) == nil,
                let cover = try await here.cover(book: book)
            else { return }
            try await there.saveCover(cover, book: book)
        case .folder:
            var cover = try await there.cover(book: book)
            if cover == nil { cover = try await here.cover(book: book) }
            guard let cover else { return }
            try await there.saveCover(cover, book: book)
            try await jobs { try await there.store.removeCover(book: book) }
        }
    }
}
