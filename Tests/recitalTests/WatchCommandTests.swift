import Foundation
import GRDB
import RecitalTestSupport
import Testing

/// `recital watch` as a child process: real inotify on temporary folders, real writers and `mv`,
/// real signals, a fake TTS server in this process, a real SQLite job table.
@Suite("recital watch, run as a process", .serialized)
struct WatchCommandTests {
    struct Setup {
        let root: String
        var home: String { root + "/home" }
        var inbox: String { root + "/inbox" }
        var out: String { root + "/out" }
        var environment: [String: String] { ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"] }

        init() throws {
            root = try Fixtures.temporaryDirectory().path
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        }

        func watch(_ url: String, _ extra: [String] = []) throws -> BackgroundProcess {
            try BackgroundProcess(
                Fixtures.executable,
                ["watch", inbox, "--out", out, "--tts-url", url, "--settle", "2"] + extra,
                environment: environment
            )
        }

        func database() throws -> DatabaseQueue {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            return try DatabaseQueue(path: home + "/recital.sqlite", configuration: configuration)
        }

        /// Each watched file's state by its path relative to the inbox.
        func states() throws -> [String: String] {
            guard FileManager.default.fileExists(atPath: home + "/recital.sqlite") else { return [:] }
            return try database().read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT relative_path, state FROM watched_files")
                return Dictionary(uniqueKeysWithValues: rows.map { ($0["relative_path"], $0["state"]) })
            }
        }

        func count(_ sql: String) throws -> Int {
            guard FileManager.default.fileExists(atPath: home + "/recital.sqlite") else { return 0 }
            return try database().read { try Int.fetchOne($0, sql: sql) ?? 0 }
        }

        /// Waits until the files are delivered; on a timeout the watchers' logs say why.
        func waitDelivered(
            _ files: [String],
            by watchers: [BackgroundProcess],
            // Generous: the whole suite shares two cores with these watchers.
            deadline: Duration = .seconds(300)
        ) async throws {
            do {
                try await Wait.until("\(files) delivered", deadline: deadline) {
                    let states = try self.states()
                    return files.allSatisfy { states[$0] == "delivered" }
                }
            } catch {
                for watcher in watchers { Issue.record("watcher's log: \(watcher.stderrSoFar.suffix(3000))") }
                throw error
            }
        }

        func copy(_ fixture: String, to relative: String) throws {
            let target = URL(fileURLWithPath: "\(inbox)/\(relative)")
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: target.path)
        }

        func stop(_ child: BackgroundProcess) async throws -> ProcessResult {
            child.signal(SIGTERM)
            return try await child.wait(timeout: .seconds(60))
        }
    }

    @Test(
        "a book written over 20 s is queued once, after its last write; books moved in from another filesystem and renamed into place are delivered under their folders"
    )
    func arrivals() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        try await server.serve { url in
            let watcher = try setup.watch(url)
            try await Wait.until("the watcher scanning") { watcher.stderrSoFar.contains("scanning") }
            // A writer appending for 20 s, as a slow download or a copy from a phone does.
            let book = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("novella.epub")))
            try FileManager.default.createDirectory(atPath: setup.inbox + "/sf", withIntermediateDirectories: true)
            let slow = setup.inbox + "/sf/slow.epub"
            FileManager.default.createFile(atPath: slow, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: slow))
            let chunk = book.count / 11 + 1
            // Looked at only while the file is still incomplete: once the last chunk is written, the
            // watcher may rightly queue it 2 s later, however slowly this test is scheduled.
            for (index, start) in stride(from: 0, to: book.count, by: chunk).enumerated() {
                if index > 0 {
                    try await Task.sleep(for: .seconds(2))
                    #expect(try setup.states()["sf/slow.epub"] ?? "settling" == "settling")
                }
                try handle.write(contentsOf: book[start..<min(book.count, start + chunk)])
            }
            try handle.close()
            let lastWrite = Date().timeIntervalSince1970
            // `mv` from tmpfs is a copy and an unlink: create, writes, close-after-write.
            let elsewhere = "/dev/shm/recital-\(UUID().uuidString).epub"
            try FileManager.default.copyItem(atPath: Fixtures.path("epub2-basic.epub"), toPath: elsewhere)
            try FileManager.default.createDirectory(atPath: setup.inbox + "/cross", withIntermediateDirectories: true)
            let moved = try ProcessResult.run("/bin/mv", [elsewhere, setup.inbox + "/cross/basic.epub"])
            #expect(moved.status == 0, "\(moved.stderr)")
            // A download written under a partial name, then renamed into place.
            try setup.copy("scene-breaks.epub", to: "breaks.epub.part")
            try FileManager.default.moveItem(
                atPath: setup.inbox + "/breaks.epub.part",
                toPath: setup.inbox + "/breaks.epub"
            )

            try await setup.waitDelivered(["sf/slow.epub", "cross/basic.epub", "breaks.epub"], by: [watcher])
            let queuedAt = try await setup.database().read { db in
                try Double.fetchOne(
                    db,
                    sql: "SELECT updated_at FROM watched_files WHERE relative_path = 'sf/slow.epub'"
                )
            }
            #expect((queuedAt ?? 0) >= lastWrite)
            #expect(try setup.count("SELECT COUNT(*) FROM books") == 3)
            #expect(try setup.states()["breaks.epub.part"] == nil)
            for folder in ["sf", "cross", ""] {
                let files = try FileManager.default.contentsOfDirectory(atPath: setup.out + "/" + folder)
                #expect(files.contains { $0.hasSuffix(".m4b") }, "\(folder): \(files)")
            }
            let status = try await ProcessResult.launch(Fixtures.executable, ["status"], environment: setup.environment)
            #expect(status.stdout.contains("delivered  sf/slow.epub"), "\(status.stdout)")
            #expect(status.stdout.contains("3 folders by inotify, 0 polled"), "\(status.stdout)")
            let stopped = try await setup.stop(watcher)
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
        }
    }

    @Test(
        "SIGTERM gives held work back and exits 0; after kill -9 mid-conversion a restart finishes the book, repeating only what was in flight"
    )
    func stopsAndCrashes() async throws {
        let server = FakeTTSServer(latency: .milliseconds(20))
        let setup = try Setup()
        try setup.copy("novella.epub", to: "novella.epub")
        let segments = try await server.serve { url in
            var watcher = try setup.watch(url, ["--workers", "2"])
            try await Wait.until("the watcher scanning") { watcher.stderrSoFar.contains("scanning") }
            try await Wait.until("some segments done") {
                try setup.count("SELECT COUNT(*) FROM checkpoints") > 20
            }
            let stopped = try await setup.stop(watcher)
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
            #expect(try setup.count("SELECT COUNT(*) FROM tasks WHERE state = 'running'") == 0)
            #expect(try setup.count("SELECT COUNT(*) FROM watch_inboxes WHERE owner IS NOT NULL") == 0)

            watcher = try setup.watch(url, ["--workers", "2"])
            let before = try setup.count("SELECT COUNT(*) FROM checkpoints")
            try await Wait.until("more segments done") {
                try setup.count("SELECT COUNT(*) FROM checkpoints") > before + 20
            }
            watcher.signal(SIGKILL)
            _ = try await watcher.wait()

            watcher = try setup.watch(url, ["--workers", "2"])
            try await setup.waitDelivered(["novella.epub"], by: [watcher])
            let final = try await setup.stop(watcher)
            #expect(final.status == 0, "\(final.stderr.suffix(600))")
            return try setup.count("SELECT COUNT(*) FROM segments")
        }
        #expect(try setup.count("SELECT COUNT(*) FROM books") == 1)
        #expect(try setup.count("SELECT COUNT(*) FROM checkpoints") == segments)
        // Only work in flight at each of the two stops is repeated: two requests on the wire and up to
        // two answers received but not yet checkpointed.
        #expect(server.requestCount <= segments + 2 * 4, "\(server.requestCount) requests for \(segments) segments")
        let files = try FileManager.default.contentsOfDirectory(atPath: setup.out)
        #expect(files.filter { $0.hasSuffix(".m4b") }.count == 1, "\(files)")
    }

    @Test("two watchers on one database: one scans, both convert, and no file is converted twice")
    func twoWatchers() async throws {
        let server = FakeTTSServer(latency: .milliseconds(5))
        let setup = try Setup()
        try await server.serve { url in
            let first = try setup.watch(url)
            try await Wait.until("the first watcher scanning") { first.stderrSoFar.contains("scanning") }
            let second = try setup.watch(url)
            try await Wait.until("the second watcher standing by") {
                second.stderrSoFar.contains("scanned by another watcher")
            }
            let books = ["epub2-basic.epub", "scene-breaks.epub", "epub3-fragments.epub", "novella.epub"]
            for book in books { try setup.copy(book, to: "drop/\(book)") }
            try await setup.waitDelivered(books.map { "drop/\($0)" }, by: [first, second])
            try setup.copy("novella.epub", to: "drop/later/novella again.epub")
            try await Wait.until("the later copy marked a duplicate") {
                try setup.states()["drop/later/novella again.epub"] == "duplicate"
            }
            for child in [first, second] {
                let stopped = try await setup.stop(child)
                #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
            }
        }
        #expect(try setup.count("SELECT COUNT(*) FROM books") == 4)
        let texts = try await setup.database().read { try String.fetchAll($0, sql: "SELECT text FROM segments") }
        var occurrences: [String: Int] = [:]
        for text in texts { occurrences[text, default: 0] += 1 }
        for (text, count) in server.counts {
            #expect(count == occurrences[text], "\(text.prefix(40)) asked \(count) times")
        }
    }

    @Test("--poll always finds a book with no inotify, and status says the folder is polled and why")
    func polling() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        try await server.serve { url in
            let watcher = try setup.watch(url, ["--poll", "always", "--poll-interval", "1"])
            try await Wait.until("the watcher scanning") { watcher.stderrSoFar.contains("scanning") }
            try setup.copy("epub2-basic.epub", to: "late.epub")
            try await setup.waitDelivered(["late.epub"], by: [watcher])
            let status = try await ProcessResult.launch(Fixtures.executable, ["status"], environment: setup.environment)
            #expect(status.stdout.contains("0 folders by inotify, 1 polled"), "\(status.stdout)")
            #expect(status.stdout.contains("polled \(setup.inbox): --poll always"), "\(status.stdout)")
            let stopped = try await setup.stop(watcher)
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
        }
    }

    @Test(
        "--once converts what is there, records a duplicate, reports a DRM book in _failed and exits 1; files take the umask's mode"
    )
    func once() async throws {
        let server = FakeTTSServer()
        let setup = try Setup()
        try setup.copy("epub2-basic.epub", to: "good.epub")
        try setup.copy("epub2-basic.epub", to: "later/good copy.epub")
        try setup.copy("bad/drm.epub", to: "locked/drm.epub")
        let result = try await server.serve { url in
            // As the systemd unit runs it: UMask=0002, so the group may manage the files.
            let command =
                ([
                    Fixtures.executable, "watch", setup.inbox, "--out", setup.out, "--tts-url", url, "--settle", "2",
                    "--once",
                ])
                .map { "'\($0)'" }.joined(separator: " ")
            return try await BackgroundProcess(
                "/bin/sh",
                ["-c", "umask 0002; exec \(command)"],
                environment: setup.environment
            )
            .wait(timeout: .seconds(120))
        }
        #expect(result.status == 1, "\(result.stderr)")
        #expect(
            try setup.states() == [
                "good.epub": "delivered", "later/good copy.epub": "duplicate", "locked/drm.epub": "failed",
            ]
        )
        let report = try String(contentsOfFile: setup.out + "/_failed/locked/drm.epub.error.txt", encoding: .utf8)
        #expect(report.hasPrefix("\(setup.inbox)/locked/drm.epub: "), "\(report)")
        #expect(report.lowercased().contains("drm"), "\(report)")
        #expect(FileManager.default.fileExists(atPath: setup.out + "/_failed/locked/drm.epub.error.json"))
        #expect(result.stderr.contains("error: locked/drm.epub"), "\(result.stderr)")
        for file in [
            setup.out + "/Ada Author - A Basic Book.m4b", setup.out + "/_failed/locked/drm.epub.error.txt",
            setup.out + "/_failed/locked",
        ] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode.map { $0 & 0o022 } == 0o020, "\(file): \(String(mode ?? 0, radix: 8))")
        }
    }
}

extension WatchCommandTests {
    @Test("a TTS server that does not answer keeps the books queued and writes no report (--once exits 75)")
    func serverDown() async throws {
        let setup = try Setup()
        try setup.copy("epub2-basic.epub", to: "waiting.epub")
        // Port 9 (discard) on loopback: nothing listens, every request is refused.
        let result = try await setup.watch("http://127.0.0.1:9", ["--once", "--patience", "1"]).wait(
            timeout: .seconds(120)
        )
        #expect(result.status == 75, "\(result.stderr)")
        #expect(try setup.states() == ["waiting.epub": "queued"])
        #expect(!FileManager.default.fileExists(atPath: setup.out + "/_failed"))
        #expect(result.stderr.contains("the books stay queued"), "\(result.stderr)")
    }

    @Test("a second signal during the graceful stop exits at once; a restart carries on")
    func secondSignal() async throws {
        let server = FakeTTSServer(latency: .milliseconds(20))
        let setup = try Setup()
        try setup.copy("novella.epub", to: "novella.epub")
        try await server.serve { url in
            let watcher = try setup.watch(url, ["--workers", "2"])
            try await Wait.until("the watcher scanning") { watcher.stderrSoFar.contains("scanning") }
            try await Wait.until("some segments done") { try setup.count("SELECT COUNT(*) FROM checkpoints") > 10 }
            // Both signals wait while the process is stopped, so the second arrives while the first
            // is being handled (in either order).
            watcher.signal(SIGSTOP)
            watcher.signal(SIGINT)
            watcher.signal(SIGTERM)
            watcher.signal(SIGCONT)
            let result = try await watcher.wait(timeout: .seconds(60))
            #expect([130, 143].contains(result.status), "\(result.stderr.suffix(600))")
            #expect(result.stderr.contains("again; exiting at once"), "\(result.stderr.suffix(600))")
            let again = try setup.watch(url, ["--workers", "2"])
            try await setup.waitDelivered(["novella.epub"], by: [again])
            #expect(try await setup.stop(again).status == 0)
        }
    }
}

@Suite("The systemd unit for recital watch")
struct ServiceUnitTests {
    @Test("it runs recital watch as its own user, after the folders are mounted, with UMask 0002 and a graceful stop")
    func unit() throws {
        let text = try String(
            contentsOf: Fixtures.root.appendingPathComponent("contrib/recital-watch.service"),
            encoding: .utf8
        )
        var keys: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { keys[parts[0]] = parts[1] }
        }
        #expect(keys["ExecStart"]?.contains("recital watch ") == true)
        #expect(keys["User"] == "recital")
        #expect(keys["UMask"] == "0002")
        #expect(keys["KillSignal"] == "SIGTERM")
        let mounts = try #require(keys["RequiresMountsFor"]).split(separator: " ").map(String.init)
        // Both folders the command names are ones systemd waits for.
        let exec = try #require(keys["ExecStart"]).split(separator: " ").map(String.init)
        let inbox = try #require(exec.firstIndex(of: "watch").map { exec[$0 + 1] })
        let out = try #require(exec.firstIndex(of: "--out").map { exec[$0 + 1] })
        #expect(Set(mounts) == [inbox, out])
        #expect(keys["RestartPreventExitStatus"] == "64")
    }
}

@Suite("recital serve, run as a process")
struct ServeCommandTests {
    @Test("an uploaded book is converted by the server's workers and downloaded; SIGTERM exits 0")
    func uploadToDownload() async throws {
        let home = try Fixtures.temporaryDirectory().path
        let server = FakeTTSServer()
        try await server.serve { url in
            let child = try BackgroundProcess(
                Fixtures.executable,
                ["serve", "--port", "0", "--tts-url", url, "--out", home + "/out"],
                environment: ["RECITAL_HOME": home, "RECITAL_DB": ""]
            )
            try await Wait.until("the server listening") { child.stderrSoFar.contains("serving http://127.0.0.1:") }
            let line = try #require(child.stderrSoFar.split(separator: "\n").first { $0.contains("serving http://") })
            let base = String(line.split(separator: " ").last ?? "")
            let curl = try ProcessResult.run(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
                    "@" + Fixtures.path("epub2-basic.epub"),
                    base + "/jobs?filename=basic.epub",
                ]
            )
            #expect(curl.stdout == "202", "\(curl.stderr)")
            try await Wait.until("the book converted", deadline: .seconds(120)) {
                try ProcessResult.run(
                    "/usr/bin/curl",
                    ["-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/jobs/1/result.m4b"]
                )
                .stdout == "200"
            }
            let download = home + "/download.m4b"
            _ = try ProcessResult.run("/usr/bin/curl", ["-s", "-o", download, base + "/jobs/1/result.m4b"])
            let probe = try MediaProbe(download)
            #expect(probe.chapters.count == 3)
            child.signal(SIGTERM)
            let stopped = try await child.wait(timeout: .seconds(60))
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
        }
    }

    @Test("listening beyond loopback without a token file is refused before anything starts")
    func tokenRequired() async throws {
        let home = try Fixtures.temporaryDirectory().path
        let result = try await ProcessResult.launch(
            Fixtures.executable,
            ["serve", "--host", "0.0.0.0", "--port", "0"],
            environment: ["RECITAL_HOME": home, "RECITAL_DB": ""]
        )
        #expect(result.status == 64)
        #expect(result.stderr.contains("needs --token-file"), "\(result.stderr)")
    }
}

@Suite("The dashboard in a real browser")
struct DashboardBrowserTests {
    @Test(
        "two books uploaded in Chromium: one paused, unpaused and finished live, one cancelled, the result played and seeked; screenshots at desktop and phone sizes"
    )
    func dashboard() async throws {
        let python =
            ProcessInfo.processInfo.environment["RECITAL_BROWSER_PYTHON"]
            ?? NSHomeDirectory() + "/.cache/recital-browser/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no Playwright at \(python): run scripts/install-browser.sh (scripts/test.sh does)")
            return
        }
        let home = try Fixtures.temporaryDirectory().path
        // Slow enough that the first book is still running when the browser pauses it.
        let tts = FakeTTSServer(latency: .milliseconds(120))
        try await tts.serve { url in
            let server = try BackgroundProcess(
                Fixtures.executable,
                ["serve", "--port", "0", "--tts-url", url, "--workers", "2", "--out", home + "/out"],
                environment: ["RECITAL_HOME": home, "RECITAL_DB": ""]
            )
            try await Wait.until("the server listening") { server.stderrSoFar.contains("serving http://127.0.0.1:") }
            let line = try #require(server.stderrSoFar.split(separator: "\n").first { $0.contains("serving http://") })
            let api = String(line.split(separator: " ").last ?? "")
            let base = String(api.dropLast("/api/v1".count))
            let shots = ProcessInfo.processInfo.environment["RECITAL_SCREENSHOTS"] ?? home + "/screenshots"
            let driver = try BackgroundProcess(
                python,
                [
                    Fixtures.root.appendingPathComponent("Tests/browser/dashboard.py").path, base, shots,
                    Fixtures.path("novella.epub"), Fixtures.path("many-chapters.epub"),
                ]
            )
            let result = try await driver.wait(timeout: .seconds(400))
            #expect(
                result.status == 0,
                "\(result.stdout)\n\(result.stderr.suffix(3000))\nserver: \(server.stderrSoFar.suffix(1500))"
            )
            for name in ["jobs-desktop", "job-desktop", "jobs-phone", "job-phone"] {
                #expect(FileManager.default.fileExists(atPath: "\(shots)/\(name).png"), "\(name).png")
            }
            server.signal(SIGTERM)
            let stopped = try await server.wait(timeout: .seconds(60))
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(600))")
        }
    }
}
