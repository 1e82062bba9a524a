internal import Foundation

#if canImport(Glibc)
    internal import Glibc
#endif

/// One pass over an inbox's tree: the books in it (by extension, after the ignore rules), the
/// folders to watch, and what was passed over and why. Events are hints; this scan is the truth,
/// run at start, on a timer and after an overflow.
public struct InboxScan: Sendable, Equatable {
    public struct Book: Sendable, Equatable {
        /// Relative to the inbox, components joined by `/` (`sf/x.epub`): where its outputs go
        /// under the output folder.
        public var relativePath: String
        public var path: String
        public var stamp: FileStamp
    }

    public var books: [Book] = []
    /// Every folder of the tree that is not ignored, the inbox first (each is watched on its own).
    public var folders: [String] = []
    /// Files and folders passed over, with the reason (shown by `status`, logged once).
    public var ignored: [(path: String, reason: String)] = []

    public static func == (lhs: InboxScan, rhs: InboxScan) -> Bool {
        lhs.books == rhs.books && lhs.folders == rhs.folders && lhs.ignored.map(\.path) == rhs.ignored.map(\.path)
    }

    /// The file kinds a book can be; anything else is not looked at.
    static let extensions: Set<String> = ["epub", "pdf"]

    /// Walks `inbox`, following no symbolic links out of it.
    public static func scan(_ inbox: String, rules: IgnoreRules) -> InboxScan {
        var result = InboxScan()
        let root = URL(fileURLWithPath: inbox).standardizedFileURL.path
        result.folders.append(root)
        var pending = [""]
        while let relativeFolder = pending.popLast() {
            let folder = relativeFolder.isEmpty ? root : root + "/" + relativeFolder
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            for name in names {
                let relative = relativeFolder.isEmpty ? name : relativeFolder + "/" + name
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                let isFile = (info.st_mode & S_IFMT) == S_IFREG
                if let reason = rules.reason(for: relative, isDirectory: isDirectory) {
                    result.ignored.append((path, reason))
                    continue
                }
                if isDirectory {
                    result.folders.append(path)
                    pending.append(relative)
                } else if isFile, extensions.contains((name as NSString).pathExtension.lowercased()),
                    let stamp = FileStamp.of(path)
                {
                    result.books.append(Book(relativePath: relative, path: path, stamp: stamp))
                }
            }
        }
        result.books.sort { $0.relativePath < $1.relativePath }
        return result
    }
}

/// Whether inotify can see changes in a folder: it cannot on network and FUSE filesystems, where
/// other machines or a user-space daemon change files; those folders are polled.
public enum FolderSource: Sendable, Equatable {
    case local
    /// Polled, with the filesystem's type.
    case remote(String)

    /// The source of a filesystem by its type as the kernel names it in its mount table.
    public static func kind(fileSystem type: String) -> FolderSource {
        let remote = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "afs", "glusterfs", "davfs"]
        return remote.contains(type) || type.hasPrefix("fuse") ? .remote(type) : .local
    }

    /// The source of the folder at `path`: the type of the mount it lies on, from the kernel's
    /// mount table (local when it cannot be told).
    public static func of(_ path: String, mounts: String = "/proc/self/mounts") -> FolderSource {
        guard let table = try? String(contentsOfFile: mounts, encoding: .utf8) else { return .local }
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var best: (point: String, type: String)?
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            // Spaces in mount points are written as \040.
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            let inside = point == "/" || real == point || real.hasPrefix(point + "/")
            if inside, point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best.map { kind(fileSystem: $0.type) } ?? .local
    }
}
