public import Foundation

/// A real file system that fills up: a tmpfs of a few kilobytes mounted on a fresh folder, so
/// tests see the system's own "No space left on device". Mounting needs root, which CI has;
/// tests that need one are enabled by ``available``.
public final class SmallDisk: Sendable {
    public let path: String

    /// Whether this process can mount one (tried once).
    public static let available: Bool = {
        guard geteuid() == 0, let probe = try? SmallDisk(kilobytes: 8) else { return false }
        _ = probe
        return true
    }()

    /// Mounts a disk of `kilobytes` (rounded up to whole pages) on `folder`, or on a fresh folder.
    public init(kilobytes: Int, at folder: String? = nil) throws {
        path = try folder ?? Fixtures.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path])
    }

    /// Makes the disk larger (or smaller) in place, keeping what is on it.
    public func resize(kilobytes: Int) throws {
        try Self.mount(["-o", "remount,size=\(kilobytes)k", path])
    }

    deinit {
        _ = try? ProcessResult.run("/bin/umount", ["-l", path])
    }

    private static func mount(_ arguments: [String]) throws {
        let result = try ProcessResult.run("/bin/mount", arguments)
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mount: \(result.stderr)"])
        }
    }
}
