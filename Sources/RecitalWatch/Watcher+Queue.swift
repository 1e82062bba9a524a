internal import Foundation
internal import RecitalEncode
public import RecitalModel
internal import RecitalPipeline

/// Turning a complete file into a book in the job table, a duplicate, or a failure report.
extension Watcher {
    /// The settings a file is converted with: the watcher's, changed by the folder settings above
    /// it, with its own output folder. Captured when the book is queued.
    struct Resolved {
        var settings: ConversionSettings
        var priority: Int
        var after: AfterQueued
    }

    func resolve(_ candidate: Candidate) -> Result<Resolved, FolderSettingsError> {
        let inboxPath = candidate.inbox
        switch FolderSettings.resolve(for: candidate.relativePath, inbox: inboxPath) {
        case .failure(let error):
            return .failure(error)
        case .success(let folder):
            var settings = options.settings
            if let voice = folder.voice {
                do {
                    try VoiceProfiles.select(voice, in: &settings, home: options.home)
                } catch {
                    return .failure(FolderSettingsError(file: folder.voiceFile ?? inboxPath, reason: error.message))
                }
            }
            if let formats = folder.formats { settings.encode.formats = formats }
            let below = folder.outputFolder(for: candidate.relativePath)
            settings.outputDirectory =
                URL(fileURLWithPath: below.isEmpty ? options.output : "\(options.output)/\(below)")
                .standardizedFileURL.path
            return .success(
                Resolved(
                    settings: settings,
                    priority: folder.priority ?? options.priority,
                    after: folder.after ?? options.after
                )
            )
        }
    }

    /// Queues a settled, well-formed file, records it as a duplicate, or fails it with a report.
    /// - Returns: why it is held (its folder settings do not parse), or nil once it is decided.
    func queue(_ path: String, _ candidate: Candidate, stamp: FileStamp) async throws -> String? {
        let resolved: Resolved
        switch resolve(candidate) {
        case .failure(let error):
            problems.append("\(candidate.relativePath): \(error)")
            try await pipeline.recordWatched(
                row(path, candidate, stamp: stamp, state: .held, hash: nil, reason: error.description)
            )
            return error.description
        case .success(let value):
            resolved = value
        }
        var settings = resolved.settings
        let settingsJSON = try settings.json()
        let hash: String
        do {
            hash = try await Pipeline.contentHash(ofFile: path)
        } catch {
            // Gone between the look and the read: the removal event or the next scan deals with it.
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            try await fail(
                path,
                candidate,
                stamp: stamp,
                reason: "\(error)",
                hash: nil,
                settings: settingsJSON,
                retry: "make the file readable by the watcher"
            )
            return nil
        }
        var state = WatchedFileState.queued
        var reason: String?
        var book: Int64?
        if let existing = try await pipeline.existingBook(contentHash: hash, settings: settings) {
            let missing = settings.encode.formats.filter { !existing.formats.contains($0) }
            if missing.isEmpty {
                state = .duplicate
                book = existing.book
                reason = "the same bytes with the same settings are book \(existing.book)"
                log("\(candidate.relativePath): a duplicate of book \(existing.book); not converted again")
            } else {
                // The same audio in another format: only an encode is added.
                settings.encode.formats = missing
                reason = "book \(existing.book) again, encoded as \(missing.map(\.rawValue).joined(separator: ", "))"
            }
        }
        if state == .queued {
            let read: Converter.ReadBook
            do {
                read = try await Pipeline.readInBackground(path, settings: settings, contentHash: hash)
            } catch {
                try await fail(
                    path,
                    candidate,
                    stamp: stamp,
                    reason: Self.reason(error, path: path),
                    hash: hash,
                    settings: settingsJSON,
                    retry: "replace the file in the inbox with a readable copy"
                )
                return nil
            }
            let added = try await pipeline.add(read, settings: settings, priority: resolved.priority)
            book = added.bookID
            queuedSinceLastLook = true
            let title = added.book.metadata.title ?? candidate.relativePath
            log(
                "\(candidate.relativePath): queued as book \(added.bookID) (\(title)) → \(settings.outputDirectory ?? options.output)"
                    + (reason.map { "; \($0)" } ?? "")
            )
            for note in added.notes { log("book \(added.bookID): \(note)") }
        }
        try await pipeline.recordWatched(
            row(path, candidate, stamp: stamp, state: state, hash: hash, reason: reason, book: book)
        )
        decided[path] = stamp
        finish(path, relativePath: candidate.relativePath, after: resolved.after)
        return nil
    }

    /// A one-line reason for a failed read, without repeating the file's path.
    static func reason(_ error: any Error, path: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }

    /// Records a failed file and writes its report.
    func fail(
        _ path: String,
        _ candidate: Candidate,
        stamp: FileStamp,
        reason: String,
        hash: String?,
        settings: String?,
        retry: String
    ) async throws {
        try await pipeline.recordWatched(
            row(path, candidate, stamp: stamp, state: .failed, hash: hash, reason: reason)
        )
        decided[path] = stamp
        report(
            FailureReport(
                file: path,
                reason: reason,
                contentHash: hash,
                settings: settings,
                time: Date(timeIntervalSince1970: now()),
                retry: retry
            ),
            relativePath: candidate.relativePath
        )
    }

    /// Writes a failure report; one that cannot be written is logged with the reason (the row in
    /// the job table still says why the book failed).
    func report(_ report: FailureReport, relativePath: String) {
        problems.append("\(relativePath): \(report.reason)")
        do {
            try report.write(output: options.output, relativePath: relativePath)
            log(
                "\(relativePath): failed: \(report.reason) (report: \(FailureReport.base(output: options.output, relativePath: relativePath)).txt)"
            )
        } catch {
            log(
                "\(relativePath): failed: \(report.reason) (its report could not be written: \(error.localizedDescription))"
            )
        }
    }

    /// What `--after` asks once a file's book is queued (or found to be a duplicate): keep the
    /// source, move it under the done folder, or delete it. Failing to is logged, not fatal: the
    /// book is queued either way.
    func finish(_ path: String, relativePath: String, after: AfterQueued) {
        do {
            switch after {
            case .keep:
                return
            case .delete:
                try FileManager.default.removeItem(atPath: path)
                log("\(relativePath): deleted from the inbox (--after delete)")
            case .move:
                var target = "\(options.doneFolder)/\(relativePath)"
                try FileManager.default.createDirectory(
                    atPath: (target as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true
                )
                let stem = (target as NSString).deletingPathExtension
                let ext = (target as NSString).pathExtension
                var number = 2
                while FileManager.default.fileExists(atPath: target) {
                    target = "\(stem) (\(number)).\(ext)"
                    number += 1
                }
                try FileManager.default.moveItem(atPath: path, toPath: target)
                log("\(relativePath): moved to \(target)")
            }
        } catch {
            log("\(relativePath): could not \(after.rawValue) it after queueing: \(error.localizedDescription)")
        }
    }
}
