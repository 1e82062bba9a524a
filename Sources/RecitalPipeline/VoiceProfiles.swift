internal import Foundation
public import RecitalModel

/// Finds voice profiles: a JSON file path, or a name looked up in `<home>/voices`, `./voices`,
/// then the profiles shipped in the binary (builtin, kokoro-fastapi, openai, piper).
public enum VoiceProfiles {
    public static var bundledNames: [String] { BundledVoices.json.keys.sorted() }

    /// Where profiles are looked for by name, first wins: the user's, then the current folder's.
    static func folders(home: String) -> [String] { ["\(home)/voices", "voices"] }

    public static func load(_ nameOrPath: String, home: String) throws(PipelineError) -> VoiceProfile {
        let candidates =
            nameOrPath.hasSuffix(".json") || nameOrPath.contains("/")
            ? [nameOrPath]
            : folders(home: home).map { "\($0)/\(nameOrPath).json" }
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            return try decode(data, origin: path)
        }
        if let json = BundledVoices.json[nameOrPath] {
            return try decode(Data(json.utf8), origin: "built-in profile \(nameOrPath)")
        }
        throw PipelineError(
            .configuration,
            "no voice profile '\(nameOrPath)' (not a file; known: \(bundledNames.joined(separator: ", ")))"
        )
    }

    static func decode(_ data: Data, origin: String) throws(PipelineError) -> VoiceProfile {
        do {
            return try JSONDecoder().decode(VoiceProfile.self, from: data)
        } catch {
            throw PipelineError(.configuration, "\(origin): not a valid voice profile (\(error))")
        }
    }

    /// The API key from the variable the profile names; an unset variable is a configuration error.
    public static func apiKey(
        for profile: VoiceProfile,
        environment: [String: String]
    ) throws(PipelineError) -> String? {
        guard let variable = profile.apiKeyVariable else { return nil }
        guard let key = environment[variable], !key.isEmpty else {
            throw PipelineError(
                .configuration,
                "voice '\(profile.name)' needs an API key in the environment variable \(variable)"
            )
        }
        return key
    }

    /// What `--voice auto` (or no voice at all) means: the voice is chosen per book.
    public static let automatic = "auto"

    /// Sets the voice `nameOrPath` names in `settings`; ``automatic`` leaves the built-in voice as
    /// the fallback and has each book's language choose.
    public static func select(
        _ nameOrPath: String,
        in settings: inout ConversionSettings,
        home: String
    ) throws(PipelineError) {
        let automatic = nameOrPath == Self.automatic
        settings.voice = try load(automatic ? "builtin" : nameOrPath, home: home)
        settings.voiceByLanguage = automatic
    }

    /// Voices installed by `recital voices install`, whose servers Recital starts: the managed
    /// profiles in `<home>/voices`, by name; and what is wrong with the files that do not read.
    public static func installed(home: String) -> (voices: [VoiceProfile], problems: [String]) {
        let folder = folders(home: home)[0]
        // No folder: nothing installed.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var voices: [VoiceProfile] = []
        var problems: [String] = []
        for file in files.sorted() where file.hasSuffix(".json") {
            let path = "\(folder)/\(file)"
            do throws(PipelineError) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw PipelineError(.configuration, "\(path): cannot be read")
                }
                let profile = try decode(data, origin: path)
                if profile.managed != nil, profile.url == nil { voices.append(profile) }
            } catch {
                problems.append(error.message)
            }
        }
        return (voices, problems)
    }

    /// The voice for a book in `language` when none was chosen: an installed voice that speaks it
    /// (any installed voice when the book does not say), else `fallback` with a one-line hint. The
    /// note says which was chosen, and which profile files could not be considered.
    static func byLanguage(
        _ language: String?,
        home: String,
        fallback: VoiceProfile
    ) -> (voice: VoiceProfile, note: String) {
        let (installed, problems) = installed(home: home)
        let unread = problems.isEmpty ? "" : " (passed over: \(problems.joined(separator: "; ")))"
        if let chosen = installed.first(where: { language == nil || $0.speaks(language) != false }) {
            let speaks = chosen.languages.map { " (\($0.joined(separator: ", ")))" } ?? ""
            return (chosen, "read with the installed voice \(chosen.name)\(speaks)\(unread)")
        }
        let hint =
            installed.isEmpty
            ? "hint: read with the built-in voice; `recital voices install piper` installs a natural one"
            : "hint: no installed voice speaks \(language ?? "its language"), so the built-in voice reads it; `recital voices install piper VOICE` installs one"
        return (fallback, hint + unread)
    }
}
