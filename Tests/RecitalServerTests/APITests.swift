import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RecitalModel
import RecitalPipeline
import RecitalServer
import RecitalSpeech
import RecitalTestSupport
import Synchronization
import Testing

/// The server on a loopback port with a real job table, spoken to over real HTTP. Books are
/// converted by calling the pipeline in the test (against a fake TTS server), not by workers, so
/// each test decides when a job finishes.
struct APIHarness {
    let pipeline: Pipeline
    let options: ServerOptions
    let home: String
    /// The port of the running server, for clients that need more than `send`.
    let boundPort = BoundPort()

    final class BoundPort: Sendable {
        private let port = Mutex<Int?>(nil)
        var value: Int? { port.withLock { $0 } }
        func set(_ value: Int) { port.withLock { $0 = value } }
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var list: [[String: Any]] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]] ?? [] }
    }

    init(
        ttsURL: String = "http://127.0.0.1:9",
        backend: DatabaseBackend = .sqlite,
        configure: (inout ServerOptions) -> Void = { _ in }
    ) throws {
        home = try Fixtures.temporaryDirectory().path
        pipeline = try Pipeline(
            paths: RecitalPaths(home: home, database: backend.location(in: home)),
            patience: .seconds(2),
            heartbeat: .milliseconds(200)
        )
        var settings = ConversionSettings(
            voice: VoiceProfile(name: "fake", backend: .openai, url: ttsURL, voice: "v", format: "wav"),
            maxSegmentCharacters: 400
        )
        settings.outputDirectory = home + "/out"
        var options = ServerOptions(settings: settings, home: home)
        options.port = 0
        configure(&options)
        self.options = options
    }

    /// Runs the server for the duration of `body`, which gets a function that sends requests.
    func serve<T: Sendable>(
        _ body: @Sendable (_ send: @escaping @Sendable (Request) async throws -> Reply) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Server(pipeline: pipeline, options: options).application { continuation.yield($0) }
        return try await withRunningApplication(app, ports: ports, grace: .seconds(1)) { port in
            boundPort.set(port)
            return try await body { request in try await Self.send(request, port: port) }
        }
    }

    struct Request: Sendable {
        var method: HTTPMethod = .GET
        var path: String
        var headers: [(String, String)] = []
        var body: [UInt8]? = nil

        static func get(_ path: String, _ headers: [(String, String)] = []) -> Request {
            Request(path: path, headers: headers)
        }
        static func post(_ path: String, _ body: [UInt8]? = nil, _ headers: [(String, String)] = []) -> Request {
            Request(method: .POST, path: path, headers: headers, body: body)
        }
    }

    /// A client that shows redirects instead of following them (the dashboard answers forms with 303).
    /// It lives as long as the test process.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func send(_ request: Request, port: Int) async throws -> Reply {
        var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(request.path)")
        outgoing.method = request.method
        for (name, value) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(outgoing, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: headers, body: Array(bytes.readableBytesView))
    }

    static func book(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
    }

    /// Files left in the uploads folder.
    var uploads: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: home + "/uploads")) ?? []
    }
}

@Suite("The JSON API of recital serve, over real HTTP")
struct APITests {
    @Test(
        "an upload answers 202 with the job and its Location; the same bytes again, or a retried key, answer with that job"
    )
    func upload() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            let book = try APIHarness.book("epub2-basic.epub")
            let first = try await send(
                .post("/api/v1/jobs?filename=basic.epub&priority=1", book, [("Idempotency-Key", "k1")])
            )
            #expect(first.status == 202, "\(first.text)")
            #expect(first.headers["location"] == "/api/v1/jobs/1")
            #expect(first.json["state"] as? String == "queued")
            #expect(first.json["priority"] as? Int == 1)
            #expect(first.json["queuePosition"] as? Int == 1)
            #expect(first.json["title"] as? String == "A Basic Book")
            let again = try await send(.post("/api/v1/jobs", book))
            #expect(again.status == 200)
            #expect(again.headers["location"] == "/api/v1/jobs/1")
            let retried = try await send(.post("/api/v1/jobs", book, [("Idempotency-Key", "k1")]))
            #expect(retried.status == 200)
            #expect(retried.json["id"] as? Int == 1)
            let reused = try await send(
                .post("/api/v1/jobs", try APIHarness.book("novella.epub"), [("Idempotency-Key", "k1")])
            )
            #expect(reused.status == 422)
            #expect(reused.headers["content-type"] == "application/problem+json")
            #expect((reused.json["detail"] as? String)?.contains("Idempotency-Key") == true)
            let other = try await send(.post("/api/v1/jobs?format=mp3,flac", try APIHarness.book("novella.epub")))
            #expect(other.status == 202)
            #expect(
                (other.json["links"] as? [String: Any])?["results"] as? [String: String] == [
                    "mp3": "/api/v1/jobs/2/result.mp3", "flac": "/api/v1/jobs/2/result.flac",
                ]
            )
        }
        // Only the two books' files are kept, named after their jobs.
        #expect(h.uploads.sorted() == ["book-1.epub", "book-2.epub"])
        #expect(try await h.pipeline.status(book: 1).first?.source == h.home + "/uploads/book-1.epub")
    }

    @Test("a book sent as multipart/form-data is queued with the form's fields; a form without a file is refused")
    func multipart() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            let boundary = "----recital-test-boundary"
            func form(_ parts: [(name: String, fileName: String?, bytes: [UInt8])]) -> [UInt8] {
                var body: [UInt8] = []
                for part in parts {
                    var header = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
                    if let fileName = part.fileName {
                        header += "; filename=\"\(fileName)\"\r\nContent-Type: application/epub+zip"
                    }
                    body += Array((header + "\r\n\r\n").utf8) + part.bytes + Array("\r\n".utf8)
                }
                return body + Array("--\(boundary)--\r\n".utf8)
            }
            let type = [("Content-Type", "multipart/form-data; boundary=\(boundary)")]
            let book = try APIHarness.book("scene-breaks.epub")
            let reply = try await send(
                .post(
                    "/api/v1/jobs",
                    form([
                        ("format", nil, Array("mp3".utf8)), ("priority", nil, Array("3".utf8)),
                        ("file", "story.epub", book),
                    ]),
                    type
                )
            )
            #expect(reply.status == 202, "\(reply.text)")
            #expect(reply.json["priority"] as? Int == 3)
            #expect(
                (reply.json["links"] as? [String: Any])?["results"] as? [String: String] == [
                    "mp3": "/api/v1/jobs/1/result.mp3"
                ]
            )
            let empty = try await send(.post("/api/v1/jobs", form([("format", nil, Array("mp3".utf8))]), type))
            #expect(empty.status == 400)
        }
        #expect(h.uploads == ["book-1.epub"])
    }

    @Test("refused uploads get 400, 413, 415 or 422 with the reason, and leave nothing on disk")
    func refusals() async throws {
        let h = try APIHarness { $0.maxUpload = 100_000 }
        try await h.serve { send in
            let cases: [(String, [UInt8], Int, String)] = [
                ("/api/v1/jobs", Array("just some words".utf8), 415, "neither an EPUB nor a PDF"),
                ("/api/v1/jobs?filename=locked.epub", try APIHarness.book("bad/drm.epub"), 422, "locked.epub"),
                ("/api/v1/jobs", try APIHarness.book("bad/encrypted.pdf"), 422, "encrypt"),
                ("/api/v1/jobs", [UInt8](repeating: 0x25, count: 200_000), 413, "larger than"),
                ("/api/v1/jobs", [], 400, "empty"),
                ("/api/v1/jobs?format=ogg", try APIHarness.book("epub2-basic.epub"), 422, "unknown format 'ogg'"),
                ("/api/v1/jobs?priority=9", try APIHarness.book("epub2-basic.epub"), 422, "priority must be 1"),
                (
                    "/api/v1/jobs?voice=nobody", try APIHarness.book("epub2-basic.epub"), 422,
                    "no voice profile 'nobody'"
                ),
            ]
            for (path, body, status, detail) in cases {
                let reply = try await send(.post(path, body))
                #expect(reply.status == status, "\(path): \(reply.text)")
                #expect(reply.headers["content-type"] == "application/problem+json")
                #expect(
                    (reply.json["detail"] as? String)?.lowercased().contains(detail.lowercased()) == true,
                    "\(reply.text)"
                )
            }
        }
        #expect(h.uploads.isEmpty)
        #expect(try await h.pipeline.status().isEmpty)
    }

    @Test("an upload that fills the disk answers 507 and leaves nothing behind", .enabled(if: SmallDisk.available))
    func fullDisk() async throws {
        let h = try APIHarness()
        let disk = try SmallDisk(kilobytes: 16, at: h.home + "/uploads")
        try await h.serve { send in
            let reply = try await send(.post("/api/v1/jobs", try APIHarness.book("many-chapters.epub")))
            #expect(reply.status == 507, "\(reply.text)")
            #expect((reply.json["detail"] as? String)?.contains("No space left on device") == true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).isEmpty)
        #expect(try await h.pipeline.status().isEmpty)
    }

    @Test("jobs are listed newest first, filtered by state and text, a page at a time; a job's ETag answers 304")
    func listing() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            for name in ["epub2-basic.epub", "novella.epub", "scene-breaks.epub", "epub3-fragments.epub"] {
                #expect(try await send(.post("/api/v1/jobs", try APIHarness.book(name))).status == 202)
            }
            #expect(try await send(.post("/api/v1/jobs/2/pause")).json["state"] as? String == "paused")
            let first = try await send(.get("/api/v1/jobs?limit=3"))
            let ids = (first.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }
            #expect(ids == [4, 3, 2])
            #expect(first.json["nextCursor"] as? String == "2")
            #expect(first.headers["link"] == "</api/v1/jobs?limit=3&cursor=2>; rel=\"next\"")
            let rest = try await send(.get("/api/v1/jobs?limit=3&cursor=2"))
            #expect((rest.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [1])
            #expect(rest.json["nextCursor"] == nil || rest.json["nextCursor"] is NSNull)
            let paused = try await send(.get("/api/v1/jobs?state=paused"))
            #expect((paused.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [2])
            let search = try await send(.get("/api/v1/jobs?q=ada%20author"))
            #expect((search.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [1])
            #expect(try await send(.get("/api/v1/jobs?state=sleeping")).status == 400)
            let job = try await send(.get("/api/v1/jobs/3"))
            #expect(job.json["queuePosition"] as? Int == 2)
            let tag = try #require(job.headers["etag"])
            #expect(try await send(.get("/api/v1/jobs/3", [("If-None-Match", tag)])).status == 304)
            _ = try await send(.post("/api/v1/jobs/3/pause"))
            #expect(try await send(.get("/api/v1/jobs/3", [("If-None-Match", tag)])).status == 200)
            let chapters = try await send(.get("/api/v1/jobs/1/chapters"))
            #expect(chapters.list.count == 3)
            #expect(chapters.list.first?["state"] as? String == "waiting")
            let stats = try await send(.get("/api/v1/stats"))
            #expect((stats.json["byState"] as? [String: Int])?["paused"] == 2)
            #expect((stats.json["byState"] as? [String: Int])?["queued"] == 2)
        }
    }

    @Test(
        "pause, unpause, cancel, retry, priority and delete answer 409 with why when the job's state does not allow them"
    )
    func control() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
            #expect(try await send(.post("/api/v1/jobs/1/pause")).json["state"] as? String == "paused")
            let twice = try await send(.post("/api/v1/jobs/1/pause"))
            #expect(twice.status == 409)
            #expect(twice.json["detail"] as? String == "a paused book cannot be asked to pause")
            #expect(try await send(.post("/api/v1/jobs/1/unpause")).json["state"] as? String == "queued")
            #expect(try await send(.post("/api/v1/jobs/1/retry")).status == 409)
            var patch = APIHarness.Request(
                method: .PATCH,
                path: "/api/v1/jobs/1",
                body: Array(#"{"priority": 4}"#.utf8)
            )
            #expect(try await send(patch).json["priority"] as? Int == 4)
            patch.body = Array(#"{"priority": "high"}"#.utf8)
            #expect(try await send(patch).status == 422)
            #expect(try await send(.post("/api/v1/jobs/1/cancel")).json["state"] as? String == "cancelled")
            #expect(try await send(.post("/api/v1/jobs/1/cancel")).status == 409)
            #expect(try await send(.post("/api/v1/jobs/1/retry")).json["state"] as? String == "queued")
            let missing = try await send(.post("/api/v1/jobs/99/pause"))
            #expect(missing.status == 404)
            #expect(missing.json["detail"] as? String == "there is no job 99")
            let log = try await send(.get("/api/v1/jobs/1/log"))
            #expect(log.list.contains { $0["kind"] as? String == "enqueued" })
            #expect(try await send(APIHarness.Request(method: .DELETE, path: "/api/v1/jobs/1")).status == 204)
            #expect(try await send(.get("/api/v1/jobs/1")).status == 404)
        }
    }

    @Test(
        "a result answers 425 until written, then 200, 206 for ranges, 416 past the end, 410 once gone; a failed job's 409"
    )
    func results() async throws {
        let tts = FakeTTSServer()
        try await tts.serve { url in
            let h = try APIHarness(ttsURL: url)
            try await h.serve { send in
                _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
                let early = try await send(.get("/api/v1/jobs/1/result.m4b"))
                #expect(early.status == 425)
                #expect(early.headers["retry-after"] == "30")
                let notYet = try await send(.get("/api/v1/jobs/1/chapters/0/audio"))
                #expect(notYet.status == 425, "\(notYet.text)")
                #expect((notYet.json["detail"] as? String)?.contains("chapter 1 is not synthesized yet") == true)
                #expect(try await h.pipeline.run(books: [1]) == .finished)
                // A finished chapter plays as WAV, with ranges, before (and after) the book is done.
                let chapter = try await send(.get("/api/v1/jobs/1/chapters/1/audio"))
                #expect(chapter.status == 200)
                #expect(chapter.headers["content-type"] == "audio/wav")
                #expect(chapter.body.starts(with: Array("RIFF".utf8)))
                let chapterRange = try await send(.get("/api/v1/jobs/1/chapters/1/audio", [("Range", "bytes=0-43")]))
                #expect(chapterRange.status == 206)
                #expect(chapterRange.body == Array(chapter.body.prefix(44)))
                let noChapter = try await send(.get("/api/v1/jobs/1/chapters/99/audio"))
                #expect(noChapter.status == 404)
                #expect(noChapter.json["detail"] as? String == "job 1 has no chapter 100")
                let finished = try await send(.get("/api/v1/jobs/1"))
                #expect(finished.json["attempts"] as? Int == 3)
                let whole = try await send(.get("/api/v1/jobs/1/result.m4b"))
                #expect(whole.status == 200)
                #expect(whole.headers["accept-ranges"] == "bytes")
                #expect(whole.headers["content-type"] == "audio/mp4")
                let file = try #require(try await h.pipeline.outputFiles(book: 1)[.m4b]?.first)
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                #expect(whole.body == bytes)
                let head = try await send(APIHarness.Request(method: .HEAD, path: "/api/v1/jobs/1/result.m4b"))
                #expect(head.status == 200)
                #expect(head.headers["content-length"] == String(bytes.count))
                #expect(head.body.isEmpty)
                let size = bytes.count
                let ranges: [(String, Int, ClosedRange<Int>)] = [
                    ("bytes=0-99", 206, 0...99), ("bytes=100-", 206, 100...(size - 1)),
                    ("bytes=-50", 206, (size - 50)...(size - 1)), ("bytes=10-\(size + 500)", 206, 10...(size - 1)),
                ]
                for (range, status, span) in ranges {
                    let reply = try await send(.get("/api/v1/jobs/1/result.m4b", [("Range", range)]))
                    #expect(reply.status == status, "\(range)")
                    #expect(reply.body == Array(bytes[span]), "\(range)")
                    #expect(reply.headers["content-range"] == "bytes \(span.lowerBound)-\(span.upperBound)/\(size)")
                }
                let past = try await send(.get("/api/v1/jobs/1/result.m4b", [("Range", "bytes=\(size)-")]))
                #expect(past.status == 416)
                #expect(past.headers["content-range"] == "bytes */\(size)")
                let stale = try await send(
                    .get("/api/v1/jobs/1/result.m4b", [("Range", "bytes=0-9"), ("If-Range", "\"old\"")])
                )
                #expect(stale.status == 200)
                #expect(try await send(.get("/api/v1/jobs/1/result.mp3")).status == 404)
                try FileManager.default.moveItem(atPath: file, toPath: file + ".aside")
                #expect(try await send(.get("/api/v1/jobs/1/result.m4b")).status == 410)
                try FileManager.default.moveItem(atPath: file + ".aside", toPath: file)

                // Past its retention the file is removed and the job stays listed.
                let server = Server(
                    pipeline: h.pipeline,
                    options: {
                        var o = h.options; o.retentionHours = 1; return o
                    }()
                )
                #expect(try await server.purgeExpired(now: Date().timeIntervalSince1970 + 1800).isEmpty)
                #expect(try await server.purgeExpired(now: Date().timeIntervalSince1970 + 3700) == [1])
                let gone = try await send(.get("/api/v1/jobs/1/result.m4b"))
                #expect(gone.status == 410)
                #expect((gone.json["detail"] as? String)?.contains("--retention-hours") == true)
                #expect(try await send(.get("/api/v1/jobs/1")).json["state"] as? String == "completed")
                #expect(!FileManager.default.fileExists(atPath: h.home + "/audio/book-1"))

                tts.fail(next: [.status(400, body: #"{"error": "no such voice"}"#)])
                _ = try await send(.post("/api/v1/jobs", try APIHarness.book("scene-breaks.epub")))
                _ = try await h.pipeline.run(books: [2])
                let failed = try await send(.get("/api/v1/jobs/2/result.m4b"))
                #expect(failed.status == 409)
                #expect((failed.json["detail"] as? String)?.contains("/api/v1/jobs/2/retry") == true)
            }
        }
    }

    @Test(
        "on PostgreSQL a served book's files are kept in the job table: a server whose disk lacks them (another machine encoded) still answers 200, ranges and HEAD",
        .enabled(if: DatabaseBackend.postgresURL != nil, "needs RECITAL_POSTGRES_URL")
    )
    func resultsFromTable() async throws {
        let tts = FakeTTSServer()
        try await tts.serve { url in
            let h = try APIHarness(ttsURL: url, backend: .postgres)
            try await h.serve { send in
                _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
                #expect(try await h.pipeline.run(books: [1]) == .finished)
                let file = try #require(try await h.pipeline.outputFiles(book: 1)[.m4b]?.first)
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                // This machine never had the file: the encoding one did.
                try FileManager.default.removeItem(atPath: file)
                let whole = try await send(.get("/api/v1/jobs/1/result.m4b"))
                #expect(whole.status == 200, "\(whole.text.prefix(300))")
                #expect(whole.body == bytes)
                #expect(whole.headers["content-type"] == "audio/mp4")
                let size = bytes.count
                for (range, span) in [("bytes=0-99", 0...99), ("bytes=-50", (size - 50)...(size - 1))] {
                    let reply = try await send(.get("/api/v1/jobs/1/result.m4b", [("Range", range)]))
                    #expect(reply.status == 206, "\(range)")
                    #expect(reply.body == Array(bytes[span]), "\(range)")
                }
                let head = try await send(APIHarness.Request(method: .HEAD, path: "/api/v1/jobs/1/result.m4b"))
                #expect(head.headers["content-length"] == String(size))
                #expect(try await send(.get("/api/v1/jobs/1/result.m4b", [("Range", "bytes=\(size)-")])).status == 416)
            }
        }
    }

    @Test(
        "stats show jobs by state, the characters spoken per second, and each worker with what it holds and its heartbeat"
    )
    func stats() async throws {
        let tts = FakeTTSServer(latency: .milliseconds(100))
        try await tts.serve { url in
            let h = try APIHarness(ttsURL: url)
            try await h.serve { send in
                _ = try await send(.post("/api/v1/jobs", try APIHarness.book("novella.epub")))
                let run = Task { try await h.pipeline.run(books: [1]) }
                // A finished chapter is the first result recorded from the server.
                try await Wait.until("a chapter spoken") {
                    (try await h.pipeline.status(book: 1).first?.chaptersDone ?? 0) >= 1
                }
                let stats = try await send(.get("/api/v1/stats"))
                let workers = try #require(stats.json["workers"] as? [[String: Any]])
                #expect(workers.count == 1)
                #expect((workers.first?["holding"] as? Int ?? 0) >= 1)
                #expect((workers.first?["heartbeatAgeSeconds"] as? Double ?? 99) < 15)
                #expect((stats.json["charactersPerSecond"] as? Double ?? 0) > 0)
                #expect((stats.json["byState"] as? [String: Int])?["running"] == 1)
                let backends = try #require(stats.json["backends"] as? [[String: Any]])
                #expect(backends.map { $0["url"] as? String } == [url])
                #expect(backends.first?["ok"] as? Bool == true)
                run.cancel()
                _ = try await run.value
            }
        }
    }

    @Test("a foreign Host is refused; off loopback every request but the health checks needs the bearer token")
    func access() async throws {
        let open = try APIHarness { $0.allowedHosts = ["books.lan"] }
        try await open.serve { send in
            let rebound = try await send(.get("/api/v1/jobs", [("Host", "attacker.example")]))
            #expect(rebound.status == 403)
            #expect(try await send(.get("/api/v1/jobs", [("Host", "books.lan:8080")])).status == 200)
            #expect(try await send(.get("/api/v1/jobs", [("Host", "localhost:8080")])).status == 200)
        }
        let guarded = try APIHarness { $0.token = "0123456789abcdef0123456789abcdef" }
        try await guarded.serve { send in
            let none = try await send(.get("/api/v1/jobs"))
            #expect(none.status == 401)
            #expect(none.headers["www-authenticate"] == "Bearer")
            #expect(try await send(.get("/api/v1/jobs", [("Authorization", "Bearer wrong")])).status == 401)
            let right = [("Authorization", "Bearer 0123456789abcdef0123456789abcdef")]
            #expect(try await send(.get("/api/v1/jobs", right)).status == 200)
            #expect(try await send(.get("/healthz")).status == 200)
            #expect(try await send(.get("/readyz")).status == 200)
        }
    }

    @Test("a token file is read, or made with mode 0600 when listening beyond loopback; none is refused there")
    func tokens() throws {
        let folder = try Fixtures.temporaryDirectory().path
        #expect(throws: ServerSetupError.self) { try Server.token(file: nil, needed: true) }
        let made = try Server.token(file: folder + "/token", needed: true)
        #expect(made.created)
        #expect(made.token?.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/token")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let read = try Server.token(file: folder + "/token", needed: true)
        #expect(read.token == made.token)
        #expect(!read.created)
        try "short\n".write(toFile: folder + "/weak", atomically: true, encoding: .utf8)
        #expect(throws: ServerSetupError.self) { try Server.token(file: folder + "/weak", needed: false) }
    }
}

@Suite("The dashboard's pages and forms, over real HTTP")
struct DashboardTests {
    @Test("pages carry CSP and no-store; every action works as a form POST answered with 303; bulk answers per job")
    func forms() async throws {
        let h = try APIHarness()
        try await h.serve { send in
            for name in ["epub2-basic.epub", "scene-breaks.epub"] {
                _ = try await send(.post("/api/v1/jobs", try APIHarness.book(name)))
            }
            let page = try await send(.get("/"))
            #expect(page.status == 200)
            #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
            #expect(page.headers["cache-control"] == "no-store")
            #expect(page.text.contains("data-job=\"1\"") && page.text.contains("data-job=\"2\""))
            #expect(page.text.contains("Queued <b>2</b>"))
            let form = [("Content-Type", "application/x-www-form-urlencoded")]
            let paused = try await send(.post("/jobs/1/pause", [], form))
            #expect(paused.status == 303)
            #expect(paused.headers["location"] == "/jobs/1")
            #expect(try await send(.get("/jobs/1")).text.contains("data-field=\"state\">paused</span>"))
            let priority = try await send(.post("/jobs/2/priority", Array("priority=1".utf8), form))
            #expect(priority.status == 303)
            #expect(try await h.pipeline.status(book: 2).first?.priority == 1)
            let bulk = try await send(.post("/jobs/bulk", Array("id=1&id=2&action=cancel".utf8), form))
            #expect(bulk.headers["location"] == "/?done=2&skipped=0")
            let again = try await send(.post("/jobs/bulk", Array("id=1&id=2&action=pause".utf8), form))
            #expect(again.headers["location"] == "/?done=0&skipped=2")
            let api = try await send(
                .post("/api/v1/jobs/bulk", Array(#"{"action": "retry", "ids": [1, 2, 99]}"#.utf8))
            )
            let results = (api.json["results"] as? [[String: Any]])?.map { $0["status"] as? Int }
            #expect(results == [200, 200, 404])
            #expect(try await send(.get("/upload")).text.contains("enctype=\"multipart/form-data\""))
            #expect(try await send(.get("/health")).text.contains("Job table"))
            let script = try await send(.get("/assets/app.js"))
            #expect(script.headers["content-type"] == "text/javascript; charset=utf-8")
            #expect(script.text.contains("EventSource"))
        }
    }

    @Test(
        "another site cannot make a browser act here; a browser signs in once with the token and gets an HttpOnly cookie"
    )
    func browserSecurity() async throws {
        let open = try APIHarness()
        try await open.serve { send in
            _ = try await send(.post("/api/v1/jobs", try APIHarness.book("epub2-basic.epub")))
            let crossSite = try await send(.post("/jobs/1/cancel", [], [("Sec-Fetch-Site", "cross-site")]))
            #expect(crossSite.status == 403)
            let sameSite = try await send(.post("/jobs/1/cancel", [], [("Sec-Fetch-Site", "same-site")]))
            #expect(sameSite.status == 403)
            let foreign = try await send(.post("/jobs/1/cancel", [], [("Origin", "http://evil.example")]))
            #expect(foreign.status == 403)
            let null = try await send(.post("/jobs/1/cancel", [], [("Origin", "null")]))
            #expect(null.status == 403)
            #expect(try await open.pipeline.status(book: 1).first?.state == .queued)
            let own = try await send(
                .post("/jobs/1/pause", [], [("Sec-Fetch-Site", "same-origin"), ("Origin", "null")])
            )
            #expect(own.status == 303)
        }
        let token = "0123456789abcdef0123456789abcdef"
        let guarded = try APIHarness { $0.token = token }
        try await guarded.serve { send in
            let page = try await send(.get("/"))
            #expect(page.status == 303)
            #expect(page.headers["location"] == "/login")
            #expect(try await send(.get("/login")).text.contains("type=\"password\""))
            #expect(try await send(.get("/assets/app.css")).status == 200)
            let form = [("Content-Type", "application/x-www-form-urlencoded")]
            #expect(try await send(.post("/login", Array("token=wrong".utf8), form)).status == 401)
            let signedIn = try await send(.post("/login", Array("token=\(token)".utf8), form))
            #expect(signedIn.status == 303)
            let cookie = try #require(signedIn.headers["set-cookie"])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            let value = String(cookie.split(separator: ";")[0])
            #expect(try await send(.get("/", [("Cookie", value)])).status == 200)
            #expect(try await send(.get("/api/v1/jobs", [("Cookie", value)])).status == 200)
            #expect(try await send(.get("/api/v1/jobs", [("Cookie", "recital_token=guess")])).status == 401)
        }
    }
}
