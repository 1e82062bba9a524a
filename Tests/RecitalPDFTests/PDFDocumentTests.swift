import RecitalPDF
import RecitalTestSupport
import Testing

@Suite("PDF documents through poppler")
struct PDFDocumentTests {
    @Test("pages, information and a relative path open")
    func open() throws {
        let document = try PDFDocument(path: Fixtures.path("pdf-outline.pdf"))
        #expect(document.pageCount == 4)
        #expect(document.title == "A Fixture Novel")
        #expect(document.author == "Paula Printer")
        #expect(document.page(at: 4) == nil)
        let text = try #require(document.page(at: 1)).text
        #expect(text.contains("1 Beginnings"))
    }

    @Test("the outline is flattened with page indexes and web links marked")
    func outline() throws {
        let outline = try PDFDocument(path: Fixtures.path("pdf-outline.pdf")).outline
        #expect(outline.map(\.title) == ["1 Beginnings", "2 Endings", "Website"])
        #expect(outline.map(\.pageIndex) == [1, 2, nil])
        #expect(outline.map(\.isExternal) == [false, false, true])
        #expect(outline[1].top == 60)
    }

    @Test("lines carry position and font size, headings larger than body")
    func lines() throws {
        let page = try #require(try PDFDocument(path: Fixtures.path("pdf-outline.pdf")).page(at: 1))
        let lines = page.lines()
        let heading = try #require(lines.first { $0.text == "1 Beginnings" })
        let body = try #require(lines.first { $0.text.hasPrefix("The first chapter") })
        #expect(heading.fontSize == 18)
        #expect(body.fontSize == 11)
        #expect(heading.top < body.top)
    }

    @Test("a PDF that needs a password reports encryption")
    func encrypted() {
        do {
            _ = try PDFDocument(path: Fixtures.path("bad/encrypted.pdf"))
            Issue.record("opened an encrypted PDF")
        } catch {
            #expect(error.code == .encrypted)
        }
    }

    @Test("garbage after a PDF header is damaged, with poppler's message")
    func garbage() {
        do {
            _ = try PDFDocument(path: Fixtures.path("bad/garbage.pdf"))
            Issue.record("opened garbage")
        } catch {
            #expect(error.code == .damaged)
            #expect(!error.message.isEmpty)
        }
    }
}
