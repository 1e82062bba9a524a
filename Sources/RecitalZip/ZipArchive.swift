internal import CRecitalZip

/// A read-only ZIP archive on disk, opened with libzip's consistency checks.
///
/// Entry names are validated when the archive is opened: a name that is absolute or climbs out
/// with `..` makes the whole archive unreadable, because a container that carries one is either
/// broken or hostile.
public final class ZipArchive {
    private let handle: OpaquePointer
    /// Entry names in central-directory order.
    public let entryNames: [String]
    private let indexByName: [String: UInt64]

    /// Opens the archive at `path`.
    /// - Throws: ``ZipError`` (`.notAZip`, `.damaged`, `.unsafeName`, `.io`).
    public init(path: String) throws(ZipError) {
        var errorCode: Int32 = 0
        guard let archive = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &errorCode) else {
            throw ZipArchive.openError(errorCode)
        }
        handle = archive
        let count = zip_get_num_entries(archive, 0)
        var names: [String] = []
        var index: [String: UInt64] = [:]
        names.reserveCapacity(Int(max(count, 0)))
        for entry in 0..<UInt64(max(count, 0)) {
            guard let raw = zip_get_name(archive, entry, ZIP_FL_ENC_GUESS) else { continue }
            let name = String(cString: raw)
            if !ZipArchive.isSafe(name) {
                zip_discard(archive)
                throw ZipError(.unsafeName, "entry name '\(name)' points outside the archive")
            }
            names.append(name)
            if index[name] == nil { index[name] = entry }
        }
        entryNames = names
        indexByName = index
    }

    deinit { zip_discard(handle) }

    public func contains(_ name: String) -> Bool { indexByName[name] != nil }

    /// The uncompressed size the archive declares for an entry (which a hostile archive may understate).
    public func declaredSize(of name: String) -> UInt64? {
        guard let index = indexByName[name] else { return nil }
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        guard zip_stat_index(handle, index, 0, &stat) == 0 else { return nil }
        return stat.size
    }

    /// Reads a whole entry, refusing to inflate more than `limit` bytes whatever the archive declares.
    /// - Throws: `.missingEntry`, `.tooLarge`, `.damaged` (bad CRC, truncated data), `.encrypted`.
    public func read(_ name: String, limit: Int) throws(ZipError) -> [UInt8] {
        guard let index = indexByName[name] else { throw ZipError(.missingEntry, "missing '\(name)'") }
        if let declared = declaredSize(of: name), declared > UInt64(limit) {
            throw ZipError(.tooLarge, "'\(name)' inflates to \(declared) bytes, over the \(limit)-byte limit")
        }
        guard let file = zip_fopen_index(handle, index, 0) else {
            throw archiveError(name)
        }
        defer { zip_fclose(file) }
        var result: [UInt8] = []
        result.reserveCapacity(Int(min(declaredSize(of: name) ?? 0, UInt64(limit))))
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { zip_fread(file, $0.baseAddress, UInt64(chunk)) }
            if count < 0 {
                let message = zip_file_strerror(file).map { String(cString: $0) } ?? "read error"
                throw ZipError(.damaged, "'\(name)': \(message)")
            }
            if count == 0 { break }
            if result.count + Int(count) > limit {
                throw ZipError(.tooLarge, "'\(name)' inflates past the \(limit)-byte limit")
            }
            result.append(contentsOf: buffer[0..<Int(count)])
        }
        return result
    }

    private func archiveError(_ name: String) -> ZipError {
        let error = zip_get_error(handle)
        let code = zip_error_code_zip(error)
        let message = zip_error_strerror(error).map { String(cString: $0) } ?? "cannot open entry"
        if code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP {
            return ZipError(.encrypted, "'\(name)' is encrypted")
        }
        return ZipError(.damaged, "'\(name)': \(message)")
    }

    static func isSafe(_ name: String) -> Bool {
        if name.hasPrefix("/") || name.hasPrefix("\\") { return false }
        if name.count >= 2, name.dropFirst().first == ":" { return false }  // C:\...
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        return !parts.contains("..")
    }

    private static func openError(_ code: Int32) -> ZipError {
        var error = zip_error_t()
        zip_error_init_with_code(&error, code)
        defer { zip_error_fini(&error) }
        let message = zip_error_strerror(&error).map { String(cString: $0) } ?? "error \(code)"
        switch code {
        case ZIP_ER_NOZIP: return ZipError(.notAZip, "not a ZIP archive")
        case ZIP_ER_INCONS, ZIP_ER_CRC, ZIP_ER_EOF, ZIP_ER_READ, ZIP_ER_SEEK:
            return ZipError(.damaged, "damaged ZIP archive: \(message)")
        case ZIP_ER_OPEN, ZIP_ER_NOENT: return ZipError(.io, message)
        default: return ZipError(.damaged, message)
        }
    }
}
