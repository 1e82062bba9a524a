import ArgumentParser
import Foundation
import RecitalJobs
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
        let (paths, store) = try global.openStore()
        var ids: [Int64] = []
        do {
            if books.isEmpty {
                ids = try await store.unfinishedBooks()
            } else {
                for name in books {
                    if let id = Int64(name) {
                        _ = try await store.book(id)
                        ids.append(id)
                    } else {
                        let path = URL(fileURLWithPath: name).standardizedFileURL.path
                        guard let id = try await store.books(withSource: path).first else {
                            throw ValidationError("no book in the job table comes from \(name)")
                        }
                        ids.append(id)
                    }
                }
            }
            // Failed books are retried from scratch attempts; paused or cancelled ones are left alone.
            for id in ids where try await store.status(book: id).first?.state == .failed {
                _ = try await store.retry(id)
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CommandFailure.report(error)
        }
        guard !ids.isEmpty else {
            Console.error("nothing to resume")
            return
        }
        // Books queued with different voices run one group after another.
        var groups: [String: [Int64]] = [:]
        for id in ids { groups[try await store.book(id).settingsJSON, default: []].append(id) }
        let (runner, reporter, stop) = Converter.forCommand(store: store, paths: paths, patience: patience)
        var outcome = SynthesisOutcome.finished
        for (json, group) in groups.sorted(by: { $0.value[0] < $1.value[0] }) {
            guard var settings = ConversionSettings.decode(json) else {
                Console.error("error: books \(group.map(String.init).joined(separator: ", ")) have unreadable settings")
                continue
            }
            if let ttsUrl { settings.voice.url = ttsUrl }
            let apiKey = try VoiceOptions.apiKey(for: settings.voice)
            let chosen = settings
            do {
                outcome = try await withStopOnSignals(stop) {
                    try await runner.convert(
                        books: group,
                        settings: chosen,
                        apiKey: apiKey,
                        concurrency: concurrency
                    )
                }
            } catch {
                reporter.finish()
                throw CommandFailure.report(error)
            }
            if outcome != .finished { break }
        }
        reporter.finish()
        try await Summary.finish(outcome: outcome, books: ids, store: store, paths: paths, unreadable: false)
    }
}
