internal import CRecitalTesseract
internal import Foundation

/// One Tesseract recogniser with one language model loaded. Not thread-safe: a thread recognising
/// pages in parallel makes its own (each holds tens of megabytes of model, so make one per core,
/// not one per page).
public final class Tesseract {
    private let api: CRecitalTesseractAPI
    private let handle: OpaquePointer
    /// The Tesseract model names loaded, such as `eng` or `deu`.
    public let language: String

    /// Loads the model for `language` (Tesseract's name: `eng`, `deu`, `chi_sim`).
    /// - Throws: ``OCRError`` `.unavailable` when libtesseract is not installed, `.noModel` when
    ///   the language's trained data is not.
    public init(language: String) throws(OCRError) {
        let api = try Self.library()
        guard Self.installedLanguages().contains(language) else {
            throw OCRError(.noModel, "no Tesseract model for '\(language)' is installed (\(Self.package(language)))")
        }
        guard let handle = api.TessBaseAPICreate() else { throw OCRError(.failed, "Tesseract cannot start") }
        // Tesseract prints its warnings ("Estimating resolution…") on stderr; they are not the
        // user's business, and what matters comes back as confidences.
        _ = api.TessBaseAPISetVariable(handle, "debug_file", "/dev/null")
        let status = api.TessBaseAPIInit2(handle, Self.dataDirectory(), language, OEM_LSTM_ONLY)
        guard status == 0 else {
            api.TessBaseAPIDelete(handle)
            throw OCRError(.noModel, "Tesseract cannot load its '\(language)' model from \(Self.dataDirectory())")
        }
        _ = api.TessBaseAPISetVariable(handle, "debug_file", "/dev/null")
        api.TessBaseAPISetPageSegMode(handle, PSM_AUTO)
        self.api = api
        self.handle = handle
        self.language = language
    }

    deinit {
        api.TessBaseAPIEnd(handle)
        api.TessBaseAPIDelete(handle)
    }

    /// Recognises one page of 8-bit gray pixels (rows top to bottom, `width` bytes each).
    /// - Throws: ``OCRError`` `.failed` when Tesseract refuses the image.
    public func recognize(
        gray pixels: [UInt8],
        width: Int,
        height: Int,
        dotsPerInch: Int
    ) throws(OCRError) -> OCRPage {
        guard width > 0, height > 0, pixels.count >= width * height else {
            throw OCRError(.failed, "an image of \(width)×\(height) pixels with \(pixels.count) bytes")
        }
        defer { api.TessBaseAPIClear(handle) }
        let status = pixels.withUnsafeBufferPointer { buffer in
            api.TessBaseAPISetImage(handle, buffer.baseAddress, Int32(width), Int32(height), 1, Int32(width))
            api.TessBaseAPISetSourceResolution(handle, Int32(dotsPerInch))
            return api.TessBaseAPIRecognize(handle, nil)
        }
        guard status == 0 else { throw OCRError(.failed, "Tesseract could not recognise the page") }
        var lines: [OCRLine] = []
        if let iterator = api.TessBaseAPIGetIterator(handle) {
            defer { api.TessResultIteratorDelete(iterator) }
            let page = api.TessResultIteratorGetPageIteratorConst(iterator)
            repeat {
                guard let raw = api.TessResultIteratorGetUTF8Text(iterator, RIL_TEXTLINE) else { continue }
                let text = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
                api.TessDeleteText(raw)
                var box: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
                guard !text.isEmpty,
                    api.TessPageIteratorBoundingBox(page, RIL_TEXTLINE, &box.0, &box.1, &box.2, &box.3) != 0
                else { continue }
                // The iterator stands on the line's first word; its size is the row's (x-height plus
                // ascenders and descenders, in points), the same for every word of the line.
                var flags: (Int32, Int32, Int32, Int32, Int32, Int32) = (0, 0, 0, 0, 0, 0)
                var pointSize: Int32 = 0
                var font: Int32 = 0
                _ = api.TessResultIteratorWordFontAttributes(
                    iterator,
                    &flags.0,
                    &flags.1,
                    &flags.2,
                    &flags.3,
                    &flags.4,
                    &flags.5,
                    &pointSize,
                    &font
                )
                lines.append(
                    OCRLine(
                        text: text,
                        left: Int(box.0),
                        top: Int(box.1),
                        right: Int(box.2),
                        bottom: Int(box.3),
                        pointSize: Int(pointSize),
                        confidence: Double(api.TessResultIteratorConfidence(iterator, RIL_TEXTLINE))
                    )
                )
            } while api.TessResultIteratorNext(iterator, RIL_TEXTLINE) != 0
        }
        return OCRPage(lines: lines, meanConfidence: Int(api.TessBaseAPIMeanTextConf(handle)))
    }

    // MARK: - The library and its models

    /// The loaded library's functions.
    /// - Throws: ``OCRError`` `.unavailable` with the dynamic loader's message.
    static func library() throws(OCRError) -> CRecitalTesseractAPI {
        var error: UnsafePointer<CChar>?
        guard let api = crecital_tesseract_load(&error) else {
            let reason = error.map { String(cString: $0) } ?? "unknown reason"
            throw OCRError(
                .unavailable,
                "Tesseract OCR is not installed (libtesseract5 and tesseract-ocr-eng): \(reason)"
            )
        }
        return api.pointee
    }

    /// The version of the installed libtesseract, such as "5.3.0".
    /// - Throws: ``OCRError`` `.unavailable` when it is not installed.
    public static func version() throws(OCRError) -> String {
        let api = try library()
        return api.TessVersion().map { String(cString: $0) } ?? "unknown"
    }

    /// Where trained models are read from: `TESSDATA_PREFIX` when set (Tesseract's own rule), else
    /// the first of Debian's folders that exists.
    public static func dataDirectory() -> String {
        if let prefix = ProcessInfo.processInfo.environment["TESSDATA_PREFIX"], !prefix.isEmpty { return prefix }
        let candidates = [
            "/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// The models installed in ``dataDirectory()`` (`eng`, `deu`, …).
    public static func installedLanguages() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory())) ?? []
        return Set(names.filter { $0.hasSuffix(".traineddata") }.map { String($0.dropLast(".traineddata".count)) })
    }

    /// Tesseract's model name for an ISO 639-1 code or BCP 47 tag (`de-AT` → `deu`), nil for a
    /// language Tesseract has no model for.
    public static func model(forLanguage tag: String) -> String? {
        let primary = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        if primary == "zh" {
            let traditional = ["hant", "tw", "hk", "mo"].contains { tag.lowercased().contains($0) }
            return traditional ? "chi_tra" : "chi_sim"
        }
        if primary.count == 3 { return primary }
        return models[primary]
    }

    /// The Debian package that carries a model (`deu` → `tesseract-ocr-deu`).
    public static func package(_ model: String) -> String {
        "tesseract-ocr-\(model.replacingOccurrences(of: "_", with: "-"))"
    }

    private static let models: [String: String] = [
        "af": "afr", "ar": "ara", "az": "aze", "be": "bel", "bg": "bul", "bn": "ben", "bs": "bos", "ca": "cat",
        "cs": "ces", "cy": "cym", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "eo": "epo", "es": "spa",
        "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle", "gl": "glg", "gu": "guj",
        "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind", "is": "isl", "it": "ita",
        "ja": "jpn", "ka": "kat", "kk": "kaz", "km": "khm", "kn": "kan", "ko": "kor", "la": "lat", "lt": "lit",
        "lv": "lav", "mk": "mkd", "ml": "mal", "mr": "mar", "ms": "msa", "mt": "mlt", "my": "mya", "nb": "nor",
        "ne": "nep", "nl": "nld", "nn": "nor", "no": "nor", "pa": "pan", "pl": "pol", "pt": "por", "ro": "ron",
        "ru": "rus", "sk": "slk", "sl": "slv", "sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swa", "ta": "tam",
        "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "uk": "ukr", "ur": "urd", "uz": "uzb", "vi": "vie",
        "yi": "yid",
    ]
}

/// What Tesseract read on one page.
public struct OCRPage: Sendable {
    /// Text lines in Tesseract's reading order.
    public var lines: [OCRLine]
    /// The mean confidence of the page's words, 0 to 100 (Tesseract's measure).
    public var meanConfidence: Int
}

/// One recognised line: its text, its box in pixels (origin top-left) and its confidence (0–100).
public struct OCRLine: Sendable, Equatable {
    public var text: String
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int
    /// The type size in points as Tesseract measures the line's row (0 when unknown): whole points,
    /// but unlike the box's height not swayed by the letters the line happens to hold (descenders,
    /// accents on capitals).
    public var pointSize: Int
    public var confidence: Double
}
