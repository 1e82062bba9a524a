internal import Foundation
internal import GRDB
public import RecitalModel

/// What `recital watch` records: every book file under its inboxes and which process scans each
/// inbox. The job table, not a watcher's memory, decides whether a file was converted.
extension JobStore {
    public func watchedFile(_ path: String) async throws(JobError) -> WatchedFile? {
        try await read { db in
            try db.row(sql: "SELECT * FROM watched_files WHERE path = ?", arguments: [path])
                .map(Self.watchedFile)
        }
    }

    /// Every file recorded under `inbox` (under every inbox when nil), in these states (in any
    /// when nil).
    public func watchedFiles(
        inbox: String? = nil,
        states: [WatchedFileState]? = nil
    ) async throws(JobError) -> [WatchedFile] {
        // States are an enum's raw values, so listing them inline is safe.
        let stateFilter = states.map { " AND state IN (\($0.map { "'\($0.rawValue)'" }.joined(separator: ",")))" } ?? ""
        return try await read { db in
            try db.rows(
                sql: """
                    SELECT * FROM watched_files WHERE (?1 IS NULL OR inbox = ?1)\(stateFilter)
                    ORDER BY inbox, relative_path
                    """,
                arguments: [inbox]
            ).map(Self.watchedFile)
        }
    }

    /// Records a file's stamp, hash and state (replacing what was known of that path).
    public func recordWatched(_ file: WatchedFile) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO watched_files (path, inbox, relative_path, size, modified_at, changed_at,
                        content_hash, state, reason, book_id, seen_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (path) DO UPDATE SET inbox = excluded.inbox, relative_path = excluded.relative_path,
                        size = excluded.size, modified_at = excluded.modified_at, changed_at = excluded.changed_at,
                        content_hash = excluded.content_hash, state = excluded.state, reason = excluded.reason,
                        book_id = excluded.book_id, updated_at = excluded.updated_at
                    """,
                arguments: [
                    file.path, file.inbox, file.relativePath, file.size, file.modified, file.changed,
                    file.contentHash, file.state.rawValue, file.reason, file.book, time, time,
                ]
            )
        }
    }

    /// Forgets a file that went away before it was queued.
    public func forgetWatched(_ path: String) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM watched_files WHERE path = ?", arguments: [path]) }
    }

    /// The books of queued files (under any inbox, by any watcher): the work a watcher takes on.
    public func watchedBooksQueued() async throws(JobError) -> [Int64] {
        try await read { db in
            try db.values(
                Int64.self,
                sql: """
                    SELECT DISTINCT w.book_id FROM watched_files w JOIN books b ON b.id = w.book_id
                    WHERE w.state = 'queued' ORDER BY b.priority, w.book_id
                    """
            )
        }
    }

    /// The book with these bytes and these audio settings, if one is in the table.
    public func book(contentHash: String, settingsHash: String) async throws(JobError) -> Int64? {
        try await read { db in
            try db.value(
                Int64.self,
                sql: "SELECT id FROM books WHERE content_hash = ? AND settings_hash = ?",
                arguments: [contentHash, settingsHash]
            )
        }
    }

    /// The language of a book made from these bytes, if there is one: "" when the book names none.
    public func language(contentHash: String) async throws(JobError) -> String? {
        try await read { db in
            try db.value(
                String.self,
                sql: "SELECT COALESCE(language, '') FROM books WHERE content_hash = ? ORDER BY id LIMIT 1",
                arguments: [contentHash]
            )
        }
    }

    /// Takes (or renews) the lease on scanning `inbox` for `owner`: free, already its own, run out,
    /// or held by a process that is gone from this machine. Returns whether `owner` holds it.
    public func claimInbox(_ inbox: String, owner: String) async throws(JobError) -> Bool {
        let time = now()
        let host = self.host
        return try await write { db in
            let row = try db.row(
                sql: "SELECT owner, lease_expires_at FROM watch_inboxes WHERE path = ?",
                arguments: [inbox]
            )
            if let row, let holder = row["owner"] as String?, holder != owner,
                (row["lease_expires_at"] as Double? ?? 0) >= time
            {
                guard let (holderHost, pid) = Self.process(of: holder), holderHost == host,
                    !Self.processExists(pid)
                else { return false }
            }
            try db.execute(
                sql: """
                    INSERT INTO watch_inboxes (path, owner, lease_expires_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (path) DO UPDATE SET owner = excluded.owner,
                        lease_expires_at = excluded.lease_expires_at, updated_at = excluded.updated_at
                    """,
                arguments: [inbox, owner, time + Self.leaseDuration, time]
            )
            return true
        }
    }

    /// Gives the inbox back so that another watcher takes it at once.
    public func releaseInbox(_ inbox: String, owner: String) async throws(JobError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE watch_inboxes SET owner = NULL, lease_expires_at = NULL WHERE path = ? AND owner = ?",
                arguments: [inbox, owner]
            )
        }
    }

    /// Records how the inbox's folders are watched, for `status`.
    public func recordFolders(_ folders: [WatchedFolder], inbox: String) async throws(JobError) {
        let json: String
        do {
            json = String(decoding: try JSONEncoder().encode(folders), as: UTF8.self)
        } catch {
            throw JobError(.database, "cannot record the folders of \(inbox)", cause: error)
        }
        let time = now()
        try await write { db in
            try db.execute(
                sql: "UPDATE watch_inboxes SET folders_json = ?, updated_at = ? WHERE path = ?",
                arguments: [json, time, inbox]
            )
        }
    }

    /// Every inbox with its scanner, folders and files.
    public func watchStatus() async throws(JobError) -> [WatchedInbox] {
        let time = now()
        return try await read { db in
            let inboxes = try db.rows(sql: "SELECT * FROM watch_inboxes ORDER BY path")
            let files = try db.rows(
                sql: """
                    SELECT w.*, (SELECT COUNT(*) FROM tasks t WHERE t.book_id = w.book_id AND t.state = 'running')
                        AS running
                    FROM watched_files w ORDER BY w.inbox, w.relative_path
                    """
            )
            return inboxes.map { row in
                let path: String = row["path"]
                let live = (row["lease_expires_at"] as Double? ?? 0) >= time
                // Written by `recordFolders` only; a row from a newer Recital that does not decode
                // shows no folders rather than hiding the inbox.
                let folders = (row["folders_json"] as String?).flatMap {
                    try? JSONDecoder().decode([WatchedFolder].self, from: Data($0.utf8))
                }
                return WatchedInbox(
                    path: path,
                    owner: live ? row["owner"] : nil,
                    folders: folders ?? [],
                    files: files.filter { $0["inbox"] == path }.map { row in
                        var file = Self.watchedFile(row)
                        if file.state == .queued, (row["running"] as Int? ?? 0) > 0 { file.state = .converting }
                        return file
                    }
                )
            }
        }
    }

    static func watchedFile(_ row: SQLRow) -> WatchedFile {
        WatchedFile(
            path: row["path"],
            inbox: row["inbox"],
            relativePath: row["relative_path"],
            size: row["size"],
            modified: row["modified_at"],
            changed: row["changed_at"],
            contentHash: row["content_hash"],
            state: WatchedFileState(rawValue: row["state"]) ?? .settling,
            reason: row["reason"],
            book: row["book_id"],
            updated: row["updated_at"]
        )
    }

    /// The machine and pid of a worker id (`host:pid:random`).
    static func process(of owner: String) -> (host: String, pid: Int32)? {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return nil }
        return (parts.dropLast(2).joined(separator: ":"), pid)
    }
}
