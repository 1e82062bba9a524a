// Generated from voices/*.json by scripts/sync-voices.py; `VoiceProfilesTests` checks they agree.

enum BundledVoices {
    /// Profile JSON by name, exactly as in voices/.
    static let json: [String: String] = [
        "builtin": #"""
        {
          "name": "builtin",
          "backend": "builtin",
          "format": "wav",
          "sampleRate": 24000,
          "concurrency": 2,
          "timeoutSeconds": 60
        }

        """#,
        "kokoro-fastapi": #"""
        {
          "name": "kokoro-fastapi",
          "backend": "openai",
          "url": "http://127.0.0.1:8880",
          "model": "kokoro",
          "voice": "af_heart",
          "languages": ["en-US"],
          "speed": 1.0,
          "format": "wav",
          "sampleRate": 24000,
          "maxCharacters": 1000,
          "concurrency": 4,
          "timeoutSeconds": 120,
          "extra": { "stream": false }
        }

        """#,
        "openai": #"""
        {
          "name": "openai",
          "backend": "openai",
          "url": "https://api.openai.com",
          "model": "gpt-4o-mini-tts",
          "voice": "alloy",
          "format": "wav",
          "sampleRate": 24000,
          "maxCharacters": 4096,
          "concurrency": 4,
          "timeoutSeconds": 120,
          "apiKeyVariable": "OPENAI_API_KEY"
        }

        """#,
        "piper": #"""
        {
          "name": "piper",
          "backend": "piper",
          "url": "http://127.0.0.1:5000",
          "format": "wav",
          "sampleRate": 22050,
          "concurrency": 2,
          "timeoutSeconds": 120
        }

        """#,
    ]
}
