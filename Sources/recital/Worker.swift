import ArgumentParser
import Foundation
import RecitalPipeline

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take work (synthesis and encoding) from the job table until stopped.",
        discussion: """
            The command for machines that add capacity: several workers, on one machine or many \
            (with --db postgres://…), share the table's books without doing any segment twice. A \
            worker queues nothing; books come from convert, watch or serve. SIGTERM or SIGINT gives \
            held work back and exits 0.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Requests in flight at once per server (default: each voice profile's).")
    var concurrency: Int?

    @Option(
        help: ArgumentHelp(
            "Only books spoken by the TTS server at this URL (a machine beside its own server).",
            valueName: "url"
        )
    )
    var onlyBackend: String?

    @Option(help: "Seconds between looks at the table while idle.")
    var poll: Double = 5

    @Option(
        help: "Seconds to wait for transient failures (server down, rate limits) to clear before a run pauses."
    )
    var patience: Double = 120

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        guard poll > 0 else { throw ValidationError("--poll must be positive") }
    }

    func run() async throws {
        let reporter = ProgressReporter()
        let pipeline = try global.openPipeline(patience: patience, progress: reporter.handle)
        var options = WorkOptions(
            run: RunOptions(concurrency: concurrency),
            onlyBackend: onlyBackend,
            poll: .milliseconds(Int64(poll * 1000))
        )
        options.retryAfterStall = .milliseconds(Int64(max(poll, 30) * 1000))
        let chosen = options
        Console.error(
            "worker \(pipeline.owner) taking work from \(global.paths.database)"
                + (onlyBackend.map { " (books spoken by \($0))" } ?? "")
        )
        do {
            try await Pipeline.untilSignalled {
                try await pipeline.work(
                    options: chosen,
                    started: { books in
                        let list = books.map(String.init).joined(separator: ", ")
                        Console.error("working on book\(books.count == 1 ? "" : "s") \(list)")
                    }
                )
            }
        } catch is CancellationError {
            // Stopped by a signal while idle: nothing was held.
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        Console.error("worker stopped")
    }
}
