/// When a PDF's pages are read with OCR instead of their text layer.
public enum OCRMode: String, Sendable, Codable, CaseIterable {
    /// Pages that carry an image but no text (scans), and only those.
    case auto
    /// Every page, ignoring any text layer (a scan whose hidden text layer is bad).
    case always
    /// Never: pages without text are left out, and a scanned book is refused.
    case never
}
