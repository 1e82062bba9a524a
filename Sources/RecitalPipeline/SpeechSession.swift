public import RecitalModel
public import RecitalSpeech

/// Provides a synthesizer for one voice profile for the length of a closure: for the built-in voice,
/// that means starting the espeak-ng speech server on a free loopback port and stopping it after.
public enum SpeechSession {
    public static func with<T: Sendable>(
        _ profile: VoiceProfile,
        apiKey: String?,
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: @Sendable (any SpeechSynthesizer) async throws -> T
    ) async throws -> T {
        let voice = SpeechRoutes.Voice(book: 0, profile: profile, apiKey: apiKey)
        return try await SpeechRoutes.with([voice], concurrency: nil, clock: clock) { routes in
            guard let route = routes.route(for: 0) else { throw PipelineError(.configuration, "no voice was set up") }
            return try await body(route.synthesizer)
        }
    }
}
