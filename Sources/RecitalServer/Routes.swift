internal import Foundation
public import HTTPTypes
public import Hummingbird
internal import RecitalEncode
public import RecitalModel
public import RecitalPipeline

/// The JSON API under `/api/v1` and the health checks. Every handler calls the pipeline facade and
/// nothing else.
public struct APIRoutes: Sendable {
    let pipeline: Pipeline
    let options: ServerOptions
    /// Told when a book is queued, so the workers start at once.
    let queued: @Sendable () -> Void
    let feed: LiveFeed

    public init(pipeline: Pipeline, options: ServerOptions, queued: @escaping @Sendable () -> Void = {}) {
        self.pipeline = pipeline
        self.options = options
        self.queued = queued
        feed = LiveFeed(pipeline: pipeline)
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(options: options))
        router.get("/healthz") { _, _ in "ok" }
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPI.yaml))
            )
        }
        router.get("/readyz") { _, _ -> Response in
            // Ready when the job table answers.
            _ = try await pipeline.status(book: -1)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready")))
        }
        addDashboard(to: router)
        addLogin(to: router)
        let api = router.group("/api/v1")
        api.post("/jobs/bulk") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let name = object["action"] as? String, let action = BookAction(rawValue: name),
                let ids = object["ids"] as? [Int], ids.count <= 1000
            else {
                throw Problem(
                    .badRequest,
                    "send {\"action\": pause|unpause|cancel|retry|delete|setPriority, \"ids\": [up to 1000 ids], \"priority\": 1-4}"
                )
            }
            let results = await bulk(action, ids: ids.map(Int64.init), priority: object["priority"] as? Int)
            return try JSONReply.response(["results": results], request: request)
        }
        api.post("/jobs") { request, context in try await upload(request, context: context) }
        api.get("/jobs") { request, _ in try await list(request) }
        api.get("/jobs/{id}") { request, context in
            try JSONReply.response(
                try await job(try context.parameters.require("id", as: Int64.self)),
                request: request
            )
        }
        api.patch("/jobs/{id}") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await request.body.collect(upTo: 64 << 10)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let priority = object["priority"] as? Int, (1...4).contains(priority)
            else { throw Problem(.unprocessableContent, "send {\"priority\": 1 to 4} (1 runs first)") }
            try await control(.setPriority, id, priority: priority)
            return try JSONReply.response(try await job(id), request: request)
        }
        api.delete("/jobs/{id}") { _, context -> Response in
            try await control(.delete, try context.parameters.require("id", as: Int64.self))
            return Response(status: .noContent)
        }
        for action in [BookAction.pause, .unpause, .cancel, .retry] {
            api.post("/jobs/{id}/\(action.rawValue)") { request, context in
                let id = try context.parameters.require("id", as: Int64.self)
                try await control(action, id)
                if action == .retry || action == .unpause { queued() }
                return try JSONReply.response(try await job(id), request: request)
            }
        }
        api.get("/jobs/{id}/chapters") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            return try JSONReply.response(try await facade { try await pipeline.chapters(book: id) }, request: request)
        }
        api.get("/jobs/{id}/log") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let events = try await facade { () async throws -> [TaskEventRecord] in
                _ = try await pipeline.chapters(book: id)
                return try await pipeline.history(book: id)
            }
            let lines = events.map { LogLine(task: $0.taskID, at: Self.iso($0.at), kind: $0.kind, message: $0.message) }
            return try JSONReply.response(lines, request: request)
        }
        api.get("/jobs/{id}/result.{format}") { request, context in try await result(request, context: context) }
        api.head("/jobs/{id}/result.{format}") { request, context in try await result(request, context: context) }
        api.get("/jobs/{id}/chapters/{index}/audio") { request, context in
            try await chapterAudio(request, context: context)
        }
        api.head("/jobs/{id}/chapters/{index}/audio") { request, context in
            try await chapterAudio(request, context: context)
        }
        api.get("/events") { request, _ in try await events(request, book: nil) }
        api.get("/jobs/{id}/events") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            _ = try await job(id)
            return try await events(request, book: id)
        }
        api.get("/stats") { request, _ in
            let statuses = try await facade { try await pipeline.status() }
            var byState = Dictionary(uniqueKeysWithValues: BookState.allCases.map { ($0.rawValue, 0) })
            for status in statuses { byState[status.state.rawValue, default: 0] += 1 }
            let now = Date().timeIntervalSince1970
            let oldest = statuses.filter { $0.state == .queued }.map(\.createdAt).min()
            let workers = try await facade { try await pipeline.workers() }.map { worker in
                Stats.Worker(
                    id: worker.id,
                    host: worker.host,
                    pid: worker.pid,
                    heartbeatAgeSeconds: max(0, (now - worker.heartbeatAt).rounded()),
                    holding: worker.holding
                )
            }
            let rate = try await facade { try await pipeline.charactersPerSecond() }
            let backends = try await facade { try await pipeline.backends() }.map { backend in
                Stats.Backend(url: backend.url, ok: backend.ok, message: backend.message, at: Self.iso(backend.at))
            }
            return try JSONReply.response(
                Stats(
                    byState: byState,
                    oldestQueuedAgeSeconds: oldest.map { (now - $0).rounded() },
                    charactersPerSecond: rate.map { ($0 * 10).rounded() / 10 },
                    workers: workers,
                    backends: backends
                ),
                request: request
            )
        }
        return router
    }

    struct LogLine: Codable { var task: Int64, at: String, kind: String, message: String }
    struct Stats: Codable {
        struct Worker: Codable { var id: String, host: String, pid: Int32, heartbeatAgeSeconds: Double, holding: Int }
        var byState: [String: Int]
        var oldestQueuedAgeSeconds: Double?
        /// Over the last ten minutes.
        var charactersPerSecond: Double?
        var workers: [Worker]
        struct Backend: Codable { var url: String, ok: Bool, message: String?, at: String }
        /// Each TTS server with the newest result recorded from it.
        var backends: [Backend]
    }
    struct Page: Codable { var items: [JobJSON], nextCursor: String? }

    static func iso(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }

    // MARK: - Jobs

    /// One job, with its queue position and result links.
    func job(_ id: Int64) async throws -> JobJSON {
        let statuses = try await facade { try await pipeline.status() }
        guard let status = statuses.first(where: { $0.id == id }) else {
            throw Problem(.notFound, "there is no job \(id)")
        }
        let formats = try await facade { try await self.formats(of: id) }
        var job = JobJSON(status, queuePosition: JobJSON.queuePositions(statuses)[id], formats: formats)
        job.attempts = try await facade { try await pipeline.chapters(book: id) }.reduce(0) { $0 + $1.attempt }
        return job
    }

    /// The formats a book was asked for (its stored settings).
    func formats(of id: Int64) async throws -> [AudioContainer] { try await Self.formats(of: id, in: pipeline) }

    static func formats(of id: Int64, in pipeline: Pipeline) async throws -> [AudioContainer] {
        guard let json = try await pipeline.storedSettings(book: id) else { return [] }
        return try ConversionSettings.decode(json, book: id).encode.formats
    }

    /// `?state=` (repeatable), `?q=` (title or author), `?limit=` (≤ 100), `?cursor=`: newest first.
    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var states: Set<BookState> = []
        for value in query.getAll("state") {
            guard let state = BookState(rawValue: String(value)) else {
                throw Problem(
                    .badRequest,
                    "unknown state '\(value)' (use \(BookState.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            states.insert(state)
        }
        let limit = Int(query.get("limit") ?? "25") ?? -1
        guard (1...100).contains(limit) else { throw Problem(.badRequest, "limit must be 1 to 100") }
        var cursor: Int64?
        if let value = query.get("cursor") {
            guard let id = Int64(value) else {
                throw Problem(.badRequest, "cursor '\(value)' is not one this API gave")
            }
            cursor = id
        }
        let search = query.get("q")?.lowercased()
        let statuses = try await facade { try await pipeline.status() }
        let positions = JobJSON.queuePositions(statuses)
        let matching = statuses.sorted { $0.id > $1.id }.filter { status in
            (states.isEmpty || states.contains(status.state)) && (cursor.map { status.id < $0 } ?? true)
                && (search.map { text in
                    (status.title ?? "").lowercased().contains(text)
                        || status.authors.contains { $0.lowercased().contains(text) }
                } ?? true)
        }
        let items = Array(matching.prefix(limit))
        var page = Page(items: [], nextCursor: matching.count > limit ? items.last.map { String($0.id) } : nil)
        for status in items {
            page.items.append(
                JobJSON(
                    status,
                    queuePosition: positions[status.id],
                    formats: try await facade { try await self.formats(of: status.id) }
                )
            )
        }
        var headers: HTTPFields = [:]
        if let next = page.nextCursor {
            var link = "/api/v1/jobs?limit=\(limit)&cursor=\(next)"
            for state in states.sorted(by: { $0.rawValue < $1.rawValue }) { link += "&state=\(state.rawValue)" }
            if let search, let encoded = search.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) {
                link += "&q=\(encoded)"
            }
            headers[HTTPField.Name("Link")!] = "<\(link)>; rel=\"next\""
        }
        return try JSONReply.response(page, request: request, headers: headers)
    }

    func control(_ action: BookAction, _ id: Int64, priority: Int? = nil) async throws {
        try await facade { try await pipeline.control(action, book: id, priority: priority) }
    }

    /// Runs a facade call, answering its failures as problems: no such job 404, a request the
    /// job's state does not allow 409, the rest 500 or 503.
    func facade<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PipelineError {
            throw Self.problem(error)
        }
    }

    static func problem(_ error: PipelineError) -> Problem {
        switch error.kind {
        case .notFound:
            // "no such book" for the job itself; anything missing inside it says what.
            Problem(
                .notFound,
                error.bookID.map {
                    error.message.hasPrefix("has no") ? "job \($0) \(error.message)" : "there is no job \($0)"
                }
                    ?? error.message
            )
        case .invalidRequest: Problem(.conflict, error.message)
        case .database, .storage, .unavailable: Problem(.serviceUnavailable, "\(error)", headers: [.retryAfter: "5"])
        case .configuration: Problem(.internalServerError, "\(error)")
        }
    }
}
