internal import Foundation
public import RecitalModel

/// Reads EPUB and PDF files into ``Book`` values. The entry point of the ingest stage.
public struct Ingester: Sendable {
    public var segmentation: SegmentationOptions
    /// Which PDF pages are read with OCR.
    public var ocr: OCRMode

    public init(segmentation: SegmentationOptions = SegmentationOptions(), ocr: OCRMode = .auto) {
        self.segmentation = segmentation
        self.ocr = ocr
    }

    /// Reads the book at `path`, deciding the format from the file's first bytes, not its name.
    /// - Parameter observer: told how OCR progresses, and asked between pages whether to stop.
    /// - Throws: ``IngestError`` naming the file and the reason.
    public func read(_ path: String, observer: IngestObserver = .silent) throws(IngestError) -> Book {
        let format = try Self.detectFormat(path)
        let segmenter = Segmenter(options: segmentation)
        var book =
            switch format {
            case .epub: try EPUBReader(file: path, segmenter: segmenter).read()
            case .pdf: try PDFReader(file: path, segmenter: segmenter, ocr: ocr, observer: observer).read()
            }
        // Reports, scans and word-processor exports often carry no title; a name is needed for the
        // files and tags, and the file's own name is what the user gave it.
        if (book.metadata.title ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let title = Self.title(fromFileName: path)
            book.metadata.title = title
            book.diagnostics.append(
                .note("the book's metadata has no title; it is titled “\(title)” after its file name")
            )
        }
        Self.settleLanguage(&book)
        return book
    }

    /// A language for every book: the metadata's, or the one its text is written in (noted as
    /// detected); metadata the text clearly contradicts gets a warning.
    static func settleLanguage(_ book: inout Book) {
        let sample = book.chapters.prefix(30).map(\.text).joined(separator: "\n")
        let detected = LanguageDetector.detect(sample)
        let declared = book.metadata.language?.trimmingCharacters(in: .whitespaces) ?? ""
        if declared.isEmpty {
            if let detected {
                book.metadata.language = detected.code
                book.diagnostics.append(
                    .note("the book's metadata names no language; its text reads as \(detected.code) (detected)")
                )
            } else {
                book.diagnostics.append(.note("the book's metadata names no language, and its text does not tell"))
            }
        } else if let detected, detected.confidence >= 0.5,
            declared.lowercased().split(separator: "-").first.map(String.init) != detected.code
        {
            book.diagnostics.append(
                .warning("the metadata says the book is in \(declared), but its text reads as \(detected.code)")
            )
        }
    }

    /// A title from a file name: no folder or extension, underscores and dashes read as spaces
    /// (`annual_report-2024.pdf` → "annual report 2024").
    public static func title(fromFileName path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let words = stem.split { $0 == "_" || $0 == "-" || $0.isWhitespace }
        return words.isEmpty ? "Untitled" : words.joined(separator: " ")
    }

    /// The format of the file at `path`, from its magic bytes.
    public static func detectFormat(_ path: String) throws(IngestError) -> BookFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IngestError(.unreadable, file: path, "no such file")
        }
        if isDirectory.boolValue { throw IngestError(.unreadable, file: path, "is a directory, not a book") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw IngestError(.unreadable, file: path, "cannot be opened (permission denied?)")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 1024)) ?? Data())
        if head.isEmpty { throw IngestError(.unreadable, file: path, "the file is empty (0 bytes)") }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .epub }
        // PDF allows up to 1 KB of junk before the header.
        if let marker = head.firstRange(of: Array("%PDF-".utf8)), marker.lowerBound < 1024 { return .pdf }
        throw IngestError(.unsupportedFormat, file: path, "not an EPUB or PDF (unrecognised file contents)")
    }
}
