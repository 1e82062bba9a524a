import AsyncHTTPClient
import Foundation
import NIOCore
import RecitalServer
import RecitalSpeech
import RecitalTestSupport
import Testing

/// Reads Server-Sent Events from a live response, one event at a time.
struct EventReader {
    struct Event: Equatable {
        var id: String?
        var name: String?
        var data: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
        static func == (a: Event, b: Event) -> Bool { a.id == b.id && a.name == b.name && a.data == b.data }
    }

    var iterator: HTTPClientResponse.Body.AsyncIterator
    var pending = ""

    init(_ response: HTTPClientResponse) { iterator = response.body.makeAsyncIterator() }

    /// The next event (comments and the `retry:` line skipped), or nil when the stream ends.
    mutating func next() async throws -> Event? {
        while true {
            if let end = pending.range(of: "\n\n") {
                let block = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                var event = Event(data: "")
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { event.data += line.dropFirst(6) }
                }
                if event.name != nil { return event }
                continue
            }
            guard let buffer = try await iterator.next() else { return nil }
            pending += String(buffer: buffer)
        }
    }

    /// Events until `done` says enough, within a deadline.
    mutating func collect(until done: ([Event]) -> Bool, deadline: Duration = .seconds(20)) async throws -> [Event] {
        var events: [Event] = []
        let end = ContinuousClock.now + deadline
        while !done(events) {
            guard ContinuousClock.now < end, let event = try await next() else { break }
            events.append(event)
        }
        return events
    }
}

@Suite("The live event stream of recital serve")
struct EventStreamTests {
    static func open(_ path: String, port: Int, lastEventID: String? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.headers.first(name: "content-type") == "text/event-stream")
        return response
    }

    @Test(
        "changes arrive as events; after a disconnect, Last-Event-ID brings every change missed; a job's own stream ends with it"
    )
    func resume() async throws {
        let h = try APIHarness()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Server(pipeline: h.pipeline, options: h.options).application { continuation.yield($0) }
        try await withRunningApplication(app, ports: ports, grace: .seconds(2)) { port in
            let send: @Sendable (APIHarness.Request) async throws -> APIHarness.Reply = {
                try await APIHarness.send($0, port: port)
            }
            var first = EventReader(try await Self.open("/api/v1/events", port: port))
            _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
            let seen = try await first.collect(until: { $0.contains { $0.json["id"] as? Int == 1 } })
            let queued = try #require(seen.last { $0.json["id"] as? Int == 1 })
            #expect(queued.name == "job")
            #expect(queued.json["state"] as? String == "queued")
            let mark = try #require(queued.id)
            // The client goes away; meanwhile one job is paused and another arrives.
            _ = first
            first = EventReader(HTTPClientResponse())
            _ = try await send(.post("/api/v1/jobs/1/pause"))
            _ = try await send(.post("/api/v1/jobs", try APIHarness.book("scene-breaks.epub")))
            var again = EventReader(try await Self.open("/api/v1/events", port: port, lastEventID: mark))
            let missed = try await again.collect(until: { events in
                events.contains { $0.json["id"] as? Int == 1 && $0.json["state"] as? String == "paused" }
                    && events.contains { $0.json["id"] as? Int == 2 }
            })
            #expect(missed.contains { $0.json["id"] as? Int == 1 && $0.json["state"] as? String == "paused" })
            #expect(missed.contains { $0.json["id"] as? Int == 2 && $0.json["state"] as? String == "queued" })
            #expect(missed.allSatisfy { ($0.id.flatMap(Int64.init) ?? 0) >= Int64(mark) ?? 0 })

            var one = EventReader(try await Self.open("/api/v1/jobs/2/events", port: port))
            _ = try await send(.post("/api/v1/jobs/2/cancel"))
            var states: [String] = []
            while let event = try await one.next() { states.append(event.json["state"] as? String ?? "?") }
            #expect(states.last == "cancelled")
            #expect(try await send(.get("/api/v1/jobs/9/events")).status == 404)
            #expect(try await send(.get("/api/v1/events", [("Last-Event-ID", "yesterday")])).status == 400)
        }
    }
}

@Suite("The OpenAPI description of recital serve")
struct OpenAPITests {
    @Test("every operation /openapi.yaml names is routed by the server")
    func described() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
            let document = try await send(.get("/openapi.yaml"))
            #expect(document.status == 200)
            #expect(document.headers["content-type"] == "application/yaml")
            var operations: [(method: String, path: String)] = []
            var path: String?
            var inPaths = false
            for line in document.text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "paths:" { inPaths = true; continue }
                guard inPaths else { continue }
                if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                    ["get", "post", "patch", "delete", "head"].contains(method), let path
                {
                    operations.append((String(method), path))
                }
            }
            #expect(operations.count >= 20, "\(operations.count) operations found")
            // What an unrouted request looks like, so the check below can tell.
            let unrouted = try await send(.get("/api/v1/nothing-here"))
            #expect(unrouted.status == 404 && unrouted.headers["content-type"] != "application/problem+json")
            // The delete last, so every other operation finds the job.
            for (method, template) in operations.sorted(by: {
                ($0.method == "delete" ? 1 : 0) < ($1.method == "delete" ? 1 : 0)
            }) {
                let path = template.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(
                    of: "{format}",
                    with: "m4b"
                )
                if path.hasSuffix("/events") {
                    // A stream: its headers are enough.
                    let response = try await APIHarness.client.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(try #require(h.boundPort.value))\(path)"),
                        timeout: .seconds(10)
                    )
                    #expect(response.status.code == 200, "\(method) \(path)")
                    continue
                }
                var request = APIHarness.Request(method: .init(rawValue: method.uppercased()), path: path)
                if method == "post" || method == "patch" { request.body = Array("{}".utf8) }
                let reply = try await send(request)
                // A route the server does not have answers Hummingbird's bare 404; the API's own
                // answers are JSON or problem+json.
                let bare = reply.status == 404 && reply.headers["content-type"] != "application/problem+json"
                #expect(!bare, "\(method.uppercased()) \(path) is described but not routed")
            }
        }
    }
}
