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
            // Watched folders and files belong to the whole table, not to one book.
            let inboxes = book == nil ? try await pipeline.watchStatus() : []
            let workers = book == nil ? try await pipeline.workers() : []
            if let book, books.isEmpty {
                Console.error("error: no book \(book)")
                throw ExitCode.failure
            }
            if json {
                Console.output(try StatusReport(books: books, inboxes: inboxes, workers: workers).jsonString())
                return
            }
            if books.isEmpty { Console.output("no books") }
            defer {
                for inbox in inboxes { Console.output(Self.describe(inbox)) }
                let now = Date().timeIntervalSince1970
                for worker in workers.sorted(by: { ($0.host, $0.startedAt) < ($1.host, $1.startedAt) }) {
                    Console.output(Self.describe(worker, now: now))
                }
            }
            for status in books {
                let percent = String(format: "%.0f%%", status.progress * 100)
                var line =
                    "\(status.id)  \(status.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(percent.leftPadded(to: 4))  "
                line +=
                    "\(status.chaptersDone)/\(status.chaptersTotal) chapters, \(status.segmentsDone)/\(status.segmentsTotal) segments, \(status.chaptersEncoded)/\(status.chaptersTotal) encoded"
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

extension Status {
    /// A worker process: its host, how long since it last showed life, and what it holds.
    static func describe(_ worker: WorkerStatus, now: Double) -> String {
        let age = max(0, Int((now - worker.heartbeatAt).rounded()))
        return
            "worker \(worker.host) pid \(worker.pid): heartbeat \(age) s ago, holding \(worker.holding) task\(worker.holding == 1 ? "" : "s") (\(worker.id))"
    }

    /// An inbox: who scans it, its folders that are polled and why, and each file's state.
    static func describe(_ inbox: WatchedInbox) -> String {
        let polled = inbox.folders.filter { $0.mode == .polling }
        var line = "watched \(inbox.path): \(inbox.owner.map { "scanned by \($0)" } ?? "no watcher running")"
        line += ", \(inbox.folders.count - polled.count) folders by inotify, \(polled.count) polled"
        for folder in polled { line += "\n    polled \(folder.path): \(folder.reason ?? "")" }
        for file in inbox.files {
            line +=
                "\n    \(file.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(file.relativePath)"
            if let book = file.book { line += " (book \(book))" }
            if let reason = file.reason { line += ": \(reason)" }
        }
        return line
    }
}

/// `status --json`: `{"books": [...], "watched": [...]}` with every key present (null when unknown).
struct StatusReport: Encodable {
    let books: [BookStatus]
    var inboxes: [WatchedInbox] = []
    var workers: [WorkerStatus] = []

    private enum Keys: String, CodingKey { case books, watched, workers }
    private enum WorkerKeys: String, CodingKey { case id, host, pid, heartbeatAgeSeconds, holding }
    private enum BookKeys: String, CodingKey {
        case id, title, source, state, progress, chaptersDone, chaptersTotal, chaptersEncoded, segmentsDone,
            segmentsTotal, etaSeconds, outputs, missingOutputs, error, warnings
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
            try item.encode(book.chaptersEncoded, forKey: .chaptersEncoded)
            try item.encode(book.segmentsDone, forKey: .segmentsDone)
            try item.encode(book.segmentsTotal, forKey: .segmentsTotal)
            try item.encode(book.etaSeconds.map { $0.rounded() }, forKey: .etaSeconds)
            try item.encode(book.outputs, forKey: .outputs)
            try item.encode(book.missingOutputs, forKey: .missingOutputs)
            try item.encode(book.error, forKey: .error)
            try item.encode(book.warnings, forKey: .warnings)
        }
        // Inboxes, their folders (mode and why) and files (state, reason, book) as the table has them.
        try container.encode(inboxes, forKey: .watched)
        // Processes working the table, by host, with how long since each renewed a lease.
        let now = Date().timeIntervalSince1970
        var processes = container.nestedUnkeyedContainer(forKey: .workers)
        for worker in workers.sorted(by: { ($0.host, $0.startedAt) < ($1.host, $1.startedAt) }) {
            var item = processes.nestedContainer(keyedBy: WorkerKeys.self)
            try item.encode(worker.id, forKey: .id)
            try item.encode(worker.host, forKey: .host)
            try item.encode(worker.pid, forKey: .pid)
            try item.encode(max(0, (now - worker.heartbeatAt).rounded()), forKey: .heartbeatAgeSeconds)
            try item.encode(worker.holding, forKey: .holding)
        }
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
