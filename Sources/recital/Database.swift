import ArgumentParser
import Foundation
import RecitalPipeline

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the job table itself.",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole library (books, checkpoints and their audio, tasks, history) to another job table.",
            discussion: """
                For a library that outgrows one machine: --from a SQLite file --to postgres://…, and \
                back. The target must be empty; the source is left as it was. Checkpoint audio moves \
                into a PostgreSQL table (or into --audio-store DIR), and out of it into files under \
                --home for a SQLite target. Stop every worker of the source first.
                """
        )

        @Option(
            help: ArgumentHelp(
                "The job table to copy (default: --db, or <home>/recital.sqlite).",
                valueName: "path|url"
            )
        )
        var from: String?

        @Option(help: ArgumentHelp("The empty job table to copy into.", valueName: "path|url"))
        var to: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            // Audio files of the source are where its records say; only the target's placement differs.
            var sourceOptions = global
            sourceOptions.db = from ?? global.paths.database
            sourceOptions.audioStore = nil
            let source = sourceOptions.paths
            var target = global.paths
            target.database = to
            guard source.database != target.database else {
                throw ValidationError("--from and --to name the same job table")
            }
            if !source.isPostgres, !FileManager.default.fileExists(atPath: source.database) {
                Console.error("error: \(source.database): no such job table")
                throw ExitCode(66)
            }
            let pipeline = try sourceOptions.openPipeline()
            do {
                let report = try await pipeline.copy(to: target) { line in Console.error(line) }
                var summary =
                    "copied \(report.books) book\(report.books == 1 ? "" : "s") (\(report.segments) segments, "
                    + "\(report.checkpoints) checkpoints) to \(target.database)"
                if report.audioMoved > 0 { summary += "; \(report.audioMoved) segments' audio moved" }
                if report.audioMissing > 0 {
                    summary += "; \(report.audioMissing) segments had no audio and will be synthesized again"
                }
                Console.output(summary)
            } catch {
                throw CommandFailure.report(error)
            }
        }
    }
}
