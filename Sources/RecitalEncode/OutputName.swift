public import RecitalModel

/// File names from book metadata that are always a single valid name inside the output folder:
/// no path separators, control characters, leading dots or reserved characters, bounded length.
public enum OutputName {
    /// The longest name in UTF-8 bytes before the extension (file systems allow 255 in all).
    static let maxBytes = 180

    /// `Author - Title`, or `Title` when the book names no author.
    public static func base(title: String?, authors: [String]) -> String {
        let title = clean(title ?? "")
        let author = clean(authors.prefix(2).joined(separator: ", "))
        switch (author.isEmpty, title.isEmpty) {
        case (false, false): return limit("\(author) - \(title)")
        case (true, false): return limit(title)
        case (false, true): return limit("\(author) - Untitled")
        case (true, true): return "Untitled"
        }
    }

    /// The hidden name a file is written under until it is complete.
    public static func partial(_ name: String, _ format: AudioContainer) -> String {
        ".\(name).partial.\(format.fileExtension)"
    }

    /// Replaces what cannot or should not appear in a file name and collapses whitespace.
    static func clean(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "/", "\\", ":", "*", "?", "\"", "<", ">", "|": result.unicodeScalars.append("-")
            case _
            where scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format
                || scalar.properties.generalCategory == .lineSeparator
                || scalar.properties.generalCategory == .paragraphSeparator:
                result.unicodeScalars.append(" ")
            default: result.unicodeScalars.append(scalar)
            }
        }
        let words = result.split(whereSeparator: { $0.isWhitespace })
        var name = words.joined(separator: " ")
        while name.hasPrefix(".") || name.hasPrefix("-") || name.hasPrefix(" ") { name.removeFirst() }
        while name.hasSuffix(".") || name.hasSuffix(" ") { name.removeLast() }
        return name
    }

    /// Cuts at a character boundary so that the UTF-8 form fits.
    static func limit(_ name: String) -> String {
        guard name.utf8.count > maxBytes else { return name }
        return String(name.prefix(utf8Bytes: maxBytes)).trimmingSuffixSpaces()
    }
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var copy = self
        while copy.hasSuffix(" ") || copy.hasSuffix(".") { copy.removeLast() }
        return copy
    }
}
