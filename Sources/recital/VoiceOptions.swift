import ArgumentParser
import Foundation
import RecitalIngest
import RecitalModel
import RecitalPipeline

/// Which TTS server and voice to use: a profile by name or file, or a server given inline.
struct VoiceOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A voice profile: a name (builtin, kokoro-fastapi, openai, piper, or one in <home>/voices), a JSON file, or auto: an installed voice for each book's language (the default).",
            valueName: "profile"
        )
    )
    var voice: String?

    @Option(help: ArgumentHelp("The TTS server's base URL (instead of a profile).", valueName: "url"))
    var ttsUrl: String?

    @Option(help: ArgumentHelp("The server's API: openai, piper or coqui.", valueName: "kind"))
    var ttsBackend: String?

    @Option(help: ArgumentHelp("The voice to ask the server for.", valueName: "name"))
    var ttsVoice: String?

    @Option(help: ArgumentHelp("The model to ask the server for (OpenAI-compatible servers).", valueName: "name"))
    var ttsModel: String?

    @Option(help: "Longest segment sent in one request, in characters.")
    var maxSegment = SegmentationOptions.defaultMaxCharacters

    func validate() throws {
        if voice == VoiceProfiles.automatic, ttsUrl != nil {
            throw ValidationError("--voice auto chooses among installed voices; it takes no --tts-url")
        }
    }

    /// No voice given, or `--voice auto`: each book's language chooses among the installed voices.
    var byLanguage: Bool {
        voice == VoiceProfiles.automatic || (voice == nil && ttsUrl == nil && ttsVoice == nil && ttsModel == nil)
    }

    /// The profile these options describe. Without any (or `auto`), the built-in espeak-ng voice,
    /// which an installed voice for the book's language replaces (``byLanguage``).
    func profile(home: String) throws -> VoiceProfile {
        var profile: VoiceProfile
        if let voice, voice != VoiceProfiles.automatic {
            profile = try VoiceProfiles.load(voice, home: home)
        } else if let ttsUrl, voice == nil {
            let kind = ttsBackend ?? "openai"
            guard let backend = VoiceProfile.Backend(rawValue: kind), backend != .builtin else {
                throw ValidationError("--tts-backend must be openai, piper or coqui, not '\(kind)'")
            }
            profile = VoiceProfile(name: "command-line", backend: backend, url: ttsUrl, format: "wav")
        } else {
            profile = try VoiceProfiles.load("builtin", home: home)
        }
        if let ttsUrl, let voice, voice != VoiceProfiles.automatic { profile.url = ttsUrl }
        if let ttsVoice { profile.voice = ttsVoice }
        if let ttsModel { profile.model = ttsModel }
        return profile
    }
}
