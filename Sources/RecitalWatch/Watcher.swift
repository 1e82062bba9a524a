public import Foundation
public import RecitalModel
public import RecitalPipeline

/// How `recital watch` looks for books and what it does with them.
public struct WatchOptions: Sendable {
    public enum Polling: String, Sendable, CaseIterable {
        /// Network and FUSE folders, and folders inotify cannot watch, are polled.
        case auto
        case always
        /// Never poll: a folder inotify cannot watch is only seen by the periodic rescan.
        case never
    }

    /// Absolute paths of the inboxes.
    public var inboxes: [String]
    /// The output folder (absolute); books go under their folder relative to their inbox.
    public var output: String
    /// The settings every book starts from (voice, formats, segmentation); `recital-folder.json`
    /// files change them per folder, and the output folder is set per book.
    public var settings: ConversionSettings
    public var priority = 2
    /// Where voice profiles named in folder settings are looked up.
    public var home: String
    /// Seconds a file's size and times must stay the same (nil: 15 locally, 60 on network folders).
    public var settle: Double?
    public var polling = Polling.auto
    public var pollInterval: Double = 30
    /// Seconds between full rescans (events are hints; the scan is the truth).
    public var rescan: Double = 600
    public var after = AfterQueued.keep
    /// Where `--after move` puts sources (default `OUTPUT/_done`).
    public var done: String?
    /// Extra `--ignore` patterns.
    public var ignore: [String] = []
    /// How workers run the books (requests in flight, overwriting).
    public var run = RunOptions()
    /// Whether this process converts books (`--workers 0`: it only queues them for others).
    public var converts = true
    /// Scan, wait for files to settle, convert what is there, and return.
    public var once = false
    /// How long to wait after a run stopped for transient trouble (the server down) before trying
    /// again; the books stay queued.
    public var retryAfterStall: Double = 30
    /// The kernel's mount table (tests give one with a network share).
    public var mounts = "/proc/self/mounts"

    public init(inboxes: [String], output: String, settings: ConversionSettings, home: String) {
        self.inboxes = inboxes
        self.output = output
        self.settings = settings
        self.home = home
    }

    var doneFolder: String { done ?? "\(output)/_done" }
}

/// Where events come from: inotify in production; tests give a source of their own (a watch limit,
/// an overflow) and drive the watcher by hand.
public protocol FolderEventSource: AnyObject, Sendable {
    func watch(_ folder: String) throws(InotifyError)
    /// Waits up to `timeout` seconds for events.
    func next(timeout: Double) -> [FolderEvent]
}

extension Inotify: FolderEventSource {}

/// The detection half of `recital watch`: keeps one inbox scanner's view of its files (events,
/// scans, polling, settling) and puts complete books in the job table through the pipeline. It
/// holds no truth of its own: every file's stamp, hash and state are rows, so a restarted watcher
/// picks up where this one stopped. `Watcher+Run` adds the loops and the workers.
public actor Watcher {
    let pipeline: Pipeline
    let options: WatchOptions
    /// Wall-clock seconds (tests move it by hand; ctimes are compared with it).
    let now: @Sendable () -> Double
    let log: @Sendable (String) -> Void
    let events: (any FolderEventSource)?

    struct Inbox {
        var path: String
        var rules: IgnoreRules
        /// Whether this process holds the lease to scan it.
        var scanning = false
        var folders: [String: WatchedFolder] = [:]
        /// Folders on network or FUSE filesystems (a longer settle window).
        var remote: Set<String> = []
        var lastScan: Double = -.infinity
        var lastPoll: Double = -.infinity
        var polled: Bool { folders.values.contains { $0.mode == .polling } }
    }

    /// A file seen but not decided yet.
    struct Candidate {
        var inbox: String
        var relativePath: String
        var watch: Completeness.Watch
        /// When to look at it again.
        var nextLook: Double
        /// The last reason it was not taken (logged once per reason).
        var note: String?
        var remote: Bool
    }

    var inboxes: [String: Inbox] = [:]
    var candidates: [String: Candidate] = [:]
    /// Files decided already (queued, duplicate, failed, delivered) with the stamp they had: an
    /// unchanged file is not read again.
    var decided: [String: FileStamp] = [:]
    /// Set when a book is queued, so the workers look at once.
    var queuedSinceLastLook = false
    /// `--once`: everything found is decided, so the workers may stop when the books are done.
    var onceDetected = false
    /// When the scanning leases were last renewed.
    var lastLease = -Double.infinity
    /// Files that failed or were held in this run (for `--once`'s exit status).
    public internal(set) var problems: [String] = []

    public init(
        pipeline: Pipeline,
        options: WatchOptions,
        events: (any FolderEventSource)?,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        log: @escaping @Sendable (String) -> Void
    ) {
        self.pipeline = pipeline
        self.options = options
        self.events = events
        self.now = now
        self.log = log
        for inbox in options.inboxes {
            inboxes[inbox] = Inbox(path: inbox, rules: Self.rules(inbox: inbox, options: options))
        }
    }

    /// The ignore rules of an inbox: the user's patterns, and the output, `_failed` and done
    /// folders when they sit inside it.
    static func rules(inbox: String, options: WatchOptions) -> IgnoreRules {
        var own: [String] = []
        for folder in [options.output, "\(options.output)/\(FailureReport.folderName)", options.doneFolder] {
            if folder == inbox { continue }
            if folder.hasPrefix(inbox + "/") { own.append(String(folder.dropFirst(inbox.count + 1))) }
        }
        return IgnoreRules(patterns: options.ignore, ownFolders: own)
    }

    // MARK: - Leases

    /// Takes or renews the scanning lease of every inbox; an inbox newly taken is scanned at once.
    /// Another live watcher's inbox is left to it (this one still synthesizes).
    public func claimInboxes() async throws {
        lastLease = now()
        for path in options.inboxes {
            let held = try await pipeline.claimInbox(path)
            let was = inboxes[path]?.scanning ?? false
            inboxes[path]?.scanning = held
            if held, !was {
                log("scanning \(path)")
                try await loadDecided(inbox: path)
                try await scan(path)
            } else if !held, was {
                log("\(path) is scanned by another watcher now")
                candidates = candidates.filter { $0.value.inbox != path }
            } else if !held, inboxes[path]?.lastScan == -.infinity {
                log("\(path) is scanned by another watcher; this one converts what it queues")
                inboxes[path]?.lastScan = now()
            }
        }
    }

    /// Gives every held inbox back, so another watcher takes it at once.
    public func releaseInboxes() async throws {
        for (path, inbox) in inboxes where inbox.scanning {
            try await pipeline.releaseInbox(path)
            inboxes[path]?.scanning = false
        }
    }

    /// What the job table knows of the inbox's files, so that unchanged decided files are not read.
    func loadDecided(inbox: String) async throws {
        // Held files wait for their folder settings to be fixed, maybe while no watcher ran.
        for file in try await pipeline.watchedFiles(inbox: inbox) where file.state != .settling && file.state != .held {
            decided[file.path] = FileStamp(size: file.size, modified: file.modified, changed: file.changed)
        }
    }

    // MARK: - Scanning

    /// Walks the inbox: watches (or polls) every folder not yet watched, considers every book file,
    /// and forgets files recorded as settling that are gone.
    public func scan(_ inbox: String) async throws {
        guard var state = inboxes[inbox], state.scanning else { return }
        state.lastScan = now()
        state.lastPoll = state.lastScan
        var result = InboxScan.scan(inbox, rules: state.rules)
        if !FileManager.default.fileExists(atPath: inbox) {
            log("\(inbox) is not there (unmounted or removed?); looking again every \(Int(options.pollInterval)) s")
        }
        let before = state.folders
        while true {
            let known = Set(result.folders)
            state.folders = state.folders.filter { known.contains($0.key) }
            state.remote = state.remote.intersection(known)
            var watchedNow = false
            for folder in result.folders {
                // A folder inotify refused (gone for a moment, the watch limit) is tried again.
                if let recorded = state.folders[folder], recorded.mode == .inotify || !recorded.retriesInotify {
                    continue
                }
                let retry = state.folders[folder] != nil
                let (watched, remote) = watch(folder, retry: retry)
                state.folders[folder] = watched
                if remote { state.remote.insert(folder) }
                if !retry { watchedNow = true }
            }
            // What arrived in a folder between its listing and its watch raised no event: list
            // again until no folder is new (a tree being copied in grows while it is walked).
            guard watchedNow else { break }
            result = InboxScan.scan(inbox, rules: state.rules)
        }
        inboxes[inbox] = state
        if state.folders != before {
            try await pipeline.recordFolders(state.folders.values.sorted { $0.path < $1.path }, inbox: inbox)
        }
        let present = Set(result.books.map(\.path))
        for book in result.books {
            try await consider(book.path, inbox: inbox, relativePath: book.relativePath, renamed: false)
        }
        for file in try await pipeline.watchedFiles(inbox: inbox, states: [.settling]) {
            if !present.contains(file.path) {
                candidates[file.path] = nil
                try await pipeline.forgetWatched(file.path)
            }
        }
    }

    /// How one folder is watched: inotify, or polling (a network or FUSE filesystem, `--poll
    /// always`, or inotify refusing), logged once with the reason (not again on a retry).
    /// - Returns: the folder's mode, and whether it is on a network or FUSE filesystem.
    func watch(_ folder: String, retry: Bool = false) -> (WatchedFolder, remote: Bool) {
        let source = FolderSource.of(folder, mounts: options.mounts)
        let remote = source != .local
        if options.polling == .always {
            return (WatchedFolder(path: folder, mode: .polling, reason: "--poll always"), remote)
        }
        if case .remote(let type) = source, options.polling == .auto {
            let reason = "on a \(type) filesystem, whose changes by other machines inotify does not see"
            log("polling \(folder) every \(Int(options.pollInterval)) s: \(reason)")
            return (WatchedFolder(path: folder, mode: .polling, reason: reason), remote)
        }
        guard let events else {
            return (WatchedFolder(path: folder, mode: .polling, reason: "inotify is not available"), remote)
        }
        do {
            try events.watch(folder)
            if retry { log("watching \(folder) with inotify again") }
            return (WatchedFolder(path: folder, mode: .inotify), remote)
        } catch {
            let mode: FolderMode = options.polling == .never ? .inotify : .polling
            let reason = WatchedFolder.inotifyRefused + error.message
            if !retry {
                log(
                    mode == .polling
                        ? "polling \(folder) every \(Int(options.pollInterval)) s: \(reason)"
                        : "\(folder): \(reason); only the rescan every \(Int(options.rescan)) s will see it (--poll never)"
                )
            }
            return (WatchedFolder(path: folder, mode: mode, reason: reason), remote)
        }
    }

    /// Starts (or continues) settling a file, unless it was decided with the stamp it has now.
    func consider(_ path: String, inbox: String, relativePath: String, renamed: Bool) async throws {
        guard let stamp = FileStamp.of(path) else { return }
        if decided[path] == stamp { return }
        let time = now()
        let remote = inboxes[inbox]?.remote.contains((path as NSString).deletingLastPathComponent) ?? false
        let completeness = completeness(remote: remote)
        let watch = completeness.observe(stamp, at: time, renamed: renamed, into: candidates[path]?.watch)
        if candidates[path] == nil {
            try await pipeline.recordWatched(
                WatchedFile(
                    path: path,
                    inbox: inbox,
                    relativePath: relativePath,
                    size: stamp.size,
                    modified: stamp.modified,
                    changed: stamp.changed,
                    state: .settling
                )
            )
        }
        candidates[path] = Candidate(
            inbox: inbox,
            relativePath: relativePath,
            watch: watch,
            nextLook: min(candidates[path]?.nextLook ?? .infinity, watch.since + completeness.window(watch)),
            note: candidates[path]?.note,
            remote: remote
        )
    }

    func completeness(remote: Bool) -> Completeness {
        Completeness(settle: options.settle ?? (remote ? 60 : 15))
    }

    // MARK: - Events

    /// Folds the kernel's events in: arrivals start settling, new folders are watched and scanned,
    /// removals forget undecided files, an overflow rescans everything.
    public func handle(_ batch: [FolderEvent]) async throws {
        var rescans: Set<String> = []
        for event in batch {
            if event.kind == .overflow {
                log("inotify's queue overflowed; rescanning every inbox")
                rescans.formUnion(inboxes.values.filter(\.scanning).map(\.path))
                continue
            }
            guard let (inbox, relative) = locate(event.path), inboxes[inbox]?.scanning == true else { continue }
            let rules = inboxes[inbox]?.rules ?? IgnoreRules()
            switch event.kind {
            case .folderGone:
                inboxes[inbox]?.folders[event.path] = nil
                if event.path == inbox { rescans.insert(inbox) }
            case .removed:
                if event.isDirectory {
                    inboxes[inbox]?.folders[event.path] = nil
                } else if candidates.removeValue(forKey: event.path) != nil {
                    try await pipeline.forgetWatched(event.path)
                }
            case .created, .closedAfterWriting, .movedIn:
                if event.isDirectory {
                    // A folder made or moved in may hold books already; the scan watches it too.
                    if rules.reason(for: relative, isDirectory: true) == nil { rescans.insert(inbox) }
                } else if event.name == FolderSettings.fileName {
                    // New folder settings: files held for a broken one are looked at again now.
                    for (path, candidate) in candidates where candidate.inbox == inbox {
                        candidates[path]?.nextLook = min(candidate.nextLook, now())
                    }
                } else if rules.reason(for: relative, isDirectory: false) == nil,
                    InboxScan.extensions.contains((event.name as NSString).pathExtension.lowercased())
                {
                    try await consider(
                        event.path,
                        inbox: inbox,
                        relativePath: relative,
                        renamed: event.kind == .movedIn
                    )
                }
            case .overflow:
                break
            }
        }
        for inbox in rescans.sorted() { try await scan(inbox) }
    }

    /// The inbox a path lies in and the path relative to it.
    func locate(_ path: String) -> (inbox: String, relative: String)? {
        for inbox in inboxes.keys.sorted(by: { $0.count > $1.count }) {
            if path == inbox { return (inbox, "") }
            if path.hasPrefix(inbox + "/") { return (inbox, String(path.dropFirst(inbox.count + 1))) }
        }
        return nil
    }

    // MARK: - Deciding

    /// Looks again at every file due: settled and well-formed ones are queued (or recorded as
    /// duplicates), those failed for good get a report. Also polls and rescans when due.
    /// - Returns: when something is next due (seconds on the watcher's clock), or nil when nothing
    ///   waits.
    @discardableResult
    public func tick() async throws -> Double? {
        let time = now()
        for inbox in inboxes.values where inbox.scanning {
            if time - inbox.lastScan >= options.rescan {
                try await scan(inbox.path)
            } else if inbox.polled || !FileManager.default.fileExists(atPath: inbox.path),
                time - inbox.lastPoll >= options.pollInterval
            {
                try await scan(inbox.path)
            }
        }
        for (path, candidate) in candidates.sorted(by: { $0.key < $1.key }) where candidate.nextLook <= time {
            try await look(at: path, candidate)
            // Reading a long run of books must not let the scanning lease run out.
            if now() - lastLease >= Self.leaseRenewal { try await claimInboxes() }
        }
        return candidates.values.map(\.nextLook).min()
    }

    /// Whether every file seen is decided or still arriving (for `--once`).
    public var settled: Bool {
        candidates.values.allSatisfy { $0.note != nil }
    }

    func look(at path: String, _ candidate: Candidate) async throws {
        let time = now()
        guard let stamp = FileStamp.of(path) else {
            candidates[path] = nil
            try await pipeline.forgetWatched(path)
            return
        }
        let completeness = completeness(remote: candidate.remote)
        var current = candidate
        current.watch = completeness.observe(stamp, at: time, into: candidate.watch)
        switch completeness.verdict(current.watch, at: time, check: { Completeness.malformation(of: path) }) {
        case .settling(let until):
            current.nextLook = until
            candidates[path] = current
        case .arriving(let problem):
            if current.note != problem { log("\(candidate.relativePath): still arriving (\(problem))") }
            current.note = problem
            current.nextLook = time + completeness.settle
            candidates[path] = current
        case .failed(let problem):
            candidates[path] = nil
            let waited =
                problem == Completeness.notABook
                ? "" : ", and it has not changed for \(Int(completeness.grace / 60)) minutes"
            try await fail(
                path,
                candidate,
                stamp: stamp,
                reason: problem + waited,
                hash: nil,
                settings: nil,
                retry: "copy a complete file into the inbox in its place"
            )
        case .complete:
            if let held = try await queue(path, candidate, stamp: stamp) {
                if current.note != held { log("\(candidate.relativePath): held: \(held)") }
                current.note = held
                current.nextLook = time + completeness.settle
                candidates[path] = current
            } else {
                candidates[path] = nil
            }
        }
    }

    /// The state of a file known to the job table, for the rows this watcher writes.
    func row(
        _ path: String,
        _ candidate: Candidate,
        stamp: FileStamp,
        state: WatchedFileState,
        hash: String?,
        reason: String? = nil,
        book: Int64? = nil
    ) -> WatchedFile {
        WatchedFile(
            path: path,
            inbox: candidate.inbox,
            relativePath: candidate.relativePath,
            size: stamp.size,
            modified: stamp.modified,
            changed: stamp.changed,
            contentHash: hash,
            state: state,
            reason: reason,
            book: book
        )
    }
}

extension WatchedFolder {
    /// The reason a folder is polled because inotify refused it (tried again at every scan).
    static let inotifyRefused = "inotify cannot watch it: "
    var retriesInotify: Bool { reason?.hasPrefix(Self.inotifyRefused) == true }
}

extension Completeness {
    /// The settle window that applies to what is known of a file.
    func window(_ watch: Watch) -> Double { watch.renamedIntoPlace ? afterRename : settle }
}
