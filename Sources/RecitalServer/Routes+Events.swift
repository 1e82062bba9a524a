internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import ServiceLifecycle

/// `GET /api/v1/events` and `GET /api/v1/jobs/{id}/events`: Server-Sent Events of job changes. A
/// reconnect with `Last-Event-ID` (or `?since=` milliseconds) first gets every job changed since.
extension APIRoutes {
    func events(_ request: Request, book: Int64?) async throws -> Response {
        let mark = request.headers[.lastEventID] ?? request.uri.queryParameters.get("since").map { String($0) }
        var since: Double?
        if let mark {
            guard let milliseconds = Double(mark) else {
                throw Problem(.badRequest, "Last-Event-ID '\(mark)' is not an id this server sent")
            }
            since = milliseconds / 1000
        }
        let feed = self.feed
        let (id, stream) = try await facade { try await feed.subscribe(book: book, since: since) }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let body = ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                // A server shutting down ends the stream; the client reconnects to the next one.
                try await withGracefulShutdownHandler {
                    for await event in stream {
                        try await writer.write(ByteBuffer(string: event.wire))
                        if book != nil, event.final || event.kind == .removed { break }
                    }
                } onGracefulShutdown: {
                    Task { await feed.unsubscribe(id) }
                }
            } catch {
                // The client went away, or the server is stopping: either way the stream is over.
            }
            await feed.unsubscribe(id)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}
