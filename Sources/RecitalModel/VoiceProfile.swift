/// How to reach a text-to-speech server and which voice to ask for. Stored as JSON files in
/// `voices/`; never holds a secret, only the name of the environment variable that does.
public struct VoiceProfile: Sendable, Codable, Equatable {
    /// The HTTP contract the server speaks.
    public enum Backend: String, Sendable, Codable, Equatable, CaseIterable {
        /// `POST /v1/audio/speech`: OpenAI, Kokoro-FastAPI, LocalAI, openedai-speech, Chatterbox…
        case openai
        /// Piper's `POST /synthesize`.
        case piper
        /// Coqui's `/api/tts`.
        case coqui
        /// The espeak-ng server built into Recital, started on a loopback port when needed.
        case builtin
    }

    public var name: String
    public var backend: Backend
    /// Base URL of the server ("http://127.0.0.1:8880"); the backend's path is appended.
    public var url: String?
    public var model: String?
    public var voice: String?
    public var speed: Double?
    /// The response format to ask for ("wav", "mp3", "flac", "opus", "pcm").
    public var format: String?
    /// The rate of headerless PCM answers, and the rate Recital resamples every answer to.
    public var sampleRate: Int?
    /// The longest text one request may carry.
    public var maxCharacters: Int?
    /// Requests in flight at once.
    public var concurrency: Int?
    /// Requests in flight at once across every worker of a shared job table (a cluster): the
    /// server's own capacity, however many machines send to it. Each held chapter then has one
    /// request in flight, and chapters are claimed only while the cluster holds fewer than this.
    public var globalConcurrency: Int?
    /// Seconds before a request is given up.
    public var timeoutSeconds: Double?
    /// Name of the environment variable holding the API key, if the server needs one.
    public var apiKeyVariable: String?
    /// Fields passed through into the request body as they are (`"stream": false`, `"lang_code"`…).
    public var extra: [String: JSONValue]?
    /// The languages the voice speaks (BCP 47: "en", "en-GB", "de"); nil when the profile does not
    /// say (a multilingual server, or one whose voice is chosen elsewhere).
    public var languages: [String]?
    /// A server Recital starts itself when the profile has no URL (an installed local voice).
    public var managed: ManagedServer?

    /// A local server that Recital starts on a free loopback port when a run needs it, shares
    /// between the processes of one home, and stops once the last of them has gone.
    public struct ManagedServer: Sendable, Codable, Equatable {
        /// The program and its arguments; `{port}` stands for the port chosen.
        public var command: [String]
        /// A path the server answers with 200 once it can speak ("/info").
        public var readyPath: String
        /// How long it may take to become ready (loading a model takes a while); default 120 s.
        public var startupSeconds: Double?

        public init(command: [String], readyPath: String, startupSeconds: Double? = nil) {
            self.command = command
            self.readyPath = readyPath
            self.startupSeconds = startupSeconds
        }

        /// The command for a server listening on `port`.
        public func command(port: Int) -> [String] {
            command.map { $0.replacing("{port}", with: String(port)) }
        }
    }

    public init(
        name: String,
        backend: Backend,
        url: String? = nil,
        model: String? = nil,
        voice: String? = nil,
        speed: Double? = nil,
        format: String? = nil,
        sampleRate: Int? = nil,
        maxCharacters: Int? = nil,
        concurrency: Int? = nil,
        timeoutSeconds: Double? = nil,
        apiKeyVariable: String? = nil,
        extra: [String: JSONValue]? = nil
    ) {
        self.name = name
        self.backend = backend
        self.url = url
        self.model = model
        self.voice = voice
        self.speed = speed
        self.format = format
        self.sampleRate = sampleRate
        self.maxCharacters = maxCharacters
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.apiKeyVariable = apiKeyVariable
        self.extra = extra
    }

    /// Whether the voice speaks `language` (a BCP 47 tag), compared by primary language ("en-GB"
    /// matches "en"); nil when either side does not say.
    public func speaks(_ language: String?) -> Bool? {
        guard let language, let languages, !languages.isEmpty else { return nil }
        func primary(_ tag: String) -> Substring {
            tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? ""
        }
        let wanted = primary(language)
        guard !wanted.isEmpty else { return nil }
        return languages.contains { primary($0) == wanted }
    }

    /// The rate every answer is resampled to: one rate per book.
    public var outputSampleRate: Int { sampleRate ?? 24_000 }
    public var requestConcurrency: Int { max(1, concurrency ?? 4) }
}

/// A JSON value, for the pass-through fields of a voice profile.
public enum JSONValue: Sendable, Codable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
