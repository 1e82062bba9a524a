internal import Foundation
internal import RecitalJobs
internal import RecitalModel

/// Listening to a chapter before its book is done: its checkpoints joined into one WAV.
extension Pipeline {
    /// The WAV file of a synthesized chapter: its segments' audio in order with a short pause
    /// between them (no crossfades or loudness: a preview, not the book), made on first use and
    /// kept under the home folder until the chapter's audio changes.
    /// - Throws: ``PipelineError`` `.notFound` for no such chapter, `.invalidRequest` while the
    ///   chapter is not synthesized yet.
    public func chapterAudio(book: Int64, chapter: Int) async throws -> String {
        let chapters = try await chapters(book: book)
        guard let status = chapters.first(where: { $0.index == chapter }) else {
            throw PipelineError(.notFound, "has no chapter \(chapter + 1)", book: book)
        }
        guard status.state == .done else {
            throw PipelineError(
                .invalidRequest,
                "chapter \(chapter + 1) is not synthesized yet (\(status.segmentsDone)/\(status.segmentsTotal) segments)",
                book: book
            )
        }
        let records = try await jobs { try await store.checkpoints(book: book) }
            .filter { $0.chapterIndex == chapter }.sorted { $0.index < $1.index }
        let rate = records.first?.sampleRate ?? 24_000
        let pause = rate / 4
        let total = records.reduce(0) { $0 + $1.sampleCount } + pause * max(0, records.count - 1)
        let folder = "\(paths.home)/previews/book-\(book)"
        let path = "\(folder)/chapter-\(chapter)-\(total).wav"
        if FileManager.default.fileExists(atPath: path) { return path }
        let audio = converter.checkpointAudio
        var samples: [Int16] = []
        samples.reserveCapacity(total)
        for (position, record) in records.enumerated() {
            if position > 0 { samples += [Int16](repeating: 0, count: pause) }
            do {
                samples += try await audio.samples(record)
            } catch let error as PipelineError {
                throw PipelineError(.storage, "\(error.message); resume it to synthesize again", book: book)
            }
        }
        let joined = samples
        try await Blocking.io {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                // Written under a name of its own, then renamed over: two requests at once both
                // leave a whole file.
                let temporary = "\(path).\(UUID().uuidString).tmp"
                try Data(WAV.encode(samples: joined, sampleRate: rate)).write(to: URL(fileURLWithPath: temporary))
                guard rename(temporary, path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    unlink(temporary)
                    throw PipelineError(.storage, "cannot move the preview into \(path): \(reason)", book: book)
                }
            } catch let error as PipelineError {
                throw error
            } catch {
                throw PipelineError(
                    .storage,
                    "cannot write the preview of chapter \(chapter + 1)",
                    book: book,
                    cause: error
                )
            }
        }
        return path
    }
}
