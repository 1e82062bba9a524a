import ArgumentParser
import RecitalPipeline

/// A command that changes one book's state in the job table; running workers see it on their next heartbeat.
protocol BookControl: AsyncParsableCommand {
    var global: GlobalOptions { get }
    var book: Int64 { get }
    func apply(_ pipeline: Pipeline) async throws -> String
}

extension BookControl {
    func run() async throws {
        let pipeline = try global.openPipeline()
        do {
            Console.output(try await apply(pipeline))
        } catch let error as PipelineError where error.kind == .notFound {
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
    func apply(_ pipeline: Pipeline) async throws -> String {
        try await pipeline.cancel(book)
        return "book \(book) cancelled"
    }
}

struct Pause: BookControl {
    static let configuration = CommandConfiguration(abstract: "Pause a book until `recital unpause`.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ pipeline: Pipeline) async throws -> String {
        try await pipeline.pause(book)
        return "book \(book) paused"
    }
}

struct Unpause: BookControl {
    static let configuration = CommandConfiguration(
        abstract: "Let a paused book continue (run `recital resume` to work on it)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ pipeline: Pipeline) async throws -> String {
        try await pipeline.unpause(book)
        return "book \(book) unpaused"
    }
}

struct Retry: BookControl {
    static let configuration = CommandConfiguration(abstract: "Give a failed or cancelled book's tasks fresh attempts.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    func apply(_ pipeline: Pipeline) async throws -> String {
        let count = try await pipeline.retry(book)
        return "book \(book): \(count) task\(count == 1 ? "" : "s") queued again"
    }
}

struct Priority: BookControl {
    static let configuration = CommandConfiguration(
        abstract: "Set a book's priority, 1 (first) to 4; its work still to do is claimed in that order."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The book id.") var book: Int64
    @Argument(help: "1 (first) to 4.") var priority: Int

    func validate() throws {
        guard (1...4).contains(priority) else { throw ValidationError("the priority must be 1 to 4") }
    }

    func apply(_ pipeline: Pipeline) async throws -> String {
        try await pipeline.setPriority(book, priority)
        return "book \(book): priority \(priority)"
    }
}
