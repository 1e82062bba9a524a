internal import Foundation
internal import Logging
public import RecitalModel
public import RecitalSpeech

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
        // Requests still being spoken when the body ends finish within seconds.
        return try await withRunningApplication(app, ports: ports, grace: .seconds(10)) { port in
            var local = profile
            local.url = "http://127.0.0.1:\(port)"
            return try await body(try HTTPSpeechClient(profile: local, clock: clock))
        }
    }
}
