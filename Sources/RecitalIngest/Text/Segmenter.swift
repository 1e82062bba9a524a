public import RecitalModel

/// How chapter text is cut into segments for synthesis.
public struct SegmentationOptions: Sendable, Equatable {
    /// The longest segment, in characters. Whole sentences are packed up to this length; longer
    /// sentences are split at clause punctuation, then between words.
    public var maxCharacters: Int

    public static let defaultMaxCharacters = 400

    public init(maxCharacters: Int = SegmentationOptions.defaultMaxCharacters) {
        self.maxCharacters = max(20, maxCharacters)
    }

    /// These options with the maximum lowered to a backend's hard limit when that is smaller.
    public func limited(to backendLimit: Int?) -> Self {
        guard let backendLimit else { return self }
        return Self(maxCharacters: min(maxCharacters, backendLimit))
    }
}

/// Splits chapter text into speakable segments: sentence-aligned, bounded in length, never cutting
/// inside a word, with paragraph and chapter boundaries recorded for the encoder's pauses.
public struct Segmenter: Sendable {
    public var options: SegmentationOptions

    public init(options: SegmentationOptions = SegmentationOptions()) {
        self.options = options
    }

    /// Segments of a chapter's text (paragraphs separated by blank lines).
    public func segments(of text: String) -> [Segment] {
        var result: [Segment] = []
        let scalars = Array(text.unicodeScalars)
        // UTF-8 offset of each scalar, so that segment strings are cut from the bytes in one copy.
        let utf8 = Array(text.utf8)
        var offsets: [Int] = []
        offsets.reserveCapacity(scalars.count + 1)
        var offset = 0
        for scalar in scalars {
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        for paragraph in Self.paragraphs(in: scalars) {
            var first = true
            for piece in pieces(of: scalars, in: paragraph) {
                let range = Self.trimmed(piece.range, in: scalars)
                let pieceText = String(
                    decoding: utf8[offsets[range.lowerBound]..<offsets[range.upperBound]],
                    as: UTF8.self
                )
                guard !pieceText.isEmpty else { continue }
                let boundary: SegmentBoundary =
                    result.isEmpty ? .chapter : (first ? .paragraph : piece.boundary)
                result.append(Segment(index: result.count, text: pieceText, boundary: boundary))
                first = false
            }
        }
        return result
    }

    // MARK: - Packing

    private struct Piece {
        var range: Range<Int>
        var boundary: SegmentBoundary
    }

    /// Ranges of paragraphs: text between blank lines.
    static func paragraphs(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\n", index + 1 < scalars.count, scalars[index + 1] == "\n" {
                if index > start { result.append(start..<index) }
                index += 2
                while index < scalars.count, scalars[index] == "\n" { index += 1 }
                start = index
            } else {
                index += 1
            }
        }
        if start < scalars.count { result.append(start..<scalars.count) }
        return result
    }

    private func pieces(of scalars: [Unicode.Scalar], in paragraph: Range<Int>) -> [Piece] {
        let limit = options.maxCharacters
        var pieces: [Piece] = []
        var current: Piece?
        for sentence in Self.sentences(in: scalars, range: paragraph) {
            if sentence.count > limit {
                if let open = current { pieces.append(open) }
                current = nil
                pieces.append(contentsOf: split(sentence, of: scalars))
            } else if let open = current, sentence.upperBound - open.range.lowerBound <= limit {
                current = Piece(range: open.range.lowerBound..<sentence.upperBound, boundary: open.boundary)
            } else {
                if let open = current { pieces.append(open) }
                current = Piece(range: sentence, boundary: .sentence)
            }
        }
        if let open = current { pieces.append(open) }
        return pieces
    }

    /// Cuts an over-long sentence at clause punctuation, else at the last space, else (scripts
    /// written without spaces, or one enormous token) at the limit, moved back so that combining
    /// marks stay with their base character.
    private func split(_ sentence: Range<Int>, of scalars: [Unicode.Scalar]) -> [Piece] {
        let limit = options.maxCharacters
        var pieces: [Piece] = []
        var start = sentence.lowerBound
        var boundary = SegmentBoundary.sentence
        while sentence.upperBound - start > limit {
            let end = start + limit
            let floor = start + limit / 3
            var cut: Int?
            var kind = SegmentBoundary.clause
            var index = end - 1
            while index > floor {
                if Self.isClausePunctuation(scalars[index]), index + 1 < scalars.count,
                    Self.isSpace(scalars[index + 1]) || Self.isWideScript(scalars[index])
                {
                    cut = index + 1
                    break
                }
                index -= 1
            }
            if cut == nil {
                kind = .word
                index = end
                while index > start + 1 {
                    if Self.isSpace(scalars[index]) {
                        cut = index
                        break
                    }
                    index -= 1
                }
            }
            var at = cut ?? end
            if cut == nil {
                while at > start + 1, Self.isExtending(scalars[at]) { at -= 1 }
            }
            pieces.append(Piece(range: start..<at, boundary: boundary))
            boundary = kind
            start = at
            while start < sentence.upperBound, Self.isSpace(scalars[start]) { start += 1 }
        }
        if start < sentence.upperBound { pieces.append(Piece(range: start..<sentence.upperBound, boundary: boundary)) }
        return pieces
    }

    // MARK: - Sentences

    /// Words that end in a full stop without ending the sentence.
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "mx", "dr", "prof", "st", "jr", "sr", "rev", "hon", "gen", "col", "capt", "lt", "sgt",
        "maj", "cmdr", "adm", "gov", "pres", "sen", "rep", "messrs", "mme", "mlle", "mt", "ft", "vs", "etc", "e.g",
        "i.e", "cf", "viz", "al", "approx", "ca", "no", "nos", "vol", "vols", "fig", "figs", "p", "pp", "ch", "chap",
        "sec", "ed", "eds", "est", "dept", "univ", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun",
        "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "u.s", "u.k", "ph.d", "b.a", "m.a", "d.c",
        "z.b", "bzw", "usw", "vgl", "ggf", "s", "nr", "hr", "fr", "str", "mm", "sig",
    ]

    static func isTerminator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2E, 0x21, 0x3F, 0x2026, 0x203C, 0x2047, 0x2048, 0x2049, 0x061F, 0x0964, 0x0965: true
        default: false
        }
    }

    /// Terminators of scripts written without spaces between sentences.
    static func isWideTerminator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3002, 0xFF01, 0xFF1F, 0xFF61, 0xFF0E: true
        default: false
        }
    }

    static func isCloser(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x22, 0x27, 0x29, 0x5D, 0x7D, 0x201D, 0x2019, 0xBB, 0x203A, 0x300D, 0x300F, 0x3009, 0x300B, 0x3011,
            0xFF09, 0x3015, 0xFF3D, 0xFF5D:
            true
        default: false
        }
    }

    static func isClausePunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2C, 0x3B, 0x3A, 0x2014, 0x2013, 0x3001, 0xFF0C, 0xFF1B, 0xFF1A, 0x061B, 0x060C: true
        default: false
        }
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x80
            ? (scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r") : scalar.properties.isWhitespace
    }

    /// Combining marks, joiners and variation selectors: never the first scalar of a segment.
    static func isExtending(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.value >= 0x300 else { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return scalar.value == 0x200D || (0xFE00...0xFE0F).contains(scalar.value)
        }
    }

    static func isWideScript(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (0x3000...0x9FFF).contains(value) || (0xF900...0xFAFF).contains(value)
            || (0xFF00...0xFFEF).contains(value) || (0xAC00...0xD7AF).contains(value)
    }

    /// Sentence ranges covering `range` without gaps (each keeps its trailing space).
    static func sentences(in scalars: [Unicode.Scalar], range: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = range.lowerBound
        var index = range.lowerBound
        let count = range.upperBound
        while index < count {
            let scalar = scalars[index]
            let wide = isWideTerminator(scalar)
            guard wide || isTerminator(scalar) else {
                index += 1
                continue
            }
            var end = index + 1
            while end < count, isTerminator(scalars[end]) || isWideTerminator(scalars[end]) || isCloser(scalars[end]) {
                end += 1
            }
            if end == count { break }
            if !(wide || isSpace(scalars[end])) {
                index = end
                continue
            }
            if !wide,
                (scalar == "." && isAbbreviation(before: index, in: scalars, from: range.lowerBound))
                    || startsLowercase(after: end, in: scalars, until: count)
            {
                index = end
                continue
            }
            var next = end
            while next < count, isSpace(scalars[next]) { next += 1 }
            result.append(start..<next)
            start = next
            index = next
        }
        if start < count { result.append(start..<count) }
        return result
    }

    private static func isAbbreviation(before dot: Int, in scalars: [Unicode.Scalar], from lower: Int) -> Bool {
        var begin = dot
        while begin > lower, !isSpace(scalars[begin - 1]), scalars[begin - 1] != "(", scalars[begin - 1] != "\"",
            scalars[begin - 1] != "\u{201C}"
        {
            begin -= 1
        }
        guard begin < dot, dot - begin <= 8 else { return false }
        let word = string(scalars, begin..<dot).lowercased()
        if abbreviations.contains(word) { return true }
        // An initial ("J. R. R. Tolkien"), but not a one-letter sentence ending such as "I."
        if dot - begin == 1 {
            let letter = scalars[begin]
            return letter.properties.isUppercase && letter != "I"
        }
        // Dotted abbreviations like "U.S.A" or "e.g".
        return word.contains(".") && word.split(separator: ".").allSatisfy { $0.count <= 2 }
    }

    private static func startsLowercase(after end: Int, in scalars: [Unicode.Scalar], until count: Int) -> Bool {
        var index = end
        while index < count, isSpace(scalars[index]) { index += 1 }
        guard index < count else { return false }
        return scalars[index].properties.isLowercase
    }

    static func trimmed(_ range: Range<Int>, in scalars: [Unicode.Scalar]) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isSpace(scalars[lower]) { lower += 1 }
        while upper > lower, isSpace(scalars[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    static func string(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        return String(view)
    }
}
