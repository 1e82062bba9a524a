internal import Foundation
internal import HTTPTypes
internal import NIOCore
internal import NIOPosix

#if canImport(Glibc)
    internal import Glibc
#endif

/// An upload being written to disk under a name of the server's own: owns its descriptor (closed
/// by `deinit`), writes on NIO's blocking pool, refuses to grow past a limit, and tells a full disk
/// (507) from other failures. Removed unless `keep` is called.
final class UploadFile: @unchecked Sendable {
    // One writer at a time: the request body is written in order by one task.
    private(set) var path: String
    private var descriptor: Int32
    private(set) var size = 0
    private(set) var head: [UInt8] = []
    private var kept = false

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw Self.failure("cannot store the upload", errno) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !kept { unlink(path) }
    }

    /// Appends a chunk of the body; past `limit` bytes the upload is refused with 413.
    func append(_ buffer: ByteBuffer, limit: Int) async throws {
        size += buffer.readableBytes
        guard size <= limit else {
            throw Problem(.contentTooLarge, "the upload is larger than the \(limit >> 20) MiB this server takes")
        }
        let bytes = Array(buffer.readableBytesView)
        if head.count < 8 { head += bytes.prefix(8 - head.count) }
        let descriptor = self.descriptor
        try await NIOThreadPool.singleton.runIfActive {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("cannot store the upload", errno)
                }
                offset += written
            }
        }
    }

    /// Gives the file its final name (still removed unless kept).
    func rename(to target: String) throws {
        guard Glibc.rename(path, target) == 0 else { throw Self.failure("cannot store the upload", errno) }
        path = target
    }

    /// Flushes and closes the file, and keeps it (from now on it is the book's source).
    func keep() async throws {
        let descriptor = self.descriptor
        try await NIOThreadPool.singleton.runIfActive {
            guard fsync(descriptor) == 0 else { throw Self.failure("cannot store the upload", errno) }
        }
        close(descriptor)
        self.descriptor = -1
        kept = true
    }

    /// A full disk is the server's trouble to report as such (507); anything else is a 500.
    static func failure(_ what: String, _ code: Int32) -> Problem {
        let reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            return Problem(
                .init(code: 507, reasonPhrase: "Insufficient Storage"),
                "\(what): \(reason); free some space and send it again"
            )
        }
        return Problem(.internalServerError, "\(what): \(reason)")
    }
}
