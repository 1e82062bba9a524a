import ArgumentParser
import Foundation
import RecitalModel
import RecitalPipeline

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Carry on with failed or interrupted books (all unfinished books when none is named).",
        discussion: "Books are named by id (see `recital status`) or by their file. Exit codes as for convert."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Book ids or book files.")
    var books: [String] = []

    @Option(help: "Requests in flight at once (default: the voice profile's).")
    var concurrency: Int?

    @Option(
        help: "Seconds to wait for transient failures (server down, rate limits) to clear before stopping with exit 75."
    )
    var patience: Double = 120

    @Option(
        help: ArgumentHelp("Send requests to this URL instead of the one the book was queued with.", valueName: "url")
    )
    var ttsUrl: String?

    func run() async throws {
        let reporter = ProgressReporter()
        let pipeline = try global.openPipeline(patience: patience, progress: reporter.handle)
        let result: (books: [Int64], outcome: SynthesisOutcome)
        do {
            let options = RunOptions(concurrency: concurrency, serverURL: ttsUrl)
            result = try await Pipeline.untilSignalled {
                try await pipeline.resume(books, options: options)
            }
        } catch let error as PipelineError where error.kind == .notFound {
            reporter.finish()
            throw ValidationError(error.description)
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        guard !result.books.isEmpty else {
            Console.error("nothing to resume")
            return
        }
        try await Summary.finish(outcome: result.outcome, books: result.books, pipeline: pipeline, unreadable: false)
    }
}
