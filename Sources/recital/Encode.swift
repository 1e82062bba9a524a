import ArgumentParser
import Foundation
import RecitalEncode
import RecitalJobs
import RecitalMedia
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
        let (paths, store) = try global.openStore()
        guard let record = try? await store.book(book) else {
            Console.error("error: no book \(book)")
            throw ExitCode.failure
        }
        guard var settings = ConversionSettings.decode(record.settingsJSON) else {
            Console.error("error: book \(book) has unreadable settings")
            throw ExitCode.failure
        }
        let synthesized = try await store.checkpoints(book: book).count
        let total = try await store.status(book: book).first?.segmentsTotal ?? 0
        if synthesized < total {
            Console.error("error: book \(book) is not fully synthesized yet; run `recital resume \(book)` first")
            throw ExitCode.failure
        }
        settings.encode = try output.encodeSettings()
        settings.outputDirectory = output.directory
        try await store.updateSettings(book, json: settings.json)
        try await store.scheduleEncode(book, formats: settings.encode.formats.map(\.rawValue))
        let (runner, reporter, stop) = Converter.forCommand(store: store, paths: paths, patience: 120)
        let outcome: EncodeOutcome
        do {
            outcome = try await withStopOnSignals(stop) {
                try await runner.encode(books: [book], overwrite: output.overwrite)
            }
        } catch {
            reporter.finish()
            throw CommandFailure.report(error)
        }
        reporter.finish()
        switch outcome {
        case .finished:
            try await Summary.finish(outcome: .finished, books: [book], store: store, paths: paths, unreadable: false)
        case .interrupted:
            try await Summary.finish(
                outcome: .interrupted,
                books: [book],
                store: store,
                paths: paths,
                unreadable: false
            )
        case .needsSynthesis:
            Console.error(
                "some checkpoint audio was damaged; run `recital resume \(book)` to synthesize it again and encode"
            )
            throw ExitCode.transientFailure
        }
    }
}

/// Removes a book from the job table together with its checkpoint audio (finished files stay).
struct Delete: BookControl {
    static let configuration = CommandConfiguration(
        abstract: "Delete a book from the job table and its checkpoint audio; finished audiobook files are kept."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ store: JobStore) async throws -> String {
        try await store.delete(book)
        let audio = "\(global.paths.audio)/book-\(book)"
        try? FileManager.default.removeItem(atPath: audio)
        return "book \(book) deleted"
    }
}
