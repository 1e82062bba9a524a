internal import Foundation
internal import RecitalModel
internal import RecitalXML

struct ManifestItem {
    var id: String
    var path: String
    var mediaType: String
    var properties: Set<String>

    var isContentDocument: Bool {
        mediaType == "application/xhtml+xml" || mediaType == "text/html" || mediaType == "application/xml"
            || path.hasSuffix(".xhtml") || path.hasSuffix(".html") || path.hasSuffix(".htm")
    }
    var isImage: Bool { mediaType.hasPrefix("image/") }
}

struct SpineItem {
    var item: ManifestItem
    var linear: Bool
}

struct GuideReference {
    var type: String
    var title: String
    var location: EPUBLocation
}

/// The root element is not `<package>`.
struct NotAPackageDocument: Error {}

/// The OPF package document: metadata, manifest, spine and guide.
struct PackageDocument {
    var path: String
    var version: String
    var metadata = BookMetadata()
    var manifest: [String: ManifestItem] = [:]
    var items: [ManifestItem] = []
    var spine: [SpineItem] = []
    var ncxPath: String?
    var guide: [GuideReference] = []
    /// The `content` of `<meta name="cover">`: a manifest id, or in some books a path.
    var legacyCoverReference: String?
    var diagnostics: [Diagnostic] = []

    init(path: String, document: XMLDocument) throws(NotAPackageDocument) {
        self.path = path
        guard let root = document.root, root.name == "package" else { throw NotAPackageDocument() }
        version = root.attribute("version") ?? "2.0"
        for section in root.elementChildren {
            switch section.name {
            case "manifest": readManifest(section)
            case "metadata": readMetadata(section)
            case "guide": readGuide(section)
            default: break
            }
        }
        // The spine refers to manifest ids, so it is read once the manifest is known.
        for section in root.elementChildren where section.name == "spine" { readSpine(section) }
    }

    // MARK: Manifest and spine

    private mutating func readManifest(_ element: XMLNode) {
        for node in element.elementChildren where node.name == "item" {
            guard let id = node.attribute("id"), let href = node.attribute("href"),
                let location = EPUBLocation.resolve(href, relativeTo: path)
            else { continue }
            let properties = Set((node.attribute("properties") ?? "").split(separator: " ").map(String.init))
            let item = ManifestItem(
                id: id,
                path: location.path,
                mediaType: (node.attribute("media-type") ?? "").lowercased(),
                properties: properties
            )
            if manifest[id] != nil {
                diagnostics.append(.warning("manifest id '\(id)' is used twice; the first item is used"))
            } else {
                manifest[id] = item
            }
            items.append(item)
        }
    }

    private mutating func readSpine(_ element: XMLNode) {
        if let toc = element.attribute("toc"), let item = manifest[toc] { ncxPath = item.path }
        for node in element.elementChildren where node.name == "itemref" {
            guard let idref = node.attribute("idref") else { continue }
            guard let item = manifest[idref] else {
                diagnostics.append(.warning("spine refers to unknown manifest id '\(idref)'; skipped"))
                continue
            }
            spine.append(SpineItem(item: item, linear: node.attribute("linear")?.lowercased() != "no"))
        }
        if ncxPath == nil {
            ncxPath = items.first { $0.mediaType == "application/x-dtbncx+xml" }?.path
        }
    }

    private mutating func readGuide(_ element: XMLNode) {
        for node in element.elementChildren where node.name == "reference" {
            guard let type = node.attribute("type"), let href = node.attribute("href"),
                let location = EPUBLocation.resolve(href, relativeTo: path)
            else { continue }
            guide.append(
                GuideReference(type: type.lowercased(), title: node.attribute("title") ?? "", location: location)
            )
        }
    }

    // MARK: Metadata

    private struct Entry {
        var name: String
        var id: String?
        var value: String
        var role: String?
        var scheme: String?
    }

    private mutating func readMetadata(_ element: XMLNode) {
        var entries: [Entry] = []
        var refinements: [String: [(property: String, value: String)]] = [:]
        var legacyMeta: [String: String] = [:]
        var collections: [(id: String?, name: String)] = []

        // Dublin Core may sit directly in <metadata> or (OPF 2.0 drafts) inside <dc-metadata>.
        var nodes = element.elementChildren
        nodes += nodes.filter { $0.name == "dc-metadata" || $0.name == "x-metadata" }.flatMap(\.elementChildren)
        for node in nodes {
            if node.name == "meta" {
                if let property = node.attribute("property") {
                    let value = TextNormalizer.clean(node.textContent)
                    if let refines = node.attribute("refines") {
                        let target = refines.hasPrefix("#") ? String(refines.dropFirst()) : refines
                        refinements[target, default: []].append((property, value))
                    } else if property == "belongs-to-collection" {
                        collections.append((node.attribute("id"), value))
                    }
                } else if let name = node.attribute("name"), let content = node.attribute("content") {
                    legacyMeta[name.lowercased()] = content
                }
                continue
            }
            let value = TextNormalizer.clean(node.textContent)
            guard !value.isEmpty else { continue }
            entries.append(
                Entry(
                    name: node.name,
                    id: node.attribute("id"),
                    value: value,
                    role: node.attribute(local: "role", namespaceURI: "http://www.idpf.org/2007/opf")
                        ?? node.attribute("opf:role") ?? node.attribute("role"),
                    scheme: node.attribute(local: "scheme", namespaceURI: "http://www.idpf.org/2007/opf")
                        ?? node.attribute("opf:scheme") ?? node.attribute("scheme")
                )
            )
        }
        func refined(_ entry: Entry, _ property: String) -> [String] {
            guard let id = entry.id else { return [] }
            return (refinements[id] ?? []).filter { $0.property == property }.map(\.value)
        }

        let titles = entries.filter { $0.name == "title" }
        metadata.title = (titles.first { refined($0, "title-type").contains("main") } ?? titles.first)?.value

        for entry in entries where entry.name == "creator" || entry.name == "contributor" {
            var roles = refined(entry, "role").map { $0.lowercased() }
            if let role = entry.role { roles.append(role.lowercased()) }
            if entry.name == "creator" && (roles.isEmpty || roles.contains("aut")) {
                metadata.authors.append(entry.value)
            } else {
                metadata.contributors.append(Contributor(name: entry.value, role: roles.first ?? "ctb"))
            }
        }
        metadata.language = entries.first { $0.name == "language" }?.value
        metadata.publisher = entries.first { $0.name == "publisher" }?.value
        metadata.date = entries.first { $0.name == "date" }?.value
        metadata.subjects = entries.filter { $0.name == "subject" }.map(\.value)
        metadata.identifiers = entries.filter { $0.name == "identifier" }.map(\.value)
        metadata.isbn =
            entries.filter { $0.name == "identifier" }.lazy.compactMap { entry in
                ISBN.recognise(entry.value, declaredScheme: entry.scheme ?? refined(entry, "identifier-type").first)
            }.first
        if let description = entries.first(where: { $0.name == "description" })?.value {
            metadata.description = Self.plainText(fromHTML: description)
        }
        if let collection = collections.first {
            let position = collection.id.flatMap { id in
                refinements[id]?.first { $0.property == "group-position" }?.value
            }
            metadata.series = Series(name: collection.name, position: position)
        } else if let name = legacyMeta["calibre:series"], !name.isEmpty {
            metadata.series = Series(name: name, position: legacyMeta["calibre:series_index"])
        }
        legacyCoverReference = legacyMeta["cover"]
    }

    /// Descriptions often carry (escaped) HTML; a listener wants the words.
    static func plainText(fromHTML text: String) -> String {
        guard text.contains("<") || text.contains("&") else { return text }
        let wrapped = "<html><body><div>" + text + "</div></body></html>"
        guard let document = try? XMLDocument(bytes: Array(wrapped.utf8), mode: .html), let root = document.root else {
            return text
        }
        var words = ""
        root.walk { event in
            switch event {
            case .text(let node): words += node.text
            case .enter(let element) where ContentText.blockElements.contains(element.name): words += " "
            case .enter(let element) where element.name == "br": words += " "
            default: break
            }
            return .continue
        }
        return TextNormalizer.clean(words)
    }
}

/// ISBN recognition: an identifier is an ISBN when its scheme says so or its digits check out.
enum ISBN {
    static func recognise(_ value: String, declaredScheme: String?) -> String? {
        let lowered = value.lowercased()
        let declared =
            declaredScheme?.lowercased().contains("isbn") == true || lowered.hasPrefix("urn:isbn:")
            || lowered.hasPrefix("isbn")
        let candidate = lowered.replacingOccurrences(of: "urn:isbn:", with: "").replacingOccurrences(
            of: "isbn",
            with: ""
        )
        let digits = candidate.filter { $0.isASCII && ($0.isNumber || $0 == "x") }
        let separatorsOnly = candidate.allSatisfy { $0.isNumber || $0 == "x" || $0 == "-" || $0 == " " || $0 == ":" }
        guard separatorsOnly || declared else { return nil }
        if digits.count == 13, isValid13(digits) { return digits }
        if digits.count == 10, isValid10(digits) { return digits.uppercased() }
        return nil
    }

    static func isValid13(_ digits: String) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        guard values.count == 13, digits.hasPrefix("978") || digits.hasPrefix("979") else { return false }
        let sum = values.enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 3) }
        return sum % 10 == 0
    }

    static func isValid10(_ digits: String) -> Bool {
        var sum = 0
        for (offset, character) in digits.enumerated() {
            let value: Int
            if character == "x" && offset == 9 {
                value = 10
            } else if let digit = character.wholeNumberValue {
                value = digit
            } else {
                return false
            }
            sum += value * (10 - offset)
        }
        return sum % 11 == 0
    }
}
