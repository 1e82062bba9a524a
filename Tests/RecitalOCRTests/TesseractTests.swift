import RecitalOCR
import RecitalPDF
import RecitalTestSupport
import Testing

@Suite("Tesseract")
struct TesseractTests {
    @Test("a scanned page drawn at 300 dpi reads back as its words, line by line, with high confidence")
    func readsAPage() throws {
        let document = try PDFDocument(path: Fixtures.path("pdf-scanned.pdf"))
        let page = try #require(document.page(at: 1))
        #expect(page.text.isEmpty)
        #expect(page.hasImages)
        let image = try page.grayImage(dotsPerInch: 300)
        #expect(image.width == 2550 && image.height == 3300)
        let read = try Tesseract(language: "eng").recognize(
            gray: image.pixels,
            width: image.width,
            height: image.height,
            dotsPerInch: 300
        )
        let text = read.lines.map(\.text).joined(separator: " ")
        #expect(text.contains("The lighthouse stood at the end of a long spit of"))
        #expect(read.meanConfidence >= 85)
        let heading = try #require(read.lines.first { $0.text == "Chapter One" })
        let body = try #require(read.lines.first { $0.text.hasPrefix("The lighthouse stood") })
        // The 18 pt heading against the 13 pt text.
        #expect(body.pointSize >= 11 && body.pointSize <= 14)
        #expect(Double(heading.pointSize) >= Double(body.pointSize) * 1.3)
        #expect(heading.top < body.top)
    }

    @Test("a language whose model is not installed is refused by name, with the package to install")
    func missingModel() {
        #expect(throws: OCRError.self) { try Tesseract(language: "zzz") }
        do {
            _ = try Tesseract(language: "zzz")
        } catch {
            #expect(error.code == .noModel)
            #expect(error.message.contains("tesseract-ocr-zzz"))
        }
    }

    @Test("book languages map to Tesseract's model names")
    func models() {
        #expect(Tesseract.model(forLanguage: "en-GB") == "eng")
        #expect(Tesseract.model(forLanguage: "de") == "deu")
        #expect(Tesseract.model(forLanguage: "zh-Hant") == "chi_tra")
        #expect(Tesseract.model(forLanguage: "zh") == "chi_sim")
        #expect(Tesseract.model(forLanguage: "fra") == "fra")
        #expect(Tesseract.model(forLanguage: "x-klingon") == nil)
        #expect(Tesseract.installedLanguages().contains("eng"))
        #expect(Tesseract.package("chi_sim") == "tesseract-ocr-chi-sim")
    }
}
