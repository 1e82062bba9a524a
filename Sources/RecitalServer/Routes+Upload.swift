internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import MultipartKit
internal import RecitalEncode
internal import RecitalIngest
internal import RecitalModel
internal import RecitalPipeline

/// Uploads: the book as the raw body (`?filename=&voice=&format=&priority=`) or as
/// `multipart/form-data` (a `file` part, and those fields as parts), stored under a name of the
/// server's own, read and queued; nothing stays on disk for a refused upload.
extension APIRoutes {
    /// What an upload asks for besides its bytes.
    struct UploadRequest {
        var fields: [String: String] = [:]
        var key: String?

        /// The settings the book is converted with: the server's, changed by the fields.
        func settings(_ options: ServerOptions) throws -> (ConversionSettings, priority: Int) {
            var settings = options.settings
            if let voice = fields["voice"], !voice.isEmpty {
                do {
                    try VoiceProfiles.select(voice, in: &settings, home: options.home)
                    _ = try VoiceProfiles.apiKey(for: settings.voice, environment: options.run.environment)
                } catch {
                    throw Problem(.unprocessableContent, error.message)
                }
            }
            if let formats = fields["format"], !formats.isEmpty {
                settings.encode.formats = try formats.split(separator: ",").map { name in
                    guard let format = AudioContainer(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
                    else { throw Problem(.unprocessableContent, "unknown format '\(name)' (use m4b, mp3, flac)") }
                    return format
                }
            }
            var priority = options.priority
            if let value = fields["priority"], !value.isEmpty {
                guard let number = Int(value), (1...4).contains(number) else {
                    throw Problem(.unprocessableContent, "priority must be 1 (first) to 4, not '\(value)'")
                }
                priority = number
            }
            return (settings, priority)
        }
    }

    /// What became of one uploaded file.
    struct Queued {
        var book: Int64
        var created: Bool
    }

    /// `POST /api/v1/jobs`: one book; 202 with the job, or 200 with the job those bytes made.
    func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var upload = UploadRequest(key: request.headers[.idempotencyKey])
        for (name, value) in request.uri.queryParameters { upload.fields[String(name)] = String(value) }
        let files: [(UploadFile, String?)]
        if let boundary = Self.boundary(request.headers[.contentType]) {
            files = try await receiveParts(request.body, boundary: boundary, into: &upload)
        } else {
            files = [(try await receive(request.body), upload.fields["filename"])]
        }
        guard let (file, name) = files.first else {
            throw Problem(.badRequest, "the form has no file part; send the book as the part named file")
        }
        let queued = try await queue(file, clientName: name, upload)
        let location = "/api/v1/jobs/\(queued.book)"
        return try JSONReply.response(
            try await job(queued.book),
            status: queued.created ? .accepted : .ok,
            request: request,
            headers: [.location: location, .retryAfter: "2"]
        )
    }

    /// The boundary of a `multipart/form-data` body, or nil for a raw body.
    static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// A raw body to disk as it arrives, counted against the limit.
    func receive(_ body: RequestBody) async throws -> UploadFile {
        let file = try newFile()
        for try await chunk in body { try await file.append(chunk, limit: options.maxUpload) }
        return file
    }

    func newFile() throws -> UploadFile {
        try FileManager.default.createDirectory(atPath: options.uploads, withIntermediateDirectories: true)
        return try UploadFile(path: "\(options.uploads)/\(UUID().uuidString.lowercased()).part")
    }

    /// A form's file parts to disk as they arrive (each against the limit), its other parts as
    /// fields.
    func receiveParts(
        _ body: RequestBody,
        boundary: String,
        into upload: inout UploadRequest
    ) async throws -> [(UploadFile, String?)] {
        // The parser calls back synchronously; what it found in each chunk is written after it.
        final class Found {
            enum Piece {
                case header(String, String)
                case bytes(ByteBuffer)
                case end
            }
            var pieces: [Piece] = []
        }
        let found = Found()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { found.pieces.append(.header($0, $1)) }
        parser.onBody = { found.pieces.append(.bytes($0)) }
        parser.onPartComplete = { found.pieces.append(.end) }
        var files: [(UploadFile, String?)] = []
        var part: (name: String?, fileName: String?, file: UploadFile?, text: [UInt8]) = (nil, nil, nil, [])
        for try await chunk in body {
            do {
                try parser.execute(chunk)
            } catch {
                throw Problem(.badRequest, "the multipart body does not parse (\(error))")
            }
            let pieces = found.pieces
            found.pieces = []
            for piece in pieces {
                switch piece {
                case .header(let name, let value) where name.lowercased() == "content-disposition":
                    part.name = Self.parameter("name", in: value)
                    part.fileName = Self.parameter("filename", in: value)
                    if part.fileName != nil { part.file = try newFile() }
                case .header:
                    break
                case .bytes(let buffer):
                    if let file = part.file {
                        try await file.append(buffer, limit: options.maxUpload)
                    } else {
                        part.text += buffer.readableBytesView
                        guard part.text.count <= 4096 else { throw Problem(.badRequest, "a form field is too long") }
                    }
                case .end:
                    if let file = part.file {
                        if part.name == "file", file.size > 0 { files.append((file, part.fileName)) }
                    } else if let name = part.name {
                        upload.fields[name] = String(decoding: part.text, as: UTF8.self)
                    }
                    part = (nil, nil, nil, [])
                }
            }
        }
        return files
    }

    /// A parameter of a `Content-Disposition` value (`form-data; name="file"; filename="x.epub"`).
    static func parameter(_ key: String, in value: String) -> String? {
        for item in value.split(separator: ";").dropFirst() {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Queues one received file: checked by its first bytes, matched against its key and the
    /// books already made of the same bytes, read, and added.
    func queue(_ file: UploadFile, clientName: String?, _ upload: UploadRequest) async throws -> Queued {
        let (settings, priority) = try upload.settings(options)
        guard file.size > 0 else { throw Problem(.badRequest, "the body is empty; send the book's bytes") }
        let kind: String
        if file.head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            kind = "epub"
        } else if file.head.starts(with: Array("%PDF-".utf8)) {
            kind = "pdf"
        } else {
            throw Problem(.unsupportedMediaType, "this is neither an EPUB nor a PDF (judged by its first bytes)")
        }
        try file.rename(to: (file.path as NSString).deletingPathExtension + ".\(kind)")
        let hash = try await facade { try await Pipeline.contentHash(ofFile: file.path) }
        if let key = upload.key, let earlier = try await facade({ try await pipeline.requestKey(key) }) {
            guard earlier.contentHash == hash else {
                throw Problem(
                    .unprocessableContent,
                    "Idempotency-Key '\(key)' was used for another book; use a new key"
                )
            }
            return Queued(book: earlier.book, created: false)
        }
        if let found = try await facade({ try await pipeline.existingBook(contentHash: hash, settings: settings) }),
            settings.encode.formats.allSatisfy(found.formats.contains)
        {
            if let key = upload.key {
                try await facade { try await pipeline.recordRequestKey(key, book: found.book, contentHash: hash) }
            }
            return Queued(book: found.book, created: false)
        }
        let read: Converter.ReadBook
        do {
            read = try await Pipeline.readUpload(
                file.path,
                clientName: clientName,
                settings: settings,
                contentHash: hash
            )
        } catch let error as IngestError {
            let reason = "\(error)".replacingOccurrences(of: file.path, with: clientName ?? "the upload")
            throw Problem(error.code == .unsupportedFormat ? .unsupportedMediaType : .unprocessableContent, reason)
        }
        let added = try await facade { try await pipeline.add(read, settings: settings, priority: priority) }
        if added.created {
            // Named after its job from now on; a book that was there (another format of the same
            // bytes) keeps its own source, and this copy goes.
            try file.rename(to: "\(options.uploads)/book-\(added.bookID).\(kind)")
            try await file.keep()
            try await facade { try await pipeline.moveSource(book: added.bookID, to: file.path) }
        }
        if let key = upload.key {
            try await facade { try await pipeline.recordRequestKey(key, book: added.bookID, contentHash: hash) }
        }
        queued()
        return Queued(book: added.bookID, created: added.created)
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
