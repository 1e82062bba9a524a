internal import Foundation
internal import RecitalEncode
internal import RecitalJobs
internal import RecitalMedia
internal import RecitalModel

/// What a conversion promises about its files: the names they take, and that every file asked for
/// exists, in the folder asked for, as it was written.
extension Converter {
    /// Reserves the name of a book's files in `folder`: `Author - Title`, or `… (2)` when a file that
    /// is not the book's own (or another book's reservation) holds it. With `overwrite`, files in the
    /// way do not count; other books' names still do.
    func reserveName(
        _ book: Int64,
        metadata: BookMetadata,
        folder: String,
        encode: EncodeSettings,
        overwrite: Bool
    ) async throws -> String {
        let own = Set(try await store.outputs(book: book).map(\.path))
        let present: [String]
        do {
            present =
                FileManager.default.fileExists(atPath: folder)
                ? try FileManager.default.contentsOfDirectory(atPath: folder) : []
        } catch {
            throw PipelineError(.storage, "cannot list the output folder \(folder)", book: book, cause: error)
        }
        let extensions = encode.formats.map(\.fileExtension)
        // Split books name their files "Name - 01 Chapter" or "Name - Part 1".
        let split = encode.splitChapters || encode.maxHours != nil
        let inTheWay = Set(present.filter { !own.contains((folder as NSString).appendingPathComponent($0)) })
        return try await store.reserveName(
            book: book,
            folder: folder,
            base: OutputName.base(title: metadata.title, authors: metadata.authors)
        ) { stem in
            overwrite
                || !inTheWay.contains { name in
                    extensions.contains { ext in
                        name == "\(stem).\(ext)" || (split && name.hasPrefix("\(stem) - ") && name.hasSuffix(".\(ext)"))
                    }
                }
        }
    }

    /// For a book already in the table, queued again by a command: every format it asks for whose
    /// encode is done but whose file is not verified in the folder it asks for (never written
    /// there, deleted, changed) is scheduled to be encoded again. Returns what was found and done.
    func redoOutputs(_ book: Int64, settings: ConversionSettings) async throws -> [String] {
        let folder = settings.outputDirectory ?? FileManager.default.currentDirectoryPath
        let states = try await store.encodeStates(book: book)
        let outputs = try await store.outputs(book: book)
        var notes: [String] = []
        var formats: [AudioContainer] = []
        for format in settings.encode.formats {
            let state = states[format]
            // Still to run (or running): it will write into the folder in the stored settings.
            if state == .available || state == .running { continue }
            let problem =
                state == nil ? "\(format.rawValue) has not been encoded yet" : Self.problem(format, outputs, in: folder)
            guard let problem else { continue }
            notes.append(problem)
            formats.append(format)
        }
        guard !formats.isEmpty else { return [] }
        try await store.scheduleEncode(book, formats: formats)
        let audio = checkpointAudio
        let gone = try await store.checkpoints(book: book).filter { !audio.isPresent($0) }.count
        let again =
            gone == 0
            ? "encoding \(formats.map(\.rawValue).joined(separator: ", ")) again from the checkpoints"
            : "\(gone) segment\(gone == 1 ? "'s" : "s'") checkpoint audio is gone: synthesizing \(gone == 1 ? "it" : "them") again, then encoding \(formats.map(\.rawValue).joined(separator: ", "))"
        return notes + [again]
    }

    /// What stands between a format asked for and a verified file of it in `folder`: never encoded,
    /// written elsewhere, gone or changed since; nil when its files are there as written.
    static func problem(_ format: AudioContainer, _ outputs: [OutputRecord], in folder: String) -> String? {
        let files = outputs.filter { $0.format == format }
        guard !files.isEmpty else { return "\(format.rawValue) has not been encoded yet" }
        if let elsewhere = files.first(where: { ($0.path as NSString).deletingLastPathComponent != folder }) {
            return
                "\(format.rawValue) was written to \((elsewhere.path as NSString).deletingLastPathComponent), not \(folder)"
        }
        return unverified(files)
    }

    /// Why recorded files cannot be trusted (missing, or changed since they were written), or nil.
    static func unverified(_ files: [OutputRecord]) -> String? {
        for file in files {
            guard FileManager.default.fileExists(atPath: file.path) else { return "\(file.path) no longer exists" }
            guard ContentHash.file(file.path) == file.checksum else {
                return "\(file.path) has changed since it was written"
            }
        }
        return nil
    }
}
