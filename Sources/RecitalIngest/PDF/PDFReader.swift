internal import Foundation
internal import RecitalModel
internal import RecitalOCR
internal import RecitalPDF

/// Reads a PDF with a text layer into a ``Book``.
///
/// Chapters come from the outline when there is one; otherwise from chapter headings found in the
/// text; otherwise from page ranges. Running headers, footers and page numbers are removed, words
/// hyphenated across lines are rejoined, and lines are joined into paragraphs.
struct PDFReader {
    let file: String
    let segmenter: Segmenter
    var ocr: OCRMode = .auto
    var observer: IngestObserver = .silent

    /// Pages per chapter when a PDF has neither an outline nor recognisable headings.
    static let pagesPerFallbackChapter = 10

    struct Line {
        var page: Int
        var text: String
        var top: Double
        var bottom: Double
        var left: Double
        var fontSize: Double
        var bold = false
        /// Starts a paragraph (set by ``PDFReader/markParagraphs(_:)``).
        var opensParagraph = false
    }

    struct Span {
        var title: String
        var line: Int
    }

    func read() throws(IngestError) -> Book { try read(keepingCoverage: false).book }

    /// The book, plus every line of text kept after header and footer removal, which the chapters
    /// must hold exactly once.
    func readWithCoverage() throws(IngestError) -> (book: Book, lines: [String]) { try read(keepingCoverage: true) }

    private func read(keepingCoverage: Bool) throws(IngestError) -> (book: Book, lines: [String]) {
        let document: PDFDocument
        do {
            document = try PDFDocument(path: file)
        } catch {
            if error.code == .encrypted {
                throw IngestError(.encrypted, file: file, "encrypted PDF: a password is required to read it")
            }
            throw IngestError(.damaged, file: file, "not a readable PDF: \(error.message)", cause: error)
        }
        var diagnostics: [Diagnostic] = []
        let pageCount = document.pageCount
        guard pageCount > 0 else { throw IngestError(.noText, file: file, "the PDF has no pages") }

        var pages: [[Line]] = []
        var pageHeights: [Double] = []
        // Pages that draw an image and carry next to no text: scans.
        var scans: [Int] = []
        for index in 0..<pageCount {
            guard let page = document.page(at: index) else {
                pages.append([])
                pageHeights.append(0)
                continue
            }
            pageHeights.append(page.size.height)
            let lines = page.lines().map { line in
                Line(
                    page: index,
                    text: TextNormalizer.clean(line.text),
                    top: line.top,
                    bottom: line.bottom,
                    left: line.left,
                    fontSize: line.fontSize,
                    bold: line.isBold
                )
            }.filter { !$0.text.isEmpty }
            let letters = lines.reduce(0) { $0 + $1.text.count(where: \.isLetter) }
            if ocr == .always || (letters < 20 && page.hasImages) { scans.append(index) }
            pages.append(lines)
        }
        // The catalog's /Lang, else the XMP packet's: it picks the OCR model and is the book's language.
        let declaredLanguage = Self.catalogLanguage(file) ?? document.xmpMetadata.flatMap(Self.xmpLanguage)
        try readScans(scans, into: &pages, language: declaredLanguage, diagnostics: &diagnostics)
        let visible = pages.joined().reduce(0) { $0 + $1.text.count }
        if visible < max(50, pageCount * 10) {
            let advice = ocr == .never ? " (read it with --ocr auto)" : ""
            throw IngestError(.noText, file: file, "no text layer: this looks like a scanned PDF\(advice)")
        }

        let removed = Self.removeRunningLines(&pages)
        if removed > 0 {
            diagnostics.append(.note("removed \(removed) running header, footer and page-number lines"))
        }
        var lines = pages.flatMap { $0 }
        Self.markParagraphs(&lines)

        var spans: [Span] = []
        let outline = document.outline
        if !outline.isEmpty {
            spans = outlineSpans(outline, lines: lines, pageHeights: pageHeights, diagnostics: &diagnostics)
        }
        if spans.isEmpty {
            if outline.isEmpty {
                diagnostics.append(.note("the PDF has no outline; chapters come from headings in the text"))
            }
            spans = Self.typographySpans(lines)
            if spans.count >= 2 {
                diagnostics.append(.note("chapters come from heading lines set larger or bolder than the text"))
                let listed = Self.contentsMatches(spans, lines: lines)
                if listed > 0 {
                    diagnostics.append(
                        .note("a printed contents page lists \(listed) of the \(spans.count) headings found")
                    )
                }
            } else {
                spans = Self.headingSpans(lines)
                if spans.count >= 2 {
                    diagnostics.append(
                        .note("chapters come from chapter headings in the text (\"Chapter N\", numbered)")
                    )
                }
            }
            if spans.count < 2 {
                diagnostics.append(
                    .warning("no chapter headings found; chapters are ranges of \(Self.pagesPerFallbackChapter) pages")
                )
                spans = Self.pageRangeSpans(lines, pageCount: pageCount)
            }
        }
        if let first = spans.first, first.line > 0 {
            // Text before the first chapter (title page, preface) is kept as its own chapter.
            let title =
                document.title.flatMap { Self.placeholder($0) ? nil : TextNormalizer.clean($0) } ?? "Front matter"
            spans.insert(Span(title: title, line: 0), at: 0)
        }

        var chapters: [Chapter] = []
        for index in spans.indices {
            let span = spans[index]
            let end = index + 1 < spans.count ? spans[index + 1].line : lines.count
            let text = Self.text(of: lines[span.line..<max(span.line, end)])
            if text.isEmpty {
                if index + 1 < spans.count, spans[index + 1].line == span.line {
                    diagnostics.append(
                        .note("outline item '\(spans[index + 1].title)' starts where '\(span.title)' does; merged")
                    )
                    spans[index + 1].title = span.title
                } else {
                    diagnostics.append(.note("outline item '\(span.title)' has no text of its own; skipped"))
                }
                continue
            }
            chapters.append(
                Chapter(
                    index: chapters.count,
                    title: span.title.isEmpty ? "Chapter \(chapters.count + 1)" : span.title,
                    text: text,
                    segments: segmenter.segments(of: text)
                )
            )
        }

        if chapters.isEmpty {
            throw IngestError(.noText, file: file, "no readable text after removing page furniture")
        }
        var metadata = readMetadata(document, lines: lines, diagnostics: &diagnostics)
        metadata.language = declaredLanguage
        let book = Book(
            source: file,
            format: .pdf,
            metadata: metadata,
            cover: nil,
            chapters: chapters,
            diagnostics: diagnostics
        )
        return (book, keepingCoverage ? lines.map(\.text) : [])
    }

    // MARK: - Scanned pages

    /// Pages whose mean OCR confidence is below this are named in a warning: their text is likely
    /// to hold misread words. Clean 300 dpi print reads at 90 and above.
    static let lowConfidence = 80
    /// Below this, what OCR found on a page is specks and shading, not words.
    static let pictureConfidence = 40

    /// Replaces the lines of scanned pages with what OCR reads on them, unless OCR is off. The
    /// book's language picks the model; a book that names none is read in English first and, when
    /// its text then reads as another language whose model is installed, read again with that.
    private func readScans(
        _ scans: [Int],
        into pages: inout [[Line]],
        language declared: String?,
        diagnostics: inout [Diagnostic]
    ) throws(IngestError) {
        guard !scans.isEmpty else { return }
        let numbers = Self.pageList(scans)
        if ocr == .never {
            diagnostics.append(
                .warning(
                    "\(numbers) \(scans.count == 1 ? "has" : "have") no text layer and \(scans.count == 1 ? "is" : "are") not read (--ocr never)"
                )
            )
            return
        }
        let installed = Tesseract.installedLanguages()
        var model = "eng"
        if let declared, let wanted = Tesseract.model(forLanguage: declared) {
            if installed.contains(wanted) {
                model = wanted
            } else {
                diagnostics.append(
                    .warning(
                        "the book is in \(declared) but no Tesseract model for it is installed (\(Tesseract.package(wanted))); scanned pages are read with the English one"
                    )
                )
            }
        }
        var read: [Int: PageRecognizer.Page]
        do {
            read = try PageRecognizer(file: file, model: model, observer: observer).recognize(scans)
        } catch  where error.code == .ocrUnavailable {
            let textLayer = pages.joined().reduce(0) { $0 + $1.text.count }
            // A few pasted-in images in a text book are not worth refusing the book over.
            guard textLayer >= max(50, pages.count * 10) else { throw error }
            diagnostics.append(
                .warning("\(numbers) \(scans.count == 1 ? "is a scan" : "are scans") left unread: \(error.reason)")
            )
            return
        }
        if declared == nil, let detected = LanguageDetector.detect(Self.text(read)), detected.confidence >= 0.5,
            let better = Tesseract.model(forLanguage: detected.code), better != model
        {
            if installed.contains(better) {
                read = try PageRecognizer(file: file, model: better, observer: observer).recognize(scans)
                diagnostics.append(
                    .note(
                        "the scanned text reads as \(detected.code); its pages were read again with that language's model"
                    )
                )
                model = better
            } else {
                diagnostics.append(
                    .warning(
                        "the scanned text reads as \(detected.code), but no Tesseract model for it is installed (\(Tesseract.package(better))); read with the English one"
                    )
                )
            }
        }
        // A plate or photograph reads as nothing, or as a few specks OCR is not sure are words. Unless
        // every page is like that (a poor scan, kept and warned about below), those are pictures.
        let pictures = read.filter { $0.value.lines.isEmpty || $0.value.confidence < Self.pictureConfidence }
        if !pictures.isEmpty, pictures.count < read.count {
            let list = Self.pageList(pictures.keys.sorted())
            diagnostics.append(
                .note("\(list) \(pictures.count == 1 ? "is a picture" : "are pictures") with no words to read")
            )
            for index in pictures.keys { read[index] = nil }
        }
        for (index, page) in read { pages[index] = page.lines }
        diagnostics.append(.note("\(Self.pageList(read.keys.sorted())) read with OCR (Tesseract, \(model) model)"))
        let doubtful = read.filter { !$0.value.lines.isEmpty && $0.value.confidence < Self.lowConfidence }
        if !doubtful.isEmpty {
            let detail = doubtful.keys.sorted().map { "\($0 + 1): \(doubtful[$0]?.confidence ?? 0) %" }
            diagnostics.append(
                .warning(
                    "OCR is unsure of \(Self.pageList(doubtful.keys.sorted())) (mean word confidence \(detail.joined(separator: ", "))); their text may hold misread words"
                )
            )
        }
    }

    private static func text(_ read: [Int: PageRecognizer.Page]) -> String {
        read.keys.sorted().prefix(20).compactMap { read[$0]?.lines.map(\.text).joined(separator: " ") }.joined(
            separator: "\n"
        )
    }

    /// "page 3", "pages 1–4, 7" for zero-based indices.
    static func pageList(_ indices: [Int]) -> String {
        var runs: [String] = []
        var start = 0
        while start < indices.count {
            var end = start
            while end + 1 < indices.count, indices[end + 1] == indices[end] + 1 { end += 1 }
            runs.append(end == start ? "\(indices[start] + 1)" : "\(indices[start] + 1)–\(indices[end] + 1)")
            start = end + 1
        }
        return (indices.count == 1 ? "page " : "pages ") + runs.joined(separator: ", ")
    }

    // MARK: - Outline

    private func outlineSpans(
        _ outline: [PDFOutlineItem],
        lines: [Line],
        pageHeights: [Double],
        diagnostics: inout [Diagnostic]
    ) -> [Span] {
        var firstLineOfPage: [Int: Int] = [:]
        for (index, line) in lines.enumerated() where firstLineOfPage[line.page] == nil {
            firstLineOfPage[line.page] = index
        }
        func lineRange(ofPage page: Int) -> Range<Int> {
            guard let start = firstLineOfPage[page] else { return 0..<0 }
            var end = start
            while end < lines.count, lines[end].page == page { end += 1 }
            return start..<end
        }
        var spans: [Span] = []
        for item in outline {
            let title = TextNormalizer.cleanTitle(item.title)
            guard !item.isExternal, let page = item.pageIndex, page >= 0, page < pageHeights.count else {
                diagnostics.append(.note("outline item '\(title)' does not lead into the document; ignored"))
                continue
            }
            var range = lineRange(ofPage: page)
            if let top = item.top, range.count > 0 {
                // Outline tops are measured from the bottom of the page; lines from the top.
                let fromTop = pageHeights[page] - top
                var below = range.first { lines[$0].bottom >= fromTop - 2 } ?? range.upperBound
                // A section number set apart from its title is its own line on the same baseline.
                while below > range.lowerBound, below < range.upperBound,
                    Self.sameBaseline(lines[below - 1], lines[below])
                {
                    below -= 1
                }
                range = below..<range.upperBound
            }
            if let found = Self.find(title: title, in: range, lines: lines) {
                spans.append(Span(title: title, line: found))
            } else if let found = Self.find(title: title, in: lineRange(ofPage: page + 1), lines: lines) {
                // The destination sits just before a page break and the heading is on the next page.
                spans.append(Span(title: title, line: found))
            } else if let start = range.first ?? lineRange(ofPage: page).first ?? Self.nextLine(after: page, lines) {
                spans.append(Span(title: title, line: start))
            }
        }
        let sorted = spans.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(
            \.element
        )
        if sorted.map(\.title) != spans.map(\.title) {
            diagnostics.append(.warning("outline order differs from page order; chapters follow page order"))
        }
        return sorted
    }

    /// Two lines side by side: their vertical extents overlap by at least half the smaller one.
    static func sameBaseline(_ a: Line, _ b: Line) -> Bool {
        let overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
        let smaller = min(a.bottom - a.top, b.bottom - b.top)
        return smaller > 0 && overlap >= smaller / 2
    }

    private static func nextLine(after page: Int, _ lines: [Line]) -> Int? {
        lines.firstIndex { $0.page > page }
    }

    /// The line where a heading with this title starts, allowing it to wrap onto a second line.
    static func find(title: String, in range: Range<Int>, lines: [Line]) -> Int? {
        let key = matchKey(title)
        guard !key.isEmpty else { return nil }
        for index in range {
            let first = matchKey(lines[index].text)
            if first.isEmpty { continue }
            if first.hasPrefix(key)
                || (key.hasPrefix(first) && index + 1 < lines.count
                    && (first + matchKey(lines[index + 1].text)).hasPrefix(key))
            {
                return index
            }
        }
        return nil
    }

    static func matchKey(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
    }

    // MARK: - Headings without an outline

    private static let headingPattern = try? NSRegularExpression(
        pattern:
            #"^(chapter|chapitre|kapitel|cap[ií]tulo|capitolo|hoofdstuk|part|book|letter|act|stave)\s+([0-9]+|[ivxlcdm]+|[a-z]+)\b[.:]?"#,
        options: [.caseInsensitive]
    )

    /// Words a heading does not end on; the next line continues it.
    static let connectingWords: Set<String> = [
        "and", "or", "of", "the", "a", "an", "in", "to", "from", "with", "for", "on", "at", "by", "und", "der", "die",
        "das", "et", "de", "la", "le", "y", "el",
    ]

    static func headingSpans(_ lines: [Line]) -> [Span] {
        guard let pattern = headingPattern else { return [] }
        let sizes = lines.map(\.fontSize).filter { $0 > 0 }.sorted()
        let bodySize = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        // The same heading often appears twice: in a printed contents page and where the chapter
        // starts. The last occurrence is the chapter.
        var lastByKey: [String: Int] = [:]
        var keys: [String] = []
        for (index, line) in lines.enumerated() where line.text.count <= 80 {
            let range = NSRange(line.text.startIndex..., in: line.text)
            guard let match = pattern.firstMatch(in: line.text, range: range),
                let matched = Range(match.range, in: line.text)
            else { continue }
            let key = matchKey(String(line.text[matched]))
            if lastByKey[key] == nil { keys.append(key) }
            lastByKey[key] = index
        }
        var spans = keys.compactMap { key -> Span? in
            guard let index = lastByKey[key] else { return nil }
            var title = lines[index].text
            // "CHAPTER I." alone on its line is usually followed by the chapter's name, and a long
            // name wraps ("A Caucus-Race and" / "a Long Tale").
            if index + 1 < lines.count, lines[index + 1].page == lines[index].page {
                let next = lines[index + 1].text
                let lastWord = title.split(separator: " ").last.map { $0.lowercased() } ?? ""
                let nextLine = lines[index + 1]
                let sameLargeFont =
                    bodySize > 0 && lines[index].fontSize >= bodySize * 1.2
                    && abs(nextLine.fontSize - lines[index].fontSize) < 0.5
                let wraps = sameLargeFont || next.first?.isLowercase == true || Self.connectingWords.contains(lastWord)
                let endsSentence = next.last.map { ".,;".contains($0) } ?? true
                if next.count <= 60, !endsSentence || sameLargeFont, title.count <= 16 || wraps {
                    title += " " + next
                }
            }
            return Span(title: TextNormalizer.cleanTitle(title), line: index)
        }
        spans.sort { $0.line < $1.line }
        if spans.count >= 2 { return spans }

        // Numbered headings set in a larger font ("2 Methods", "3.1 Results").
        let body = bodySize
        guard body > 0 else { return spans }
        let numbered = try? NSRegularExpression(pattern: #"^[0-9]+(\.[0-9]+)*\.?\s+\S"#)
        var large: [Span] = []
        for (index, line) in lines.enumerated() where line.fontSize >= body * 1.2 && line.text.count <= 80 {
            let range = NSRange(line.text.startIndex..., in: line.text)
            if numbered?.firstMatch(in: line.text, range: range) != nil {
                large.append(Span(title: TextNormalizer.cleanTitle(line.text), line: index))
            }
        }
        return large.count >= 2 ? large : spans
    }

    /// Chapters from typography: heading lines set clearly larger than the body text, or bold where
    /// the body is not, opening a block and followed by body text (a "by Author" line may come
    /// between: it stays in the text). Consecutive heading lines of one size are one title.
    static func typographySpans(_ lines: [Line]) -> [Span] {
        var weights: [Double: Int] = [:]
        var boldCharacters = 0
        var characters = 0
        for line in lines where line.fontSize > 0 {
            weights[(line.fontSize * 2).rounded() / 2, default: 0] += line.text.count
            characters += line.text.count
            if line.bold { boldCharacters += line.text.count }
        }
        guard let body = weights.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key, body > 0 else { return [] }
        let bodyBold = boldCharacters * 2 > characters
        // OCR measures type in whole points, so a body line may read a point off; set type does not.
        func isBody(_ line: Line) -> Bool {
            abs(line.fontSize - body) < max(0.75, body * 0.09) && (bodyBold || !line.bold)
        }
        func isHeading(_ line: Line) -> Bool {
            guard line.text.count <= 100, line.text.contains(where: \.isLetter) else { return false }
            return line.fontSize >= body * 1.15 || (line.bold && !bodyBold && line.fontSize >= body - 0.5)
        }
        var spans: [Span] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard isHeading(line) else {
                index += 1
                continue
            }
            let opens = index == 0 || lines[index - 1].page != line.page || line.opensParagraph
            var end = index + 1
            var title = line.text
            while end < lines.count, lines[end].page == line.page, isHeading(lines[end]),
                abs(lines[end].fontSize - line.fontSize) < 0.5, lines[end].bold == line.bold, title.count < 120
            {
                title += " " + lines[end].text
                end += 1
            }
            var next = end
            if next < lines.count, lines[next].text.lowercased().hasPrefix("by "), lines[next].text.count <= 60 {
                next += 1
            }
            if opens, next < lines.count, isBody(lines[next]) {
                spans.append(Span(title: TextNormalizer.cleanTitle(title), line: index))
            }
            index = end
        }
        return spans.count >= 2 ? spans : []
    }

    /// How many of the headings a printed contents page (body-size lines before them) names.
    static func contentsMatches(_ spans: [Span], lines: [Line]) -> Int {
        guard let first = spans.first?.line, first > 0 else { return 0 }
        let listed = Set(lines[0..<first].map { matchKey($0.text) })
        return spans.filter { span in
            let key = matchKey(span.title)
            return !key.isEmpty && listed.contains { $0.hasPrefix(key) || (key.hasPrefix($0) && $0.count >= 4) }
        }.count
    }

    static func pageRangeSpans(_ lines: [Line], pageCount: Int) -> [Span] {
        var spans: [Span] = []
        var page = 0
        while page < pageCount {
            let last = min(pageCount, page + pagesPerFallbackChapter)
            if let index = lines.firstIndex(where: { $0.page >= page && $0.page < last }) {
                spans.append(Span(title: "Pages \(page + 1)–\(last)", line: index))
            }
            page = last
        }
        return spans
    }

    // MARK: - Text hygiene

    /// Removes lines that repeat at the top or bottom of many pages (running heads, footers) and
    /// bare page numbers. Returns how many lines were removed.
    static func removeRunningLines(_ pages: inout [[Line]]) -> Int {
        let zone = 2
        var counts: [String: Set<Int>] = [:]
        // Only pages with a body between their top and bottom zones can have running lines, and
        // running lines are short; this keeps sparse pages of prose intact.
        func candidate(_ line: Line, on lines: [Line]) -> Bool { lines.count > zone && line.text.count <= 100 }
        for (pageIndex, lines) in pages.enumerated() {
            for (position, line) in lines.enumerated() {
                let fromEnd = lines.count - 1 - position
                guard position < zone || fromEnd < zone, candidate(line, on: lines) else { continue }
                counts[runningKey(line, top: position < zone), default: []].insert(pageIndex)
            }
        }
        let threshold = max(3, pages.count / 4)
        var removed = 0
        for pageIndex in pages.indices {
            let lines = pages[pageIndex]
            var kept: [Line] = []
            for (position, line) in lines.enumerated() {
                let fromEnd = lines.count - 1 - position
                let inZone = (position < zone || fromEnd < zone) && candidate(line, on: lines)
                // A number beside other text on its line is a section number, not a page number.
                let besideText =
                    (position > 0 && sameBaseline(lines[position - 1], line))
                    || (position + 1 < lines.count && sameBaseline(lines[position + 1], line))
                let pageNumber = isPageNumber(line.text) && !besideText
                if inZone, pageNumber || (counts[runningKey(line, top: position < zone)]?.count ?? 0) >= threshold {
                    removed += 1
                    continue
                }
                kept.append(line)
            }
            pages[pageIndex] = kept
        }
        return removed
    }

    private static func runningKey(_ line: Line, top: Bool) -> String {
        let digitsMasked = String(line.text.lowercased().map { $0.isNumber ? "#" : $0 })
        return (top ? "T:" : "B:") + digitsMasked
    }

    static func isPageNumber(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " -–—|[]()·."))
        if trimmed.isEmpty { return false }
        let lowered = trimmed.lowercased()
        if lowered.allSatisfy(\.isNumber) { return trimmed.count <= 5 }
        if lowered.count <= 6, lowered.allSatisfy({ "ivxlcdm".contains($0) }) { return true }
        let words = lowered.split(separator: " ")
        if words.count == 2, ["page", "seite", "p", "p.", "pág.", "página"].contains(String(words[0])),
            words[1].allSatisfy(\.isNumber)
        {
            return true
        }
        if words.count == 3, words[1] == "of" || words[1] == "/" || words[1] == "von",
            words[0].allSatisfy(\.isNumber), words[2].allSatisfy(\.isNumber)
        {
            return true
        }
        return false
    }

    /// Decides where paragraphs start: after a vertical gap, after a short line that ends a
    /// sentence, at an indented line, and around headings set in a larger font.
    static func markParagraphs(_ lines: inout [Line]) {
        let sizes = lines.map(\.fontSize).filter { $0 > 0 }.sorted()
        let body = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        var gapsByPage: [Int: Double] = [:]
        var widthByPage: [Int: Double] = [:]
        var leftByPage: [Int: Double] = [:]
        var pageGroups: [Int: [Int]] = [:]
        for index in lines.indices { pageGroups[lines[index].page, default: []].append(index) }
        for (page, indices) in pageGroups {
            var gaps: [Double] = []
            for pair in zip(indices, indices.dropFirst()) {
                let gap = lines[pair.1].top - lines[pair.0].top
                if gap > 0 { gaps.append(gap) }
            }
            gaps.sort()
            gapsByPage[page] = gaps.isEmpty ? 0 : gaps[gaps.count / 2]
            let lengths = indices.map { lines[$0].text.count }.sorted()
            widthByPage[page] = lengths.isEmpty ? 0 : Double(lengths[lengths.count * 3 / 4])
            let lefts = indices.map { lines[$0].left }.sorted()
            leftByPage[page] = lefts.isEmpty ? 0 : lefts[lefts.count / 2]
        }
        for index in lines.indices {
            guard index > 0 else {
                lines[index].opensParagraph = true
                continue
            }
            let line = lines[index]
            let previous = lines[index - 1]
            let isHeading = body > 0 && line.fontSize >= body * 1.15
            let wasHeading = body > 0 && previous.fontSize >= body * 1.15
            let lineGap = gapsByPage[line.page] ?? 0
            let width = widthByPage[previous.page] ?? 0
            let endsSentence = previous.text.last.map { ".!?:\"”’'»)".contains($0) } ?? false
            let shortPrevious = width > 0 && Double(previous.text.count) < width * 0.75
            var opens = false
            if isHeading != wasHeading {
                opens = true
            } else if previous.page == line.page {
                let gap = line.top - previous.top
                if lineGap > 0, gap > lineGap * 1.45 { opens = true }
                if let left = leftByPage[line.page], line.left > left + 8, line.left - previous.left > 8 {
                    opens = true
                }
                if shortPrevious, endsSentence { opens = true }
            } else if shortPrevious, endsSentence {
                opens = true
            }
            // Pieces of one visual line ("1" and "Foo" of a heading) belong together.
            if previous.page == line.page, sameBaseline(previous, line) { opens = false }
            lines[index].opensParagraph = opens
        }
    }

    /// Joins lines into paragraphs, rejoining words hyphenated at line ends.
    static func text(of lines: ArraySlice<Line>) -> String {
        var paragraphs: [String] = []
        var current = ""
        for line in lines {
            if line.opensParagraph, !current.isEmpty {
                paragraphs.append(current)
                current = ""
            }
            if current.isEmpty {
                current = line.text
            } else if current.hasSuffix("-"), current.count >= 2,
                current.dropLast().last?.isLetter == true, line.text.first?.isLowercase == true
            {
                current.removeLast()
                current += line.text
            } else {
                current += " " + line.text
            }
        }
        if !current.isEmpty { paragraphs.append(current) }
        return paragraphs.map(TextNormalizer.clean).filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    // MARK: - Metadata

    static let placeholderValues: Set<String> = [
        "", "unknown", "untitled", "administrator", "admin", "user", "owner", "author", "anonymous author", "none",
        "null", "n/a", "title", "document", "microsoft word", "default", "name",
    ]

    static func placeholder(_ value: String) -> Bool {
        let cleaned = TextNormalizer.clean(value).lowercased()
        if placeholderValues.contains(cleaned) { return true }
        for suffix in [".doc", ".docx", ".pdf", ".tex", ".dvi", ".odt", ".rtf", ".indd", ".qxd"]
        where cleaned.hasSuffix(suffix) {
            return true
        }
        return cleaned.hasPrefix("microsoft word - ")
    }

    /// The catalog's `/Lang`, which poppler-glib does not expose. Word and LibreOffice write the
    /// catalog as a plain object near the file's start or end (`<</Type/Catalog … /Lang(en-GB)>>`),
    /// so the first and last 256 KB are searched; a catalog packed in a compressed object stream is
    /// not seen, and the XMP packet is asked next.
    static func catalogLanguage(_ file: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        let window = 256 * 1024
        var chunks: [Data] = []
        if let head = try? handle.read(upToCount: window) { chunks.append(head) }
        if let size = try? handle.seekToEnd(), size > UInt64(window) {
            try? handle.seek(toOffset: max(UInt64(window), size - UInt64(window)))
            if let tail = try? handle.readToEnd() { chunks.append(tail) }
        }
        for chunk in chunks {
            // Latin-1 maps every byte to one character, so nothing in the binary parts breaks decoding.
            let text = String(decoding: chunk.map { UInt16($0) }, as: UTF16.self)
            var from = text.startIndex
            while let key = text.range(
                of: #"/Lang\s*\([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\)"#,
                options: .regularExpression,
                range: from..<text.endIndex
            ) {
                from = key.upperBound
                // Structure elements carry /Lang too; only the catalog object's counts.
                guard let opening = text[..<key.lowerBound].range(of: " obj", options: .backwards),
                    let closing = text[key.upperBound...].range(of: "endobj"),
                    text.distance(from: opening.upperBound, to: closing.lowerBound) < 8000,
                    text[opening.upperBound..<closing.lowerBound].range(
                        of: #"/Type\s*/Catalog\b"#,
                        options: .regularExpression
                    ) != nil
                else { continue }
                return String(text[key].drop { $0 != "(" }.dropFirst().dropLast())
            }
        }
        return nil
    }

    /// The first `dc:language` of an XMP packet (`<dc:language><rdf:Bag><rdf:li>fr</rdf:li>…`).
    static func xmpLanguage(_ xmp: String) -> String? {
        guard let block = xmp.range(of: #"<dc:language>[\s\S]*?</dc:language>"#, options: .regularExpression),
            let item = xmp[block].range(of: #"<rdf:li[^>]*>[^<]+</rdf:li>"#, options: .regularExpression)
        else { return nil }
        let element = xmp[item]
        guard let open = element.firstIndex(of: ">"), let close = element.range(of: "</rdf:li>") else { return nil }
        let value = element[element.index(after: open)..<close.lowerBound].trimmingCharacters(in: .whitespaces)
        return value.isEmpty || value == "x-default" ? nil : value
    }

    private func readMetadata(_ document: PDFDocument, lines: [Line], diagnostics: inout [Diagnostic]) -> BookMetadata {
        var metadata = BookMetadata()
        var title = document.title.map(TextNormalizer.clean)
        if let value = title, Self.placeholder(value) {
            diagnostics.append(.warning("the PDF's title '\(value)' is a placeholder; treated as missing"))
            title = nil
        }
        var bylineAuthor: String?
        if let value = title,
            let range = value.range(of: #",?\s+by\s+"#, options: [.regularExpression, .caseInsensitive])
        {
            let name = String(value[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, name.split(separator: " ").count <= 5 {
                bylineAuthor = name
                title = String(value[..<range.lowerBound])
            }
        }
        metadata.title = title
        if title == nil { diagnostics.append(.warning("the PDF has no title")) }

        let opening = lines.prefix(400).map(\.text).joined(separator: " ").lowercased()
        if let author = document.author.map(TextNormalizer.clean), !author.isEmpty {
            let surname = author.split(separator: " ").last.map { String($0).lowercased() } ?? ""
            if Self.placeholder(author) {
                diagnostics.append(.warning("the PDF's author '\(author)' is a placeholder; treated as missing"))
            } else if let bylineAuthor, bylineAuthor.lowercased() != author.lowercased() {
                diagnostics.append(
                    .warning(
                        "the PDF's author field says '\(author)' but the title names '\(bylineAuthor)'; using the title"
                    )
                )
            } else if !opening.contains(author.lowercased()), surname.count < 3 || !opening.contains(surname) {
                diagnostics.append(
                    .warning(
                        "the PDF's author '\(author)' appears nowhere in the book; likely whoever made the file, treated as missing"
                    )
                )
            } else {
                metadata.authors = [author]
            }
        }
        if metadata.authors.isEmpty, let bylineAuthor { metadata.authors = [bylineAuthor] }
        if metadata.authors.isEmpty { diagnostics.append(.warning("the PDF names no author")) }
        if let subject = document.subject.map(TextNormalizer.clean), !subject.isEmpty { metadata.description = subject }
        if let keywords = document.keywords {
            metadata.subjects = keywords.split(whereSeparator: { $0 == "," || $0 == ";" })
                .map { TextNormalizer.clean(String($0)) }.filter { !$0.isEmpty }
        }
        if let seconds = document.creationDate {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            metadata.date = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        return metadata
    }
}
