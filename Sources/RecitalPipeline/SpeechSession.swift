internal import Foundation
internal import Logging
public import RecitalModel
public import RecitalSpeech
internal import ServiceLifecycle

/// Provides a synthesizer for a voice profile for the length of a closure: for the built-in voice,
/// that means starting the espeak-ng speech server on a free loopback port and stopping it after.
public enum SpeechSession {
    public static func with<T: Sendable>(
        _ profile: VoiceProfile,
        apiKey: String?,
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: @Sendable (any SpeechSynthesizer) async throws -> T
    ) async throws -> T {
        guard profile.backend == .builtin, profile.url == nil else {
            return try await body(try HTTPSpeechClient(profile: profile, apiKey: apiKey, clock: clock))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        // The embedded server is an implementation detail: only its failures are worth showing.
        var logger = Logger(label: "recital-speech")
        logger.logLevel = .critical
        let app = BuiltinSpeechServer.application(port: 0, logger: logger) { continuation.yield($0) }
        // Shut down gracefully, never cancelled: cancelling a NIO server that has accepted a
        // connection not yet handed to its loop traps (apple/swift-nio#3481).
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // Requests still being spoken when the body ends finish within seconds.
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let server = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else { throw CancellationError() }
                var local = profile
                local.url = "http://127.0.0.1:\(port)"
                let result = try await body(try HTTPSpeechClient(profile: local, clock: clock))
                await server.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                // Waited for here: leaving the group by a throw would cancel the server instead.
                await server.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
