import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalIngest

/// Ground truth for one real book (`../shared/corpus/NAME.expected.json`).
struct Expected: Decodable {
    struct Sample: Decodable {
        var toc_index: Int
        var title: String
        var text_starts_with: String
        var first_paragraph_starts_with: String?
        /// PDF only: nil when the outline title was not found on the page (the text is then the page start).
        var heading_found_on_page: Int?
        var page: Int?
    }
    struct Identifier: Decodable { var value: String }
    struct CoverInfo: Decodable { var media_type: String }
    struct Heading: Decodable { var title: String; var text_starts_with: String }

    var format: String
    var title: String?
    var authors: [String]
    var language: String?
    var publisher: String?
    var date: String?
    var identifiers: [Identifier]
    var has_cover: Bool
    var cover: CoverInfo?
    var chapter_titles: [String]
    var samples: [Sample]?
    var text_headings: [Heading]?

    static func load(_ name: String) throws -> Expected {
        let url = Fixtures.corpus.appendingPathComponent(name + ".expected.json")
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }
}

@Suite(
    "The shared corpus of real books",
    .enabled(
        if: !Fixtures.corpusBooks().isEmpty,
        "needs ../shared/corpus (real books with ground truth) beside the repository"
    )
)
struct CorpusTests {
    static let books = Fixtures.corpusBooks()

    private func read(_ name: String) throws -> Book {
        try Ingester().read(Fixtures.corpus.appendingPathComponent(name).path)
    }

    @Test("chapter titles follow the book's own TOC; every entry left out is reported", arguments: books)
    func chapters(name: String) throws {
        let expected = try Expected.load(name)
        let book = try read(name)
        #expect(!book.chapters.isEmpty)
        let titles = book.chapters.map(\.title)
        if expected.format == "pdf" {
            guard !expected.chapter_titles.isEmpty else {
                // No outline: the headings in the text are the chapters.
                let headings = (expected.text_headings ?? []).map { TextCompare.normalize($0.title) }
                #expect(Array(titles.map(TextCompare.normalize).drop { !headings.contains($0) }) == headings)
                return
            }
            for title in titles.dropFirst() where !expected.chapter_titles.contains(title) {
                Issue.record("\(name): chapter '\(title)' is not in the outline")
            }
            return
        }
        // EPUB: our titles are the TOC's, in its order, with nothing invented.
        var remaining = expected.chapter_titles[...]
        for title in titles {
            guard let index = remaining.firstIndex(of: title) else {
                // A chapter for text before the first TOC target may carry the document's own title.
                if title != titles.first { Issue.record("\(name): '\(title)' is out of TOC order or invented") }
                continue
            }
            for skipped in remaining[..<index] {
                let mentioned = book.diagnostics.contains { $0.message.contains("'\(skipped)'") }
                #expect(mentioned, "\(name): TOC entry '\(skipped)' was dropped without a diagnostic")
            }
            remaining = remaining[(index + 1)...]
        }
        for skipped in remaining {
            #expect(
                book.diagnostics.contains { $0.message.contains("'\(skipped)'") },
                "\(name): '\(skipped)' dropped silently"
            )
        }
    }

    @Test("text samples start the chapter they belong to", arguments: books)
    func samples(name: String) throws {
        let expected = try Expected.load(name)
        let book = try read(name)
        let samples: [(String, String, String?)] =
            (expected.samples ?? [])
            // A PDF sample whose heading was never found is only the start of a page; chapters
            // placed by the outline's own coordinates rightly start elsewhere on it.
            .filter { expected.format != "pdf" || $0.heading_found_on_page != nil }
            .map { ($0.title, $0.text_starts_with, $0.first_paragraph_starts_with) }
            + (expected.text_headings ?? []).map { ($0.title, $0.text_starts_with, nil) }
        for (title, start, paragraph) in samples {
            let wanted = TextCompare.normalize(start)
            // A sample runs to the next TOC target, so a heading-only chapter continues into the next.
            let texts = book.chapters.map(\.text)
            let chapters = texts.indices.map { TextCompare.normalize(texts[$0...].prefix(3).joined(separator: " ")) }
            let found = chapters.contains { text in
                text.hasPrefix(wanted) || paragraph.map { text.hasPrefix(TextCompare.normalize($0)) } == true
            }
            let skipped = book.diagnostics.contains {
                $0.message.contains("'\(title)'") && $0.message.contains("not read")
            }
            #expect(found || skipped, "\(name): no chapter starts with “\(wanted)”")
        }
    }

    @Test("metadata matches the book's own", arguments: books)
    func metadata(name: String) throws {
        let expected = try Expected.load(name)
        let book = try read(name)
        let metadata = book.metadata
        if expected.format == "pdf" {
            if let title = expected.title, !title.isEmpty {
                #expect(metadata.title.map { title.hasPrefix($0) } == true, "\(name): title \(metadata.title ?? "nil")")
            } else {
                // No title in the book: it is named after its file, and says so.
                #expect(metadata.title == Ingester.title(fromFileName: name))
                #expect(
                    book.diagnostics.contains {
                        $0.message.contains("titled “\(metadata.title ?? "")” after its file name")
                    }
                )
            }
            return
        }
        #expect(metadata.title == expected.title)
        #expect(metadata.authors == expected.authors)
        #expect(metadata.language == expected.language)
        #expect(metadata.publisher == expected.publisher)
        #expect(metadata.date == expected.date)
        #expect(metadata.identifiers == expected.identifiers.map(\.value))
        #expect((book.cover != nil) == expected.has_cover)
        if let cover = book.cover, let declared = expected.cover?.media_type, declared != "image/svg+xml" {
            #expect(cover.mediaType == declared)
        }
    }

    @Test(
        "every character of body text lands in exactly one chapter",
        arguments: books.filter { $0.hasSuffix(".epub") }
    )
    func coverage(name: String) throws {
        let path = Fixtures.corpus.appendingPathComponent(name).path
        let result = try EPUBReader(file: path, segmenter: Segmenter()).readWithCoverage()
        let body = TextCompare.words(result.documentTexts.joined(separator: " "))
        var read = TextCompare.words((result.book.chapters.map(\.text) + result.omitted).joined(separator: " "))
        read = read.filter { $0.value > 0 }
        #expect(read == body, "\(name): chapters differ from the body text")
    }
}

@Suite("Coverage on the generated fixtures")
struct FixtureCoverageTests {
    @Test(
        "PDF chapters hold every line of text exactly once, in order",
        arguments: ["pdf-outline.pdf", "pdf-no-outline.pdf", "pdf-numbered.pdf", "pdf-plain.pdf"]
    )
    func pdfCoverage(name: String) throws {
        let result = try PDFReader(file: Fixtures.path(name), segmenter: Segmenter()).readWithCoverage()
        #expect(Self.squeezed(result.book.chapters.map(\.text)) == Self.squeezed(result.lines))
    }

    @Test(
        "PDF corpus books: chapters hold every line of text exactly once",
        arguments: CorpusTests.books.filter { $0.hasSuffix(".pdf") }
    )
    func pdfCorpusCoverage(name: String) throws {
        let path = Fixtures.corpus.appendingPathComponent(name).path
        let result = try PDFReader(file: path, segmenter: Segmenter()).readWithCoverage()
        #expect(Self.squeezed(result.book.chapters.map(\.text)) == Self.squeezed(result.lines))
    }

    /// All text in order without whitespace or hyphens: rejoining "hyphen-" / "ated" across a
    /// line break changes words but not this.
    static func squeezed(_ parts: [String]) -> String {
        String(parts.joined().unicodeScalars.filter { !$0.properties.isWhitespace && $0 != "-" }.map(Character.init))
    }

    @Test(
        "chapters hold the body text exactly once",
        arguments: ["epub2-basic.epub", "epub3-fragments.epub", "epub3-malformed.epub"]
    )
    func coverage(name: String) throws {
        let result = try EPUBReader(file: Fixtures.path(name), segmenter: Segmenter()).readWithCoverage()
        let body = TextCompare.words(result.documentTexts.joined(separator: " "))
        let read = TextCompare.words((result.book.chapters.map(\.text) + result.omitted).joined(separator: " "))
        #expect(read == body)
    }
}
