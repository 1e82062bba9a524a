import ArgumentParser
import Foundation
import RecitalModel
import RecitalPipeline
import RecitalWatch
import UnixSignals

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert every book that arrives in the inbox folders, exactly once, until stopped.",
        discussion: """
            Books (EPUB, PDF) anywhere under an inbox are queued once their size and times have stayed \
            the same for the settle time and the file is whole, and converted into --out under their \
            folder relative to the inbox. A book that cannot be converted gets a report in \
            OUT/_failed. A recital-folder.json in a folder sets voice, format, output, priority and \
            after for its books. SIGTERM or SIGINT stops after giving held work back (exit 0); a \
            second signal exits at once. With --once: exit 0 when every book is delivered, 1 when \
            one failed, 75 when the TTS server stayed unreachable.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var voiceOptions: VoiceOptions

    @Argument(help: "Folders to watch (with their subfolders).")
    var inboxes: [String]

    @OptionGroup var output: OutputOptions

    @Option(help: "Seconds a file must stay unchanged before it is taken (default: 15; 60 on network folders).")
    var settle: Double?

    @Option(help: ArgumentHelp("When to poll instead of using inotify.", valueName: "auto|always|never"))
    var poll = WatchOptions.Polling.auto.rawValue

    @Option(help: "Seconds between looks at polled folders.")
    var pollInterval: Double = 30

    @Option(help: "Seconds between full rescans of the inboxes.")
    var rescan: Double = 600

    @Option(
        help: ArgumentHelp(
            "What happens to a source once its book is queued: keep it, move it to --done, or delete it.",
            valueName: "keep|move|delete"
        )
    )
    var after = AfterQueued.keep.rawValue

    @Option(help: ArgumentHelp("Where --after move puts sources (default: OUT/_done).", valueName: "dir"))
    var done: String?

    @Option(help: ArgumentHelp("Also ignore files and folders matching this glob.", valueName: "glob"))
    var ignore: [String] = []

    @Option(help: "Requests in flight at once (default: the voice profile's); 0 only queues books for other processes.")
    var workers: Int?

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Scan, wait for files to settle, convert what is there, then exit.")
    var once = false

    func validate() throws {
        guard WatchOptions.Polling(rawValue: poll) != nil else {
            throw ValidationError("--poll takes auto, always or never")
        }
        guard AfterQueued(rawValue: after) != nil else { throw ValidationError("--after takes keep, move or delete") }
        if let settle, settle < 0 { throw ValidationError("--settle must be 0 or more seconds") }
        guard pollInterval >= 1 else { throw ValidationError("--poll-interval must be at least 1 second") }
        guard rescan >= 1 else { throw ValidationError("--rescan must be at least 1 second") }
        if let workers, workers < 0 { throw ValidationError("--workers must be 0 or more") }
        for inbox in inboxes {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: inbox, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("\(inbox): not a folder")
            }
        }
        _ = try output.encodeSettings()
    }

    func run() async throws {
        let paths = global.paths
        let settings = try queue.settings(voice: voiceOptions, output: output, home: paths.home)
        var options = WatchOptions(
            inboxes: inboxes.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path },
            output: output.directory,
            settings: settings,
            home: paths.home
        )
        options.priority = queue.priority
        options.settle = settle
        options.polling = WatchOptions.Polling(rawValue: poll) ?? .auto
        options.pollInterval = pollInterval
        options.rescan = rescan
        options.after = AfterQueued(rawValue: after) ?? .keep
        options.done = done.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        options.ignore = ignore
        options.once = once
        options.converts = workers != 0
        options.run = RunOptions(concurrency: workers == 0 ? nil : workers, overwrite: output.overwrite)

        let pipeline = try global.openPipeline(patience: queue.patience, progress: ServiceLog.event)
        let events: (any FolderEventSource)?
        do {
            events = try Inotify()
        } catch {
            Console.error("watch: inotify is not available (\(error)); every folder is polled")
            events = nil
        }
        let watcher = Watcher(pipeline: pipeline, options: options, events: events, log: ServiceLog.line)
        Console.error("watching \(options.inboxes.joined(separator: ", ")) → \(options.output)")

        let work = Task { try await watcher.run() }
        // The first signal stops gracefully (held work is given back); a second exits at once.
        let signals = Task {
            var stopping = false
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                if stopping {
                    Console.error("watch: \(signal) again; exiting at once (resume continues)")
                    Foundation.exit(signal == .sigint ? 130 : 143)
                }
                stopping = true
                Console.error("watch: \(signal); giving held work back and stopping (again to exit at once)")
                work.cancel()
            }
        }
        defer { signals.cancel() }
        let ending: Watcher.Ending
        do {
            ending = try await work.value
        } catch _ where work.isCancelled {
            return
        } catch {
            throw CommandFailure.report(error)
        }
        switch ending {
        case .done, .stopped:
            return
        case .problems:
            for problem in await watcher.problems { Console.error("error: \(problem)") }
            throw ExitCode.failure
        case .stalled(let reason):
            Console.error("stopped: \(reason); the books stay queued")
            throw ExitCode.transientFailure
        }
    }
}

/// What a long-running command (watch, serve) prints: one line per decision, and a line per book
/// when its files are written or it fails.
enum ServiceLog {
    @Sendable static func line(_ text: String) { Console.error("watch: \(text)") }

    @Sendable static func event(_ event: ProgressEvent) {
        describe(event).map { Console.error($0) }
    }

    static func describe(_ event: ProgressEvent) -> String? {
        switch event {
        case .encoded(let book, let files): "book \(book): written \(files.joined(separator: ", "))"
        case .chapterFailed(let book, let chapter, let message, true):
            "book \(book), chapter \(chapter): failed: \(message)"
        case .encodeFailed(let book, let message): "book \(book): encode failed: \(message)"
        case .warning(let book, let message): "book \(book): warning: \(message)"
        case .notice(let message): message
        default: nil
        }
    }
}
