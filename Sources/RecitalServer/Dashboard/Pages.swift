internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import RecitalEncode
internal import RecitalModel
internal import RecitalPipeline

/// The dashboard: the jobs list, a job, the upload form and health, rendered from the job table on
/// every request (a reopened tab, a restarted server or a woken laptop shows the truth), kept live
/// by one script through the event stream. Every action is a plain form POST answered with 303, so
/// it works without the script.
extension APIRoutes {
    func addDashboard(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try await jobsPage(request) }
        router.get("/jobs/{id}") { _, context in try await jobPage(try context.parameters.require("id", as: Int64.self))
        }
        router.post("/jobs/{id}/{action}") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let name = try context.parameters.require("action")
            let fields = try await formFields(request)
            guard let action = BookAction(rawValue: name) ?? (name == "priority" ? .setPriority : nil) else {
                throw Problem(.notFound, "there is no action \(name)")
            }
            try await control(action, id, priority: fields.first { $0.0 == "priority" }.flatMap { Int($0.1) })
            if action == .retry || action == .unpause { queued() }
            return HTML.redirect(action == .delete ? "/" : "/jobs/\(id)")
        }
        router.post("/jobs/bulk") { request, _ in
            let fields = try await formFields(request)
            let ids = fields.filter { $0.0 == "id" }.compactMap { Int64($0.1) }
            guard let name = fields.first(where: { $0.0 == "action" })?.1, let action = BookAction(rawValue: name)
            else {
                throw Problem(.badRequest, "choose an action")
            }
            let results = await bulk(action, ids: ids, priority: nil)
            let failed = results.filter { $0.problem != nil }.count
            return HTML.redirect("/?done=\(results.count - failed)&skipped=\(failed)")
        }
        router.get("/upload") { _, _ in HTML.response(HTML.page(title: "Upload", body: uploadForm())) }
        router.post("/upload") { request, _ in
            guard let boundary = Self.boundary(request.headers[.contentType]) else {
                throw Problem(.unsupportedMediaType, "the upload form sends multipart/form-data")
            }
            var upload = UploadRequest()
            let files = try await receiveParts(request.body, boundary: boundary, into: &upload)
            guard !files.isEmpty else { throw Problem(.badRequest, "choose at least one book") }
            var last: Int64?
            for (file, name) in files { last = try await queue(file, clientName: name, upload).book }
            return HTML.redirect(files.count == 1 ? "/jobs/\(last ?? 0)" : "/")
        }
        router.get("/health") { _, _ in try await healthPage() }
        router.get("/assets/app.js") { _, _ in Assets.response(Assets.script, type: "text/javascript; charset=utf-8") }
        router.get("/assets/app.css") { _, _ in Assets.response(Assets.style, type: "text/css; charset=utf-8") }
    }

    func formFields(_ request: Request) async throws -> [(String, String)] {
        let body = try await request.body.collect(upTo: 256 << 10)
        return HTML.formFields(String(buffer: body))
    }

    /// Does one action to many jobs, each answered on its own.
    func bulk(_ action: BookAction, ids: [Int64], priority: Int?) async -> [BulkResult] {
        var results: [BulkResult] = []
        for id in ids {
            do {
                try await control(action, id, priority: priority)
                results.append(BulkResult(id: id, status: 200, problem: nil))
            } catch let problem as Problem {
                results.append(BulkResult(id: id, status: Int(problem.status.code), problem: problem.detail))
            } catch {
                results.append(BulkResult(id: id, status: 500, problem: "\(error)"))
            }
        }
        if action == .retry || action == .unpause { queued() }
        return results
    }

    struct BulkResult: Codable, Equatable {
        var id: Int64
        var status: Int
        var problem: String?
    }

    static func now() -> String { LiveFeed.stamp(Date().timeIntervalSince1970) }

    // MARK: - Jobs

    func jobsPage(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let tab = query.get("state").flatMap { BookState(rawValue: String($0)) }
        let search = query.get("q").map { String($0) } ?? ""
        let since = Self.now()
        let statuses = try await facade { try await pipeline.status() }
        let positions = JobJSON.queuePositions(statuses)
        var counts: [BookState: Int] = [:]
        for status in statuses { counts[status.state, default: 0] += 1 }
        // Running first, queued in the order they will be taken, paused, then the finished newest
        // first.
        let order: [BookState: Int] = [.running: 0, .queued: 1, .paused: 2, .failed: 3, .cancelled: 3, .completed: 3]
        let shown = statuses.filter { status in
            (tab == nil || status.state == tab)
                && (search.isEmpty
                    || (status.title ?? "").localizedCaseInsensitiveContains(search)
                    || status.authors.contains { $0.localizedCaseInsensitiveContains(search) })
        }.sorted { a, b in
            let (rankA, rankB) = (order[a.state, default: 9], order[b.state, default: 9])
            if rankA != rankB { return rankA < rankB }
            if a.state == .queued { return (positions[a.id] ?? 0) < (positions[b.id] ?? 0) }
            return a.id > b.id
        }
        var body = "<h1>Jobs</h1>\n"
        if let done = query.get("done") {
            body +=
                "<p class=\"notice\">\(HTML.escape(String(done))) done, \(HTML.escape(query.get("skipped").map { String($0) } ?? "0")) not allowed in their state.</p>\n"
        }
        body += "<nav class=\"tabs\">"
        let all =
            "<a href=\"/\(search.isEmpty ? "" : "?q=" + (search.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics) ?? ""))\""
        body += all + (tab == nil ? " class=\"current\"" : "") + ">All <b>\(statuses.count)</b></a>"
        for state in [BookState.running, .queued, .paused, .failed, .completed, .cancelled] {
            body +=
                "<a href=\"/?state=\(state.rawValue)\"\(tab == state ? " class=\"current\"" : "") data-count=\"\(state.rawValue)\">"
            body += "\(state.rawValue.capitalized) <b>\(counts[state] ?? 0)</b></a>"
        }
        body += "</nav>\n"
        body += """
            <form class="search" method="get" action="/"><input type="search" name="q" value="\(HTML.escape(search))" placeholder="Title or author" aria-label="Search"><button>Search</button></form>
            <form id="bulk" method="post" action="/jobs/bulk"><div class="bulkbar"><label>With the selected jobs
            <select name="action"><option value="pause">pause</option><option value="unpause">unpause</option><option value="cancel">cancel</option><option value="retry">retry</option><option value="delete">delete</option></select></label>
            <button type="submit">Apply</button></div></form>

            """
        if shown.isEmpty {
            body +=
                "<p class=\"empty\">No jobs\(tab.map { " \($0.rawValue)" } ?? "") yet. <a href=\"/upload\">Upload a book</a>.</p>"
        } else {
            body +=
                "<table class=\"jobs\"><thead><tr><th><input type=\"checkbox\" id=\"all\" aria-label=\"Select all\"></th><th>Book</th><th>State</th><th>Progress</th><th>Priority</th></tr></thead><tbody>\n"
            for status in shown { body += row(status, position: positions[status.id]) }
            body += "</tbody></table>\n"
            for status in shown where BookAction.setPriority.refusal(in: status.state) == nil {
                body +=
                    "<form id=\"priority-\(status.id)\" method=\"post\" action=\"/jobs/\(status.id)/priority\"></form>"
            }
        }
        return HTML.response(HTML.page(title: "Jobs", body: body, since: since, live: "all"))
    }

    func row(_ status: BookStatus, position: Int?) -> String {
        let percent = Int((status.progress * 100).rounded(.down))
        var html =
            "<tr data-job=\"\(status.id)\"><td><input type=\"checkbox\" name=\"id\" value=\"\(status.id)\" form=\"bulk\" aria-label=\"Select\"></td>"
        html += "<td><a href=\"/jobs/\(status.id)\">\(HTML.escape(status.title ?? "Book \(status.id)"))</a>"
        html += "<div class=\"sub\">\(HTML.escape(status.authors.joined(separator: ", ")))</div></td>"
        html +=
            "<td><span class=\"state s-\(status.state.rawValue)\" data-field=\"state\">\(status.state.rawValue)</span>"
        html +=
            position.map { "<div class=\"sub\" data-field=\"position\">#\($0) in queue</div>" }
            ?? "<div class=\"sub\" data-field=\"position\"></div>"
        html += "</td><td><progress max=\"100\" value=\"\(percent)\" data-field=\"bar\"></progress> "
        html +=
            "<span data-field=\"percent\">\(percent) %</span> <span class=\"sub\" data-field=\"eta\">\(Self.eta(status.etaSeconds))</span></td>"
        html += "<td>"
        if BookAction.setPriority.refusal(in: status.state) == nil {
            html += "<select name=\"priority\" form=\"priority-\(status.id)\" aria-label=\"Priority\" data-autosubmit>"
            for level in 1...4 { html += "<option\(level == status.priority ? " selected" : "")>\(level)</option>" }
            html += "</select><button form=\"priority-\(status.id)\" class=\"noscript\">Set</button>"
        } else {
            html += "\(status.priority)"
        }
        return html + "</td></tr>\n"
    }

    static func eta(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "" }
        let total = Int(seconds)
        return String(format: "ETA %d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }

    // MARK: - One job

    func jobPage(_ id: Int64) async throws -> Response {
        let since = Self.now()
        let job = try await job(id)
        let chapters = try await facade { try await pipeline.chapters(book: id) }
        let log = try await facade { try await pipeline.history(book: id) }.suffix(50)
        let percent = Int((job.progress * 100).rounded(.down))
        var body = "<h1>\(HTML.escape(job.title ?? "Book \(id)"))</h1>\n"
        body += "<p class=\"sub\">\(HTML.escape(job.authors.joined(separator: ", ")))</p>\n"
        body +=
            "<section class=\"summary\" data-job=\"\(id)\"><p><span class=\"state s-\(job.state.rawValue)\" data-field=\"state\">\(job.state.rawValue)</span>"
        body +=
            " · priority \(job.priority) <span data-field=\"position\">\(job.queuePosition.map { "· #\($0) in queue" } ?? "")</span></p>"
        body +=
            "<p><progress max=\"100\" value=\"\(percent)\" data-field=\"bar\"></progress> <span data-field=\"percent\">\(percent) %</span></p>"
        body +=
            "<p class=\"sub\"><span data-field=\"segments\">\(job.segmentsDone)/\(job.segmentsTotal)</span> segments · "
        body +=
            "<span data-field=\"chapters\">\(job.chaptersDone)/\(job.chaptersTotal)</span> chapters · <span data-field=\"encoded\">\(job.chaptersEncoded)/\(job.chaptersTotal)</span> encoded · <span data-field=\"eta\">\(Self.eta(job.etaSeconds))</span></p>"
        if let error = job.error { body += "<p class=\"error\">\(HTML.escape(error))</p>" }
        for warning in job.warnings { body += "<p class=\"warning\">\(HTML.escape(warning))</p>" }
        body += "</section>\n<div class=\"actions\">"
        for action in [BookAction.pause, .unpause, .cancel, .retry, .delete] where action.refusal(in: job.state) == nil
        {
            let confirm =
                action == .delete || action == .cancel
                ? " data-confirm=\"\(action.rawValue.capitalized) this job?\"" : ""
            body +=
                "<form method=\"post\" action=\"/jobs/\(id)/\(action.rawValue)\"\(confirm)><button>\(action.rawValue.capitalized)</button></form>"
        }
        if BookAction.setPriority.refusal(in: job.state) == nil {
            body +=
                "<form method=\"post\" action=\"/jobs/\(id)/priority\"><label>Priority <select name=\"priority\" data-autosubmit>"
            for level in 1...4 { body += "<option\(level == job.priority ? " selected" : "")>\(level)</option>" }
            body += "</select></label><button class=\"noscript\">Set</button></form>"
        }
        body += "</div>\n"
        if job.state == .completed {
            body += "<section class=\"player\"><h2>Listen</h2>"
            for (format, link) in job.links.results.sorted(by: { $0.key < $1.key }) {
                body += "<figure><audio controls preload=\"metadata\" src=\"\(HTML.escape(link))\"></audio>"
                body +=
                    "<figcaption><a href=\"\(HTML.escape(link))?download=1\">Download \(format)</a></figcaption></figure>"
            }
            body += "</section>\n"
        }
        body +=
            "<h2>Chapters</h2><table class=\"chapters\"><thead><tr><th>#</th><th>Chapter</th><th>State</th><th>Segments</th><th>Attempts</th></tr></thead><tbody>\n"
        for chapter in chapters {
            body += "<tr><td>\(chapter.index + 1)</td><td>\(HTML.escape(chapter.title))"
            if let error = chapter.lastError, chapter.state != .done {
                body += "<div class=\"error\">\(HTML.escape(error))</div>"
            }
            body += "</td><td><span class=\"state c-\(chapter.state.rawValue)\">\(chapter.state.rawValue)</span>"
            if chapter.state == .done {
                let link = "/api/v1/jobs/\(id)/chapters/\(chapter.index)/audio"
                body +=
                    " <a class=\"play\" href=\"\(link)\" data-preview=\"\(link)\" aria-label=\"Play chapter \(chapter.index + 1)\">▶</a>"
            }
            body += "</td>"
            body +=
                "<td>\(chapter.segmentsDone)/\(chapter.segmentsTotal)</td><td>\(chapter.attempt)/\(chapter.maxAttempts)</td></tr>\n"
        }
        body += "</tbody></table>\n<h2>Log</h2><ol class=\"log\">"
        for event in log.reversed() {
            body +=
                "<li><time>\(Self.iso(event.at))</time> <b>\(HTML.escape(event.kind))</b> \(HTML.escape(event.message))</li>"
        }
        body += "</ol>"
        return HTML.response(HTML.page(title: job.title ?? "Book \(id)", body: body, since: since, live: String(id)))
    }

    // MARK: - Upload and health

    func uploadForm() -> String {
        var voices = "<option value=\"\">default (\(HTML.escape(options.settings.voice.name)))</option>"
        for name in VoiceProfiles.bundledNames { voices += "<option>\(HTML.escape(name))</option>" }
        var formats = ""
        for format in AudioContainer.allCases {
            let chosen = options.settings.encode.formats.first == format ? " selected" : ""
            formats += "<option\(chosen)>\(format.rawValue)</option>"
        }
        var priorities = ""
        for level in 1...4 { priorities += "<option\(level == options.priority ? " selected" : "")>\(level)</option>" }
        return """
            <h1>Upload books</h1>
            <form id="upload" method="post" action="/upload" enctype="multipart/form-data">
            <label class="drop" id="drop">EPUB or PDF books (drop them here, or choose)
            <input type="file" name="file" accept=".epub,.pdf,application/epub+zip,application/pdf" multiple required></label>
            <div class="fields"><label>Voice <select name="voice">\(voices)</select></label>
            <label>Format <select name="format">\(formats)</select></label>
            <label>Priority <select name="priority">\(priorities)</select></label></div>
            <button type="submit">Upload</button>
            </form>
            <ul id="uploads" class="uploads"></ul>
            """
    }

    func healthPage() async throws -> Response {
        let statuses = try await facade { try await pipeline.status() }
        var counts: [BookState: Int] = [:]
        for status in statuses { counts[status.state, default: 0] += 1 }
        var body = "<h1>Health</h1><dl class=\"health\">"
        body += "<dt>Job table</dt><dd>answering (\(statuses.count) jobs)</dd>"
        body += "<dt>Workers in this process</dt><dd>\(options.converts ? "converting" : "none (--workers 0)")</dd>"
        body +=
            "<dt>Default voice</dt><dd>\(HTML.escape(options.settings.voice.name)) (\(HTML.escape(options.settings.voice.backend.rawValue)))</dd>"
        for state in BookState.allCases {
            body += "<dt>\(state.rawValue.capitalized)</dt><dd>\(counts[state] ?? 0)</dd>"
        }
        body += "</dl>"
        return HTML.response(HTML.page(title: "Health", body: body))
    }
}
