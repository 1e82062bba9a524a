import ArgumentParser
import Logging

@main
struct Recital: AsyncParsableCommand {
    /// Logs go to stderr (stdout carries results only); the executable alone configures logging.
    static let bootstrapLogging: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }()

    static func main() async {
        _ = bootstrapLogging
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "recital",
        abstract: "Turns EPUB and PDF books into audiobooks through any HTTP text-to-speech server.",
        discussion: """
            Exit codes: 0 done; 1 failed; 64 usage; 65 unreadable input; 75 stopped by a transient \
            failure that `resume` can continue; 130 interrupted with state saved.
            """,
        version: "0.1.0",
        subcommands: [
            Inspect.self, Convert.self, Watch.self, Serve.self, Worker.self, Resume.self, Encode.self, Status.self,
            Cancel.self,
            Pause.self,
            Unpause.self,
            Retry.self, Priority.self, Delete.self, Database.self, Voices.self, SpeechServer.self,
        ]
    )
}
