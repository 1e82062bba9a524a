internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import RecitalEncode
internal import RecitalModel
internal import RecitalPipeline

/// `GET|HEAD /api/v1/jobs/{id}/result.{format}`: the finished file, with byte ranges so players
/// can seek; 425 while the book is not done, 409 when it failed or was cancelled, 410 once the file
/// is gone.
extension APIRoutes {
    func result(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id", as: Int64.self)
        let name = try context.parameters.require("format")
        guard let format = AudioContainer(rawValue: name) else {
            throw Problem(.notFound, "there is no result.\(name); formats are m4b, mp3, flac")
        }
        let job = try await job(id)
        switch job.state {
        case .queued, .running, .paused:
            throw Problem(
                .tooEarly,
                "job \(id) is \(job.state.rawValue) (\(Int(job.progress * 100)) % synthesized); its \(name) is not written yet",
                headers: [.retryAfter: "30"]
            )
        case .failed, .cancelled:
            throw Problem(
                .conflict,
                "job \(id) \(job.state.rawValue); it has no \(name). Retry it with POST \(job.links.`self`)/retry"
            )
        case .completed:
            break
        }
        if let purged = try await facade({ try await pipeline.purgedAt(book: id) }) {
            throw Problem(
                .gone,
                "job \(id)'s files were removed on \(Self.iso(purged)), \(options.retentionHours.map { "\($0.formatted()) hours" } ?? "some time") after it finished (--retention-hours)"
            )
        }
        let files = try await facade { try await pipeline.outputFiles(book: id) }[format] ?? []
        let part = Int(request.uri.queryParameters.get("part") ?? "1") ?? 0
        guard !files.isEmpty else { throw Problem(.notFound, "job \(id) was not asked for \(name)") }
        guard (1...files.count).contains(part) else {
            throw Problem(.notFound, "job \(id)'s \(name) has parts 1 to \(files.count)")
        }
        let path = files[part - 1]
        if let kept = try await facade({ try await pipeline.keptOutputInfo(book: id, format: format, part: part) }) {
            // The job table's copy is the one recorded: a file at the path on this machine may be
            // another machine's older encode, or missing.
            let pipeline = self.pipeline
            let size = kept.bytes
            return try await serveBytes(
                size: size,
                eTag: "\"\(kept.checksum.prefix(32))\"",
                fileName: (path as NSString).lastPathComponent,
                request: request,
                mediaType: format.mediaType
            ) { span in
                ResponseBody(contentLength: span.count) { writer in
                    // A piece at a time: a whole audiobook never sits in memory.
                    var start = span.lowerBound
                    while start <= span.upperBound {
                        let end = min(span.upperBound, start + Pipeline.keptOutputPieceBytes - 1)
                        let bytes = try await pipeline.keptOutput(
                            book: id,
                            format: format,
                            part: part,
                            range: start...end
                        )
                        try await writer.write(ByteBuffer(bytes: bytes))
                        start = end + 1
                    }
                    try await writer.finish(nil)
                }
            }
        }
        return try await serveFile(path, request: request, context: context, mediaType: format.mediaType) {
            Problem(.gone, "job \(id)'s \(name) is no longer on the server (deleted or purged)")
        }
    }

    /// `GET|HEAD /api/v1/jobs/{id}/chapters/{index}/audio`: a synthesized chapter as WAV, before the
    /// book is done (425 until the chapter is).
    func chapterAudio(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id", as: Int64.self)
        let chapter = try context.parameters.require("index", as: Int.self)
        let path: String
        do {
            path = try await pipeline.chapterAudio(book: id, chapter: chapter)
        } catch let error as PipelineError where error.kind == .invalidRequest {
            throw Problem(.tooEarly, error.message, headers: [.retryAfter: "10"])
        } catch let error as PipelineError {
            throw Self.problem(error)
        }
        return try await serveFile(path, request: request, context: context, mediaType: "audio/wav") {
            Problem(.gone, "the preview of chapter \(chapter) is gone; ask again")
        }
    }

    /// A file with byte ranges: 200, 206 for one range, 416 past the end, `If-Range` honoured.
    func serveFile(
        _ path: String,
        request: Request,
        context: BasicRequestContext,
        mediaType: String,
        missing: () -> Problem
    ) async throws -> Response {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw missing() }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return try await serveBytes(
            size: size,
            eTag: "\"\(size)-\(Int(modified * 1000))\"",
            fileName: (path as NSString).lastPathComponent,
            request: request,
            mediaType: mediaType
        ) { span in
            try await FileIO().loadFile(path: path, range: span, context: context)
        }
    }

    /// `size` bytes with byte ranges, the body of a range made by `body`.
    func serveBytes(
        size: Int,
        eTag: String,
        fileName: String,
        request: Request,
        mediaType: String,
        body: (ClosedRange<Int>) async throws -> ResponseBody
    ) async throws -> Response {
        var headers = HTTPFields()
        headers[.acceptRanges] = "bytes"
        headers[.contentType] = mediaType
        headers[.eTag] = eTag
        headers[.cacheControl] = "private"
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "audio"
        let disposition = request.uri.queryParameters.get("download") == "1" ? "attachment" : "inline"
        headers[.contentDisposition] = "\(disposition); filename*=UTF-8''\(encoded)"
        var range: ClosedRange<Int>?
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == headers[.eTag] }) ?? true {
            switch Self.byteRange(header, size: size) {
            case .whole: break
            case .part(let part): range = part
            case .unsatisfiable:
                throw Problem(
                    .rangeNotSatisfiable,
                    "the range \(header) is past the end of the \(size)-byte file",
                    headers: [.contentRange: "bytes */\(size)"]
                )
            }
        }
        let span = range ?? 0...max(0, size - 1)
        headers[.contentLength] = String(size == 0 ? 0 : span.count)
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)" }
        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        guard request.method != .head, size > 0 else { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: try await body(span))
    }

    enum ByteRange: Equatable {
        /// No usable range (several ranges, another unit): the whole file.
        case whole
        case part(ClosedRange<Int>)
        case unsatisfiable
    }

    /// One `bytes=` range of RFC 9110: `a-b`, `a-` or the suffix `-n`.
    static func byteRange(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let bounds = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 else { return .whole }
        if bounds[0].isEmpty {
            guard let suffix = Int(bounds[1]), suffix > 0 else { return .unsatisfiable }
            return size == 0 ? .unsatisfiable : .part(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(bounds[0]) else { return .whole }
        guard start < size else { return .unsatisfiable }
        let end = bounds[1].isEmpty ? size - 1 : min(Int(bounds[1]) ?? -1, size - 1)
        return end >= start ? .part(start...end) : .whole
    }
}

extension AudioContainer {
    var mediaType: String {
        switch self {
        case .m4b: "audio/mp4"
        case .mp3: "audio/mpeg"
        case .flac: "audio/flac"
        }
    }
}
