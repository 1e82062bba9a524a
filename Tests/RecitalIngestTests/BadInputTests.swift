import Foundation
import RecitalIngest
import RecitalModel
import RecitalTestSupport
import Testing

@Suite("Bad input gives a one-line error naming the file and the reason")
struct BadInputTests {
    @Test(
        "each broken or hostile file is refused with its reason",
        arguments: [
            ("bad/empty.epub", IngestError.Code.unreadable, "empty"),
            ("bad/random-bytes.epub", .unsupportedFormat, "not an EPUB or PDF"),
            ("bad/truncated.epub", .damaged, "ZIP"),
            ("bad/no-container.epub", .missingPart, "container.xml"),
            ("bad/missing-file.epub", .damaged, "gone.xhtml"),
            ("bad/drm.epub", .drm, "DRM"),
            ("bad/zip-slip.epub", .hostile, "outside the archive"),
            ("bad/zip-bomb.epub", .tooLarge, "limit"),
            ("bad/xxe.epub", .hostile, "entities"),
            ("bad/billion-laughs.epub", .hostile, "entities"),
            ("bad/deep-nesting.epub", .hostile, "nests markup deeper"),
            ("bad/encrypted.pdf", .encrypted, "password"),
            ("bad/scanned.pdf", .noText, "no text layer"),
            ("bad/garbage.pdf", .damaged, "not a readable PDF"),
            ("does-not-exist.epub", .unreadable, "no such file"),
        ] as [(String, IngestError.Code, String)]
    )
    func refused(name: String, code: IngestError.Code, reason: String) {
        let path = Fixtures.path(name)
        do {
            let book = try Ingester().read(path)
            Issue.record("read \(name) into \(book.chapters.count) chapters")
        } catch {
            #expect(error.code == code)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(
        "a library's own error stays the cause and is shown: libzip's for a broken archive, poppler's for a broken PDF"
    )
    func causes() throws {
        for (name, library) in [("bad/zip-bomb.epub", "ZipError"), ("bad/garbage.pdf", "PDFError")] {
            do {
                _ = try Ingester().read(Fixtures.path(name))
                Issue.record("read \(name)")
            } catch {
                let cause = try #require(error.cause, "\(name)")
                #expect(String(describing: type(of: cause)) == library)
                #expect(error.description.contains("\(cause)"), "\(error.description)")
            }
        }
    }

    @Test("a directory is not a book")
    func directory() throws {
        let directory = try Fixtures.temporaryDirectory().path
        #expect(throws: IngestError.self) { try Ingester().read(directory) }
    }
}
