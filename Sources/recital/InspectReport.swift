import Foundation
import RecitalModel

/// The `inspect` output: exactly the JSON object of DESIGN.md, or a readable summary.
struct InspectReport: Encodable {
    let book: Book
    let includeText: Bool

    private enum Keys: String, CodingKey {
        case source, format, title, authors, language, publisher, date, identifiers, description, series, cover,
            chapters, diagnostics
    }
    private enum CoverKeys: String, CodingKey { case mediaType, bytes }
    private enum ChapterKeys: String, CodingKey { case index, title, characters, segments, text }
    private enum DiagnosticKeys: String, CodingKey { case severity, message }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        let metadata = book.metadata
        try container.encode(book.source, forKey: .source)
        try container.encode(book.format.rawValue, forKey: .format)
        try container.encode(metadata.title, forKey: .title)
        try container.encode(metadata.authors, forKey: .authors)
        try container.encode(metadata.language, forKey: .language)
        try container.encode(metadata.publisher, forKey: .publisher)
        try container.encode(metadata.date, forKey: .date)
        try container.encode(metadata.identifiers, forKey: .identifiers)
        try container.encode(metadata.description, forKey: .description)
        try container.encode(
            metadata.series.map { series in
                series.position.map { "\(series.name) #\($0)" } ?? series.name
            },
            forKey: .series
        )
        if let cover = book.cover {
            var nested = container.nestedContainer(keyedBy: CoverKeys.self, forKey: .cover)
            try nested.encode(cover.mediaType, forKey: .mediaType)
            try nested.encode(cover.data.count, forKey: .bytes)
        } else {
            try container.encodeNil(forKey: .cover)
        }
        var chapters = container.nestedUnkeyedContainer(forKey: .chapters)
        for chapter in book.chapters {
            var nested = chapters.nestedContainer(keyedBy: ChapterKeys.self)
            try nested.encode(chapter.index, forKey: .index)
            try nested.encode(chapter.title, forKey: .title)
            try nested.encode(chapter.characterCount, forKey: .characters)
            try nested.encode(chapter.segments.count, forKey: .segments)
            if includeText { try nested.encode(chapter.text, forKey: .text) }
        }
        var diagnostics = container.nestedUnkeyedContainer(forKey: .diagnostics)
        for diagnostic in book.diagnostics {
            var nested = diagnostics.nestedContainer(keyedBy: DiagnosticKeys.self)
            try nested.encode(diagnostic.severity.rawValue, forKey: .severity)
            try nested.encode(diagnostic.message, forKey: .message)
        }
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func humanText() -> String {
        let metadata = book.metadata
        var lines: [String] = []
        func field(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append(name.padding(toLength: 13, withPad: " ", startingAt: 0) + value)
        }
        field("Title", metadata.title ?? "(none)")
        field("Authors", metadata.authors.isEmpty ? "(none)" : metadata.authors.joined(separator: "; "))
        field(
            "Contributors",
            metadata.contributors.map { "\($0.name) (\(RoleNames.name(for: $0.role)))" }.joined(separator: "; ")
        )
        field("Language", metadata.language)
        field("Publisher", metadata.publisher)
        field("Date", metadata.date)
        field("ISBN", metadata.isbn)
        field("Identifiers", metadata.identifiers.joined(separator: ", "))
        field("Series", metadata.series.map { s in s.position.map { "\(s.name) #\($0)" } ?? s.name })
        field("Cover", book.cover.map { "\($0.mediaType), \($0.data.count) bytes" } ?? "(none)")
        if let description = metadata.description {
            field("Description", description.count > 200 ? String(description.prefix(200)) + "…" : description)
        }
        let rate = SpeakingRate(language: metadata.language)
        let total = book.chapters.reduce(0) { $0 + $1.characterCount }
        let segments = book.chapters.reduce(0) { $0 + $1.segments.count }
        lines.append("")
        lines.append(
            "\(book.chapters.count) chapters, \(total) characters, \(segments) segments, "
                + "about \(Self.format(rate.duration(forCharacters: total))) of speech"
        )
        let width = String(book.chapters.count).count
        for chapter in book.chapters {
            let number = String(chapter.index).leftPadded(to: width)
            let title = chapter.title.count > 48 ? String(chapter.title.prefix(47)) + "…" : chapter.title
            lines.append(
                "  \(number)  \(title.padding(toLength: 48, withPad: " ", startingAt: 0))"
                    + "  \(String(chapter.characterCount).leftPadded(to: 7)) chars"
                    + "  \(String(chapter.segments.count).leftPadded(to: 4)) segs"
                    + "  \(Self.format(chapter.estimatedDuration(language: metadata.language)).leftPadded(to: 8))"
            )
            if includeText {
                lines.append("")
                lines.append(chapter.text)
                lines.append("")
            }
        }
        if !book.diagnostics.isEmpty {
            lines.append("")
            lines.append("Diagnostics:")
            for diagnostic in book.diagnostics { lines.append("  \(diagnostic)") }
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        return hours > 0
            ? "\(hours)h\(String(format: "%02d", minutes))m" : "\(minutes)m\(String(format: "%02d", seconds % 60))s"
    }
}

/// Readable names for MARC relator codes that books use for contributors.
enum RoleNames {
    static func name(for code: String) -> String {
        switch code {
        case "trl": "translator"
        case "nrt": "narrator"
        case "ill": "illustrator"
        case "edt": "editor"
        case "aui": "foreword"
        case "aft": "afterword"
        case "bkp": "producer"
        case "cov": "cover designer"
        case "ctb": "contributor"
        default: code
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
