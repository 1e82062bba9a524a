internal import RecitalXML

/// Elements nested past ``ContentText/maxDepth``.
struct MarkupTooDeep: Error {}

/// The readable text of one content document, with where each `id` falls in it.
///
/// Text is UTF-8 bytes so that slicing at anchors is exact and cheap. Paragraphs are separated by
/// `"\n\n"`, line breaks (`<br>`) by `"\n"`; everything else is single spaces.
struct ContentText {
    var bytes: [UInt8] = []
    /// Byte offset where each element id starts (after any separator that precedes it).
    var anchors: [String: Int] = [:]
    /// Byte ranges of text inside links to other parts of the book, to recognise contents pages.
    var linkRanges: [Range<Int>] = []
    /// Text of the first heading (h1–h6), for books whose TOC is missing.
    var firstHeading: String?
    /// The document's `<title>`.
    var documentTitle: String?
    /// Semantic types found on `<body>` or a top-level section wrapping the whole text.
    var rootTypes: Set<String> = []
    /// How many of each kind of unspoken element were left out ("footnote" → 3).
    var skipped: [String: Int] = [:]
    /// Bytes of text left out because they were notes, page numbers and similar.
    var skippedCharacters = 0

    /// Deepest element nesting accepted; libxml2's own default limit for XML is the same.
    static let maxDepth = 256

    static let blockElements: Set<String> = [
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "title", "img",
    ]
    /// Elements whose content is never spoken.
    static let silentElements: Set<String> = [
        "head", "script", "style", "noscript", "template", "rt", "rp", "annotation", "annotation-xml",
        "object", "iframe", "audio", "video", "canvas", "map", "button", "select", "textarea", "input",
    ]
    /// `epub:type` / `role` values of content a listener should not hear.
    static let silentTypes: [String: String] = [
        "noteref": "note reference", "doc-noteref": "note reference",
        "footnote": "footnote", "doc-footnote": "footnote", "footnotes": "footnote",
        "endnote": "endnote", "doc-endnote": "endnote", "endnotes": "endnote", "doc-endnotes": "endnote",
        "rearnote": "endnote", "rearnotes": "endnote", "note": "footnote",
        "pagebreak": "page number", "doc-pagebreak": "page number", "page-list": "page list",
        "doc-pagelist": "page list", "toc": "table of contents", "doc-toc": "table of contents",
        "landmarks": "landmarks", "loi": "list of illustrations", "lot": "list of tables",
        "doc-backlink": "back link", "index": "index", "doc-index": "index",
    ]

    private enum Pending: Int, Comparable {
        case none, space, line, paragraph
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Extracts the text of a parsed document.
    /// - Throws: `.hostile` when elements nest deeper than ``maxDepth``.
    /// - Parameters:
    ///   - chapterTargets: ids the book's TOC points at; a notes section that the TOC lists as a
    ///     chapter of its own is read, not skipped.
    ///   - listedWhole: the TOC points at this document itself, so a notes section that makes up its
    ///     body is the chapter it lists.
    init(document: XMLDocument, chapterTargets: Set<String> = [], listedWhole: Bool = false) throws(MarkupTooDeep) {
        guard let root = document.root else { return }
        var pending = Pending.none
        var pendingAnchors: [String] = []
        var depth = 0
        var linkDepth = 0
        var linkStart = 0
        var headingDepth = 0
        var headingText = ""
        var tooDeep = false
        var bodyDepth: Int?
        // Depth of a notes section the TOC lists as a chapter: the notes inside it are its text.
        var listedNotesDepth: Int?
        let noteKinds: Set<String> = ["footnote", "endnote"]

        func resolvePendingAnchors() {
            for anchor in pendingAnchors where anchors[anchor] == nil { anchors[anchor] = bytes.count }
            pendingAnchors.removeAll()
        }

        func append(_ text: String) {
            for scalar in text.unicodeScalars {
                if TextNormalizer.isInvisible(scalar) { continue }
                if TextNormalizer.isSpace(scalar) {
                    if pending < .space { pending = .space }
                    continue
                }
                if pending != .none, headingDepth > 0, !headingText.isEmpty { headingText += " " }
                if !bytes.isEmpty {
                    switch pending {
                    case .paragraph: bytes.append(contentsOf: [0x0A, 0x0A])
                    case .line: bytes.append(0x0A)
                    case .space: bytes.append(0x20)
                    case .none: break
                    }
                }
                pending = .none
                if !pendingAnchors.isEmpty { resolvePendingAnchors() }
                Self.appendUTF8(scalar, to: &bytes)
                if headingDepth > 0 { headingText.unicodeScalars.append(scalar) }
            }
        }

        root.walk { event in
            switch event {
            case .enter(let element):
                depth += 1
                if depth > Self.maxDepth {
                    tooDeep = true
                    return .skipChildren
                }
                let name = element.name.lowercased()
                if let id = element.attribute("id") ?? (name == "a" ? element.attribute("name") : nil) {
                    if pending != .none || bytes.isEmpty {
                        pendingAnchors.append(id)
                    } else if anchors[id] == nil {
                        anchors[id] = bytes.count
                    }
                }
                if name == "title", documentTitle == nil {
                    documentTitle = TextNormalizer.clean(element.textContent)
                    return .skipChildren
                }
                let types = Self.semanticTypes(of: element)
                if name == "body" {
                    bodyDepth = depth
                    rootTypes.formUnion(types)
                } else if let bodyDepth, depth == bodyDepth + 1, bytes.isEmpty,
                    element.nextSibling.map(Self.isOnlyWhitespaceAfter) ?? true
                {
                    rootTypes.formUnion(types)
                }
                let listedAsChapter =
                    (element.attribute("id").map(chapterTargets.contains) ?? false)
                    || (listedWhole && bodyDepth.map { depth == $0 + 1 } == true)
                if listedAsChapter, listedNotesDepth == nil,
                    types.contains(where: { Self.silentTypes[$0].map(noteKinds.contains) ?? false })
                {
                    listedNotesDepth = depth
                }
                let semanticKind = types.lazy.compactMap({ Self.silentTypes[$0] }).first.flatMap { kind in
                    listedNotesDepth != nil && noteKinds.contains(kind) ? nil : kind
                }
                if let kind = semanticKind
                    ?? (Self.silentElements.contains(name) ? name : nil)
                    ?? (Self.isHidden(element) ? "hidden element" : nil)
                {
                    if Self.silentTypes.values.contains(kind) || kind == "hidden element" {
                        skipped[kind, default: 0] += 1
                        skippedCharacters += element.textContent.utf8.count
                    }
                    if Self.blockElements.contains(name) { pending = .paragraph }
                    return .skipChildren
                }
                if name == "svg" {
                    // Fixed-layout pages keep their text in SVG lines, often over the page's picture.
                    let drawing = SVGText(element)
                    if drawing.pictureOnly { skipped["picture-only page", default: 0] += 1 }
                    for paragraph in drawing.paragraphs {
                        pending = .paragraph
                        append(paragraph)
                    }
                    pending = .paragraph
                    return .skipChildren
                }
                if name == "br" {
                    pending = max(pending, .line)
                } else if Self.blockElements.contains(name) {
                    pending = .paragraph
                }
                if name.count == 2, name.first == "h", let level = name.last?.wholeNumberValue, (1...6).contains(level)
                {
                    headingDepth += 1
                }
                if name == "a", let href = element.attribute("href"), !href.contains("://"), !href.hasPrefix("mailto:")
                {
                    if linkDepth == 0 { linkStart = -1 }
                    linkDepth += 1
                }
            case .exit(let element):
                if listedNotesDepth == depth { listedNotesDepth = nil }
                depth -= 1
                let name = element.name.lowercased()
                if Self.blockElements.contains(name) { pending = .paragraph }
                if name.count == 2, name.first == "h", let level = name.last?.wholeNumberValue, (1...6).contains(level)
                {
                    headingDepth -= 1
                    if headingDepth == 0 {
                        let cleaned = TextNormalizer.clean(headingText)
                        if firstHeading == nil, !cleaned.isEmpty { firstHeading = cleaned }
                        headingText = ""
                    }
                }
                if name == "a", linkDepth > 0, let href = element.attribute("href"), !href.contains("://"),
                    !href.hasPrefix("mailto:")
                {
                    linkDepth -= 1
                    if linkDepth == 0, linkStart >= 0, linkStart < bytes.count {
                        linkRanges.append(linkStart..<bytes.count)
                    }
                }
            case .text(let node):
                let text = node.text
                if linkDepth > 0, linkStart < 0, text.unicodeScalars.contains(where: { !TextNormalizer.isSpace($0) }) {
                    // The link's text starts after any separator the append is about to write.
                    let before = bytes.count
                    append(text)
                    let firstByte = bytes[before...].firstIndex { $0 != 0x20 && $0 != 0x0A } ?? before
                    linkStart = firstByte
                    return .continue
                }
                append(text)
            }
            return .continue
        }
        if tooDeep { throw MarkupTooDeep() }
        resolvePendingAnchors()
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Encodes one scalar without the allocation `String(scalar).utf8` costs.
    @inline(__always)
    static func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        let value = scalar.value
        switch value {
        case ..<0x80:
            bytes.append(UInt8(value))
        case ..<0x800:
            bytes.append(UInt8(0xC0 | (value >> 6)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        case ..<0x10000:
            bytes.append(UInt8(0xE0 | (value >> 12)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (value >> 18)))
            bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        }
    }

    /// Text between two byte offsets, trimmed of separators.
    func slice(_ range: Range<Int>) -> String {
        var lower = max(0, min(range.lowerBound, bytes.count))
        var upper = max(lower, min(range.upperBound, bytes.count))
        // Offsets come from anchors, which never fall inside a UTF-8 sequence; still be safe.
        while lower < upper, bytes[lower] & 0xC0 == 0x80 { lower += 1 }
        while upper < bytes.count, upper > lower, bytes[upper] & 0xC0 == 0x80 { upper -= 1 }
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x0A { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x0A { upper -= 1 }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// Share of the non-space text in `range` that sits inside links to the book itself.
    func linkShare(in range: Range<Int>) -> (share: Double, links: Int) {
        var linked = 0
        var links = 0
        for link in linkRanges {
            let overlap = max(0, min(link.upperBound, range.upperBound) - max(link.lowerBound, range.lowerBound))
            if overlap > 0 {
                linked += overlap
                links += 1
            }
        }
        let clamped = max(0, min(range.upperBound, bytes.count) - max(range.lowerBound, 0))
        guard clamped > 0 else { return (0, 0) }
        let spaces = bytes[max(range.lowerBound, 0)..<min(range.upperBound, bytes.count)].lazy.filter {
            $0 == 0x20 || $0 == 0x0A
        }.count
        return (Double(linked) / Double(max(1, clamped - spaces)), links)
    }

    static func semanticTypes(of element: XMLNode) -> Set<String> {
        var types = Set<String>()
        for attribute in ["epub:type", "role"] {
            guard let value = element.attribute(attribute) else { continue }
            for token in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                types.insert(token.lowercased())
            }
        }
        if let value = element.attribute(local: "type", namespaceURI: "http://www.idpf.org/2007/ops") {
            for token in value.split(separator: " ") { types.insert(token.lowercased()) }
        }
        return types
    }

    private static func isHidden(_ element: XMLNode) -> Bool {
        if element.attribute("hidden") != nil { return true }
        guard let style = element.attribute("style")?.lowercased() else { return false }
        let compact = style.filter { !$0.isWhitespace }
        return compact.contains("display:none") || compact.contains("visibility:hidden")
    }

    private static func isOnlyWhitespaceAfter(_ sibling: XMLNode) -> Bool {
        var node: XMLNode? = sibling
        while let current = node {
            if current.kind == .element { return false }
            if current.kind == .text, !current.text.allSatisfy(\.isWhitespace) { return false }
            node = current.nextSibling
        }
        return true
    }
}
