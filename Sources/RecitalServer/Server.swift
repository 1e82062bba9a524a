internal import Foundation
public import HTTPTypes
public import Hummingbird
public import Logging
internal import NIOCore
internal import RecitalModel
public import RecitalPipeline
public import ServiceLifecycle
internal import Synchronization
internal import UnixSignals

/// `recital serve`: the API on Hummingbird and, unless `--workers 0`, workers that convert every
/// unfinished book in the job table, as services of one `ServiceGroup` that SIGTERM or SIGINT
/// shuts down gracefully (held work is given back).
public struct Server: Sendable {
    let pipeline: Pipeline
    let options: ServerOptions
    let wake = WorkSignal()

    public init(pipeline: Pipeline, options: ServerOptions) {
        self.pipeline = pipeline
        var options = options
        // In a cluster the book may be encoded on another machine: its files come back through the table.
        if pipeline.paths.isPostgres { options.settings.outputsInTable = true }
        self.options = options
    }

    /// The application, for tests that run it themselves (`onRunning` hears the bound port).
    public func application(
        logger: Logger = Logger(label: "recital-serve"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol & Service {
        let wake = self.wake
        let routes = APIRoutes(pipeline: pipeline, options: options, queued: { wake.fire() })
        let port = options.port
        return Application(
            router: routes.router(),
            configuration: ApplicationConfiguration(
                address: .hostname(options.host, port: options.port),
                serverName: "recital"
            ),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// Serves until SIGTERM or SIGINT.
    public func run(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: application(logger: logger, onRunning: onRunning))
        ]
        if options.converts {
            services.append(.init(service: Workers(pipeline: pipeline, options: options, wake: wake)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// A flag the API raises when a book is queued, so idle workers look at once.
    /// Converts every queued or running book, round after round, until shut down.
    struct Workers: Service {
        let pipeline: Pipeline
        let options: ServerOptions
        let wake: WorkSignal

        func run() async throws {
            do {
                try await work()
            } catch is CancellationError {
                // Shut down while waiting: nothing is held.
            }
        }

        private func work() async throws {
            try await cancelWhenGracefulShutdown {
                try await pipeline.work(options: WorkOptions(run: options.run), wake: wake)
            }
        }
    }
}

extension Server {
    /// Removes the files of books finished longer ago than the retention; returns which.
    @discardableResult
    public func purgeExpired(now: Double? = nil) async throws -> [Int64] {
        guard let hours = options.retentionHours else { return [] }
        return try await pipeline.purge(finishedBefore: (now ?? Date().timeIntervalSince1970) - hours * 3600)
    }

    /// Purges every ten minutes (and at start) until shut down.
    struct Retention: Service {
        let server: Server

        func run() async throws {
            do {
                try await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try await server.purgeExpired()
                        try await Task.sleep(for: .seconds(600))
                    }
                }
            } catch is CancellationError {
                // Shut down while waiting.
            }
        }
    }

    /// The token of `--token-file`: read when the file exists; otherwise, when one is needed (off
    /// loopback), made, written with mode 0600 and returned as `created`.
    public static func token(file: String?, needed: Bool) throws -> (token: String?, created: Bool) {
        guard let file else {
            guard !needed else {
                throw ServerSetupError(
                    "listening beyond loopback needs --token-file FILE (made when it does not exist)"
                )
            }
            return (nil, false)
        }
        if FileManager.default.fileExists(atPath: file) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ServerSetupError("\(file): cannot be read")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= 16 else { throw ServerSetupError("\(file): the token is shorter than 16 characters") }
            return (token, false)
        }
        guard needed else { return (nil, false) }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard
            FileManager.default.createFile(
                atPath: file,
                contents: Data((token + "\n").utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw ServerSetupError("\(file): cannot be written") }
        return (token, true)
    }
}

/// A reason `recital serve` cannot start, as one line.
public struct ServerSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
