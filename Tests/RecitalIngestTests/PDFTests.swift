import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalIngest

@Suite("PDF reading on generated fixtures")
struct PDFTests {
    @Test("outline chapters, a destination before its heading, running lines and hyphens")
    func outline() throws {
        let book = try Ingester().read(Fixtures.path("pdf-outline.pdf"))
        #expect(book.format == .pdf)
        #expect(book.chapters.map(\.title) == ["A Fixture Novel", "1 Beginnings", "2 Endings"])
        let first = book.chapters[1].text
        #expect(first.hasPrefix("1 Beginnings\n\nThe first chapter starts here mk401 and the text runs on"))
        #expect(first.contains("hyphenated word that must rejoin"))
        #expect(first.contains("ends the paragraph.\n\nA second paragraph begins"))
        #expect(!first.contains("A Fixture Novel"))  // the running header
        #expect(book.chapters[2].text.hasPrefix("2 Endings"))
        let all = book.chapters.map(\.text).joined(separator: "\n")
        #expect(!all.split(separator: "\n").contains { $0.allSatisfy(\.isNumber) })  // page numbers
        #expect(book.metadata.title == "A Fixture Novel")
        #expect(book.metadata.authors == ["Paula Printer"])
        #expect(book.diagnostics.contains { $0.message.contains("'Website'") })
    }

    @Test("without an outline, chapter headings are found; the contents page stays front matter")
    func headings() throws {
        let book = try Ingester().read(Fixtures.path("pdf-no-outline.pdf"))
        #expect(book.chapters.map(\.title) == ["Headings Only", "CHAPTER I. Dawn", "CHAPTER II. Dusk"])
        #expect(
            book.chapters[1].text.contains("The sun rose on chapter one mk501. Nobody saw it.\n\nA second paragraph")
        )
    }

    @Test(
        "an anthology with no outline: one chapter per story from its bold title, the byline kept in its text, matched against the printed contents"
    )
    func anthology() throws {
        let book = try Ingester().read(Fixtures.path("pdf-anthology.pdf"))
        #expect(
            book.chapters.map(\.title) == [
                "Tales of the Valley", "The Miller's Daughter", "A Winter Crossing", "The Last Lantern",
            ]
        )
        #expect(book.chapters[1].text.contains("by Ann Author\n\nAt dawn the mill wheel turned an1"))
        #expect(book.chapters[2].text.contains("an3") && book.chapters[2].text.contains("an4"))
        #expect(book.chapters[3].text.contains("an5") && !book.chapters[3].text.contains("an4"))
        let notes = book.diagnostics.map(\.message)
        #expect(notes.contains("chapters come from heading lines set larger or bolder than the text"))
        #expect(notes.contains("a printed contents page lists 3 of the 3 headings found"))
        // The language comes from the PDF's XMP metadata, not from detection.
        #expect(book.metadata.language == "en-GB")
        #expect(!notes.contains { $0.contains("(detected)") })
    }

    @Test("numbered headings in a larger font are chapters when there is no outline")
    func numberedHeadings() throws {
        let book = try Ingester().read(Fixtures.path("pdf-numbered.pdf"))
        #expect(
            book.chapters.map(\.title) == ["Numbered Notes", "1 Introduction", "2 Method", "2.1 Details", "3 Results"]
        )
        #expect(book.chapters[2].text.hasPrefix("2 Method\n\nWe measured mk602"))
    }

    @Test("without outline or headings, chapters are bounded page ranges")
    func pageRanges() throws {
        let book = try Ingester().read(Fixtures.path("pdf-plain.pdf"))
        #expect(book.chapters.map(\.title) == ["Pages 1–10", "Pages 11–20", "Pages 21–25"])
        #expect(book.diagnostics.contains { $0.severity == .warning && $0.message.contains("no chapter headings") })
    }

    @Test("an author who appears nowhere in the book is reported missing, not used")
    func placeholderAuthor() throws {
        let book = try Ingester().read(Fixtures.path("pdf-no-outline.pdf"))
        #expect(book.metadata.authors.isEmpty)
        #expect(book.diagnostics.contains { $0.message.contains("'Janet Maker'") })
    }

    @Test(
        "bare page numbers are recognised",
        arguments: [
            ("12", true), ("- 12 -", true), ("xiv", true), ("Page 3", true), ("3 of 10", true), ("Chapter 3", false),
            ("1984 was a year", false),
        ]
    )
    func pageNumbers(text: String, expected: Bool) {
        #expect(PDFReader.isPageNumber(text) == expected)
    }

    @Test(
        "placeholder titles and authors",
        arguments: [
            ("", true), ("Untitled", true), ("Microsoft Word - draft.doc", true), ("thesis.tex", true),
            ("Moby-Dick", false),
        ]
    )
    func placeholders(value: String, expected: Bool) {
        #expect(PDFReader.placeholder(value) == expected)
    }

    @Test("a book whose metadata has no title is titled after its file name, and says so")
    func titleFromFileName() throws {
        let book = try Ingester().read(Fixtures.path("annual_report-2024.pdf"))
        #expect(book.metadata.title == "annual report 2024")
        #expect(book.metadata.authors.isEmpty)
        #expect(book.diagnostics.contains { $0.message.contains("titled “annual report 2024” after its file name") })
        #expect(Ingester.title(fromFileName: "/x/my__scan--3.final.pdf") == "my scan 3.final")
        #expect(Ingester.title(fromFileName: "/x/_-_.pdf") == "Untitled")
    }
}
