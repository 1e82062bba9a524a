import ArgumentParser
import Foundation
import RecitalModel
import RecitalPipeline

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the state of books in the job table (works while another process converts)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A book id (all books when omitted).")
    var book: Int64?

    @Flag(help: "Print one JSON object on stdout: {\"books\": [...]} with every key present (null when unknown).")
    var json = false

    @Flag(help: "Also print each task's history (claims, retries, failures).")
    var events = false

    func run() async throws {
        let pipeline = try global.openPipeline()
        do {
            let books = try await pipeline.status(book: book)
            if let book, books.isEmpty {
                Console.error("error: no book \(book)")
                throw ExitCode.failure
            }
            if json {
                Console.output(try StatusReport(books: books).jsonString())
                return
            }
            if books.isEmpty { Console.output("no books") }
            for status in books {
                let percent = String(format: "%.0f%%", status.progress * 100)
                var line =
                    "\(status.id)  \(status.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(percent.leftPadded(to: 4))  "
                line +=
                    "\(status.chaptersDone)/\(status.chaptersTotal) chapters, \(status.segmentsDone)/\(status.segmentsTotal) segments"
                if let eta = status.etaSeconds { line += ", ETA \(ProgressReporter.clock(eta))" }
                line += "  \(status.title ?? status.source)"
                if let error = status.error { line += "\n    error: \(error)" }
                for warning in status.warnings { line += "\n    warning: \(warning)" }
                for file in status.outputs {
                    line += "\n    \(file)\(status.missingOutputs.contains(file) ? " (missing)" : "")"
                }
                Console.output(line)
                if events {
                    for event in try await pipeline.history(book: status.id) {
                        Console.output("    task \(event.taskID) \(event.kind): \(event.message)")
                    }
                }
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw CommandFailure.report(error)
        }
    }
}

/// `status --json`: `{"books": [...]}` with every key present (null when unknown).
struct StatusReport: Encodable {
    let books: [BookStatus]

    private enum Keys: String, CodingKey { case books }
    private enum BookKeys: String, CodingKey {
        case id, title, source, state, progress, chaptersDone, chaptersTotal, segmentsDone, segmentsTotal, etaSeconds,
            outputs, missingOutputs, error, warnings
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var list = container.nestedUnkeyedContainer(forKey: .books)
        for book in books {
            var item = list.nestedContainer(keyedBy: BookKeys.self)
            try item.encode(book.id, forKey: .id)
            try item.encode(book.title, forKey: .title)
            try item.encode(book.source, forKey: .source)
            try item.encode(book.state.rawValue, forKey: .state)
            try item.encode((book.progress * 10000).rounded() / 10000, forKey: .progress)
            try item.encode(book.chaptersDone, forKey: .chaptersDone)
            try item.encode(book.chaptersTotal, forKey: .chaptersTotal)
            try item.encode(book.segmentsDone, forKey: .segmentsDone)
            try item.encode(book.segmentsTotal, forKey: .segmentsTotal)
            try item.encode(book.etaSeconds.map { $0.rounded() }, forKey: .etaSeconds)
            try item.encode(book.outputs, forKey: .outputs)
            try item.encode(book.missingOutputs, forKey: .missingOutputs)
            try item.encode(book.error, forKey: .error)
            try item.encode(book.warnings, forKey: .warnings)
        }
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
