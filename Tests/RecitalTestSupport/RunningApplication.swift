public import Hummingbird
import Logging
import ServiceLifecycle

/// Runs an HTTP application for the length of `body`, which receives the port it listens on (from
/// `ports`, fed by the application's `onServerRunning`), then shuts it down gracefully. Cancelling
/// a NIO server instead traps when a connection has been accepted but not yet handed to the
/// server's loop (apple/swift-nio#3481), which a client closing at the end of a test can cause.
public func withRunningApplication<App: ApplicationProtocol, T: Sendable>(
    _ app: App,
    ports: AsyncStream<Int>,
    _ body: (Int) async throws -> T
) async throws -> T {
    var logger = Logger(label: "recital-test-server")
    logger.logLevel = .critical
    var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
    // A request a fault keeps hanging is cancelled after this; it has been handed to the server's
    // loop, so cancelling is safe by then.
    configuration.maximumGracefulShutdownDuration = .seconds(1)
    let services = ServiceGroup(configuration: configuration)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        do {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result = try await body(port)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            // Waited for here: leaving the group by a throw would cancel the server instead.
            await services.triggerGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}
