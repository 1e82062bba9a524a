internal import Foundation
internal import RecitalXML

/// The text of an SVG drawing, as fixed-layout books (picture books, illustrated editions) carry
/// it: `<text>` elements line by line, often over a page image, with words broken at line ends.
/// Lines are read in document order unless that order is clearly not reading order (many lines
/// going back up the page), then top to bottom; lines close together join into paragraphs, and a
/// word broken with a hyphen at a line's end is made whole again.
struct SVGText {
    struct Line {
        var text: String
        var x: Double?
        var y: Double?
    }

    var paragraphs: [String] = []
    /// The drawing has an image and no text: a picture-only page.
    var pictureOnly = false

    init(_ svg: XMLNode) {
        var lines: [Line] = []
        var hasImage = false
        svg.walk { event in
            guard case .enter(let element) = event else { return .continue }
            switch element.name.lowercased() {
            case "image":
                hasImage = true
            case "text":
                lines += Self.lines(of: element)
                return .skipChildren
            case "title", "desc", "metadata", "style", "script", "defs":
                // Descriptions of the drawing, not its text.
                return .skipChildren
            default:
                break
            }
            return .continue
        }
        lines = lines.filter { !$0.text.isEmpty }
        guard !lines.isEmpty else {
            pictureOnly = hasImage
            return
        }
        if Self.outOfOrder(lines) {
            lines = lines.enumerated().sorted { a, b in
                let (ya, yb) = (a.element.y ?? 0, b.element.y ?? 0)
                if abs(ya - yb) > 1 { return ya < yb }
                return (a.element.x ?? 0, a.offset) < (b.element.x ?? 0, b.offset)
            }.map(\.element)
        }
        // A gap much wider than the usual line spacing starts a new paragraph.
        let gaps = zip(lines, lines.dropFirst()).compactMap { a, b -> Double? in
            guard let ya = a.y, let yb = b.y, yb > ya else { return nil }
            return yb - ya
        }.sorted()
        // The lower median: with few lines, one paragraph gap must not set the usual spacing.
        let spacing = gaps.isEmpty ? nil : gaps[(gaps.count - 1) / 2]
        var current = ""
        var previous: Line?
        for line in lines {
            if let previous, let spacing, let ya = previous.y, let yb = line.y, yb - ya > spacing * 1.6 || yb < ya {
                paragraphs.append(current)
                current = ""
            }
            current = Self.join(current, line.text)
            previous = line
        }
        if !current.isEmpty { paragraphs.append(current) }
    }

    /// A `<text>` element's lines: each `<tspan>` placed on a new `y` starts one; otherwise the
    /// whole element is one line.
    static func lines(of text: XMLNode) -> [Line] {
        var lines = [Line(text: "", x: number(text.attribute("x")), y: number(text.attribute("y")))]
        text.walk { event in
            switch event {
            case .enter(let element) where element.name.lowercased() == "tspan":
                if let y = number(element.attribute("y")), y != lines[lines.count - 1].y {
                    if lines[lines.count - 1].text.isEmpty {
                        lines[lines.count - 1].y = y
                        lines[lines.count - 1].x = number(element.attribute("x")) ?? lines[lines.count - 1].x
                    } else {
                        lines.append(Line(text: "", x: number(element.attribute("x")), y: y))
                    }
                }
            case .text(let node):
                lines[lines.count - 1].text += node.text
            default:
                break
            }
            return .continue
        }
        return lines.map { line in
            var line = line
            line.text = line.text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            return line
        }
    }

    /// Whether document order is clearly not reading order: more than a quarter of the steps from
    /// one line to the next go back up the page (and not to a new column to the right).
    static func outOfOrder(_ lines: [Line]) -> Bool {
        var steps = 0
        var upward = 0
        for (a, b) in zip(lines, lines.dropFirst()) {
            guard let ya = a.y, let yb = b.y else { continue }
            steps += 1
            let newColumn = (b.x ?? 0) > (a.x ?? 0) + 100
            if yb < ya - 1, !newColumn { upward += 1 }
        }
        return steps > 0 && upward * 4 > steps
    }

    /// Joins a line to the text before it: a word broken with a hyphen at the line's end (`res-` /
    /// `tait`) is made whole; otherwise a space.
    static func join(_ text: String, _ line: String) -> String {
        guard !text.isEmpty else { return line }
        let scalars = Array(text.unicodeScalars)
        if scalars.count >= 2, scalars[scalars.count - 1] == "-",
            CharacterSet.letters.contains(scalars[scalars.count - 2]),
            let first = line.unicodeScalars.first, CharacterSet.lowercaseLetters.contains(first)
        {
            return String(text.dropLast()) + line
        }
        return text + " " + line
    }

    /// The first number of an SVG length or list (`60`, `60px`, `60 72`).
    static func number(_ value: String?) -> Double? {
        guard let value else { return nil }
        let first = value.split(whereSeparator: { $0 == " " || $0 == "," }).first.map(String.init) ?? ""
        return Double(first.prefix { $0.isNumber || $0 == "." || $0 == "-" })
    }
}
