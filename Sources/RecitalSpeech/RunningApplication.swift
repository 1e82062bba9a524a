public import Hummingbird
internal import Logging
internal import ServiceLifecycle

/// Runs an HTTP application for the length of `body`, which receives the port it listens on (from
/// `ports`, fed by the application's `onServerRunning`), then shuts it down gracefully, giving
/// requests in flight up to `grace` before they are cancelled. Cancelling the server itself instead
/// traps when a connection has been accepted but not yet handed to the server's loop
/// (apple/swift-nio#3481), which a client closing as the body ends can cause.
public func withRunningApplication<App: ApplicationProtocol, T: Sendable>(
    _ app: App,
    ports: AsyncStream<Int>,
    grace: Duration,
    _ body: (Int) async throws -> T
) async throws -> T {
    var logger = Logger(label: "recital-server")
    logger.logLevel = .critical
    var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
    configuration.maximumGracefulShutdownDuration = grace
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
