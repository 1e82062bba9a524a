import Foundation
import RecitalEncode
import RecitalJobs
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalPipeline

@Suite("Voice profiles, settings and paths")
struct SettingsTests {
    @Test("the binary carries exactly the profiles in voices/")
    func bundled() throws {
        let folder = Fixtures.root.appendingPathComponent("voices")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(BundledVoices.json.keys))
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(BundledVoices.json[String(file.dropLast(5))] == text, "\(file) differs; run scripts/sync-voices.py")
        }
        for name in VoiceProfiles.bundledNames {
            let profile = try VoiceProfiles.load(name, home: "/nonexistent")
            #expect(profile.name == name)
        }
    }

    @Test(
        "with no voice chosen, a book's language picks an installed voice (by primary language), never a hand-written profile; otherwise the built-in voice with a hint"
    )
    func voiceByLanguage() throws {
        let home = try Fixtures.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: home + "/voices", withIntermediateDirectories: true)
        func write(_ name: String, languages: [String], managed: Bool) throws {
            var profile = VoiceProfile(name: name, backend: .piper, url: managed ? nil : "http://127.0.0.1:5000")
            profile.languages = languages
            if managed {
                profile.managed = VoiceProfile.ManagedServer(
                    command: ["/bin/server", "--port", "{port}"],
                    readyPath: "/"
                )
            }
            try JSONEncoder().encode(profile).write(to: URL(fileURLWithPath: "\(home)/voices/\(name).json"))
        }
        try write("b-french", languages: ["fr-FR"], managed: true)
        try write("c-english", languages: ["en-US"], managed: true)
        try write("a-desk", languages: ["de"], managed: false)
        let builtin = try VoiceProfiles.load("builtin", home: home)

        let english = VoiceProfiles.byLanguage("en-GB", home: home, fallback: builtin)
        #expect(english.voice.name == "c-english")
        #expect(english.note == "read with the installed voice c-english (en-US)")
        let german = VoiceProfiles.byLanguage("de", home: home, fallback: builtin)
        #expect(german.voice.name == "builtin")
        #expect(german.note.hasPrefix("hint: no installed voice speaks de"))
        #expect(VoiceProfiles.byLanguage(nil, home: home, fallback: builtin).voice.name == "b-french")
        let nothing = VoiceProfiles.byLanguage("en", home: "/nonexistent", fallback: builtin)
        #expect(nothing.voice.name == "builtin")
        #expect(nothing.note.contains("`recital voices install piper` installs a natural one"))

        // A folder's or an upload's "auto" has the language choose; a name does not.
        var settings = ConversionSettings(voice: builtin, maxSegmentCharacters: 400)
        try VoiceProfiles.select("auto", in: &settings, home: home)
        #expect(settings.voiceByLanguage && settings.voice.name == "builtin")
        try VoiceProfiles.select("c-english", in: &settings, home: home)
        #expect(!settings.voiceByLanguage && settings.voice.managed != nil)
        // Only the choice is stored with a book, never the flag.
        #expect(!(try settings.json()).contains("voiceByLanguage"))
        #expect(settings.voice.managed?.command(port: 5123) == ["/bin/server", "--port", "5123"])
    }

    @Test("a profile file path loads; an unknown name says which names exist")
    func loading() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("mine.json")
        try Data(#"{"name":"mine","backend":"piper","url":"http://127.0.0.1:5000","voice":"joe"}"#.utf8).write(to: file)
        #expect(try VoiceProfiles.load(file.path, home: "/x").voice == "joe")
        do {
            _ = try VoiceProfiles.load("nope", home: "/x")
            Issue.record("loaded an unknown profile")
        } catch {
            #expect(error.message.contains("kokoro-fastapi"))
        }
    }

    @Test("where a server runs does not change a book's identity; what it says does")
    func audioHash() throws {
        let base = ConversionSettings(
            voice: VoiceProfile(name: "a", backend: .openai, url: "http://one", voice: "af_heart"),
            maxSegmentCharacters: 400
        )
        var moved = base
        moved.voice.url = "http://two"
        moved.voice.managed = VoiceProfile.ManagedServer(command: ["/opt/server", "{port}"], readyPath: "/info")
        moved.voice.concurrency = 8
        moved.outputDirectory = "/elsewhere"
        var other = base
        other.voice.voice = "am_adam"
        var shorter = base
        shorter.maxSegmentCharacters = 200
        #expect(base.audioHash == moved.audioHash)
        #expect(base.audioHash != other.audioHash)
        #expect(base.audioHash != shorter.audioHash)
        // OCR decides which words there are to speak; the default keeps older books' fingerprints.
        var scanned = base
        scanned.ocr = .always
        #expect(base.audioHash != scanned.audioHash)
        #expect(
            base.audioHash
                == ContentHash.text(
                    #"{"backend":"openai","name":"","voice":"af_heart"}|segments:400|titles:true|intro:false"#
                )
        )
        #expect(try ConversionSettings.decode(base.json()) == base)
        #expect(try ConversionSettings.decode(scanned.json())?.ocr == .always)
    }

    @Test("settings stored by the version before encoding decode with the defaults; broken ones do not decode")
    func olderSettings() {
        let stored = #"{"maxSegmentCharacters":400,"voice":{"backend":"openai","name":"a","voice":"af_heart"}}"#
        let settings = ConversionSettings.decode(stored)
        #expect(settings?.encode == EncodeSettings())
        #expect(settings?.speakChapterTitles == false)
        #expect(settings?.speakIntro == false)
        #expect(settings?.keepSegments == true)
        #expect(settings?.outputDirectory == nil)
        #expect(settings?.voice.voice == "af_heart")
        #expect(settings?.ocr == .auto)
        #expect(ConversionSettings.decode(#"{"maxSegmentCharacters":400}"#) == nil)
        #expect(ConversionSettings.decode(#"{"maxSegmentCharacters":"x","voice":{}}"#) == nil)
    }

    @Test("paths: flags, then RECITAL_*, then XDG_DATA_HOME, then ~/.local/share; empty variables count as unset")
    func paths() {
        #expect(RecitalPaths.resolve(home: "/h", database: nil, environment: [:]).database == "/h/recital.sqlite")
        #expect(
            RecitalPaths.resolve(home: nil, database: nil, environment: ["RECITAL_HOME": "/r", "RECITAL_DB": "/d.db"])
                .database == "/d.db"
        )
        #expect(
            RecitalPaths.resolve(home: nil, database: nil, environment: ["XDG_DATA_HOME": "/x", "RECITAL_DB": ""])
                .database == "/x/recital/recital.sqlite"
        )
        #expect(
            RecitalPaths.resolve(home: nil, database: nil, environment: ["HOME": "/home/u", "XDG_DATA_HOME": ""]).home
                == "/home/u/.local/share/recital"
        )
    }
}
