internal import Foundation

/// Text hygiene shared by every format: invisible characters, whitespace and Unicode form.
enum TextNormalizer {
    /// Characters that carry no sound and only confuse TTS front ends: word joiner, soft hyphen,
    /// zero-width space, BOM, Mongolian vowel separator. Zero-width (non-)joiners are kept because
    /// they change how Persian and Indic text is written.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00AD, 0x200B, 0x2060, 0xFEFF, 0x180E, 0x2061...0x2064: true
        default: false
        }
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
            0x3000:
            true
        default: false
        }
    }

    /// Collapses runs of whitespace to one space, drops invisible characters, trims, and composes (NFC).
    static func clean(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if isInvisible(scalar) { continue }
            if isSpace(scalar) || scalar.properties.generalCategory == .control {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace { result.append(" ") }
            pendingSpace = false
            result.append(scalar)
        }
        return nfc(String(result))
    }

    /// Unicode NFC, skipping the (costly) Foundation call when nothing in the text can compose:
    /// no combining marks, conjoining jamo or canonical singletons.
    static func nfc(_ text: String) -> String {
        // Every scalar that NFC can change is U+0300 or above, whose UTF-8 lead byte is 0xCC or more.
        guard text.utf8.contains(where: { $0 >= 0xCC }) else { return text }
        let needsWork = text.unicodeScalars.contains { scalar in
            let value = scalar.value
            guard value >= 0x300 else { return false }
            return scalar.properties.canonicalCombiningClass.rawValue != 0 || (0x1100...0x11FF).contains(value)
                || (0x0340...0x0387).contains(value) || (0x1F00...0x1FFF).contains(value)
                || (0x2000...0x2001).contains(value) || (0x2126...0x212B).contains(value)
                || (0x2329...0x232A).contains(value) || (0xF900...0xFAFF).contains(value)
                || (0x2F800...0x2FA1F).contains(value) || (0x0958...0x095F).contains(value)
                || (0x09DC...0x09DF).contains(value) || (0x0A33...0x0A5E).contains(value)
                || (0x0B5C...0x0B5D).contains(value) || (0x0F43...0x0FB9).contains(value)
                || (0xFB1D...0xFB4E).contains(value) || (0x1D15E...0x1D1C0).contains(value)
        }
        return needsWork ? text.precomposedStringWithCanonicalMapping : text
    }

    /// A TOC label made fit to be a chapter title: whitespace collapsed, and a trailing page number
    /// dropped when dot leaders or a tab set it apart ("Loomings ........ 12").
    static func cleanTitle(_ raw: String) -> String {
        let tabbed = raw.replacingOccurrences(of: "\t", with: " .. ")
        var title = clean(tabbed)
        if let range = title.range(
            of: #"\s*(\.\s?){2,}\s*([0-9]+|[ivxlcdm]+)$"#,
            options: [.regularExpression, .caseInsensitive]
        ) {
            title.removeSubrange(range)
        }
        if let range = title.range(of: #"(\s*(\.\s?){2,}|\s*…+)\s*$"#, options: .regularExpression) {
            title.removeSubrange(range)
        }
        return title.trimmingCharacters(in: .whitespaces)
    }
}
