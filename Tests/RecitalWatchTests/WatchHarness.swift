import Foundation
import RecitalModel
import RecitalPipeline
import RecitalTestSupport
import RecitalWatch
import Synchronization

/// A clock the test moves by hand, starting at the real time (files' ctimes are compared with it).
final class ManualClock: Sendable {
    private let time = Mutex(Date().timeIntervalSince1970)
    var now: Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// Events the test hands in itself; watches beyond `limit` fail as the kernel's do at its watch limit.
final class ScriptedEvents: FolderEventSource {
    private let limitValue: Mutex<Int>
    private let folders = Mutex<[String]>([])
    init(limit: Int = .max) { limitValue = Mutex(limit) }

    /// The watch limit, which a test may raise as `sysctl` would.
    var limit: Int {
        get { limitValue.withLock { $0 } }
        set { limitValue.withLock { $0 = newValue } }
    }

    var watched: [String] { folders.withLock { $0 } }

    /// Runs as a folder's watch is added: what it writes arrives after the folder was listed and
    /// before it was watched, so no event tells of it.
    let onWatch = Mutex<(@Sendable (String) -> Void)?>(nil)

    func watch(_ folder: String) throws(InotifyError) {
        if let hook = onWatch.withLock({ $0 }) { hook(folder) }
        let limit = self.limit
        let full = folders.withLock { list in
            guard list.count < limit else { return true }
            list.append(folder)
            return false
        }
        if full {
            throw InotifyError(
                folder: folder,
                message: "No space left on device (raise fs.inotify.max_user_watches with sysctl; polling instead)"
            )
        }
    }

    func next(timeout: Double) -> [FolderEvent] { [] }
}

/// An inbox, an output folder and a job table in a temporary folder, and a watcher over them that
/// the test drives by hand: events in, ticks at chosen times. No workers run.
struct WatchHarness {
    let root: URL
    let inbox: String
    let output: String
    let pipeline: Pipeline
    let clock: ManualClock
    let events: ScriptedEvents
    let watcher: Watcher
    let lines: Lines

    final class Lines: Sendable {
        private let all = Mutex<[String]>([])
        func append(_ line: String) { all.withLock { $0.append(line) } }
        var text: String { all.withLock { $0.joined(separator: "\n") } }
    }

    init(
        root: URL? = nil,
        clock: ManualClock = ManualClock(),
        events: ScriptedEvents = ScriptedEvents(),
        configure: (inout WatchOptions) -> Void = { _ in }
    ) throws {
        let root = try root ?? Fixtures.temporaryDirectory()
        self.root = root
        inbox = root.appendingPathComponent("inbox").path
        output = root.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let home = root.appendingPathComponent("home").path
        pipeline = try Pipeline(paths: RecitalPaths(home: home, database: "\(home)/recital.sqlite"))
        var settings = ConversionSettings(
            voice: try VoiceProfiles.load("builtin", home: home),
            maxSegmentCharacters: 400
        )
        settings.outputDirectory = output
        var options = WatchOptions(inboxes: [inbox], output: output, settings: settings, home: home)
        configure(&options)
        self.clock = clock
        self.events = events
        let lines = Lines()
        self.lines = lines
        watcher = Watcher(pipeline: pipeline, options: options, events: events, now: { clock.now }, log: lines.append)
    }

    /// Another watcher (another process) on the same inbox and job table.
    func second() throws -> WatchHarness { try WatchHarness(root: root, clock: clock) }

    func path(_ relative: String) -> String { "\(inbox)/\(relative)" }

    /// Writes bytes at a path under the inbox, making its folders.
    func write(_ relative: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func write(_ relative: String, json: String) throws { try write(relative, Data(json.utf8)) }

    static var book: Data { FileManager.default.contents(atPath: Fixtures.path("epub2-basic.epub")) ?? Data() }
    static var otherBook: Data { FileManager.default.contents(atPath: Fixtures.path("novella.epub")) ?? Data() }

    /// The event the kernel gives for a file written and closed (or another kind).
    func event(_ relative: String, _ kind: FolderEvent.Kind = .closedAfterWriting, folder: Bool = false) -> FolderEvent
    {
        let full = path(relative)
        return FolderEvent(
            kind: kind,
            folder: (full as NSString).deletingLastPathComponent,
            name: (full as NSString).lastPathComponent,
            isDirectory: folder
        )
    }

    /// Moves the clock on and lets the watcher look at what is due.
    func tick(after seconds: Double) async throws {
        clock.advance(seconds)
        try await watcher.tick()
    }

    func row(_ relative: String) async throws -> WatchedFile? { try await pipeline.watchedFile(path(relative)) }

    func state(_ relative: String) async throws -> WatchedFileState? { try await row(relative)?.state }

    func settings(of relative: String) async throws -> ConversionSettings? {
        guard let book = try await row(relative)?.book, let json = try await pipeline.storedSettings(book: book) else {
            return nil
        }
        return ConversionSettings.decode(json)
    }
}
