public import RecitalMedia

/// One text to speak.
public struct SynthesisRequest: Sendable, Equatable {
    public var text: String
    /// The book's language, for servers that pick a voice or pronunciation by it.
    public var language: String?
    /// Where the text stands in book order (book, chapter, segment): of the requests waiting for
    /// a permit of a ``RequestLimiter``, the earliest goes first.
    public var order: [Int]

    public init(text: String, language: String? = nil, order: [Int] = []) {
        self.text = text
        self.language = language
        self.order = order
    }
}

/// Anything that turns text into mono PCM at a fixed rate.
public protocol SpeechSynthesizer: Sendable {
    /// The rate every answer comes back at.
    var sampleRate: Int { get }
    /// The longest text one request may carry, when the server has a limit.
    var maxCharacters: Int? { get }
    /// Speaks `request`, retrying transient failures as its policy allows.
    /// - Parameters:
    ///   - limiter: bounds requests in flight; a permit is held only while the server has the
    ///     request, not while the answer is decoded or a retry waits, so the server stays busy.
    ///   - onRetry: told about each retry, so it can be logged where users see it.
    func synthesize(
        _ request: SynthesisRequest,
        limiter: RequestLimiter?,
        onRetry: @Sendable (SpeechError, Int, Duration) async -> Void
    ) async throws(SpeechError) -> PCMAudio
}

extension SpeechSynthesizer {
    /// Speaks `request` with no bound on requests in flight.
    public func synthesize(
        _ request: SynthesisRequest,
        onRetry: @Sendable (SpeechError, Int, Duration) async -> Void
    ) async throws(SpeechError) -> PCMAudio {
        try await synthesize(request, limiter: nil, onRetry: onRetry)
    }
}
