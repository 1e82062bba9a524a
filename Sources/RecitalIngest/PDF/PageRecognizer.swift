internal import Foundation
internal import RecitalOCR
internal import RecitalPDF
import Synchronization

/// Reads pages with no usable text layer through Tesseract, one page per core at a time.
///
/// Each worker thread opens the PDF and a Tesseract model of its own: neither poppler documents nor
/// Tesseract instances may be shared between threads, and a model per core (not per page) keeps the
/// memory to tens of megabytes a core.
struct PageRecognizer {
    let file: String
    /// Tesseract's model name (`eng`, `deu`).
    let model: String
    let observer: IngestObserver

    /// 300 dpi is what Tesseract is trained for; text set smaller than 8 pt is still 20+ pixels high.
    static let dotsPerInch = 300.0

    struct Page {
        var lines: [PDFReader.Line]
        var confidence: Int
    }

    /// The pages at `indices` (zero-based), read in parallel; the result is keyed by page index.
    /// - Throws: ``IngestError`` when Tesseract is missing or fails, or `.cancelled` when the
    ///   observer says to stop (checked between pages).
    func recognize(_ indices: [Int]) throws(IngestError) -> [Int: Page] {
        guard !indices.isEmpty else { return [:] }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, indices.count))
        let next = Atomic<Int>(0)
        let results = Mutex<[Int: Page]>([:])
        let failure = Mutex<IngestError?>(nil)
        let started = ContinuousClock.now
        let work: @Sendable () -> Void = {
            do throws(IngestError) {
                let document = try open()
                let engine = try makeEngine()
                while failure.withLock({ $0 == nil }) {
                    if observer.isCancelled() {
                        throw IngestError(.cancelled, file: file, "reading was interrupted")
                    }
                    let position = next.add(1, ordering: .relaxed).oldValue
                    guard position < indices.count else { return }
                    let page = try recognize(page: indices[position], document: document, engine: engine)
                    let done = results.withLock {
                        $0[indices[position]] = page
                        return $0.count
                    }
                    observer.progress(
                        .recognizing(page: done, of: indices.count, elapsed: ContinuousClock.now - started)
                    )
                }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        // Threads of their own, not Dispatch's shared workers: a page takes a second or more, and
        // the cooperative pool that runs the rest of the process must not wait behind it.
        let finished = DispatchGroup()
        for _ in 1..<workers {
            finished.enter()
            let thread = Thread {
                work()
                finished.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        work()
        finished.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }

    private static let loneCapital = try? NSRegularExpression(
        pattern: #"(?<![\p{L}\p{N}])([B-DF-HJ-NP-TV-XZ]) (\p{Ll}{2,})"#
    )

    /// Tesseract's models sometimes set a capital apart from the rest of its word ("J ahre" for
    /// "Jahre"). A lone consonant capital before a lower-case word is rejoined: no language Recital
    /// reads writes those as words of their own (the vowels and Y are, and are left alone).
    static func rejoinLoneCapitals(_ text: String) -> String {
        guard let loneCapital else { return text }
        return loneCapital.stringByReplacingMatches(
            in: text,
            range: NSRange(text.startIndex..., in: text),
            withTemplate: "$1$2"
        )
    }

    private func open() throws(IngestError) -> PDFDocument {
        do {
            return try PDFDocument(path: file)
        } catch {
            throw IngestError(.damaged, file: file, "not a readable PDF: \(error.message)", cause: error)
        }
    }

    private func makeEngine() throws(IngestError) -> Tesseract {
        do {
            return try Tesseract(language: model)
        } catch {
            throw IngestError(
                .ocrUnavailable,
                file: file,
                "scanned pages cannot be read: \(error.message)",
                cause: error
            )
        }
    }

    private func recognize(page index: Int, document: PDFDocument, engine: Tesseract) throws(IngestError) -> Page {
        guard let page = document.page(at: index) else { return Page(lines: [], confidence: 0) }
        let image: PDFGrayImage
        do {
            image = try page.grayImage(dotsPerInch: Self.dotsPerInch)
        } catch {
            throw IngestError(
                .damaged,
                file: file,
                "page \(index + 1) cannot be drawn for OCR: \(error.message)",
                cause: error
            )
        }
        let read: OCRPage
        do {
            read = try engine.recognize(
                gray: image.pixels,
                width: image.width,
                height: image.height,
                dotsPerInch: Int(image.dotsPerInch.rounded())
            )
        } catch {
            throw IngestError(.damaged, file: file, "page \(index + 1): \(error.message)", cause: error)
        }
        // Pixels to points, so OCR lines share the geometry of text-layer lines.
        let points = 72 / image.dotsPerInch
        let lines = read.lines.compactMap { line -> PDFReader.Line? in
            let text = Self.rejoinLoneCapitals(TextNormalizer.clean(line.text))
            // Specks and rules read as "|", "—" or "." carry no words.
            guard text.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            return PDFReader.Line(
                page: index,
                text: text,
                top: Double(line.top) * points,
                bottom: Double(line.bottom) * points,
                left: Double(line.left) * points,
                fontSize: Double(line.pointSize)
            )
        }
        return Page(lines: lines, confidence: read.meanConfidence)
    }
}
