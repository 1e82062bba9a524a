internal import RecitalXML

/// One entry of a book's own table of contents, flattened.
struct TOCEntry {
    var title: String
    var level: Int
    /// nil for unlinked headings in a nav.
    var location: EPUBLocation?
}

/// Reads EPUB 3 navigation documents and EPUB 2 NCX files.
enum TableOfContents {
    /// Entries of `<nav epub:type="toc">`, in document order, nested lists flattened.
    static func navEntries(document: XMLDocument, path: String) -> [TOCEntry] {
        guard let nav = findNav(in: document, type: "toc") else { return [] }
        var entries: [TOCEntry] = []
        for list in nav.elementChildren where list.name == "ol" || list.name == "ul" {
            readList(list, level: 1, base: path, into: &entries)
        }
        return entries
    }

    /// `<nav epub:type="landmarks">` entries, by type: where the cover, TOC page and so on are.
    static func landmarks(document: XMLDocument, path: String) -> [(type: String, location: EPUBLocation)] {
        guard let nav = findNav(in: document, type: "landmarks") else { return [] }
        var result: [(String, EPUBLocation)] = []
        nav.walk { event in
            if case .enter(let element) = event, element.name == "a", let href = element.attribute("href"),
                let location = EPUBLocation.resolve(href, relativeTo: path)
            {
                for type in ContentText.semanticTypes(of: element) { result.append((type, location)) }
            }
            return .continue
        }
        return result
    }

    private static func findNav(in document: XMLDocument, type: String) -> XMLNode? {
        var found: XMLNode?
        document.root?.walk { event in
            guard found == nil else { return .skipChildren }
            if case .enter(let element) = event, element.name == "nav" {
                let types = ContentText.semanticTypes(of: element)
                if types.contains(type) || types.contains("doc-\(type)") {
                    found = element
                }
                return .skipChildren
            }
            return .continue
        }
        return found
    }

    private static func readList(_ list: XMLNode, level: Int, base: String, into entries: inout [TOCEntry]) {
        guard level <= 32 else { return }
        for item in list.elementChildren where item.name == "li" {
            var label: XMLNode?
            var sublists: [XMLNode] = []
            for child in item.elementChildren {
                switch child.name {
                case "a", "span":
                    if label == nil { label = child }
                case "ol", "ul":
                    sublists.append(child)
                default:
                    // Labels are sometimes wrapped (<li><p><a>…</a></p>); look one level down.
                    if label == nil {
                        label = child.elementChildren.first { $0.name == "a" || $0.name == "span" }
                    }
                }
            }
            if let label {
                let location =
                    label.name == "a"
                    ? label.attribute("href").flatMap { EPUBLocation.resolve($0, relativeTo: base) } : nil
                entries.append(
                    TOCEntry(title: TextNormalizer.cleanTitle(labelText(label)), level: level, location: location)
                )
            }
            for sublist in sublists { readList(sublist, level: level + 1, base: base, into: &entries) }
        }
    }

    /// A label's text without ruby annotations or hidden parts.
    private static func labelText(_ node: XMLNode) -> String {
        var text = ""
        node.walk { event in
            switch event {
            case .enter(let element) where ContentText.silentElements.contains(element.name): return .skipChildren
            case .enter(let element) where element.name == "br": text += " "
            case .text(let node): text += node.text
            default: break
            }
            return .continue
        }
        return text
    }

    /// Entries of an NCX `navMap`, nested `navPoint`s flattened in document order.
    static func ncxEntries(document: XMLDocument, path: String) -> [TOCEntry] {
        guard let root = document.root, let navMap = root.elementChildren.first(where: { $0.name == "navMap" }) else {
            return []
        }
        var entries: [TOCEntry] = []
        readNavPoints(navMap, level: 1, base: path, into: &entries)
        return entries
    }

    private static func readNavPoints(_ parent: XMLNode, level: Int, base: String, into entries: inout [TOCEntry]) {
        guard level <= 32 else { return }
        for point in parent.elementChildren where point.name == "navPoint" {
            let children = point.elementChildren
            let label =
                children.first { $0.name == "navLabel" }.map { label in
                    label.elementChildren.first { $0.name == "text" }?.textContent ?? label.textContent
                } ?? ""
            let source = children.first { $0.name == "content" }?.attribute("src")
            entries.append(
                TOCEntry(
                    title: TextNormalizer.cleanTitle(label),
                    level: level,
                    location: source.flatMap { EPUBLocation.resolve($0, relativeTo: base) }
                )
            )
            readNavPoints(point, level: level + 1, base: base, into: &entries)
        }
    }
}
