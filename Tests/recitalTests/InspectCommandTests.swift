import Foundation
import RecitalTestSupport
import Testing

@Suite("recital inspect, run as a process")
struct InspectCommandTests {
    @Test("--json prints exactly the DESIGN.md object on stdout and nothing on stderr")
    func json() throws {
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect", "--json", Fixtures.path("epub2-basic.epub")]
        )
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "source", "format", "title", "authors", "language", "publisher", "date", "identifiers",
                "description", "series", "cover", "chapters", "diagnostics",
            ]
        )
        #expect(object["format"] as? String == "epub")
        #expect(object["title"] as? String == "A Basic Book")
        let cover = try #require(object["cover"] as? [String: Any])
        #expect(cover["mediaType"] as? String == "image/png")
        #expect(cover["bytes"] as? Int == 68)
        let chapters = try #require(object["chapters"] as? [[String: Any]])
        #expect(chapters.count == 3)
        #expect(Set(try #require(chapters.first).keys) == ["index", "title", "characters", "segments"])
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.allSatisfy { Set($0.keys) == ["severity", "message"] })
    }

    @Test("missing values are null, not absent")
    func nulls() throws {
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect", "--json", Fixtures.path("epub3-malformed.epub")]
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["publisher"] is NSNull)
        #expect(object["cover"] is NSNull)
        #expect(object["series"] is NSNull)
    }

    @Test("--text adds each chapter's text")
    func text() throws {
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect", "--json", "--text", Fixtures.path("pdf-outline.pdf")]
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let chapters = try #require(object["chapters"] as? [[String: Any]])
        #expect((chapters[1]["text"] as? String)?.hasPrefix("1 Beginnings") == true)
    }

    @Test(
        "unreadable input exits 65 with one line on stderr naming the file",
        arguments: [
            "bad/zip-bomb.epub", "bad/encrypted.pdf", "bad/empty.epub",
        ]
    )
    func unreadable(name: String) throws {
        let path = Fixtures.path(name)
        let result = try ProcessResult.run(Fixtures.executable, ["inspect", "--json", path])
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains(path) == true)
    }

    @Test("the human summary lists chapters with estimates")
    func human() throws {
        let result = try ProcessResult.run(Fixtures.executable, ["inspect", Fixtures.path("epub2-basic.epub")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Chapter Two"))
        #expect(result.stdout.contains("3 chapters"))
    }

    @Test("a scanned PDF is read with OCR, a progress line on stderr and the pages named in the diagnostics")
    func scanned() throws {
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect", "--json", Fixtures.path("pdf-scanned.pdf")]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("pdf-scanned.pdf: OCR 5/5 pages"))
        let json = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let chapters = try #require(json["chapters"] as? [[String: Any]])
        #expect(
            chapters.compactMap { $0["title"] as? String }.suffix(3) == ["Chapter One", "Chapter Two", "Chapter Three"]
        )
        let diagnostics = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.contains { ($0["message"] as? String) == "pages 1–5 read with OCR (Tesseract, eng model)" })
    }

    @Test(
        "scanned books that cannot be read exit 65 with one line naming the file and what to do",
        arguments: [
            (["--ocr", "never"], "no text layer: this looks like a scanned PDF (read it with --ocr auto)"),
            ([], "scanned pages cannot be read: no Tesseract model for 'eng' is installed (tesseract-ocr-eng)"),
        ]
    )
    func scannedUnreadable(options: [String], reason: String) throws {
        // An empty model folder is a machine with Tesseract but none of its language data.
        let models = try Fixtures.temporaryDirectory().path
        let path = Fixtures.path("pdf-scanned.pdf")
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect"] + options + [path],
            environment: ["TESSDATA_PREFIX": models]
        )
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "recital: error: \(path): \(reason)\n")
    }

    @Test("a text PDF with a scanned page is still read where OCR cannot be, the page named in a warning")
    func mixedWithoutModels() throws {
        let models = try Fixtures.temporaryDirectory().path
        let result = try ProcessResult.run(
            Fixtures.executable,
            ["inspect", Fixtures.path("pdf-mixed.pdf")],
            environment: ["TESSDATA_PREFIX": models]
        )
        #expect(result.status == 0)
        #expect(
            result.stdout.contains(
                "warning: pages 3, 5 are scans left unread: scanned pages cannot be read: no Tesseract model for 'eng' is installed (tesseract-ocr-eng)"
            )
        )
    }

    @Test(
        "damaged scanned and fixed-layout books exit 65 with one line naming the file",
        arguments: ["pdf-scanned.pdf", "pdf-mixed.pdf", "fixed-layout.epub", "pdf-anthology.pdf"]
    )
    func truncated(name: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name)))
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("cut-" + name).path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let result = try ProcessResult.run(Fixtures.executable, ["inspect", path])
        #expect(result.status == 65, "\(result.stdout)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("recital: error: \(path): ") == true)
    }
}
