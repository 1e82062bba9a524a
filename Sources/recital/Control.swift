import ArgumentParser
import RecitalJobs

/// A command that changes one book's state in the job table; running workers see it on their next heartbeat.
protocol BookControl: AsyncParsableCommand {
    var global: GlobalOptions { get }
    var book: Int64 { get }
    func apply(_ store: JobStore) async throws -> String
}

extension BookControl {
    func run() async throws {
        let (_, store) = try global.openStore()
        do {
            _ = try await store.book(book)
            Console.output(try await apply(store))
        } catch let error as JobError where error.code == .notFound {
            Console.error("error: no book \(book)")
            throw ExitCode.failure
        } catch {
            throw CommandFailure.report(error)
        }
    }
}

struct Cancel: BookControl {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a book; a process converting it stops its work on it."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ store: JobStore) async throws -> String {
        try await store.cancel(book)
        return "book \(book) cancelled"
    }
}

struct Pause: BookControl {
    static let configuration = CommandConfiguration(abstract: "Pause a book until `recital unpause`.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ store: JobStore) async throws -> String {
        try await store.pause(book)
        return "book \(book) paused"
    }
}

struct Unpause: BookControl {
    static let configuration = CommandConfiguration(
        abstract: "Let a paused book continue (run `recital resume` to work on it)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ store: JobStore) async throws -> String {
        try await store.unpause(book)
        return "book \(book) unpaused"
    }
}

struct Retry: BookControl {
    static let configuration = CommandConfiguration(abstract: "Give a failed or cancelled book's tasks fresh attempts.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ store: JobStore) async throws -> String {
        let count = try await store.retry(book)
        return "book \(book): \(count) task\(count == 1 ? "" : "s") queued again"
    }
}
