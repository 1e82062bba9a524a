import ArgumentParser
import Foundation
import RecitalModel
import RecitalPipeline

struct Voices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and try voice profiles.",
        subcommands: [List.self, Trial.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every voice profile (shipped, in <home>/voices, in ./voices) and whether its server answers now."
        )

        @OptionGroup var global: GlobalOptions

        @Flag(help: "One JSON object: {voices: [{name, origin, backend, url, voice, languages, reachable, problem}]}.")
        var json = false

        func run() async throws {
            let listings = await VoiceProfiles.list(home: global.paths.home)
            if json {
                let items: [[String: Any]] = listings.map { listing in
                    var item: [String: Any] = [
                        "name": listing.name, "origin": listing.origin.rawValue, "reachable": listing.reachable,
                    ]
                    if let profile = listing.profile {
                        item["backend"] = profile.backend.rawValue
                        item["url"] = profile.url ?? NSNull()
                        item["voice"] = profile.voice ?? NSNull()
                        item["languages"] = profile.languages ?? NSNull()
                    }
                    item["path"] = listing.path ?? NSNull()
                    item["problem"] = listing.problem ?? NSNull()
                    return item
                }
                let data = try JSONSerialization.data(
                    withJSONObject: ["voices": items],
                    options: [.prettyPrinted, .sortedKeys]
                )
                Console.output(String(decoding: data, as: UTF8.self))
                return
            }
            for listing in listings {
                guard let profile = listing.profile else {
                    Console.output("\(listing.name)  (\(listing.origin.rawValue))  unusable: \(listing.problem ?? "")")
                    continue
                }
                let url = profile.url ?? "built in, started when used"
                let languages = profile.languages.map { $0.joined(separator: ", ") } ?? "any"
                let state = listing.reachable ? "answers" : "not answering: \(listing.problem ?? "")"
                Console.output(
                    "\(listing.name)  (\(listing.origin.rawValue))  \(profile.backend.rawValue)  \(url)  languages: \(languages)  \(state)"
                )
            }
        }
    }

    struct Trial: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Speak a sentence with a profile, write it to a WAV file, and say how fast it was."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A profile name or JSON file.") var profile: String
        @Argument(help: "What to say (default: a sentence naming the voice).") var text: String?

        @Option(
            help: ArgumentHelp("Where to write the WAV file (default: ./voice-test-PROFILE.wav).", valueName: "file")
        )
        var out: String?

        func run() async throws {
            let chosen: VoiceProfile
            let apiKey: String?
            do {
                chosen = try VoiceProfiles.load(profile, home: global.paths.home)
                apiKey = try VoiceProfiles.apiKey(for: chosen, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CommandFailure.report(error)
            }
            let sentence = text ?? "This is Recital, reading with the voice \(chosen.name)."
            let trial: VoiceTrial
            do {
                trial = try await VoiceProfiles.trial(chosen, text: sentence, apiKey: apiKey)
            } catch let error as PipelineError {
                throw CommandFailure.report(error)
            } catch {
                // The server refused or did not answer: worth trying again once it does.
                Console.error("error: voice '\(chosen.name)': \(error)")
                throw ExitCode.transientFailure
            }
            let path = out ?? "voice-test-\(chosen.name).wav"
            do {
                try Data(WAV.encode(samples: trial.audio, sampleRate: trial.sampleRate))
                    .write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                Console.error("error: \(path): cannot be written (\(error.localizedDescription))")
                throw ExitCode(73)
            }
            Console.output(
                String(
                    format: "%@: %.1f s of audio in %.2f s (%.1f× realtime)",
                    path,
                    trial.audioSeconds,
                    trial.elapsed.seconds,
                    trial.realtimeFactor
                )
            )
        }
    }
}
