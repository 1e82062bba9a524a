/// When to try again after a transient failure: capped exponential backoff with jitter.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Fraction of the delay added or removed at random (0.25 = ±25 %).
    public var jitter: Double

    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration, jitter: Double = 0.25) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// Retrying one request to a TTS server: a few quick tries.
    public static let request = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(500), maxDelay: .seconds(30))
    /// Retrying a whole task after its requests gave up: slower, more patient.
    public static let task = RetryPolicy(maxAttempts: 8, baseDelay: .seconds(5), maxDelay: .seconds(300))

    /// The wait before retry number `attempt` (1 = the first retry).
    /// - Parameters:
    ///   - serverDelay: a `Retry-After` the server asked for; honoured up to `maxDelay`.
    ///   - random: a value in 0...1 (injected so tests are deterministic).
    public func delay(attempt: Int, serverDelay: Duration? = nil, random: Double) -> Duration {
        if let serverDelay { return min(max(serverDelay, .zero), maxDelay) }
        let exponent = Double(max(0, min(attempt - 1, 30)))
        let base = baseDelay.seconds * pow2(exponent)
        let capped = min(base, maxDelay.seconds)
        let factor = 1 + jitter * (2 * min(max(random, 0), 1) - 1)
        return .milliseconds(Int64((min(capped * factor, maxDelay.seconds) * 1000).rounded()))
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
