import ArgumentParser
import Foundation
import RecitalJobs
import RecitalPipeline

/// Options every job command shares (DESIGN.md: `--db` / `RECITAL_DB`, `--home` / `RECITAL_HOME`).
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The job database (default: <home>/recital.sqlite; env RECITAL_DB).", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Folder for the database and checkpoint audio (env RECITAL_HOME).", valueName: "dir"))
    var home: String?

    var paths: RecitalPaths {
        RecitalPaths.resolve(home: home, database: db, environment: ProcessInfo.processInfo.environment)
    }

    /// Opens the job table, creating the home folder on first use.
    func openStore() throws -> (RecitalPaths, JobStore) {
        let paths = self.paths
        do {
            try paths.prepare()
            return (paths, try JobStore(path: paths.database))
        } catch {
            throw CommandFailure.report(error)
        }
    }
}

/// Turns failures into one line on stderr and the exit code DESIGN.md assigns.
enum CommandFailure {
    static func report(_ error: any Error) -> ExitCode {
        switch error {
        case let error as JobError:
            Console.error("error: \(error)")
            return error.code == .locked || error.code == .database ? .transientFailure : .failure
        case let error as PipelineError:
            Console.error("error: \(error)")
            return error.kind == .storage ? .transientFailure : ExitCode(64)
        case let error as ExitCode:
            return error
        default:
            Console.error("error: \(error)")
            return .failure
        }
    }
}
