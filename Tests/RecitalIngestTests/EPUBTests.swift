import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalIngest

@Suite("EPUB reading on generated fixtures")
struct EPUBTests {
    let ingester = Ingester()

    /// Every marker word of body text appears exactly once across chapters; unspoken ones never.
    private func expectMarkers(_ book: Book, spoken: [String], silent: [String] = []) {
        let words = TextCompare.words(
            book.chapters.map(\.text).joined(separator: " ").replacingOccurrences(of: ".", with: " ")
        )
        for marker in spoken { #expect(words[marker] == 1, "\(marker) should appear once") }
        for marker in silent { #expect(words[marker] == nil, "\(marker) should not be spoken") }
    }

    @Test("EPUB 2 with NCX: chapters, metadata, ISBN, series, roles, cover, missing NCX target")
    func epub2() throws {
        let book = try ingester.read(Fixtures.path("epub2-basic.epub"))
        #expect(book.format == .epub)
        #expect(book.chapters.map(\.title) == ["Chapter One", "Chapter Two", "Chapter Three"])
        let metadata = book.metadata
        #expect(metadata.title == "A Basic Book")
        #expect(metadata.authors == ["Ada Author"])
        #expect(metadata.contributors == [Contributor(name: "Tom Translator", role: "trl")])
        #expect(metadata.isbn == "9780306406157")
        #expect(metadata.series == Series(name: "Fixtures", position: "2"))
        #expect(metadata.description == "A small book.")
        #expect(metadata.date == "2001-02-03")
        #expect(book.cover?.mediaType == "image/png")
        #expect(book.diagnostics.contains { $0.message.contains("missing #missing-anchor") })
        expectMarkers(book, spoken: (1...3).flatMap { c in (1...3).map { "mk\(c)0\($0)" } })
    }

    @Test(
        "fixed layout: SVG text lines in page order, hyphenated line ends rejoined, lines into paragraphs, a picture-only page noted, one TOC entry one chapter"
    )
    func fixedLayout() throws {
        let book = try ingester.read(Fixtures.path("fixed-layout.epub"))
        #expect(book.chapters.map(\.title) == ["The Little Fox"])
        let text = try #require(book.chapters.first?.text)
        #expect(text.contains("the fox restait on the bank"))
        #expect(!text.contains("res-"))
        // Lines close together are one paragraph; a wider gap starts the next.
        #expect(text.contains("a little fox lived under the old oak tree fl101."))
        #expect(text.contains("fl103.\n\nWhen the sun went down"))
        // Page 3 was written bottom line first: read top to bottom by position.
        let order = ["fl101", "fl102", "fl103", "fl104", "fl105", "fl106", "fl108", "fl107", "fl109"]
        let positions = order.compactMap { text.range(of: $0)?.lowerBound }
        #expect(positions.count == order.count)
        #expect(positions == positions.sorted())
        #expect(book.diagnostics.contains { $0.message == "left out 1 picture-only page" })
        expectMarkers(book, spoken: order)
    }

    @Test("EPUB 3: fragments in one file, nested nav, odd file names, notes and invisible characters")
    func epub3() throws {
        let book = try ingester.read(Fixtures.path("epub3-fragments.epub"))
        #expect(
            book.chapters.map(\.title)
                == ["Part One", "The First Chapter", "The Second Chapter", "The Third Chapter", "Das Kapitel", "Bang!"]
        )
        let text = book.chapters.map(\.text)
        #expect(text[0].hasPrefix("Opening words before any TOC target"))
        #expect(text[1].contains("It was a dark night mk102. The wind blew."))
        #expect(text[1].contains("Softhyphen and wordjoiner and zerowidth"))
        #expect(text[1].contains("A line\nbroken in two"))
        #expect(text[1].contains("漢字 is ruby"))
        #expect(text[2].contains("Inline emphasis keeps words whole"))
        #expect(text[2].hasSuffix("Middle of the text"))
        #expect(text[3].hasPrefix("here the third chapter starts"))
        expectMarkers(book, spoken: (101...110).map { "mk\($0)" }, silent: ["mk198", "mk199", "kan", "7"])
        #expect(book.metadata.title == "Fragments Galore")
        #expect(book.metadata.authors == ["Bea Writer"])
        #expect(book.metadata.contributors == [Contributor(name: "Ned Narrator", role: "nrt")])
        #expect(book.metadata.series == Series(name: "The Test Cycle", position: "3"))
        #expect(book.metadata.language == "en-GB")
        #expect(book.cover?.mediaType == "image/jpeg")
        #expect(book.diagnostics.contains { $0.message.contains("copyright page") })
        #expect(book.diagnostics.contains { $0.message.contains("used twice") })
        #expect(book.diagnostics.contains { $0.message.contains("footnote") })
    }

    @Test("not well-formed XHTML is read leniently and a book without a TOC uses headings")
    func malformed() throws {
        let book = try ingester.read(Fixtures.path("epub3-malformed.epub"))
        #expect(book.chapters.map(\.title) == ["First Heading", "Second Heading"])
        #expect(book.chapters[0].text.contains("Café & crème brûlée"))
        expectMarkers(book, spoken: (301...305).map { "mk\($0)" })
        #expect(book.diagnostics.contains { $0.severity == .warning && $0.message.contains("not well-formed") })
    }

    @Test("font obfuscation alone is not DRM")
    func fontObfuscation() throws {
        let book = try ingester.read(Fixtures.path("font-obfuscation.epub"))
        #expect(book.chapters.first?.text == "Readable text.")
    }

    @Test("segments carry chapter and paragraph boundaries")
    func segments() throws {
        let chapter = try ingester.read(Fixtures.path("epub2-basic.epub")).chapters[0]
        #expect(chapter.segments.first?.boundary == .chapter)
        #expect(chapter.segments.filter { $0.boundary == .paragraph }.count == 3)
    }

    @Test(
        "hrefs resolve relative to their file and percent-decode",
        arguments: [
            ("chapter%201.xhtml#c%C3%BC", "OEBPS/text/nav.xhtml", "OEBPS/text/chapter 1.xhtml", "cü"),
            ("../Text/a%21.html", "OEBPS/nav/toc.ncx", "OEBPS/Text/a!.html", nil),
            ("#only", "x/y.xhtml", "x/y.xhtml", "only"),
        ] as [(String, String, String, String?)]
    )
    func hrefs(href: String, base: String, path: String, fragment: String?) throws {
        let location = try #require(EPUBLocation.resolve(href, relativeTo: base))
        #expect(location.path == path)
        #expect(location.fragment == fragment)
        #expect(EPUBLocation.resolve("https://example.org/x", relativeTo: base) == nil)
        #expect(EPUBLocation.resolve("../../../x", relativeTo: "a/b.xhtml") == nil)
    }

    @Test("TOC labels are cleaned: whitespace collapsed, trailing page numbers after leaders dropped")
    func titles() {
        #expect(TextNormalizer.cleanTitle("  Chapter\n  One ....... 12 ") == "Chapter One")
        #expect(TextNormalizer.cleanTitle("Chapter 12") == "Chapter 12")
        #expect(TextNormalizer.cleanTitle("Preface\tvii") == "Preface")
    }

    @Test(
        "back matter the TOC lists: endnotes are read as a chapter even where the landmarks call them notes, an about page is kept, a colophon is not"
    )
    func backMatter() throws {
        let book = try Ingester().read(Fixtures.path("back-matter.epub"))
        #expect(book.chapters.map(\.title) == ["The Survey", "Notes", "About this document"])
        #expect(book.chapters[0].text.contains("began in spring and ended in autumn"))  // the note reference
        #expect(book.chapters[1].text.contains("unusually wet bm2"))
        #expect(book.chapters[2].text.contains("parish council bm3"))
        let all = book.chapters.map(\.text).joined()
        #expect(!all.contains("bm4"))
        #expect(book.diagnostics.contains { $0.message == "skipped colophon.xhtml: colophon" })
    }
}
