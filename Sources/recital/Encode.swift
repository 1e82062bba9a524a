import ArgumentParser
import Foundation
import RecitalEncode
import RecitalMedia
import RecitalModel
import RecitalPipeline

/// Re-encodes a synthesized book from its checkpoints, for new formats or settings.
struct Encode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode a synthesized book again from its checkpoint audio (new formats or settings).",
        discussion:
            "Nothing is synthesized. Files this book wrote before are replaced; others are kept unless --overwrite."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try output.encodeSettings() }

    func run() async throws {
        let reporter = ProgressReporter()
        let pipeline = try global.openPipeline(progress: reporter.handle)
        let outcome: EncodeOutcome
        do {
            let settings = try output.encodeSettings()
            outcome = try await Pipeline.untilSignalled {
                try await pipeline.reencode(
                    book,
                    encode: settings,
                    outputDirectory: output.directory,
                    overwrite: output.overwrite
                )
            }
        } catch let error as PipelineError where error.kind == .notFound || error.kind == .invalidRequest {
            reporter.finish()
            Console.error("error: \(error)")
            throw ExitCode.failure
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        switch outcome {
        case .finished:
            try await Summary.finish(outcome: .finished, books: [book], pipeline: pipeline, unreadable: false)
        case .interrupted:
            try await Summary.finish(outcome: .interrupted, books: [book], pipeline: pipeline, unreadable: false)
        case .needsSynthesis:
            Console.error(
                "some checkpoint audio was damaged; run `recital resume \(book)` to synthesize it again and encode"
            )
            throw ExitCode.transientFailure
        }
    }
}

/// Removes a book from the job table together with its checkpoint audio and the partial files a
/// stopped encode kept (finished files stay).
struct Delete: BookControl {
    static let configuration = CommandConfiguration(
        abstract:
            "Delete a book from the job table, its checkpoint audio and partial files; finished audiobook files are kept."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ pipeline: Pipeline) async throws -> String {
        // Not while a process works on it: the API's rule (cancel or pause it first).
        try await pipeline.control(.delete, book: book)
        return "book \(book) deleted"
    }
}
