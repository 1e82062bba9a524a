import ArgumentParser
import Foundation
import RecitalIngest
import RecitalModel
import RecitalPipeline

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chapters, metadata and diagnostics Recital reads from a book.",
        discussion: "Exits 65 when the book cannot be read, with a one-line reason on stderr."
    )

    @Argument(help: "An EPUB or PDF file.")
    var book: String

    @Flag(help: "Print one JSON object on stdout (the interface other tools rely on).")
    var json = false

    @Flag(help: "Include each chapter's text.")
    var text = false

    @Option(help: "Longest segment in characters.")
    var maxSegment = SegmentationOptions.defaultMaxCharacters

    @OptionGroup var read: ReadOptions

    func run() async throws {
        let ingester = Ingester(segmentation: SegmentationOptions(maxCharacters: maxSegment), ocr: read.ocr)
        let result: Book
        do {
            let progress = ReadProgress(file: book)
            defer { progress.finish() }
            result = try await Pipeline.untilSignalled {
                try await Pipeline.inspect(book, with: ingester, progress: progress.handle)
            }
        } catch is CancellationError {
            throw ExitCode(130)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode.unreadableInput
        }
        if json {
            Console.output(try InspectReport(book: result, includeText: text).jsonString())
        } else {
            Console.output(InspectReport(book: result, includeText: text).humanText())
        }
    }
}
