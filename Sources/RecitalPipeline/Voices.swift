internal import Foundation
internal import NIOCore
internal import NIOPosix
internal import RecitalMedia
public import RecitalModel
internal import RecitalSpeech

/// A voice profile as `recital voices list` shows it.
public struct VoiceListing: Sendable, Equatable {
    public enum Origin: String, Sendable {
        /// Shipped in the binary.
        case shipped
        /// `<home>/voices/NAME.json`.
        case user
        /// `./voices/NAME.json`.
        case folder
    }

    public var name: String
    public var origin: Origin
    /// Nil when the file is not a valid profile (``problem`` says why).
    public var profile: VoiceProfile?
    public var path: String?
    /// Whether its server accepts a connection now; the built-in voice is started when used.
    public var reachable: Bool
    /// Why it is not usable or not reachable.
    public var problem: String?
}

/// What `recital voices test` measured.
public struct VoiceTrial: Sendable {
    public var audio: [Int16]
    public var sampleRate: Int
    /// Finding or starting the server (the built-in voice, a managed one).
    public var startup: Duration
    /// Wall time of the request alone.
    public var elapsed: Duration

    public var audioSeconds: Double { Double(audio.count) / Double(max(1, sampleRate)) }
    /// Seconds of speech per second of waiting.
    public var realtimeFactor: Double { audioSeconds / max(0.001, elapsed.seconds) }
}

extension VoiceProfiles {
    /// Every profile a `--voice NAME` can find, by name (a user's or the folder's profile hides a
    /// shipped one of the same name), each with whether its server answers a connection within
    /// `timeout`, all probed at once.
    public static func list(home: String, timeout: Duration = .seconds(2)) async -> [VoiceListing] {
        var found: [String: VoiceListing] = [:]
        for name in bundledNames {
            var listing = VoiceListing(name: name, origin: .shipped, reachable: false)
            do {
                listing.profile = try decode(Data((BundledVoices.json[name] ?? "").utf8), origin: name)
            } catch {
                listing.problem = error.message
            }
            found[name] = listing
        }
        // Folders are read last to first, so that the one `load` looks in first wins.
        for (index, folder) in folders(home: home).enumerated().reversed() {
            let origin: VoiceListing.Origin = index == 0 ? .user : .folder
            // A folder that is not there holds no profiles.
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                let name = String(file.dropLast(5))
                let path = "\(folder)/\(file)"
                var listing = VoiceListing(name: name, origin: origin, path: path, reachable: false)
                do throws(PipelineError) {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw PipelineError(.configuration, "\(path): cannot be read")
                    }
                    listing.profile = try decode(data, origin: path)
                } catch {
                    listing.problem = error.message
                }
                found[name] = listing
            }
        }
        return await withTaskGroup(of: VoiceListing.self) { group in
            for listing in found.values {
                group.addTask { await probe(listing, timeout: timeout) }
            }
            var listings: [VoiceListing] = []
            for await listing in group { listings.append(listing) }
            return listings.sorted { $0.name < $1.name }
        }
    }

    private static func probe(_ listing: VoiceListing, timeout: Duration) async -> VoiceListing {
        var listing = listing
        guard let profile = listing.profile else { return listing }
        // Started when used: the built-in voice, and installed voices whose servers Recital runs.
        if profile.url == nil, profile.backend == .builtin || profile.managed != nil {
            listing.reachable = true
            return listing
        }
        guard let url = profile.url, let components = URLComponents(string: url), let host = components.host else {
            listing.problem = "no server URL"
            return listing
        }
        let port = components.port ?? (components.scheme == "https" ? 443 : 80)
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(timeout.seconds * 1000)))
                .connect(host: host, port: port).get()
            try await channel.close()
            listing.reachable = true
        } catch {
            listing.problem = "\(host):\(port) does not answer (\(reason(error, timeout: timeout)))"
        }
        return listing
    }

    /// NIO's connection errors in a few words.
    private static func reason(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "unknown host"
            }
            if let first = error.connectionErrors.first { return reason(first.error, timeout: timeout) }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return "no answer within \(Int(timeout.seconds)) s"
        }
        return "\(error)"
    }

    /// Speaks `text` with `profile` once (starting the built-in voice or a managed server when it is
    /// the one) and says how long it took.
    /// - Throws: ``PipelineError`` `.configuration` for an unusable profile; the server's
    ///   `SpeechError` when it refuses, fails or does not start.
    public static func trial(
        _ profile: VoiceProfile,
        text: String,
        apiKey: String?,
        paths: RecitalPaths
    ) async throws -> VoiceTrial {
        let started = ContinuousClock.now
        let voice = SpeechRoutes.Voice(book: 0, profile: profile, apiKey: apiKey)
        return try await SpeechRoutes.with([voice], concurrency: 1, local: paths.localVoices) { routes in
            guard let route = routes.route(for: 0) else {
                throw PipelineError(.configuration, "voice '\(profile.name)' cannot be used")
            }
            let asked = ContinuousClock.now
            let audio = try await route.synthesizer.synthesize(SynthesisRequest(text: text), limiter: route.limiter) {
                _,
                _,
                _ in
            }
            return VoiceTrial(
                audio: audio.samples,
                sampleRate: audio.sampleRate,
                startup: asked - started,
                elapsed: ContinuousClock.now - asked
            )
        }
    }

    /// Runs one managed voice server (`recital voices host`) until no process of the home uses it;
    /// returns the exit status. `server` is the profile's `managed` settings as JSON.
    public static func host(name: String, directory: String, server: String) -> Int32 {
        let settings: VoiceProfile.ManagedServer
        do {
            settings = try JSONDecoder().decode(VoiceProfile.ManagedServer.self, from: Data(server.utf8))
        } catch {
            FileHandle.standardError.write(Data("error: \(name): the server's settings do not read (\(error))\n".utf8))
            return 64
        }
        return ManagedServerHost.run(
            name: name,
            context: ManagedServers.Context(directory: directory, host: []),
            server: settings
        )
    }
}
