internal import Foundation

#if canImport(Glibc)
    internal import Glibc
#endif

/// What the kernel says happened in a watched folder.
public struct FolderEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A file or folder was made (a hard link gives only this).
        case created
        /// A file open for writing was closed.
        case closedAfterWriting
        /// A file or folder was renamed or moved into the folder (an atomic arrival).
        case movedIn
        /// A file or folder was removed or moved away.
        case removed
        /// The watched folder itself is gone (deleted, moved, unmounted).
        case folderGone
        /// The kernel's queue overflowed: events were lost, so everything must be scanned again.
        case overflow
    }

    public var kind: Kind
    /// The folder watched, and the name in it the event is about (empty for the folder itself).
    public var folder: String
    public var name: String
    public var isDirectory: Bool

    public init(kind: Kind, folder: String, name: String, isDirectory: Bool) {
        self.kind = kind
        self.folder = folder
        self.name = name
        self.isDirectory = isDirectory
    }

    public var path: String { name.isEmpty ? folder : (folder as NSString).appendingPathComponent(name) }
}

/// Why a folder cannot be watched by inotify, with what to do about it.
public struct InotifyError: Error, Sendable, CustomStringConvertible {
    public var folder: String
    public var message: String
    public var description: String { "\(folder): \(message)" }

    public init(folder: String, message: String) {
        self.folder = folder
        self.message = message
    }
}

/// Linux inotify over a set of folders: owns the descriptor (closed by `deinit`) and turns the
/// kernel's records into ``FolderEvent``s.
public final class Inotify: @unchecked Sendable {
    // The descriptor and the watch table are used by one reader at a time; `lock` guards the table
    // against `watch` calls from another thread.
    private let descriptor: Int32
    private let lock = NSLock()
    private var folders: [Int32: String] = [:]

    /// - Throws: ``InotifyError`` with the system's reason (too many inotify instances names the
    ///   sysctl that raises the limit).
    public init() throws(InotifyError) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            let hint =
                errno == EMFILE ? " (raise fs.inotify.max_user_instances with sysctl; polling instead)" : ""
            throw InotifyError(folder: "inotify", message: reason + hint)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The events looked for: arrivals (create, close after writing, moved in), removals, and the
    /// folder itself going away.
    private static let mask: UInt32 =
        UInt32(IN_CREATE) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_DELETE)
        | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    /// Starts watching one folder (not its subfolders: each is watched on its own).
    /// - Throws: ``InotifyError``; when the watch limit is reached it names the sysctl to raise.
    public func watch(_ folder: String) throws(InotifyError) {
        let watch = inotify_add_watch(descriptor, folder, Self.mask)
        guard watch >= 0 else {
            let reason = String(cString: strerror(errno))
            let hint = errno == ENOSPC ? " (raise fs.inotify.max_user_watches with sysctl; polling instead)" : ""
            throw InotifyError(folder: folder, message: reason + hint)
        }
        lock.withLock { folders[watch] = folder }
    }

    /// Waits up to `timeout` seconds for events and returns those that arrived (none on a timeout).
    public func next(timeout: Double) -> [FolderEvent] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return [] }
        var events: [FolderEvent] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= count {
            let (watch, mask, length) = buffer.withUnsafeBytes { bytes in
                let record = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                return (record.wd, record.mask, Int(record.len))
            }
            let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)]
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            offset += header + length
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                events.append(FolderEvent(kind: .overflow, folder: "", name: "", isDirectory: false))
                continue
            }
            let folder = lock.withLock { folders[watch] } ?? ""
            let isDirectory = mask & UInt32(IN_ISDIR) != 0
            let kind: FolderEvent.Kind? =
                if mask & UInt32(IN_CREATE) != 0 { .created } else if mask & UInt32(IN_CLOSE_WRITE) != 0 {
                    .closedAfterWriting
                } else if mask & UInt32(IN_MOVED_TO) != 0 {
                    .movedIn
                } else if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 {
                    .removed
                } else if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_UNMOUNT)) != 0 {
                    .folderGone
                } else { nil }
            if mask & UInt32(IN_IGNORED) != 0 { lock.withLock { _ = folders.removeValue(forKey: watch) } }
            if let kind { events.append(FolderEvent(kind: kind, folder: folder, name: name, isDirectory: isDirectory)) }
        }
        return events
    }
}
