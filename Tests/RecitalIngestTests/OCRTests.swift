import Foundation
import RecitalModel
import RecitalTestSupport
import Synchronization
import Testing

@testable import RecitalIngest

/// Scanned PDFs made by the fixture script from text it also writes out (`NAME.txt`), so what OCR
/// reads is measured against the words that were drawn.
// One at a time: each test already reads its pages on every core.
@Suite("Scanned PDFs through OCR", .serialized)
struct OCRTests {
    @Test(
        "a scanned book is read with OCR: chapters from its headings, running lines and page numbers gone, hyphens rejoined, the clean pages' words at least 95 % right, a faded page named"
    )
    func scannedBook() throws {
        let book = try Ingester().read(Fixtures.path("pdf-scanned.pdf"))
        #expect(book.chapters.map(\.title) == ["The Lighthouse Keeper", "Chapter One", "Chapter Two", "Chapter Three"])
        let source = try Self.sourceChapters("pdf-scanned.txt")
        // Pages 4 and 5 (chapters two and three) are clean scans.
        for (title, expected) in source where title != "Chapter One" {
            let chapter = try #require(book.chapters.first { $0.title == title })
            let similarity = Self.wordSimilarity(chapter.text, "\(title)\n\n\(expected)")
            #expect(similarity >= 0.95, "\(title): \(similarity)")
        }
        let all = book.chapters.map(\.text).joined(separator: "\n")
        #expect(all.contains("floorboards"))
        for chapter in book.chapters.dropFirst() {
            #expect(!chapter.text.contains("Lighthouse Keeper"), "the running title stays out of \(chapter.title)")
        }
        #expect(!all.split(separator: "\n").contains { $0.allSatisfy(\.isNumber) })
        #expect(book.metadata.language == "en")
        let messages = book.diagnostics.map(\.message)
        #expect(messages.contains("pages 1–5 read with OCR (Tesseract, eng model)"))
        let unsure = try #require(messages.first { $0.hasPrefix("OCR is unsure of") })
        #expect(unsure.hasPrefix("OCR is unsure of page 3 (mean word confidence 3: "))
        #expect(book.diagnostics.contains { $0.severity == .warning && $0.message == unsure })
    }

    @Test(
        "a mixed PDF reads its one scanned page with OCR, every other page from its text layer, and finds no words in its picture"
    )
    func mixed() throws {
        let book = try Ingester().read(Fixtures.path("pdf-mixed.pdf"))
        #expect(book.chapters.map(\.title) == ["The Keeper's Log", "Chapter One", "Chapter Two", "Chapter Three"])
        let messages = book.diagnostics.map(\.message)
        #expect(messages.contains("page 3 read with OCR (Tesseract, eng model)"))
        #expect(messages.contains("page 5 is a picture with no words to read"))
        let one = book.chapters[1].text
        #expect(one.contains("His sister wrote from the town every month."))  // on the scanned page
        #expect(one.contains("The lighthouse stood at the end of a long spit of shingle"))  // text layer
        let source = try Self.sourceChapters("pdf-scanned.txt")
        #expect(Self.wordSimilarity(one, "Chapter One\n\n\(source[0].text)") >= 0.97)
    }

    @Test("--ocr never leaves scanned pages out with a warning, and refuses a book that is all scans")
    func never() throws {
        let mixed = try Ingester(ocr: .never).read(Fixtures.path("pdf-mixed.pdf"))
        #expect(!mixed.chapters[1].text.contains("His sister wrote from the town every month."))
        #expect(
            mixed.diagnostics.contains { $0.message == "pages 3, 5 have no text layer and are not read (--ocr never)" }
        )
        do {
            _ = try Ingester(ocr: .never).read(Fixtures.path("pdf-scanned.pdf"))
            Issue.record("a scanned book was read without OCR")
        } catch {
            #expect(error.code == .noText)
            #expect(
                error.description.hasSuffix(
                    "pdf-scanned.pdf: no text layer: this looks like a scanned PDF (read it with --ocr auto)"
                )
            )
        }
    }

    @Test("--ocr always reads every page with OCR, text layer or not, and reports progress page by page")
    func always() throws {
        let reports = Mutex<[IngestProgress]>([])
        let observer = IngestObserver(progress: { report in reports.withLock { $0.append(report) } })
        let book = try Ingester(ocr: .always).read(Fixtures.path("pdf-mixed.pdf"), observer: observer)
        let messages = book.diagnostics.map(\.message)
        #expect(messages.contains("pages 1–4, 6 read with OCR (Tesseract, eng model)"))
        #expect(messages.contains("page 5 is a picture with no words to read"))
        #expect(book.chapters.count == 4)
        let pages = reports.withLock { $0 }.map { report -> Int in
            guard case .recognizing(let page, let total, _) = report else { return -1 }
            #expect(total == 6)
            return page
        }
        #expect(pages == Array(1...6))
    }

    @Test("a stop asked for between pages ends the read with .cancelled, not a half-read book")
    func cancelled() {
        let observer = IngestObserver(isCancelled: { true })
        do {
            _ = try Ingester().read(Fixtures.path("pdf-scanned.pdf"), observer: observer)
            Issue.record("read on after being told to stop")
        } catch {
            #expect(error.code == .cancelled)
        }
    }

    @Test("a German scan without a language is detected as German and read again with the German model")
    func german() throws {
        let book = try Ingester().read(Fixtures.path("pdf-scanned-de.pdf"))
        #expect(book.metadata.language == "de")
        let messages = book.diagnostics.map(\.message)
        #expect(messages.contains("the scanned text reads as de; its pages were read again with that language's model"))
        #expect(messages.contains("page 1 read with OCR (Tesseract, deu model)"))
        let text = book.chapters.map(\.text).joined(separator: "\n")
        for word in ["dreißig", "nördliche", "Öl", "glänzte", "Vögeln", "hießen"] {
            #expect(text.contains(word), "\(word)")
        }
        let source = try Self.sourceChapters("pdf-scanned-de.txt")
        #expect(Self.wordSimilarity(text, "\(source[0].title)\n\n\(source[0].text)") >= 0.95)
    }

    // MARK: - Measuring

    /// The fixture's source text: "## Title" lines, each followed by its paragraphs.
    static func sourceChapters(_ name: String) throws -> [(title: String, text: String)] {
        let content = try String(contentsOfFile: Fixtures.path(name), encoding: .utf8)
        return content.components(separatedBy: "## ").filter { !$0.isEmpty }.map { block in
            let title = String(block.prefix { $0 != "\n" })
            return (title, block.dropFirst(title.count).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Twice the words the two texts share in order (longest common subsequence), over their total
    /// word count: 1 for the same words, 0 for none in common.
    static func wordSimilarity(_ a: String, _ b: String) -> Double {
        func words(_ text: String) -> [Substring] {
            text.lowercased().split { !$0.isLetter && !$0.isNumber }
        }
        let x = words(a)
        let y = words(b)
        guard !x.isEmpty || !y.isEmpty else { return 1 }
        var previous = [Int](repeating: 0, count: y.count + 1)
        for i in 1...max(1, x.count) where !x.isEmpty {
            var current = [Int](repeating: 0, count: y.count + 1)
            for j in stride(from: 1, through: y.count, by: 1) {
                current[j] = x[i - 1] == y[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            previous = current
        }
        return 2 * Double(previous[y.count]) / Double(x.count + y.count)
    }

    @Test("the word similarity measure is 1 for the same words and falls with each misread one")
    func similarityMeasure() {
        #expect(Self.wordSimilarity("The quick brown fox.", "the quick, brown fox") == 1)
        #expect(Self.wordSimilarity("the quick brown fox", "the qu1ck brown fox") == 0.75)
        #expect(Self.wordSimilarity("one two", "three four") == 0)
    }
}
