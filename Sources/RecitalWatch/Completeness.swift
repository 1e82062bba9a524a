internal import Foundation
internal import RecitalZip

/// What `stat` says of a file, the only evidence of whether its writer is done.
public struct FileStamp: Sendable, Equatable {
    public var size: Int64
    /// Modification and status-change times, seconds (with their nanoseconds).
    public var modified: Double
    public var changed: Double

    public init(size: Int64, modified: Double, changed: Double) {
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    /// The stamp of the file at `path`, or nil when it is gone.
    public static func of(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        func seconds(_ time: timespec) -> Double { Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 }
        return FileStamp(size: Int64(info.st_size), modified: seconds(info.st_mtim), changed: seconds(info.st_ctim))
    }
}

/// Decides when a file that appeared in an inbox is a complete book. Quiet is not complete: the
/// stamp must stay unchanged for a settle window (shorter after an atomic rename into place), and
/// then the file must be well-formed. A file that fails that check but changed recently may still be
/// arriving; after `grace` it has failed. An old modification time never counts by itself (`cp -p`,
/// rsync and Syncthing keep the sender's time).
public struct Completeness: Sendable {
    public enum Verdict: Sendable, Equatable {
        /// Not quiet long enough yet; look again at this time (seconds on the caller's clock).
        case settling(until: Double)
        /// Quiet and well-formed: queue it.
        case complete
        /// Quiet but not yet well-formed, and changed within the grace period.
        case arriving(String)
        /// Not well-formed long after its last change: a failed book, with the reason.
        case failed(String)
    }

    /// How long the stamp must stay the same: 15 s on local disks, 60 s on network folders.
    public var settle: Double
    /// After an atomic rename into place (`IN_MOVED_TO`) the file is whole already.
    public var afterRename: Double = 3
    /// How long a malformed file is given to finish arriving.
    public var grace: Double = 30 * 60

    public init(settle: Double) { self.settle = settle }

    /// What is known of one file: its stamp, and since when (the caller's clock) it has had it.
    public struct Watch: Sendable, Equatable {
        public var stamp: FileStamp
        public var since: Double
        public var renamedIntoPlace: Bool
        /// When the file last changed by the wall clock (for the grace period).
        public var lastChange: Double

        public init(stamp: FileStamp, since: Double, renamedIntoPlace: Bool = false, lastChange: Double) {
            self.stamp = stamp
            self.since = since
            self.renamedIntoPlace = renamedIntoPlace
            self.lastChange = lastChange
        }
    }

    /// Folds a new look at the file into what was known (a changed stamp starts the window again).
    /// The grace period runs from the file's last change on this machine: its ctime, which copies
    /// cannot carry over, so a watcher that starts again does not give a broken file a new one.
    public func observe(_ stamp: FileStamp, at now: Double, renamed: Bool = false, into known: Watch?) -> Watch {
        guard let known, known.stamp == stamp else {
            return Watch(stamp: stamp, since: now, renamedIntoPlace: renamed, lastChange: min(now, stamp.changed))
        }
        var updated = known
        updated.renamedIntoPlace = known.renamedIntoPlace || renamed
        return updated
    }

    /// The verdict on a file, given what is known and the well-formedness check (run only once the
    /// file is quiet).
    public func verdict(_ watch: Watch, at now: Double, check: () -> String?) -> Verdict {
        let window = watch.renamedIntoPlace ? afterRename : settle
        guard now - watch.since >= window else { return .settling(until: watch.since + window) }
        guard let problem = check() else { return .complete }
        // A file's first bytes arrive first: once they are neither a PDF's nor a ZIP's, no more
        // arriving makes it a book.
        if problem == Self.notABook { return .failed(problem) }
        return now - watch.lastChange < grace ? .arriving(problem) : .failed(problem)
    }

    /// Whether the file at `path` is a whole book: a PDF ends with `%%EOF` (in its last 1,024
    /// bytes); an EPUB's ZIP central directory reads. Returns the problem, or nil.
    public static func malformation(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "cannot be opened" }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 5), !head.isEmpty else { return "is empty" }
        if head.starts(with: Array("%PDF-".utf8)) {
            guard let end = try? handle.seekToEnd() else { return "cannot be read" }
            let tail = min(end, 1024)
            do {
                try handle.seek(toOffset: end - tail)
                let bytes = try handle.read(upToCount: Int(tail)) ?? Data()
                return bytes.range(of: Data("%%EOF".utf8)) == nil ? "the PDF has no end (%%EOF) yet" : nil
            } catch {
                return "cannot be read (\(error.localizedDescription))"
            }
        }
        if head.starts(with: [0x50, 0x4B]) {
            do {
                _ = try ZipArchive(path: path)
                return nil
            } catch {
                return "the EPUB's ZIP directory does not read yet (\(error))"
            }
        }
        return notABook
    }

    /// What ``malformation(of:)`` says of a file that starts as neither a PDF nor a ZIP.
    public static let notABook = "neither a PDF nor an EPUB (it starts with neither %PDF- nor a ZIP header)"
}
