internal import CRecitalZip

#if canImport(Glibc)
    internal import Glibc
#endif

/// Writes a ZIP archive; used to build EPUB containers (the `mimetype` entry stored, first).
public final class ZipWriter {
    private var handle: OpaquePointer?
    private let path: String

    /// Creates (or truncates) the archive at `path`.
    public init(path: String) throws(ZipError) {
        var errorCode: Int32 = 0
        guard let archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &errorCode) else {
            throw ZipError(.io, "cannot create \(path) (libzip error \(errorCode))")
        }
        handle = archive
        self.path = path
    }

    deinit { if let handle { zip_discard(handle) } }

    /// Adds an entry; `stored` keeps it uncompressed (EPUB requires this for `mimetype`).
    public func add(_ name: String, _ bytes: [UInt8], stored: Bool = false) throws(ZipError) {
        guard let handle else { throw ZipError(.io, "archive already finished") }
        // libzip reads the buffer when the archive is closed, so it must own a copy.
        guard let copy = malloc(max(bytes.count, 1)) else { throw ZipError(.io, "out of memory") }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) }
        }
        guard let source = zip_source_buffer(handle, copy, UInt64(bytes.count), 1) else {
            free(copy)
            throw ZipError(.io, "cannot add \(name)")
        }
        let index = zip_file_add(handle, name, source, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8)
        if index < 0 {
            zip_source_free(source)
            throw ZipError(.io, "cannot add \(name): \(String(cString: zip_strerror(handle)))")
        }
        zip_set_file_compression(handle, UInt64(index), stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0)
    }

    public func add(_ name: String, _ text: String, stored: Bool = false) throws(ZipError) {
        try add(name, Array(text.utf8), stored: stored)
    }

    /// Writes the archive to disk; the step that can fail.
    public func finish() throws(ZipError) {
        guard let handle else { return }
        if zip_close(handle) != 0 {
            let message = String(cString: zip_strerror(handle))
            zip_discard(handle)
            self.handle = nil
            throw ZipError(.io, "cannot write \(path): \(message)")
        }
        self.handle = nil
    }
}
