import Foundation
import RecitalModel
import RecitalTestSupport
import Testing

@testable import RecitalIngest

@Suite("A language for every book")
struct LanguageTests {
    @Test(
        "a book whose metadata names no language gets the one its text is written in, noted as detected",
        arguments: ["fr", "es", "de", "ru", "ar", "ja", "hi"]
    )
    func detected(code: String) throws {
        let book = try Ingester().read(Fixtures.path("languages/\(code).epub"))
        #expect(book.metadata.language == code)
        #expect(
            book.diagnostics.contains {
                $0.message == "the book's metadata names no language; its text reads as \(code) (detected)"
            }
        )
    }

    @Test("metadata that the text clearly contradicts is kept, with a warning")
    func contradicted() throws {
        let book = try Ingester().read(Fixtures.path("languages/fr-labelled-en.epub"))
        #expect(book.metadata.language == "en")
        #expect(
            book.diagnostics.contains { $0.message == "the metadata says the book is in en, but its text reads as fr" }
        )
    }

    @Test("metadata that agrees with the text, by its primary subtag, says nothing more")
    func agreeing() throws {
        for name in ["epub2-basic.epub", "epub3-fragments.epub"] {
            let book = try Ingester().read(Fixtures.path(name))
            #expect(!book.diagnostics.contains { $0.message.contains("reads as") }, "\(name)")
        }
    }

    @Test("a PDF's catalog /Lang is its language, not a detection")
    func catalogLanguage() throws {
        let book = try Ingester().read(Fixtures.path("pdf-no-outline.pdf"))
        #expect(book.metadata.language == "en-US")
        #expect(!book.diagnostics.contains { $0.message.contains("(detected)") })
        // A structure element's /Lang is not the catalog's.
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("struct.pdf").path
        let bytes =
            "%PDF-1.4\n1 0 obj\n<< /Type /StructElem /Lang (fr) >>\nendobj\n2 0 obj\n<< /Type /Catalog >>\nendobj\n"
        try bytes.write(toFile: path, atomically: true, encoding: .isoLatin1)
        #expect(PDFReader.catalogLanguage(path) == nil)
        #expect(PDFReader.catalogLanguage(Fixtures.path("pdf-anthology.pdf")) == nil)
    }

    @Test("a PDF without language metadata gets its text's language; XMP's dc:language is read")
    func pdfLanguage() {
        #expect(
            PDFReader.xmpLanguage("<dc:language><rdf:Bag><rdf:li>de-AT</rdf:li></rdf:Bag></dc:language>") == "de-AT"
        )
        #expect(
            PDFReader.xmpLanguage("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">T</rdf:li></rdf:Alt></dc:title>")
                == nil
        )
    }

    @Test("too little text, or no clear leader, tells no language")
    func undecided() {
        #expect(LanguageDetector.detect("Hello there.") == nil)
        #expect(LanguageDetector.detect(String(repeating: "1234 5678 ", count: 100)) == nil)
        #expect(LanguageDetector.detect(String(repeating: "zxq vbn wrt plk ", count: 20)) == nil)
    }
}
