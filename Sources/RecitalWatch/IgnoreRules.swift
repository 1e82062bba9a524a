internal import Foundation

#if canImport(Glibc)
    internal import Glibc
#endif

/// Which files and folders under an inbox are never books, decided by name before anything is
/// read: temporary names of downloaders and sync tools, NAS and trash folders, Recital's own output
/// and failure folders when they sit inside the inbox, and the user's own patterns.
public struct IgnoreRules: Sendable, Equatable {
    /// `--ignore` patterns (shell globs), matched against a name and against the path relative to
    /// the inbox.
    public var patterns: [String]
    /// Folders (paths relative to the inbox) whose contents are Recital's own: the output folder
    /// and `_failed` when they are inside the inbox.
    public var ownFolders: [String]

    public init(patterns: [String] = [], ownFolders: [String] = []) {
        self.patterns = patterns
        self.ownFolders = ownFolders
    }

    /// Names downloaders and sync tools give files still being written.
    static let partialSuffixes = [
        ".part", ".partial", ".crdownload", ".download", ".filepart", ".!qb", ".!ut", ".!sync", ".tmp",
        ".uploading", ".aria2",
    ]
    /// Folders NAS systems, desktops and archivers make that never hold a user's books.
    static let foreignFolders = ["@eadir", "#recycle", "$recycle.bin", "lost+found", "__macosx"]

    /// Why the file or folder at `relativePath` (components joined by `/`) is ignored, or nil.
    public func reason(for relativePath: String, isDirectory: Bool) -> String? {
        let components = relativePath.split(separator: "/").map(String.init)
        guard let name = components.last else { return nil }
        for folder in ownFolders where relativePath == folder || relativePath.hasPrefix(folder + "/") {
            return "inside Recital's own folder \(folder)"
        }
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            // Dotfiles cover Syncthing's and rsync's temporary names, macOS `._` files and
            // `.Trash-1000`.
            if component.hasPrefix(".") { return isLast && !isDirectory ? "a hidden file" : "in a hidden folder" }
            if Self.foreignFolders.contains(component.lowercased()), !isLast || isDirectory {
                return "in a system folder (\(component))"
            }
        }
        if name.hasPrefix("~$") { return "an office program's lock file" }
        if !isDirectory, let suffix = Self.partialSuffixes.first(where: { name.lowercased().hasSuffix($0) }) {
            return "a file still being written (\(suffix))"
        }
        for pattern in patterns where Self.matches(pattern, name) || Self.matches(pattern, relativePath) {
            return "matches --ignore \(pattern)"
        }
        return nil
    }

    /// Whether a shell glob matches `text` (`*` does not cross `/` in paths).
    static func matches(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, FNM_PATHNAME) == 0
    }
}
