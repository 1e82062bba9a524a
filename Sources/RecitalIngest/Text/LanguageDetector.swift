internal import Foundation

/// Tells a book's language from its text: the script decides where one script means one language
/// (Hangul, kana, Greek, Hebrew, Thai…); within Latin, Cyrillic, Arabic and Devanagari script, the
/// share of each language's most common words does. Returns nil when the text is too short or no
/// language clearly leads.
enum LanguageDetector {
    /// BCP 47 code of the language the text is written in, with how clearly it leads (0…1).
    static func detect(_ text: String) -> (code: String, confidence: Double)? {
        var scripts: [Script: Int] = [:]
        var letters = 0
        for scalar in text.unicodeScalars.prefix(200_000) where scalar.properties.isAlphabetic {
            letters += 1
            if let script = Script(scalar) { scripts[script, default: 0] += 1 }
        }
        guard letters >= 40, let (script, count) = scripts.max(by: { $0.value < $1.value }) else { return nil }
        let share = Double(count) / Double(letters)
        switch script {
        case .han:
            // Kana beside the kanji is Japanese; Han alone is Chinese.
            let kana = scripts[.kana] ?? 0
            return kana * 10 > count ? ("ja", share) : ("zh", share)
        case .kana: return ("ja", share)
        case .hangul: return ("ko", share)
        case .greek: return ("el", share)
        case .hebrew: return ("he", share)
        case .thai: return ("th", share)
        case .bengali: return ("bn", share)
        case .latin, .cyrillic, .arabic, .devanagari:
            guard let (code, lead) = byWords(text, candidates: script.languages) else { return nil }
            return (code, min(share, lead))
        }
    }

    enum Script: Hashable {
        case latin, cyrillic, arabic, devanagari, han, kana, hangul, greek, hebrew, thai, bengali

        init?(_ scalar: Unicode.Scalar) {
            switch scalar.value {
            case 0x41...0x24F, 0x1E00...0x1EFF: self = .latin
            case 0x370...0x3FF: self = .greek
            case 0x400...0x52F: self = .cyrillic
            case 0x590...0x5FF: self = .hebrew
            case 0x600...0x6FF, 0x750...0x77F, 0xFB50...0xFDFF, 0xFE70...0xFEFF: self = .arabic
            case 0x900...0x97F: self = .devanagari
            case 0x980...0x9FF: self = .bengali
            case 0xE00...0xE7F: self = .thai
            case 0x3040...0x30FF: self = .kana
            case 0x4E00...0x9FFF, 0x3400...0x4DBF: self = .han
            case 0xAC00...0xD7AF, 0x1100...0x11FF: self = .hangul
            default: return nil
            }
        }

        var languages: [String] {
            switch self {
            case .latin:
                ["en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "id", "vi", "sw", "ro", "sv", "cs", "hu"]
            case .cyrillic: ["ru", "uk", "bg", "sr"]
            case .arabic: ["ar", "fa", "ur"]
            case .devanagari: ["hi", "mr", "ne"]
            default: []
            }
        }
    }

    /// Each language's most common short words, which make up a large share of any running text.
    static let commonWords: [String: Set<String>] = [
        "en": [
            "the", "and", "of", "to", "a", "in", "is", "that", "it", "was", "he", "she", "for", "with", "his", "her",
        ],
        "es": ["el", "la", "de", "que", "y", "en", "los", "las", "se", "del", "por", "un", "una", "con", "no", "su"],
        "fr": [
            "le", "la", "les", "de", "et", "un", "une", "des", "est", "que", "il", "elle", "dans", "pas", "du", "au",
        ],
        "de": [
            "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "sich", "auf", "es", "dem",
            "sie",
        ],
        "pt": ["o", "a", "os", "as", "de", "que", "e", "do", "da", "em", "um", "uma", "não", "com", "para", "se"],
        "it": ["il", "la", "di", "che", "e", "è", "un", "una", "non", "per", "con", "del", "della", "si", "lo", "gli"],
        "nl": [
            "de", "het", "een", "en", "van", "is", "niet", "dat", "op", "te", "zijn", "met", "voor", "hij", "ze", "er",
        ],
        "pl": ["i", "w", "nie", "na", "się", "z", "to", "że", "jest", "do", "jak", "ale", "co", "tak", "po", "od"],
        "tr": [
            "ve", "bir", "bu", "da", "de", "için", "ile", "çok", "ne", "o", "gibi", "ama", "daha", "var", "değil", "mi",
        ],
        "id": [
            "dan", "yang", "di", "itu", "dengan", "ini", "tidak", "ke", "dari", "ada", "untuk", "akan", "dia", "saya",
            "kami", "juga",
        ],
        "vi": [
            "và", "của", "là", "có", "không", "một", "những", "trong", "được", "cho", "người", "này", "với", "các",
            "đã", "tôi",
        ],
        "sw": [
            "na", "ya", "wa", "kwa", "ni", "za", "katika", "la", "kuwa", "hiyo", "huo", "yake", "lakini", "pia", "hii",
            "kama",
        ],
        "ro": ["și", "de", "la", "în", "nu", "un", "o", "pe", "cu", "este", "că", "care", "se", "din", "mai", "să"],
        "sv": [
            "och", "att", "det", "som", "en", "på", "är", "av", "för", "med", "inte", "den", "till", "jag", "har",
            "var",
        ],
        "cs": ["a", "se", "na", "je", "že", "v", "to", "s", "z", "do", "jsem", "jako", "ale", "by", "tak", "ve"],
        "hu": [
            "a", "az", "és", "hogy", "nem", "is", "egy", "meg", "de", "van", "volt", "ki", "el", "csak", "mint", "már",
        ],
        "ru": ["и", "в", "не", "на", "что", "он", "с", "как", "она", "это", "по", "но", "его", "к", "было", "так"],
        "uk": ["і", "в", "не", "на", "що", "він", "з", "як", "вона", "це", "та", "але", "його", "до", "було", "й"],
        "bg": ["и", "на", "да", "се", "в", "не", "от", "че", "е", "за", "това", "с", "по", "той", "тя", "са"],
        "sr": ["и", "у", "да", "се", "на", "је", "не", "за", "од", "са", "то", "као", "али", "што", "био", "га"],
        "ar": ["في", "من", "على", "أن", "إلى", "التي", "الذي", "عن", "ما", "هذا", "لا", "كان", "مع", "هو", "هي", "قد"],
        "fa": ["و", "در", "به", "از", "که", "این", "را", "با", "است", "آن", "برای", "یک", "تا", "بود", "هم", "می"],
        "ur": ["اور", "کے", "کی", "میں", "سے", "ہے", "کا", "کو", "نے", "یہ", "پر", "تھا", "ہیں", "وہ", "بھی", "ایک"],
        "hi": ["के", "है", "में", "की", "और", "से", "को", "का", "एक", "पर", "यह", "था", "कि", "भी", "नहीं", "वह"],
        "mr": ["आणि", "आहे", "या", "की", "ते", "हे", "व", "तो", "ती", "मी", "होते", "एक", "नाही", "त्या", "पण", "तर"],
        "ne": ["र", "छ", "को", "मा", "पनि", "गर्न", "यो", "थियो", "भएको", "हो", "लागि", "छन्", "एक", "त्यो", "तर", "गरेको"],
    ]

    /// The candidate whose common words make up the largest share of the text's words, and by how
    /// much it leads the next (0…1); nil when none clearly leads.
    static func byWords(_ text: String, candidates: [String]) -> (String, Double)? {
        var counts: [String: Int] = [:]
        var words = 0
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && $0 != "'" }).prefix(20_000) {
            words += 1
            let token = String(word)
            for code in candidates where commonWords[code]?.contains(token) == true { counts[code, default: 0] += 1 }
        }
        guard words >= 20 else { return nil }
        let ranked = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        guard let best = ranked.first, best.value * 10 >= words else { return nil }
        let second = ranked.dropFirst().first?.value ?? 0
        // A clear lead: the best language's common words at least a third more frequent.
        guard best.value * 3 >= second * 4 else { return nil }
        return (best.key, 1 - Double(second) / Double(best.value))
    }
}
