import Foundation
import RecitalTestSupport
import RecitalWatch
import Testing

/// Settling with a clock the test moves: no sleeps.
@Suite("When a file in an inbox is a complete book")
struct CompletenessTests {
    let rules = Completeness(settle: 15)
    static let whole: @Sendable () -> String? = { nil }

    @Test("a file that keeps growing is settling; fifteen quiet seconds after its last change it is complete")
    func slowGrowth() {
        var watch: Completeness.Watch?
        for second in stride(from: 0.0, through: 20, by: 2) {
            watch = rules.observe(
                FileStamp(size: Int64(second) * 1000, modified: second, changed: second),
                at: second,
                into: watch
            )
            #expect(rules.verdict(watch!, at: second, check: Self.whole) == .settling(until: second + 15))
        }
        let last = FileStamp(size: 20_000, modified: 20, changed: 20)
        for second in [22.0, 30, 34.9] {
            watch = rules.observe(last, at: second, into: watch)
            #expect(rules.verdict(watch!, at: second, check: Self.whole) == .settling(until: 35))
        }
        watch = rules.observe(last, at: 35, into: watch)
        #expect(rules.verdict(watch!, at: 35, check: Self.whole) == .complete)
    }

    @Test("an old modification time alone never makes a file complete; a rename into place settles in 3 s")
    func oldTimesAndRenames() {
        // `cp -p`, rsync and Syncthing keep the sender's time: a year old, just arrived.
        let old = FileStamp(size: 5000, modified: -31_536_000, changed: 0)
        let copied = rules.observe(old, at: 0, into: nil)
        #expect(rules.verdict(copied, at: 1, check: Self.whole) == .settling(until: 15))
        // Syncthing writes a temporary name, then renames it into place (IN_MOVED_TO).
        let renamed = rules.observe(old, at: 0, renamed: true, into: nil)
        #expect(rules.verdict(renamed, at: 2.9, check: Self.whole) == .settling(until: 3))
        #expect(rules.verdict(renamed, at: 3, check: Self.whole) == .complete)
        // A hard link only brings a create event: the normal window.
        let linked = rules.observe(old, at: 0, into: nil)
        #expect(rules.verdict(linked, at: 3, check: Self.whole) == .settling(until: 15))
    }

    @Test(
        "a malformed book still arriving waits; long after its last change it has failed; a good copy replacing it completes"
    )
    func truncatedThenReplaced() {
        let cut = FileStamp(size: 900, modified: 0, changed: 0)
        var watch = rules.observe(cut, at: 0, into: nil)
        let problem: () -> String? = { "the PDF has no end (%%EOF) yet" }
        #expect(rules.verdict(watch, at: 20, check: problem) == .arriving("the PDF has no end (%%EOF) yet"))
        watch = rules.observe(cut, at: 1800, into: watch)
        #expect(rules.verdict(watch, at: 1800, check: problem) == .failed("the PDF has no end (%%EOF) yet"))
        let good = FileStamp(size: 1000, modified: 1900, changed: 1900)
        watch = rules.observe(good, at: 1900, into: watch)
        #expect(rules.verdict(watch, at: 1905, check: Self.whole) == .settling(until: 1915))
        #expect(rules.verdict(watch, at: 1915, check: Self.whole) == .complete)
    }

    @Test("well-formed means a PDF's %%EOF and an EPUB's readable ZIP directory, read from real files")
    func formats() throws {
        let folder = try Fixtures.temporaryDirectory()
        let pdf = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("pdf-outline.pdf")))
        let epub = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("epub2-basic.epub")))
        let cases: [(String, Data, String?)] = [
            ("whole.pdf", pdf, nil),
            ("cut.pdf", pdf.prefix(pdf.count * 9 / 10), "the PDF has no end (%%EOF) yet"),
            ("whole.epub", epub, nil),
            ("notes.txt", Data("just words".utf8), Completeness.notABook),
            ("empty.epub", Data(), "is empty"),
        ]
        for (name, bytes, expected) in cases {
            let path = folder.appendingPathComponent(name).path
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(Completeness.malformation(of: path) == expected, "\(name)")
        }
        let cutEPUB = folder.appendingPathComponent("cut.epub").path
        try epub.prefix(epub.count / 2).write(to: URL(fileURLWithPath: cutEPUB))
        #expect(Completeness.malformation(of: cutEPUB)?.hasPrefix("the EPUB's ZIP directory does not read yet") == true)
        let stamp = try #require(FileStamp.of(cutEPUB))
        #expect(stamp.size == Int64(epub.count / 2))
        #expect(FileStamp.of(folder.appendingPathComponent("gone.pdf").path) == nil)
    }

    @Test("a quiet file that starts as neither a PDF nor a ZIP has failed at once: no more bytes make it a book")
    func notABookFailsAtOnce() {
        let watch = rules.observe(FileStamp(size: 10, modified: 0, changed: 0), at: 0, into: nil)
        #expect(rules.verdict(watch, at: 15, check: { Completeness.notABook }) == .failed(Completeness.notABook))
    }
}
