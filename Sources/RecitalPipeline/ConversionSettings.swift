internal import Foundation
public import RecitalEncode
internal import RecitalJobs
public import RecitalModel
public import RecitalSpeech

/// What to do with a poison segment: text that fails the same way every time while its server
/// answers other text.
public enum BadSegmentPolicy: String, Sendable, Codable, CaseIterable {
    /// Fail the book, naming the chapter, the segment, its text and the server's answer.
    case fail
    /// Leave the segment silent and list a warning in `status`.
    case skip
}

/// The settings a book is converted with. Two conversions of one file with settings that would
/// produce the same audio are the same book.
public struct ConversionSettings: Sendable, Codable, Equatable {
    public var voice: VoiceProfile
    public var maxSegmentCharacters: Int
    /// Formats, joins, loudness and splitting of the finished files.
    public var encode: EncodeSettings
    /// Where finished files go (absolute); the current folder when the book was queued by default.
    public var outputDirectory: String?
    /// Speak each chapter's title before its text, unless the text already opens with it.
    public var speakChapterTitles: Bool
    /// Open the book with "Title, by Author."
    public var speakIntro: Bool
    /// Keep checkpoint audio after a successful encode (for re-encoding) until `recital delete`.
    public var keepSegments: Bool
    /// What a poison segment does to the book.
    public var onBadSegment: BadSegmentPolicy = .fail
    /// Which PDF pages are read with OCR.
    public var ocr: OCRMode = .auto
    /// Keep the finished files in the job table too, for a `recital serve` on another machine of
    /// a PostgreSQL cluster to hand out.
    public var outputsInTable = false
    /// No voice was chosen (or `--voice auto`): each book is spoken by an installed local voice for
    /// its language, else by ``voice``. Decided when the book is queued; not stored.
    public var voiceByLanguage = false

    public init(
        voice: VoiceProfile,
        maxSegmentCharacters: Int,
        encode: EncodeSettings = EncodeSettings(),
        outputDirectory: String? = nil,
        speakChapterTitles: Bool = true,
        speakIntro: Bool = false,
        keepSegments: Bool = true
    ) {
        self.voice = voice
        self.maxSegmentCharacters = maxSegmentCharacters
        self.encode = encode
        self.outputDirectory = outputDirectory
        self.speakChapterTitles = speakChapterTitles
        self.speakIntro = speakIntro
        self.keepSegments = keepSegments
    }

    private enum CodingKeys: String, CodingKey {
        case voice, maxSegmentCharacters, encode, outputDirectory, speakChapterTitles, speakIntro, keepSegments,
            onBadSegment, ocr, outputsInTable
    }

    /// Books queued by an earlier version have no encode fields in their stored settings; they
    /// decode with the defaults (and no spoken titles or intro, as their segments were made).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        voice = try container.decode(VoiceProfile.self, forKey: .voice)
        maxSegmentCharacters = try container.decode(Int.self, forKey: .maxSegmentCharacters)
        encode = try container.decodeIfPresent(EncodeSettings.self, forKey: .encode) ?? EncodeSettings()
        outputDirectory = try container.decodeIfPresent(String.self, forKey: .outputDirectory)
        speakChapterTitles = try container.decodeIfPresent(Bool.self, forKey: .speakChapterTitles) ?? false
        speakIntro = try container.decodeIfPresent(Bool.self, forKey: .speakIntro) ?? false
        keepSegments = try container.decodeIfPresent(Bool.self, forKey: .keepSegments) ?? true
        onBadSegment = try container.decodeIfPresent(BadSegmentPolicy.self, forKey: .onBadSegment) ?? .fail
        ocr = try container.decodeIfPresent(OCRMode.self, forKey: .ocr) ?? .auto
        outputsInTable = try container.decodeIfPresent(Bool.self, forKey: .outputsInTable) ?? false
    }

    /// The settings as stored with a book; settings that cannot be written (a loudness that is not
    /// a number) say why.
    public func json() throws(PipelineError) -> String {
        try Self.encoded(self, what: "these settings")
    }

    /// Sorted-key JSON of a value, or a configuration error naming `what` and the encoder's reason.
    static func encoded(_ value: some Encodable, what: String) throws(PipelineError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw PipelineError(.configuration, "\(what) cannot be stored", cause: error)
        }
    }

    public static func decode(_ json: String) -> ConversionSettings? {
        try? JSONDecoder().decode(ConversionSettings.self, from: Data(json.utf8))
    }

    /// A book's stored settings; settings that do not decode say why.
    public static func decode(_ json: String, book: Int64) throws(PipelineError) -> ConversionSettings {
        do {
            return try JSONDecoder().decode(ConversionSettings.self, from: Data(json.utf8))
        } catch {
            throw PipelineError(.configuration, "its stored settings cannot be read", book: book, cause: error)
        }
    }

    /// A fingerprint of what shapes the audio: the voice (server kind, model, voice, speed, format,
    /// rate, extra fields), the segmentation and which pages OCR reads. Where the server runs, its timeout and
    /// concurrency, output formats and folders do not change a single sample, so they are left out.
    public var audioHash: String {
        var identity = voice
        identity.url = nil
        identity.timeoutSeconds = nil
        identity.concurrency = nil
        identity.globalConcurrency = nil
        identity.apiKeyVariable = nil
        identity.name = ""
        identity.languages = nil
        identity.managed = nil
        // A voice that cannot be encoded is refused when the settings are stored (`json()`), before
        // the hash is ever used.
        let voiceJSON = (try? Self.encoded(identity, what: "the voice")) ?? ""
        // The default is left out so books queued before OCR existed keep their fingerprint.
        let pages = ocr == .auto ? "" : "|ocr:\(ocr.rawValue)"
        return ContentHash.text(
            "\(voiceJSON)|segments:\(maxSegmentCharacters)|titles:\(speakChapterTitles)|intro:\(speakIntro)\(pages)"
        )
    }
}

/// Where Recital keeps its database and checkpoint audio.
public struct RecitalPaths: Sendable, Equatable {
    public var home: String
    public var database: String
    /// `--audio-store DIR`: a folder every worker reaches, for segment audio as files.
    public var audioStore: String?
    /// Where segment audio files go: `--audio-store`, else `<home>/audio`.
    public var audio: String { audioStore ?? "\(home)/audio" }

    /// Where managed voice servers are looked for and started (`<home>/run`), each hosted by this
    /// executable's `recital voices host`.
    public var localVoices: ManagedServers.Context {
        // Absolute: the host works in this folder, and other processes find it from theirs.
        ManagedServers.Context(
            directory: URL(fileURLWithPath: home + "/run").standardizedFileURL.path,
            host: [Self.executable, "voices", "host"]
        )
    }

    /// This program's file; `/proc` is always there on Linux, the first argument is the fallback.
    static let executable: String =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

    /// Whether the job table is a PostgreSQL server's rather than a SQLite file.
    public var isPostgres: Bool { JobStore.isPostgres(database) }

    /// Files under ``audio`` on SQLite or with `--audio-store`; on PostgreSQL, the job table, so that
    /// no machine of a cluster needs another's disk.
    public var placement: AudioPlacement {
        audioStore == nil && JobStore.isPostgres(database) ? .jobTable : .folder(audio)
    }

    public init(home: String, database: String, audioStore: String? = nil) {
        self.home = home
        self.database = database
        self.audioStore = audioStore
    }

    /// `--home`/`RECITAL_HOME`, else `$XDG_DATA_HOME/recital`, else `~/.local/share/recital`;
    /// `--db`/`RECITAL_DB`, else `<home>/recital.sqlite`.
    public static func resolve(
        home: String?,
        database: String?,
        audioStore: String? = nil,
        environment: [String: String]
    ) -> RecitalPaths {
        // An empty variable is as good as unset.
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let base =
            home ?? value("RECITAL_HOME")
            ?? ((value("XDG_DATA_HOME") ?? "\(value("HOME") ?? NSHomeDirectory())/.local/share") + "/recital")
        return RecitalPaths(
            home: base,
            database: database ?? value("RECITAL_DB") ?? "\(base)/recital.sqlite",
            audioStore: audioStore ?? value("RECITAL_AUDIO_STORE")
        )
    }

    /// Creates the home folder (and the database's folder) if needed.
    public func prepare() throws(PipelineError) {
        let folder = JobStore.isPostgres(database) ? "" : (database as NSString).deletingLastPathComponent
        for directory in [home, folder] where !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw PipelineError(.storage, "cannot create \(directory): \(error.localizedDescription)")
            }
        }
    }
}
