import ArgumentParser
import Foundation
import RecitalEncode
import RecitalIngest
import RecitalMedia
import RecitalModel
import RecitalPipeline

struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert books into audiobooks: read them, queue them, synthesize every segment, encode the files.",
        discussion: """
            Without a voice option each book is read by an installed voice for its language (recital voices \
            install piper), else by the built-in espeak-ng voice (started on a loopback port). \
            Every synthesized segment is checkpointed, so an interrupted conversion continues with \
            `recital resume`. Exit codes: 0 done; 1 a book failed; 65 a book could not be read; 75 stopped by \
            a transient failure (resume continues); 130 interrupted with state saved.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var voiceOptions: VoiceOptions

    @Argument(help: "EPUB or PDF files.")
    var books: [String]

    @OptionGroup var output: OutputOptions

    @Option(help: "Requests in flight at once (default: the voice profile's).")
    var concurrency: Int?

    @OptionGroup var queue: QueueOptions

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        _ = try output.encodeSettings()
    }

    func run() async throws {
        let paths = global.paths
        let settings = try queue.settings(voice: voiceOptions, output: output, home: paths.home)
        // The first book is read while the job table opens (on a new database, a few fsyncs), so the
        // first request goes out sooner.
        let first = books.first
        async let firstRead = first == nil ? nil : Self.read(first ?? "", settings: settings)
        let reporter = ProgressReporter()
        let pipeline = try global.openPipeline(patience: queue.patience, progress: reporter.handle)
        var ids: [Int64] = []
        var unreadable = false
        for (position, path) in books.enumerated() {
            do {
                let read: Converter.ReadBook
                if position == 0, let early = try await firstRead {
                    read = early
                } else {
                    read = try await Self.read(path, settings: settings)
                }
                let added = try await pipeline.add(
                    read,
                    settings: settings,
                    priority: queue.priority,
                    overwrite: output.overwrite
                )
                let title = added.book.metadata.title ?? path
                Console.error(
                    added.created
                        ? "queued book \(added.bookID): \(title) (\(added.book.chapters.count) chapters)"
                        : "book \(added.bookID) (\(title)) is already in the job table with these settings; continuing it"
                )
                for note in added.notes { Console.error("book \(added.bookID): \(note)") }
                if !ids.contains(added.bookID) { ids.append(added.bookID) }
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
            let options = RunOptions(concurrency: concurrency, overwrite: output.overwrite)
            outcome = try await Pipeline.untilSignalled {
                try await pipeline.run(books: queued, options: options)
            }
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        try await Summary.finish(outcome: outcome, books: ids, pipeline: pipeline, unreadable: unreadable)
    }

    /// Reads a book with a progress line for OCR.
    private static func read(_ path: String, settings: ConversionSettings) async throws -> Converter.ReadBook {
        let progress = ReadProgress(file: path)
        defer { progress.finish() }
        return try await Pipeline.read(path, settings: settings, progress: progress.handle)
    }
}

/// Prints where each book stands and exits with the code that matches.
enum Summary {
    static func finish(
        outcome: SynthesisOutcome,
        books: [Int64],
        pipeline: Pipeline,
        unreadable: Bool
    ) async throws {
        let statuses: [BookStatus]
        do {
            statuses = try await pipeline.status().filter { books.contains($0.id) }
        } catch {
            throw CommandFailure.report(error)
        }
        // Done means every file asked for exists, where it was asked for, as it was written.
        var unverified = false
        for status in statuses {
            var line =
                "book \(status.id): \(status.title ?? status.source): \(status.state.rawValue), \(status.segmentsDone)/\(status.segmentsTotal) segments"
            if let error = status.error { line += "; \(error)" }
            Console.output(line)
            for file in status.outputs {
                Console.output("  \(file)\(status.missingOutputs.contains(file) ? " (missing)" : "")")
            }
            guard outcome == .finished else { continue }
            guard status.state == .completed else {
                // Paused or cancelled (here or by another process), or failed: the files asked for
                // are not there, so this is not done.
                if status.state != .failed {
                    Console.error("error: book \(status.id) is \(status.state.rawValue); its files are not written")
                    unverified = true
                }
                continue
            }
            let problems: [String]
            do {
                problems = try await pipeline.unverifiedFiles(status.id)
            } catch {
                throw CommandFailure.report(error)
            }
            for problem in problems { Console.error("error: book \(status.id): \(problem)") }
            if !problems.isEmpty { unverified = true }
        }
        switch outcome {
        case .interrupted:
            Console.error("interrupted; progress is saved. Run `recital resume` to continue.")
            throw ExitCode.interrupted
        case .stalled(let reason):
            Console.error("stopped: \(reason). Run `recital resume` to continue.")
            throw ExitCode.transientFailure
        case .finished:
            if unverified || statuses.contains(where: { $0.state == .failed }) { throw ExitCode.failure }
            if unreadable { throw ExitCode.unreadableInput }
        }
    }
}

/// What the finished files look like and where they go (convert and encode).
struct OutputOptions: ParsableArguments {
    @Option(help: "Output formats, comma-separated (m4b, mp3, flac).")
    var format = "m4b"

    @Option(help: ArgumentHelp("Folder for the finished audiobooks (default: the current folder).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("'chapters' writes one file per chapter.", valueName: "chapters"))
    var split: String?

    @Option(help: "Split books longer than this many hours into parts at chapter boundaries.")
    var maxHours: Double?

    @Option(help: "AAC and MP3 bit rate in kbit/s.")
    var bitrate = 64

    @Option(help: "MP3 VBR quality 0 (best) to 9 instead of a constant bit rate.")
    var mp3Quality: Int?

    @Option(help: "Target loudness of the whole book, LUFS.")
    var loudness = -18.0

    @Option(help: "Crossfade between segments of a sentence, milliseconds (0 for none).")
    var crossfade = 30.0

    @Flag(help: "Replace existing files with the same names.")
    var overwrite = false

    @Flag(help: "Do not speak chapter titles before chapters.")
    var noChapterTitles = false

    @Flag(help: "Open the book with \"Title, by Author.\"")
    var intro = false

    @Flag(help: "Delete checkpoint audio once the files are written (no re-encoding later).")
    var removeSegments = false

    var directory: String {
        let folder = out ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: folder).standardizedFileURL.path
    }

    func encodeSettings() throws -> EncodeSettings {
        var settings = EncodeSettings()
        settings.formats = try format.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let container = AudioContainer(rawValue: trimmed) else {
                throw ValidationError("unknown format '\(trimmed)' (use m4b, mp3, flac)")
            }
            return container
        }
        guard !settings.formats.isEmpty else { throw ValidationError("--format needs at least one format") }
        if let split, split != "chapters" { throw ValidationError("--split takes 'chapters'") }
        settings.splitChapters = split == "chapters"
        if let maxHours, maxHours <= 0 { throw ValidationError("--max-hours must be positive") }
        settings.maxHours = maxHours
        guard (8...320).contains(bitrate) else { throw ValidationError("--bitrate must be 8 to 320 kbit/s") }
        settings.bitRate = bitrate * 1000
        if let mp3Quality, !(0...9).contains(mp3Quality) { throw ValidationError("--mp3-quality must be 0 to 9") }
        settings.mp3Quality = mp3Quality
        guard (-40.0 ... -10.0).contains(loudness) else { throw ValidationError("--loudness must be -40 to -10 LUFS") }
        settings.loudness = loudness
        guard (0.0...500.0).contains(crossfade) else { throw ValidationError("--crossfade must be 0 to 500 ms") }
        settings.crossfade = crossfade / 1000
        return settings
    }
}

/// How books are queued and worked on (convert and watch): priority, patience with transient
/// failures, and what a poison segment does.
struct QueueOptions: ParsableArguments {
    @OptionGroup var read: ReadOptions

    @Option(
        help: "Seconds to wait for transient failures (server down, rate limits) to clear before stopping with exit 75."
    )
    var patience: Double = 120

    @Option(help: "Priority 1 (first) to 4.")
    var priority = 2

    @Option(
        help: ArgumentHelp(
            "A segment that fails the same way every time while the server answers other text: 'fail' the book (naming the segment) or 'skip' it as silence with a warning.",
            valueName: "fail|skip"
        )
    )
    var onBadSegment = BadSegmentPolicy.fail.rawValue

    func validate() throws {
        guard (1...4).contains(priority) else { throw ValidationError("--priority must be 1 to 4") }
        guard BadSegmentPolicy(rawValue: onBadSegment) != nil else {
            throw ValidationError("--on-bad-segment takes fail or skip, not '\(onBadSegment)'")
        }
    }

    /// What books are spoken and written with: the voice (whose API key must be set before any
    /// work), the outputs and the poison-segment policy.
    func settings(voice: VoiceOptions, output: OutputOptions, home: String) throws -> ConversionSettings {
        do {
            let profile = try voice.profile(home: home)
            // A missing key is a usage error before any work, not a failure per book later.
            _ = try VoiceProfiles.apiKey(for: profile, environment: ProcessInfo.processInfo.environment)
            var settings = ConversionSettings(
                voice: profile,
                maxSegmentCharacters: voice.maxSegment,
                encode: try output.encodeSettings(),
                outputDirectory: output.directory,
                speakChapterTitles: !output.noChapterTitles,
                speakIntro: output.intro,
                keepSegments: !output.removeSegments
            )
            settings.voiceByLanguage = voice.byLanguage
            settings.onBadSegment = BadSegmentPolicy(rawValue: onBadSegment) ?? .fail
            settings.ocr = read.ocr
            return settings
        } catch let error as PipelineError {
            throw CommandFailure.report(error)
        }
    }
}
