import ArgumentParser
import Foundation
import RecitalIngest
import RecitalJobs
import RecitalModel
import RecitalPipeline

struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert books: read them, queue them in the job table, and synthesize every segment.",
        discussion: """
            Without a voice option the built-in espeak-ng voice is used (started on a loopback port). \
            Every synthesized segment is checkpointed, so an interrupted conversion continues with \
            `recital resume`. Exit codes: 0 done; 1 a book failed; 65 a book could not be read; 75 stopped by \
            a transient failure (resume continues); 130 interrupted with state saved.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var voiceOptions: VoiceOptions

    @Argument(help: "EPUB or PDF files.")
    var books: [String]

    @Option(help: "Output formats, comma-separated (m4b, mp3, flac).")
    var format = "m4b"

    @Option(help: ArgumentHelp("Folder for the finished audiobooks.", valueName: "dir"))
    var out: String?

    @Option(help: "Requests in flight at once (default: the voice profile's).")
    var concurrency: Int?

    @Option(
        help: "Seconds to wait for transient failures (server down, rate limits) to clear before stopping with exit 75."
    )
    var patience: Double = 120

    @Option(help: "Priority 1 (first) to 4.")
    var priority = 2

    func validate() throws {
        guard (1...4).contains(priority) else { throw ValidationError("--priority must be 1 to 4") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        let formats = format.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in formats where !["m4b", "mp3", "flac"].contains(name) {
            throw ValidationError("unknown format '\(name)' (use m4b, mp3, flac)")
        }
    }

    func run() async throws {
        let (paths, store) = try global.openStore()
        let profile = try voiceOptions.profile(home: paths.home)
        let apiKey = try VoiceOptions.apiKey(for: profile)
        let settings = ConversionSettings(
            voice: profile,
            maxSegmentCharacters: voiceOptions.maxSegment,
            formats: format.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            outputDirectory: out
        )
        let (runner, reporter, stop) = Converter.forCommand(store: store, paths: paths, patience: patience)
        var ids: [Int64] = []
        var unreadable = false
        for path in books {
            do {
                let enqueued = try await runner.enqueue(path, settings: settings, priority: priority)
                let title = enqueued.book.metadata.title ?? path
                Console.error(
                    enqueued.created
                        ? "queued book \(enqueued.bookID): \(title) (\(enqueued.book.chapters.count) chapters)"
                        : "book \(enqueued.bookID) (\(title)) is already in the job table with these settings; continuing it"
                )
                if !ids.contains(enqueued.bookID) { ids.append(enqueued.bookID) }
            } catch let error as IngestError {
                Console.error("error: \(error)")
                unreadable = true
            } catch {
                throw CommandFailure.report(error)
            }
        }
        guard !ids.isEmpty else { throw ExitCode.unreadableInput }
        let queued = ids
        let outcome: SynthesisOutcome
        do {
            outcome = try await withStopOnSignals(stop) {
                try await runner.synthesize(books: queued, settings: settings, apiKey: apiKey, concurrency: concurrency)
            }
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        try await Summary.finish(outcome: outcome, books: ids, store: store, paths: paths, unreadable: unreadable)
    }
}

/// Prints where each book stands and exits with the code that matches.
enum Summary {
    static func finish(
        outcome: SynthesisOutcome,
        books: [Int64],
        store: JobStore,
        paths: RecitalPaths,
        unreadable: Bool
    ) async throws {
        let statuses = try await store.status().filter { books.contains($0.id) }
        for status in statuses {
            var line =
                "book \(status.id): \(status.title ?? status.source): \(status.state.rawValue), \(status.segmentsDone)/\(status.segmentsTotal) segments"
            if status.state == .completed {
                line += "; chapter audio in \(paths.audio)/book-\(status.id)"
            }
            if let error = status.error { line += "; \(error)" }
            Console.output(line)
        }
        switch outcome {
        case .interrupted:
            Console.error("interrupted; progress is saved. Run `recital resume` to continue.")
            throw ExitCode.interrupted
        case .stalled(let reason):
            Console.error("stopped: \(reason). Run `recital resume` to continue.")
            throw ExitCode.transientFailure
        case .finished:
            if statuses.contains(where: { $0.state == .failed }) { throw ExitCode.failure }
            if unreadable { throw ExitCode.unreadableInput }
        }
    }
}
