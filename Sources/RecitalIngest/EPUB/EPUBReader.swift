internal import Foundation
internal import RecitalModel
internal import RecitalXML

/// Reads an EPUB 2 or 3 file into a ``Book``.
///
/// Chapters follow the book's own table of contents (nav, else NCX, else the spine documents and
/// their headings). Every character of body text in the linear spine lands in exactly one chapter;
/// what is left out on purpose (cover and contents pages, notes, page numbers) is reported as a
/// diagnostic.
struct EPUBReader {
    let file: String
    let segmenter: Segmenter

    /// Document types that are not prose to be read aloud.
    static let nonProseTypes: [String: String] = [
        "cover": "cover page", "toc": "table of contents", "doc-toc": "table of contents",
        "copyright-page": "copyright page", "colophon": "colophon", "index": "index", "doc-index": "index",
        "imprint": "imprint", "landmarks": "landmarks", "loi": "list of illustrations",
        "lot": "list of tables", "page-list": "page list", "doc-pagelist": "page list",
        "footnotes": "notes", "endnotes": "notes", "rearnotes": "notes", "doc-endnotes": "notes",
    ]
    static let obfuscationAlgorithms: Set<String> = [
        "http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC",
    ]

    private struct Position: Comparable {
        var document: Int
        var offset: Int
        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.document, lhs.offset) < (rhs.document, rhs.offset)
        }
    }

    private struct Document {
        var path: String
        var text: ContentText
    }

    private struct Span {
        var title: String
        var start: Position
    }

    func read() throws(IngestError) -> Book { try read(keepingCoverage: false).book }

    /// The book, plus what coverage is checked against: the uncut text of every document read, and
    /// the text of chapters dropped as non-prose (contents pages).
    func readWithCoverage() throws(IngestError) -> (book: Book, documentTexts: [String], omitted: [String]) {
        try read(keepingCoverage: true)
    }

    private func read(
        keepingCoverage: Bool
    ) throws(IngestError) -> (book: Book, documentTexts: [String], omitted: [String]) {
        let container = try EPUBContainer(file: file)
        var diagnostics: [Diagnostic] = []

        if container.contains("mimetype") {
            let mimetype = String(decoding: try container.read("mimetype"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if mimetype != "application/epub+zip" {
                diagnostics.append(.warning("mimetype is '\(mimetype.prefix(60))', not application/epub+zip"))
            }
        }
        try checkForDRM(container)

        let package = try readPackage(container)
        diagnostics += package.diagnostics
        var metadata = package.metadata

        // Where the nav document, the cover page and other non-prose documents are.
        let navItem = package.items.first { $0.properties.contains("nav") }
        var navDocument: XMLDocument?
        if let navItem, container.contains(navItem.path) {
            navDocument =
                try? container.parseXML(navItem.path)
                ?? XMLDocument(bytes: container.read(navItem.path), mode: .html)
        }
        var nonProsePaths: [String: String] = [:]
        var coverPages: [String] = package.guide.filter { $0.type == "cover" }.map(\.location.path)
        for reference in package.guide where reference.location.fragment == nil {
            if let kind = Self.nonProseTypes[reference.type] { nonProsePaths[reference.location.path] = kind }
        }
        if let navDocument, let navItem {
            for landmark in TableOfContents.landmarks(document: navDocument, path: navItem.path)
            where landmark.location.fragment == nil {
                if let kind = Self.nonProseTypes[landmark.type] { nonProsePaths[landmark.location.path] = kind }
                if landmark.type == "cover" { coverPages.append(landmark.location.path) }
            }
        }

        // The book's own table of contents.
        var entries: [TOCEntry] = []
        if let navDocument, let navItem {
            entries = TableOfContents.navEntries(document: navDocument, path: navItem.path)
        }
        if entries.isEmpty, let ncxPath = package.ncxPath, container.contains(ncxPath) {
            if let ncx = try? container.parseXML(ncxPath) {
                entries = TableOfContents.ncxEntries(document: ncx, path: ncxPath)
            } else {
                diagnostics.append(.warning("the NCX \(ncxPath) could not be parsed; chapters come from the spine"))
            }
        }

        var targets: [String: Set<String>] = [:]
        var wholeDocumentTargets: Set<String> = []
        for entry in entries {
            guard let location = entry.location else { continue }
            if let fragment = location.fragment {
                targets[location.path, default: []].insert(fragment)
            } else {
                wholeDocumentTargets.insert(location.path)
            }
        }

        // Extract the text of every linear content document.
        var documents: [Document] = []
        var documentIndex: [String: Int] = [:]
        var skippedPaths: [String: String] = [:]
        var skippedCounts: [String: Int] = [:]
        for spineItem in package.spine {
            let item = spineItem.item
            if item.properties.contains("nav") || item.path == navItem?.path {
                skippedPaths[item.path] = "navigation document"
                continue
            }
            if !spineItem.linear {
                skippedPaths[item.path] = "non-linear spine item"
                diagnostics.append(.note("skipped \(item.path): marked linear=\"no\""))
                continue
            }
            // SVG spine documents are the pages of fixed-layout books; their text is read from <text>.
            guard item.isContentDocument || item.mediaType == "image/svg+xml" else {
                diagnostics.append(.note("skipped \(item.path): spine item of type \(item.mediaType) has no text"))
                continue
            }
            // Notes the TOC lists as a chapter are read even when the landmarks call them notes.
            if let kind = nonProsePaths[item.path], kind != "notes" || !wholeDocumentTargets.contains(item.path) {
                skippedPaths[item.path] = kind
                diagnostics.append(.note("skipped \(item.path): \(kind)"))
                continue
            }
            guard container.contains(item.path) else {
                throw IngestError(
                    .damaged,
                    file: file,
                    "the OPF lists '\(item.path)', which is missing from the archive"
                )
            }
            guard documentIndex[item.path] == nil else { continue }
            let text = try extract(
                item.path,
                chapterTargets: targets[item.path] ?? [],
                listedWhole: wholeDocumentTargets.contains(item.path),
                container: container,
                diagnostics: &diagnostics
            )
            // A notes document the TOC lists as a chapter is read; other non-prose is not.
            if let kind = text.rootTypes.lazy.compactMap({ Self.nonProseTypes[$0] }).first,
                kind != "notes" || !wholeDocumentTargets.contains(item.path)
            {
                skippedPaths[item.path] = kind
                diagnostics.append(.note("skipped \(item.path): \(kind)"))
                continue
            }
            for (kind, count) in text.skipped { skippedCounts[kind, default: 0] += count }
            documentIndex[item.path] = documents.count
            documents.append(Document(path: item.path, text: text))
        }
        for (kind, count) in skippedCounts.sorted(by: { $0.key < $1.key }) {
            diagnostics.append(.note("left out \(count) \(kind)\(count == 1 ? "" : "s")"))
        }

        var spans: [Span] = []
        for entry in entries {
            guard let location = entry.location else { continue }
            guard let index = documentIndex[location.path] else {
                if let reason = skippedPaths[location.path] {
                    diagnostics.append(.note("TOC entry '\(entry.title)' not read: \(reason)"))
                } else {
                    diagnostics.append(
                        .warning("TOC entry '\(entry.title)' points at \(location.path), which is not in the spine")
                    )
                }
                continue
            }
            var offset = 0
            if let fragment = location.fragment {
                if let anchor = documents[index].text.anchors[fragment] {
                    offset = anchor
                } else {
                    diagnostics.append(
                        .warning(
                            "TOC entry '\(entry.title)' points at missing #\(fragment); using the start of \(location.path)"
                        )
                    )
                }
            }
            spans.append(Span(title: entry.title, start: Position(document: index, offset: offset)))
        }
        if spans.isEmpty, !documents.isEmpty {
            if !entries.isEmpty {
                diagnostics.append(
                    .warning("no TOC entry leads to text; chapters come from the spine and its headings")
                )
            } else {
                diagnostics.append(
                    .note("the book has no table of contents; chapters come from the spine and its headings")
                )
            }
        }

        // Sort by reading position; a stable sort keeps TOC order for entries at the same place.
        let ordered = spans.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
            .map(\.element)
        if ordered.map(\.title) != spans.map(\.title) {
            diagnostics.append(.warning("TOC order differs from reading order; chapters follow reading order"))
        }
        var all: [Span] = []
        let firstDocument = ordered.first?.start.document ?? documents.count
        all += headingSpans(documents[0..<firstDocument], documents: documents)
        for (index, span) in ordered.enumerated() {
            var span = span
            // Text before the first target in its document: a few words (a stray heading) open the
            // first chapter; more (a title page, an epigraph) is a chapter of its own.
            if index == 0, span.start.offset > 0 {
                let before = documents[span.start.document].text.slice(0..<span.start.offset)
                if before.count >= 200 {
                    let title = metadata.title ?? documents[span.start.document].text.documentTitle ?? "Opening"
                    all.append(
                        Span(
                            title: TextNormalizer.cleanTitle(title),
                            start: Position(document: span.start.document, offset: 0)
                        )
                    )
                } else {
                    span.start.offset = 0
                }
            }
            all.append(span)
        }

        var chapters: [Chapter] = []
        var omitted: [String] = []
        for index in all.indices {
            let span = all[index]
            let end = index + 1 < all.count ? all[index + 1].start : Position(document: documents.count, offset: 0)
            let (text, linkShare, links) = slice(documents, from: span.start, to: end)
            if text.isEmpty {
                if index + 1 < all.count, all[index + 1].start == span.start {
                    // Entries at one place (a part and its first chapter): the first title names it.
                    diagnostics.append(
                        .note("TOC entry '\(all[index + 1].title)' starts where '\(span.title)' does; merged")
                    )
                    all[index + 1].title = span.title
                } else {
                    diagnostics.append(.note("TOC entry '\(span.title)' has no text; skipped"))
                }
                continue
            }
            if links >= 3, linkShare >= 0.5 {
                diagnostics.append(.note("skipped '\(span.title)': a table of contents page (mostly links)"))
                omitted.append(text)
                continue
            }
            let title = span.title.isEmpty ? "Chapter \(chapters.count + 1)" : span.title
            chapters.append(
                Chapter(index: chapters.count, title: title, text: text, segments: segmenter.segments(of: text))
            )
        }
        if chapters.isEmpty {
            throw IngestError(.noText, file: file, "no readable text: the spine has no prose documents")
        }

        if metadata.title == nil {
            diagnostics.append(.warning("the book has no title"))
        }
        if metadata.authors.isEmpty {
            diagnostics.append(.warning("the book names no author"))
        }
        metadata.title = metadata.title.map { TextNormalizer.clean($0) }
        let cover = findCover(package, coverPages: coverPages, container: container, diagnostics: &diagnostics)
        let book = Book(
            source: file,
            format: .epub,
            metadata: metadata,
            cover: cover,
            chapters: chapters,
            diagnostics: diagnostics
        )
        return (book, keepingCoverage ? documents.map { $0.text.string } : [], omitted)
    }

    // MARK: - Container parts

    private func checkForDRM(_ container: EPUBContainer) throws(IngestError) {
        for marker in ["META-INF/rights.xml", "META-INF/sinf.xml"] where container.contains(marker) {
            throw IngestError(
                .drm,
                file: file,
                "DRM-protected EPUB (\(marker) present); Recital reads only DRM-free books"
            )
        }
        guard container.contains("META-INF/encryption.xml") else { return }
        let document = try container.parseXML("META-INF/encryption.xml")
        var encrypted: [(path: String, algorithm: String)] = []
        document.root?.walk { event in
            if case .enter(let element) = event, element.name == "EncryptedData" {
                var algorithm = ""
                var uri = ""
                element.walk { inner in
                    if case .enter(let node) = inner {
                        if node.name == "EncryptionMethod" { algorithm = node.attribute("Algorithm") ?? "" }
                        if node.name == "CipherReference" { uri = node.attribute("URI") ?? "" }
                    }
                    return .continue
                }
                if !Self.obfuscationAlgorithms.contains(algorithm) {
                    encrypted.append((EPUBLocation.resolve(uri, relativeTo: "")?.path ?? uri, algorithm))
                }
                return .skipChildren
            }
            return .continue
        }
        let fontSuffixes = [".otf", ".ttf", ".woff", ".woff2", ".pfb", ".pfm"]
        if let content = encrypted.first(where: { entry in
            !fontSuffixes.contains { entry.path.lowercased().hasSuffix($0) }
        }) {
            throw IngestError(
                .drm,
                file: file,
                "DRM-encrypted EPUB: '\(content.path)' is encrypted; Recital reads only DRM-free books"
            )
        }
    }

    private func readPackage(_ container: EPUBContainer) throws(IngestError) -> PackageDocument {
        guard container.contains("META-INF/container.xml") else {
            throw IngestError(.missingPart, file: file, "not an EPUB: META-INF/container.xml is missing")
        }
        let containerXML = try container.parseXML("META-INF/container.xml")
        var rootfiles: [(path: String, mediaType: String?)] = []
        containerXML.root?.walk { event in
            if case .enter(let element) = event, element.name == "rootfile", let path = element.attribute("full-path") {
                rootfiles.append((path, element.attribute("media-type")))
            }
            return .continue
        }
        guard
            let rootfile = rootfiles.first(where: { $0.mediaType == "application/oebps-package+xml" })
                ?? rootfiles.first
        else {
            throw IngestError(.missingPart, file: file, "META-INF/container.xml names no package document")
        }
        let opfPath = EPUBLocation.resolve(rootfile.path, relativeTo: "")?.path ?? rootfile.path
        guard container.contains(opfPath) else {
            throw IngestError(.missingPart, file: file, "the package document '\(opfPath)' is missing")
        }
        let document = try container.parseXML(opfPath)
        do {
            return try PackageDocument(path: opfPath, document: document)
        } catch {
            throw IngestError(.damaged, file: file, "'\(opfPath)' is not an OPF package document")
        }
    }

    private func extract(
        _ path: String,
        chapterTargets: Set<String>,
        listedWhole: Bool,
        container: EPUBContainer,
        diagnostics: inout [Diagnostic]
    ) throws(IngestError) -> ContentText {
        let bytes = try container.read(path)
        let document: XMLDocument
        do {
            document = try XMLDocument(bytes: bytes, mode: .xml)
        } catch let xmlError {
            if xmlError.isRefusedEntityDeclaration {
                throw IngestError(
                    .hostile,
                    file: file,
                    "'\(path)' declares XML entities (an entity-expansion or XXE attack); refused"
                )
            }
            if xmlError.message.contains("Excessive depth") {
                throw IngestError(
                    .hostile,
                    file: file,
                    "'\(path)' nests markup deeper than \(ContentText.maxDepth) levels"
                )
            }
            do {
                document = try XMLDocument(bytes: bytes, mode: .html)
                diagnostics.append(.warning("\(path) is not well-formed XHTML (\(xmlError)); read it leniently"))
            } catch {
                throw IngestError(.damaged, file: file, "'\(path)' cannot be parsed: \(error)", cause: error)
            }
        }
        do {
            return try ContentText(document: document, chapterTargets: chapterTargets, listedWhole: listedWhole)
        } catch {
            throw IngestError(.hostile, file: file, "'\(path)' nests markup deeper than \(ContentText.maxDepth) levels")
        }
    }

    // MARK: - Chapters

    /// Chapters for documents no TOC entry reaches: a document with a heading starts a chapter,
    /// one without continues the previous.
    private func headingSpans(_ slice: ArraySlice<Document>, documents: [Document]) -> [Span] {
        var spans: [Span] = []
        for index in slice.indices {
            let text = documents[index].text
            if let heading = text.firstHeading {
                spans.append(
                    Span(title: TextNormalizer.cleanTitle(heading), start: Position(document: index, offset: 0))
                )
            } else if spans.isEmpty {
                let title = text.documentTitle.map(TextNormalizer.cleanTitle) ?? ""
                spans.append(Span(title: title, start: Position(document: index, offset: 0)))
            }
        }
        return spans
    }

    private func slice(_ documents: [Document], from start: Position, to end: Position) -> (String, Double, Int) {
        var parts: [String] = []
        var linked = 0.0
        var total = 0.0
        var links = 0
        var document = start.document
        while document < documents.count, document <= end.document {
            let text = documents[document].text
            let lower = document == start.document ? start.offset : 0
            let upper = document == end.document ? end.offset : text.bytes.count
            if upper > lower {
                let part = text.slice(lower..<upper)
                if !part.isEmpty {
                    parts.append(part)
                    let share = text.linkShare(in: lower..<upper)
                    linked += share.share * Double(part.utf8.count)
                    total += Double(part.utf8.count)
                    links += share.links
                }
            }
            document += 1
        }
        let joined = TextNormalizer.nfc(parts.joined(separator: "\n\n"))
        return (joined, total > 0 ? linked / total : 0, links)
    }

    // MARK: - Cover

    private func findCover(
        _ package: PackageDocument,
        coverPages: [String],
        container: EPUBContainer,
        diagnostics: inout [Diagnostic]
    ) -> Cover? {
        var svgFallback: Cover?
        func image(at path: String, mediaType: String?) -> Cover? {
            guard let bytes = try? container.read(path), !bytes.isEmpty else { return nil }
            let type = ImageType.sniff(bytes) ?? mediaType ?? "application/octet-stream"
            if type == "image/svg+xml" {
                // An SVG cover usually wraps a raster image; the raster is what players can show.
                if let raster = rasterInside(svg: bytes, path: path) { return raster }
                if svgFallback == nil { svgFallback = Cover(mediaType: type, data: bytes) }
                return nil
            }
            return Cover(mediaType: type, data: bytes)
        }
        func rasterInside(svg bytes: [UInt8], path: String) -> Cover? {
            guard let document = try? XMLDocument(bytes: bytes, mode: .xml) else { return nil }
            // Some covers embed the picture itself as a data: URI.
            for href in imageHrefs(document) where href.hasPrefix("data:image/") {
                guard let comma = href.firstIndex(of: ","), href[..<comma].hasSuffix(";base64"),
                    let data = Data(
                        base64Encoded: String(href[href.index(after: comma)...]),
                        options: .ignoreUnknownCharacters
                    )
                else { continue }
                let raster = [UInt8](data)
                if let type = ImageType.sniff(raster), type != "image/svg+xml" {
                    return Cover(mediaType: type, data: raster)
                }
            }
            for reference in imageReferences(document, base: path) where reference.path != path {
                if let cover = image(at: reference.path, mediaType: nil) { return cover }
            }
            return nil
        }
        func pageImage(_ path: String) -> Cover? {
            guard let bytes = try? container.read(path),
                let document = (try? XMLDocument(bytes: bytes, mode: .xml))
                    ?? (try? XMLDocument(bytes: bytes, mode: .html))
            else { return nil }
            for reference in imageReferences(document, base: path) {
                if let cover = image(at: reference.path, mediaType: nil) { return cover }
            }
            return nil
        }
        func item(_ item: ManifestItem) -> Cover? {
            item.isContentDocument ? pageImage(item.path) : image(at: item.path, mediaType: item.mediaType)
        }

        if let declared = package.items.first(where: { $0.properties.contains("cover-image") }),
            let cover = item(declared)
        {
            return cover
        }
        if let reference = package.legacyCoverReference {
            let byID = package.manifest[reference]
            let byPath = EPUBLocation.resolve(reference, relativeTo: package.path).flatMap { location in
                package.items.first { $0.path == location.path }
            }
            if let target = byID ?? byPath, let cover = item(target) { return cover }
        }
        for page in coverPages {
            if let cover = pageImage(page) { return cover }
        }
        if let first = package.spine.first?.item, let cover = item(first) {
            diagnostics.append(.note("no cover declared; using the first image of the first spine document"))
            return cover
        }
        if let svgFallback {
            diagnostics.append(.warning("the cover is an SVG drawing; players may not show it"))
            return svgFallback
        }
        return nil
    }

    private func imageReferences(_ document: XMLDocument, base: String) -> [EPUBLocation] {
        imageHrefs(document).compactMap { EPUBLocation.resolve($0, relativeTo: base) }
    }

    /// The `src` of every `<img>` and the `href` of every SVG `<image>`, in document order.
    private func imageHrefs(_ document: XMLDocument) -> [String] {
        var references: [String] = []
        document.root?.walk { event in
            if case .enter(let element) = event {
                let href: String? =
                    switch element.name {
                    case "img": element.attribute("src")
                    case "image":
                        element.attribute(local: "href", namespaceURI: "http://www.w3.org/1999/xlink")
                            ?? element.attribute("xlink:href") ?? element.attribute("href")
                    default: nil
                    }
                if let href { references.append(href) }
            }
            return .continue
        }
        return references
    }
}

/// Recognises image formats by their first bytes.
enum ImageType {
    static func sniff(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if bytes.starts(with: Array("GIF8".utf8)) { return "image/gif" }
        if bytes.count > 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "image/webp"
        }
        let head = String(decoding: bytes.prefix(512), as: UTF8.self)
        if head.contains("<svg") { return "image/svg+xml" }
        return nil
    }
}
