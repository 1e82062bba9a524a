internal import Foundation
internal import RecitalXML
internal import RecitalZip

/// The ZIP container of an EPUB, with the limits that keep hostile archives harmless.
final class EPUBContainer {
    /// Largest single entry we inflate; no sane content document or cover approaches it.
    static let maxEntryBytes = 64 * 1024 * 1024
    /// Total bytes inflated across the book.
    static let maxTotalBytes = 512 * 1024 * 1024

    let file: String
    private let archive: ZipArchive
    private var inflated = 0
    private let lowercasedNames: [String: String]

    init(file: String) throws(IngestError) {
        self.file = file
        do {
            archive = try ZipArchive(path: file)
        } catch {
            throw Self.translate(error, file: file)
        }
        var lowered: [String: String] = [:]
        for name in archive.entryNames where lowered[name.lowercased()] == nil { lowered[name.lowercased()] = name }
        lowercasedNames = lowered
    }

    /// The entry name that matches `path`, tolerating case differences that real books contain.
    func entryName(for path: String) -> String? {
        if archive.contains(path) { return path }
        return lowercasedNames[path.lowercased()]
    }

    func contains(_ path: String) -> Bool { entryName(for: path) != nil }

    func read(_ path: String) throws(IngestError) -> [UInt8] {
        guard let name = entryName(for: path) else {
            throw IngestError(.damaged, file: file, "the book refers to '\(path)', which is not in the archive")
        }
        do {
            let bytes = try archive.read(name, limit: Self.maxEntryBytes)
            inflated += bytes.count
            if inflated > Self.maxTotalBytes {
                throw IngestError(.tooLarge, file: file, "inflates past \(Self.maxTotalBytes / 1_048_576) MB in all")
            }
            return bytes
        } catch let error as ZipError {
            throw Self.translate(error, file: file)
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(.damaged, file: file, "cannot be read as an EPUB", cause: error as? any Error & Sendable)
        }
    }

    func parseXML(_ path: String) throws(IngestError) -> XMLDocument {
        let bytes = try read(path)
        do {
            return try XMLDocument(bytes: bytes, mode: .xml)
        } catch {
            if error.isRefusedEntityDeclaration {
                throw IngestError(
                    .hostile,
                    file: file,
                    "'\(path)' declares XML entities (an entity-expansion or XXE attack); refused"
                )
            }
            throw IngestError(.damaged, file: file, "'\(path)' is not well-formed XML: \(error)", cause: error)
        }
    }

    private static func translate(_ error: ZipError, file: String) -> IngestError {
        switch error.code {
        case .notAZip:
            IngestError(
                .damaged,
                file: file,
                "not an EPUB: the file is not a ZIP archive (truncated or not a book)",
                cause: error
            )
        case .unsafeName: IngestError(.hostile, file: file, "unsafe archive: \(error.message)", cause: error)
        case .tooLarge: IngestError(.tooLarge, file: file, "archive entry too large: \(error.message)", cause: error)
        case .encrypted:
            IngestError(.drm, file: file, "the archive is password-protected: \(error.message)", cause: error)
        case .io: IngestError(.unreadable, file: file, error.message, cause: error)
        default: IngestError(.damaged, file: file, error.message, cause: error)
        }
    }
}
