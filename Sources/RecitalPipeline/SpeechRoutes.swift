internal import Foundation
internal import Logging
internal import RecitalJobs
internal import RecitalMedia
public import RecitalModel
public import RecitalSpeech

/// The synthesizers of one run, chosen per book: each book speaks through its own stored voice, and
/// requests are bounded per server (URL and key), so books on two servers proceed side by side and a
/// slow server holds back only its own books.
public struct SpeechRoutes: Sendable {
    /// How one book's segments are spoken.
    public struct Route: Sendable {
        public var synthesizer: any SpeechSynthesizer
        public var limiter: RequestLimiter
        /// The server's identity (URL and key fingerprint), never the key itself.
        public var server: String
        public var capacity: Int
        /// Requests in flight through this server across every worker of the job table, if limited.
        public var globalLimit: Int?

        /// Requests one chapter keeps in flight: under a global limit one, so that chapters held
        /// across the cluster count requests.
        public var window: Int { globalLimit == nil ? capacity : 1 }
    }

    /// A book and the voice it is spoken with.
    public struct Voice: Sendable {
        public var book: Int64
        public var profile: VoiceProfile
        public var apiKey: String?

        public init(book: Int64, profile: VoiceProfile, apiKey: String?) {
            self.book = book
            self.profile = profile
            self.apiKey = apiKey
        }
    }

    public private(set) var byBook: [Int64: Route] = [:]

    /// The servers of this run with their books and request bound, in a stable order.
    public var servers: [(server: String, capacity: Int, globalLimit: Int?, books: [Int64])] {
        var order: [String] = []
        var grouped: [String: (Route, [Int64])] = [:]
        for (book, route) in byBook.sorted(by: { $0.key < $1.key }) {
            if grouped[route.server] == nil { order.append(route.server) }
            grouped[route.server, default: (route, [])].1.append(book)
        }
        return order.map { server in
            let (route, books) = grouped[server]!
            return (server: server, capacity: route.capacity, globalLimit: route.globalLimit, books: books)
        }
    }

    public func route(for book: Int64) -> Route? { byBook[book] }

    /// Builds the routes for `voices` and runs `body` with them. The built-in voice, when any book
    /// uses it, is started once on a free loopback port for the whole run and stopped after; a managed
    /// voice's server is found or started through `local` and held until `body` ends.
    /// - Parameter concurrency: requests in flight per server (default: the first profile's for it).
    /// A managed server that does not start fails only its own books' requests (as a transient
    /// failure, so they wait and the run stalls with the reason), never the whole run.
    /// - Throws: ``SpeechError`` for a profile whose URL is not usable.
    public static func with<T: Sendable>(
        _ voices: [Voice],
        concurrency: Int?,
        local: ManagedServers.Context,
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: @Sendable (SpeechRoutes) async throws -> T
    ) async throws -> T {
        var leases: [String: ManagedServerLease] = [:]
        var unavailable: [String: SpeechError] = [:]
        var resolved = voices
        for index in resolved.indices {
            let profile = resolved[index].profile
            guard profile.url == nil, let server = profile.managed else { continue }
            if leases[profile.name] == nil, unavailable[profile.name] == nil {
                do {
                    leases[profile.name] = try await ManagedServers.acquire(profile.name, server, context: local)
                } catch let error as SpeechError {
                    unavailable[profile.name] = error
                }
            }
            resolved[index].profile.url = leases[profile.name]?.url
        }
        let voices = resolved
        let failures = unavailable
        // The leases are released (the servers possibly stopped) when the body has ended.
        defer { withExtendedLifetime(leases) {} }
        do {
            guard voices.contains(where: { $0.profile.backend == .builtin && $0.profile.url == nil }) else {
                return try await body(
                    make(voices, builtinURL: nil, unavailable: failures, concurrency: concurrency, clock: clock)
                )
            }
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            // The embedded server is an implementation detail: only its failures are worth showing.
            var logger = Logger(label: "recital-speech")
            logger.logLevel = .critical
            let app = BuiltinSpeechServer.application(port: 0, logger: logger) { continuation.yield($0) }
            // Requests still being spoken when the body ends finish within seconds.
            return try await withRunningApplication(app, ports: ports, grace: .seconds(10)) { port in
                try await body(
                    make(
                        voices,
                        builtinURL: "http://127.0.0.1:\(port)",
                        unavailable: failures,
                        concurrency: concurrency,
                        clock: clock
                    )
                )
            }
        }
    }

    private static func make(
        _ voices: [Voice],
        builtinURL: String?,
        unavailable: [String: SpeechError],
        concurrency: Int?,
        clock: any Clock<Duration>
    ) throws -> SpeechRoutes {
        var routes = SpeechRoutes()
        var limiters: [String: (RequestLimiter, Int)] = [:]
        for voice in voices {
            var profile = voice.profile
            if profile.backend == .builtin, profile.url == nil { profile.url = builtinURL }
            let client: any SpeechSynthesizer =
                if profile.url == nil, let failure = unavailable[profile.name] {
                    Unavailable(sampleRate: profile.outputSampleRate, failure: failure)
                } else {
                    try HTTPSpeechClient(profile: profile, apiKey: voice.apiKey, clock: clock)
                }
            let server =
                "\(profile.url ?? "managed:\(profile.name)")#\(voice.apiKey.map { ContentHash.text($0) } ?? "")"
            var capacity = concurrency ?? profile.requestConcurrency
            if let global = profile.globalConcurrency { capacity = min(capacity, max(1, global)) }
            let (limiter, bound) = limiters[server] ?? (RequestLimiter(capacity: capacity), capacity)
            limiters[server] = (limiter, bound)
            routes.byBook[voice.book] = Route(
                synthesizer: client,
                limiter: limiter,
                server: server,
                capacity: bound,
                globalLimit: profile.globalConcurrency.map { max(1, $0) }
            )
        }
        return routes
    }

    /// The requests of a voice whose managed server did not start: each fails with the reason.
    private struct Unavailable: SpeechSynthesizer {
        let sampleRate: Int
        let failure: SpeechError
        var maxCharacters: Int? { nil }

        func synthesize(
            _ request: SynthesisRequest,
            limiter: RequestLimiter?,
            onRetry: @Sendable (SpeechError, Int, Duration) async -> Void
        ) async throws(SpeechError) -> PCMAudio {
            throw failure
        }
    }
}
