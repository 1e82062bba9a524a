public import AsyncHTTPClient
internal import Foundation
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
public import RecitalMedia
public import RecitalModel

/// Synthesizes through an HTTP TTS server described by a ``VoiceProfile``: OpenAI-compatible,
/// Piper or Coqui. Answers are sniffed, decoded with FFmpeg, resampled to one rate and checked
/// before they are accepted; transient failures are retried with backoff on an injected clock.
public struct HTTPSpeechClient: SpeechSynthesizer {
    public let profile: VoiceProfile
    private let baseURL: String
    private let apiKey: String?
    private let client: HTTPClient
    private let retry: RetryPolicy
    private let clock: any Clock<Duration>
    private let random: @Sendable () -> Double
    /// The process's HTTP client for TTS servers. Connection attempts are not retried inside the
    /// client (our own policy retries, visibly), so an unreachable server is reported at once.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The largest answer accepted; a segment of speech is a few megabytes at most.
    public static let maxResponseBytes = 64 * 1024 * 1024

    /// - Parameters:
    ///   - profile: the server and voice; `url` must be set.
    ///   - apiKey: the key, read by the caller from the variable the profile names. Never logged.
    ///   - clock: what backoff sleeps on (tests pass one that does not really sleep).
    public init(
        profile: VoiceProfile,
        apiKey: String? = nil,
        client: HTTPClient = HTTPSpeechClient.sharedClient,
        retry: RetryPolicy = .request,
        clock: any Clock<Duration> = ContinuousClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) throws(SpeechError) {
        guard let url = profile.url, let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https",
            parsed.host != nil
        else {
            throw SpeechError(.permanent, "voice '\(profile.name)': '\(profile.url ?? "")' is not an http(s) URL")
        }
        self.profile = profile
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.apiKey = apiKey
        self.client = client
        self.retry = retry
        self.clock = clock
        self.random = random
    }

    public var sampleRate: Int { profile.outputSampleRate }

    public var maxCharacters: Int? {
        profile.maxCharacters ?? (profile.backend == .openai ? 4096 : nil)
    }

    public func synthesize(
        _ request: SynthesisRequest,
        limiter: RequestLimiter?,
        onRetry: @Sendable (SpeechError, Int, Duration) async -> Void
    ) async throws(SpeechError) -> PCMAudio {
        var attempt = 1
        while true {
            do {
                return try await once(request, limiter: limiter)
            } catch {
                // A cancelled request is abandoned, not retried (the run is stopping).
                if Task.isCancelled { throw SpeechError(.transient, "cancelled") }
                guard error.kind == .transient, attempt < retry.maxAttempts else { throw error }
                let delay = retry.delay(attempt: attempt, serverDelay: error.retryAfter, random: random())
                await onRetry(error, attempt, delay)
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    throw SpeechError(.transient, "cancelled while waiting to retry")
                }
                attempt += 1
            }
        }
    }

    /// One request, no retries.
    public func once(_ request: SynthesisRequest, limiter: RequestLimiter? = nil) async throws(SpeechError) -> PCMAudio
    {
        let http = try makeRequest(request)
        let (status, retryAfter, bytes) =
            if let limiter {
                try await limiter.withPermit(order: request.order) { () async throws(SpeechError) in
                    try await exchange(http)
                }
            } else {
                try await exchange(http)
            }
        guard (200..<300).contains(status) else {
            let kind = SpeechError.kind(ofStatus: status)
            throw SpeechError(
                kind,
                "\(host) answered HTTP \(status): \(ErrorBody.message(bytes))",
                httpStatus: status,
                retryAfter: retryAfter
            )
        }
        return try decode(bytes, text: request.text)
    }

    /// Sends the request and collects the whole answer: the part during which the server is busy.
    /// The answer is gathered on the connection's event loop and handed over once, rather than
    /// chunk by chunk through an async sequence, which costs a task switch per chunk.
    private func exchange(
        _ http: HTTPClient.Request
    ) async throws(SpeechError) -> (status: Int, retryAfter: Duration?, body: [UInt8]) {
        let timeout = TimeAmount.milliseconds(Int64((profile.timeoutSeconds ?? 120) * 1000))
        let task = client.execute(
            request: http,
            delegate: ResponseAccumulator(request: http, maxBodySize: Self.maxResponseBytes),
            deadline: .now() + timeout
        )
        do {
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            let body = response.body.map { Array($0.readableBytesView) } ?? []
            return (Int(response.status.code), Self.retryAfter(response.headers), body)
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw SpeechError(
                .transient,
                "\(host): answer larger than \(Self.maxResponseBytes / 1_048_576) MB",
                fromServer: true
            )
        } catch {
            throw SpeechError(.transient, "\(host): \(Self.describe(error))", cause: error)
        }
    }

    private var host: String {
        URL(string: baseURL)?.host.map { h in URL(string: baseURL)?.port.map { "\(h):\($0)" } ?? h } ?? baseURL
    }

    // MARK: Requests

    func makeRequest(_ request: SynthesisRequest) throws(SpeechError) -> HTTPClient.Request {
        var body: [String: Any] = [:]
        let url: String
        var headers = HTTPHeaders()
        var payload: HTTPClient.Body?
        switch profile.backend {
        case .openai, .builtin:
            let path =
                baseURL.hasSuffix("/audio/speech")
                ? "" : (baseURL.hasSuffix("/v1") ? "/audio/speech" : "/v1/audio/speech")
            url = baseURL + path
            body["model"] = profile.model ?? "tts-1"
            body["input"] = request.text
            body["voice"] = profile.voice ?? (profile.backend == .builtin ? (request.language ?? "en") : "alloy")
            body["response_format"] = profile.format ?? "wav"
            if let speed = profile.speed { body["speed"] = speed }
        case .piper:
            url = baseURL + (baseURL.hasSuffix("/synthesize") ? "" : "/synthesize")
            body["text"] = request.text
            if let voice = profile.voice { body["voice"] = voice }
            if let speed = profile.speed, speed > 0 { body["length_scale"] = 1 / speed }
        case .coqui:
            var components = URLComponents(string: baseURL + (baseURL.hasSuffix("/api/tts") ? "" : "/api/tts"))
            var items = [URLQueryItem(name: "text", value: request.text)]
            if let voice = profile.voice { items.append(URLQueryItem(name: "speaker_id", value: voice)) }
            if let language = request.language?.split(separator: "-").first {
                items.append(URLQueryItem(name: "language_id", value: String(language)))
            }
            components?.queryItems = items
            guard let coquiURL = components?.url?.absoluteString else {
                throw SpeechError(.permanent, "cannot build a Coqui URL from '\(baseURL)'")
            }
            url = coquiURL
        }
        if profile.backend != .coqui {
            for (key, value) in profile.extra ?? [:] { body[key] = Self.foundationValue(value) }
            guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
                throw SpeechError(.permanent, "cannot encode the request body")
            }
            headers.add(name: "Content-Type", value: "application/json")
            payload = .bytes(data)
        }
        headers.add(name: "Accept", value: "audio/*, */*")
        if let apiKey, !apiKey.isEmpty { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        do {
            return try HTTPClient.Request(url: url, method: .POST, headers: headers, body: payload)
        } catch {
            throw SpeechError(.permanent, "voice '\(profile.name)': cannot send to '\(url)': \(error)")
        }
    }

    private static func foundationValue(_ value: JSONValue) -> Any {
        switch value {
        case .string(let string): string
        case .number(let number): number
        case .bool(let bool): bool
        case .null: NSNull()
        case .array(let array): array.map(foundationValue)
        case .object(let object): object.mapValues(foundationValue)
        }
    }

    // MARK: Answers

    func decode(_ bytes: [UInt8], text: String) throws(SpeechError) -> PCMAudio {
        guard !bytes.isEmpty else {
            throw SpeechError(.transient, "\(host) answered 200 with an empty body", fromServer: true)
        }
        let audio: PCMAudio
        do {
            if AudioSniffer.sniff(bytes) == nil {
                if profile.format == "pcm" {
                    audio = try AudioDecoder.decode(
                        bytes,
                        sampleRate: sampleRate,
                        rawPCMRate: profile.sampleRate ?? 24_000
                    )
                } else {
                    let what =
                        AudioSniffer.looksLikeText(bytes) ? "text: \(ErrorBody.message(bytes))" : "unrecognised bytes"
                    throw SpeechError(.transient, "\(host) answered 200 but not with audio (\(what))", fromServer: true)
                }
            } else {
                audio = try AudioDecoder.decode(bytes, sampleRate: sampleRate)
            }
        } catch let error as SpeechError {
            throw error
        } catch {
            throw SpeechError(
                .transient,
                "\(host) answered audio that does not decode: \(error)",
                cause: error,
                fromServer: true
            )
        }
        try Self.validate(audio, text: text, speed: profile.speed ?? 1, host: host)
        return audio
    }

    /// Rejects answers whose length cannot be speech of this text: empty, far too short (a
    /// truncated body) or absurdly long.
    static func validate(_ audio: PCMAudio, text: String, speed: Double, host: String) throws(SpeechError) {
        let characters = Double(text.count)
        let fast = max(speed, 1)
        let slow = min(max(speed, 0.25), 1)
        let shortest = min(0.05 + characters / (60 * fast), 5)
        let longest = characters / (1.5 * slow) + 30
        guard audio.duration >= shortest, audio.duration <= longest else {
            let seconds = String(format: "%.2f", audio.duration)
            throw SpeechError(
                .transient,
                "\(host) answered \(seconds) s of audio for \(text.count) characters, which cannot be right",
                fromServer: true
            )
        }
    }

    // MARK: Helpers

    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap(Double.init) {
            return .milliseconds(Int64(milliseconds))
        }
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return .milliseconds(Int64(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: value) {
            return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
        }
        return nil
    }

    /// A transport failure in words, classified by the error's type and code.
    static func describe(_ error: any Error) -> String {
        let timeout = "no answer before the timeout"
        let refused = "connection refused (is the server running?)"
        let closed = "the server closed the connection before answering"
        func errno(_ code: Int32) -> String? {
            switch code {
            case ECONNREFUSED: refused
            case ECONNRESET, EPIPE: closed
            case ETIMEDOUT: timeout
            default: nil
            }
        }
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return timeout
            case .remoteConnectionClosed: return closed
            default: break
            }
        case let error as NIOConnectionError:
            // Every address tried failed; the first reason stands for them.
            for attempt in error.connectionErrors {
                if let io = attempt.error as? IOError, let words = errno(io.errnoCode) { return words }
            }
            if error.dnsAAAAError != nil || error.dnsAError != nil { return "the server's name does not resolve" }
        case let error as IOError:
            if let words = errno(error.errnoCode) { return words }
        case let error as ChannelError:
            if case .connectTimeout = error { return timeout }
            if case .ioOnClosedChannel = error { return closed }
        default: break
        }
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) : text
    }
}
