internal import Foundation

/// A place inside an EPUB: a ZIP entry path and an optional fragment identifier.
struct EPUBLocation: Hashable {
    var path: String
    var fragment: String?

    /// Resolves an href written in the file at `base` (percent-decoded, `./` and `../` folded).
    /// Returns nil for hrefs that leave the book (`http:`, `mailto:`) or the container.
    static func resolve(_ href: String, relativeTo base: String) -> EPUBLocation? {
        let trimmed = href.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        if let colon = trimmed.firstIndex(of: ":"), let slash = trimmed.firstIndex(of: "/"), colon < slash {
            return nil  // has a scheme
        }
        if trimmed.hasPrefix("mailto:") || trimmed.hasPrefix("data:") { return nil }
        var pathPart = trimmed
        var fragment: String?
        if let hash = trimmed.firstIndex(of: "#") {
            pathPart = String(trimmed[..<hash])
            let raw = String(trimmed[trimmed.index(after: hash)...])
            fragment = raw.isEmpty ? nil : (raw.removingPercentEncoding ?? raw)
        }
        if let query = pathPart.firstIndex(of: "?") { pathPart = String(pathPart[..<query]) }
        let decoded = pathPart.removingPercentEncoding ?? pathPart
        if decoded.isEmpty { return EPUBLocation(path: base, fragment: fragment) }
        var components: [Substring] = decoded.hasPrefix("/") ? [] : directory(of: base).split(separator: "/")
        for part in decoded.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if components.isEmpty { return nil }
                components.removeLast()
            default: components.append(part)
            }
        }
        return EPUBLocation(path: components.joined(separator: "/"), fragment: fragment)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
}
