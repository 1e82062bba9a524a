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
}
