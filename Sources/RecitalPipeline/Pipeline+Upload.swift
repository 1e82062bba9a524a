internal import Foundation
internal import RecitalIngest
internal import RecitalJobs
internal import RecitalModel

/// What `recital serve` asks of the pipeline for uploaded books.
extension Pipeline {
    /// Reads an uploaded book stored under a name of the server's own; a book whose metadata has no
    /// title is titled after the name the client gave (as a file's name titles it elsewhere).
    /// - Throws: `IngestError` for unreadable books.
    public static func readUpload(
        _ path: String,
        clientName: String?,
        settings: ConversionSettings,
        contentHash: String? = nil
    ) async throws -> Converter.ReadBook {
        var read = try await readInBackground(path, settings: settings, contentHash: contentHash)
        if let clientName, read.book.metadata.title == Ingester.title(fromFileName: path) {
            read.book.metadata.title = Ingester.title(fromFileName: clientName)
        }
        return read
    }

    /// Records that a book's source now lives at `path` (an upload renamed after its job).
    public func moveSource(book: Int64, to path: String) async throws {
        try await jobs { try await store.updateSource(book, path: path) }
    }

    /// The book an upload's `Idempotency-Key` made, and the bytes it was made from.
    public func requestKey(_ key: String) async throws -> (book: Int64, contentHash: String)? {
        try await jobs { try await store.requestKey(key) }
    }

    public func recordRequestKey(_ key: String, book: Int64, contentHash: String) async throws {
        try await jobs { try await store.recordRequestKey(key, book: book, contentHash: contentHash) }
    }
}
