/// Where a file seen by `recital watch` stands. Stored states are all but `converting`, which
/// `status` reports for a queued file whose book is being worked on.
public enum WatchedFileState: String, Sendable, Codable, CaseIterable {
    /// Seen, not yet quiet and well-formed.
    case settling
    /// Its book is in the job table.
    case queued
    case converting
    /// Its files are in the output folder.
    case delivered
    /// The same bytes were converted with the same settings already (`book` is that book).
    case duplicate
    /// Its folder's `recital-folder.json` does not parse; it waits for a fix.
    case held
    /// It cannot be converted; a report is in the `_failed` folder.
    case failed
}

/// One file under a watched inbox, as the job table records it.
public struct WatchedFile: Sendable, Codable, Equatable {
    public var path: String
    public var inbox: String
    /// Relative to the inbox (`sf/x.epub`).
    public var relativePath: String
    public var size: Int64
    public var modified: Double
    public var changed: Double
    public var contentHash: String?
    public var state: WatchedFileState
    /// Why it is held, failed or a duplicate.
    public var reason: String?
    public var book: Int64?
    public var updated: Double

    public init(
        path: String,
        inbox: String,
        relativePath: String,
        size: Int64,
        modified: Double,
        changed: Double,
        contentHash: String? = nil,
        state: WatchedFileState,
        reason: String? = nil,
        book: Int64? = nil,
        updated: Double = 0
    ) {
        self.path = path
        self.inbox = inbox
        self.relativePath = relativePath
        self.size = size
        self.modified = modified
        self.changed = changed
        self.contentHash = contentHash
        self.state = state
        self.reason = reason
        self.book = book
        self.updated = updated
    }
}

/// How a folder under an inbox is watched.
public enum FolderMode: String, Sendable, Codable {
    case inotify
    case polling
}

public struct WatchedFolder: Sendable, Codable, Equatable {
    public var path: String
    public var mode: FolderMode
    /// Why it is polled (a network filesystem, the watch limit).
    public var reason: String?

    public init(path: String, mode: FolderMode, reason: String? = nil) {
        self.path = path
        self.mode = mode
        self.reason = reason
    }
}

/// An inbox as `status` reports it: who scans it, how its folders are watched, and its files.
public struct WatchedInbox: Sendable, Codable, Equatable {
    public var path: String
    /// The process scanning it (none when its lease has run out).
    public var owner: String?
    public var folders: [WatchedFolder]
    public var files: [WatchedFile]

    public init(path: String, owner: String?, folders: [WatchedFolder], files: [WatchedFile]) {
        self.path = path
        self.owner = owner
        self.folders = folders
        self.files = files
    }
}
