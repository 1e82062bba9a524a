internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import RecitalEncode
internal import RecitalIngest
internal import RecitalModel
internal import RecitalPipeline

/// `POST /api/v1/jobs`: the book as the raw body, stored under a name of the server's own, read,
/// and queued; nothing stays on disk for a refused upload.
extension APIRoutes {
    func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var settings = options.settings
        if let voice = query.get("voice") {
            do {
                settings.voice = try VoiceProfiles.load(voice, home: options.home)
                _ = try VoiceProfiles.apiKey(for: settings.voice, environment: options.run.environment)
            } catch {
                throw Problem(.unprocessableContent, error.message)
            }
        }
        if let formats = query.get("format") {
            settings.encode.formats = try formats.split(separator: ",").map { name in
                guard let format = AudioContainer(rawValue: name.lowercased()) else {
                    throw Problem(.unprocessableContent, "unknown format '\(name)' (use m4b, mp3, flac)")
                }
                return format
            }
        }
        var priority = options.priority
        if let value = query.get("priority") {
            guard let number = Int(value), (1...4).contains(number) else {
                throw Problem(.unprocessableContent, "priority must be 1 (first) to 4, not '\(value)'")
            }
            priority = number
        }
        if let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/") {
            throw Problem(.unsupportedMediaType, "send the book as the raw request body (?filename= names it)")
        }
        let key = request.headers[.idempotencyKey]

        // The body goes to disk as it arrives, counted against the limit.
        try FileManager.default.createDirectory(atPath: options.uploads, withIntermediateDirectories: true)
        let name = UUID().uuidString.lowercased()
        let file = try UploadFile(path: "\(options.uploads)/\(name).part")
        for try await chunk in request.body { try await file.append(chunk, limit: options.maxUpload) }
        guard file.size > 0 else { throw Problem(.badRequest, "the body is empty; send the book's bytes") }
        let kind: String
        if file.head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            kind = "epub"
        } else if file.head.starts(with: Array("%PDF-".utf8)) {
            kind = "pdf"
        } else {
            throw Problem(.unsupportedMediaType, "this is neither an EPUB nor a PDF (judged by its first bytes)")
        }
        try file.rename(to: "\(options.uploads)/\(name).\(kind)")
        let hash = try await facade { try await Pipeline.contentHash(ofFile: file.path) }

        if let key, let earlier = try await facade({ try await pipeline.requestKey(key) }) {
            guard earlier.contentHash == hash else {
                throw Problem(
                    .unprocessableContent,
                    "Idempotency-Key '\(key)' was used for another book; use a new key"
                )
            }
            return try await existing(earlier.book, request: request)
        }
        if let found = try await facade({ try await pipeline.existingBook(contentHash: hash, settings: settings) }),
            settings.encode.formats.allSatisfy(found.formats.contains)
        {
            if let key {
                try await facade { try await pipeline.recordRequestKey(key, book: found.book, contentHash: hash) }
            }
            return try await existing(found.book, request: request)
        }
        let read: Converter.ReadBook
        do {
            read = try await Pipeline.readUpload(file.path, clientName: query.get("filename"), settings: settings)
        } catch let error as IngestError {
            let reason = "\(error)".replacingOccurrences(of: file.path, with: query.get("filename") ?? "the upload")
            throw Problem(error.code == .unsupportedFormat ? .unsupportedMediaType : .unprocessableContent, reason)
        }
        let added = try await facade { try await pipeline.add(read, settings: settings, priority: priority) }
        try await file.keep()
        if let key {
            try await facade { try await pipeline.recordRequestKey(key, book: added.bookID, contentHash: hash) }
        }
        queued()
        let location = "/api/v1/jobs/\(added.bookID)"
        return try JSONReply.response(
            try await job(added.bookID),
            status: added.created ? .accepted : .ok,
            request: request,
            headers: [.location: location, .retryAfter: "2"]
        )
    }

    /// The answer for bytes already queued with these settings: the job they made (200, not 202).
    private func existing(_ book: Int64, request: Request) async throws -> Response {
        try JSONReply.response(try await job(book), request: request, headers: [.location: "/api/v1/jobs/\(book)"])
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
