import ArgumentParser
import Foundation
import RecitalPipeline

/// Options every job command shares (DESIGN.md: `--db` / `RECITAL_DB`, `--home` / `RECITAL_HOME`).
struct GlobalOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The job database: a SQLite file (default <home>/recital.sqlite) or postgres://user@host:port/database, which many machines share (env RECITAL_DB).",
            valueName: "path|url"
        )
    )
    var db: String?

    @Option(help: ArgumentHelp("Folder for the database and checkpoint audio (env RECITAL_HOME).", valueName: "dir"))
    var home: String?

    @Option(
        name: .customLong("audio-store"),
        help: ArgumentHelp(
            "Keep segment audio as files in this folder, which every worker must reach (default: <home>/audio, or inside a PostgreSQL job table) (env RECITAL_AUDIO_STORE).",
            valueName: "dir"
        )
    )
    var audioStore: String?

    var paths: RecitalPaths {
        RecitalPaths.resolve(
            home: home,
            database: db,
            audioStore: audioStore,
            environment: ProcessInfo.processInfo.environment
        )
    }

    /// Opens the pipeline (and its job table), creating the home folder on first use.
    func openPipeline(
        patience: Double = 120,
        progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in }
    ) throws -> Pipeline {
        // How often held work renews its lease and sees a pause or cancel from another process;
        // tests shorten it to see an encode stop quickly.
        let heartbeat =
            ProcessInfo.processInfo.environment["RECITAL_HEARTBEAT_SECONDS"].flatMap(Double.init).map {
                max(0.2, min($0, 20))
            } ?? 10
        do {
            return try Pipeline(
                paths: paths,
                patience: .milliseconds(Int64(max(0, patience) * 1000)),
                heartbeat: .milliseconds(Int64(heartbeat * 1000)),
                progress: progress
            )
        } catch {
            throw CommandFailure.report(error)
        }
    }
}

/// Turns failures into one line on stderr and the exit code DESIGN.md assigns.
enum CommandFailure {
    static func report(_ error: any Error) -> ExitCode {
        switch error {
        case let error as PipelineError:
            Console.error("error: \(error)")
            switch error.kind {
            case .storage, .database: return .transientFailure
            case .configuration: return ExitCode(64)
            case .notFound, .invalidRequest: return .failure
            case .unavailable: return ExitCode(69)
            }
        case let error as ExitCode:
            return error
        default:
            Console.error("error: \(error)")
            return .failure
        }
    }
}
