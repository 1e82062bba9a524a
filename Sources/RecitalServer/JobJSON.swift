internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import RecitalModel

/// A job as the API shows it: the book's status with its place in the queue and its links. The
/// states, priorities (1 first … 4) and ids are the job table's, as `status --json` shows them.
struct JobJSON: Codable, Equatable {
    struct Links: Codable, Equatable {
        var `self`: String
        var chapters: String
        var log: String
        /// Each requested format's file (answers 425 until it exists).
        var results: [String: String]
    }

    var id: Int64
    var title: String?
    var authors: [String]
    var source: String
    var state: BookState
    var priority: Int
    var progress: Double
    var chaptersDone: Int
    var chaptersTotal: Int
    /// Chapters already in every requested format's files.
    var chaptersEncoded: Int
    var segmentsDone: Int
    var segmentsTotal: Int
    var etaSeconds: Double?
    /// 1 for the next queued job to be taken; null unless queued.
    var queuePosition: Int?
    /// Attempts its chapters have used (shown for one job, not in lists).
    var attempts: Int?
    var createdAt: String
    var error: String?
    var warnings: [String]
    var links: Links

    init(_ status: BookStatus, queuePosition: Int?, formats: [AudioContainer]) {
        id = status.id
        title = status.title
        authors = status.authors
        source = (status.source as NSString).lastPathComponent
        state = status.state
        priority = status.priority
        progress = (status.progress * 10000).rounded() / 10000
        chaptersDone = status.chaptersDone
        chaptersTotal = status.chaptersTotal
        chaptersEncoded = status.chaptersEncoded
        segmentsDone = status.segmentsDone
        segmentsTotal = status.segmentsTotal
        etaSeconds = status.etaSeconds.map { $0.rounded() }
        self.queuePosition = queuePosition
        createdAt = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: status.createdAt))
        error = status.error
        warnings = status.warnings
        let base = "/api/v1/jobs/\(status.id)"
        links = Links(
            self: base,
            chapters: base + "/chapters",
            log: base + "/log",
            results: Dictionary(uniqueKeysWithValues: formats.map { ($0.rawValue, "\(base)/result.\($0.rawValue)") })
        )
    }

    /// Queued jobs in the order workers take them (priority, then age).
    static func queuePositions(_ statuses: [BookStatus]) -> [Int64: Int] {
        let queued = statuses.filter { $0.state == .queued }.sorted {
            ($0.priority, $0.createdAt, $0.id) < ($1.priority, $1.createdAt, $1.id)
        }
        return Dictionary(uniqueKeysWithValues: queued.enumerated().map { ($1.id, $0 + 1) })
    }
}

/// JSON answers with a strong ETag of their bytes; a matching `If-None-Match` gets 304.
enum JSONReply {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func response(
        _ value: some Encodable,
        status: HTTPResponse.Status = .ok,
        request: Request,
        headers extra: HTTPFields = [:]
    ) throws -> Response {
        let bytes = try encode(value)
        let tag = "\"\(fingerprint(bytes))\""
        var headers = extra
        headers[.eTag] = tag
        headers[.cacheControl] = "no-cache"
        if status == .ok, let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag || $0 == "*" })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// FNV-1a over the body: enough to tell two answers apart, not a security measure.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
