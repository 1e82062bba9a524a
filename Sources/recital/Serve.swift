import ArgumentParser
import Foundation
import Logging
import RecitalPipeline
import RecitalServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the JSON API over the job table and convert what is uploaded, until stopped.",
        discussion: """
            Listens on 127.0.0.1:8080 by default. Any other address needs a token (--token-file: read, \
            or made and printed once when the file does not exist); requests then send \
            Authorization: Bearer <token>. Requests whose Host is not localhost, a loopback address \
            or an --allowed-host are refused. SIGTERM or SIGINT stops gracefully (exit 0).
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var voiceOptions: VoiceOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var queue: QueueOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: ArgumentHelp("File with the bearer token (made when missing and needed).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Another name clients may reach this server by.", valueName: "name"))
    var allowedHost: [String] = []

    @Option(help: "Largest upload, MiB.")
    var maxUploadMb = 512

    @Option(help: "Hours a finished book's files are kept; then its results answer 410 Gone (default: forever).")
    var retentionHours: Double?

    @Option(help: "Requests in flight at once (default: the voice profile's); 0 serves the API only.")
    var workers: Int?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxUploadMb >= 1 else { throw ValidationError("--max-upload-mb must be at least 1") }
        if let workers, workers < 0 { throw ValidationError("--workers must be 0 or more") }
        if let retentionHours, retentionHours <= 0 { throw ValidationError("--retention-hours must be positive") }
        _ = try output.encodeSettings()
    }

    func run() async throws {
        let paths = global.paths
        let settings = try queue.settings(voice: voiceOptions, output: output, home: paths.home)
        var options = ServerOptions(settings: settings, home: paths.home)
        options.host = host
        options.port = port
        options.allowedHosts = allowedHost
        options.priority = queue.priority
        options.maxUpload = maxUploadMb << 20
        options.converts = workers != 0
        options.retentionHours = retentionHours
        options.run = RunOptions(concurrency: workers == 0 ? nil : workers, overwrite: output.overwrite)
        do {
            let (token, created) = try Server.token(file: tokenFile, needed: !options.isLoopback)
            options.token = token
            if created, let token, let tokenFile {
                Console.error("serve: made a token in \(tokenFile) (shown once): \(token)")
            }
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(64)
        }
        let pipeline = try global.openPipeline(patience: queue.patience, progress: ServiceLog.event)
        var logger = Logger(label: "recital-serve")
        logger.logLevel = .warning
        let server = Server(pipeline: pipeline, options: options)
        let shown = host.contains(":") ? "[\(host)]" : host
        let protected = options.token == nil ? "" : " (token required)"
        do {
            try await server.run(logger: logger) { bound in
                Console.error("serving http://\(shown):\(bound)/api/v1\(protected)")
            }
        } catch {
            throw CommandFailure.report(error)
        }
    }
}
