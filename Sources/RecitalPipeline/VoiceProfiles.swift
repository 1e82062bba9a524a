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
}
