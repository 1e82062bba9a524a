/// Why a book could not be read. Every case names the file; `description` is one line.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case unreadable, unsupportedFormat, damaged, drm, encrypted, noText, tooLarge, hostile, missingPart,
                ocrUnavailable, cancelled
        }
        private let value: Value
        /// The file cannot be opened or read at all (missing, permissions, empty).
        public static let unreadable = Code(value: .unreadable)
        /// Neither an EPUB nor a PDF.
        public static let unsupportedFormat = Code(value: .unsupportedFormat)
        /// The right kind of file, but broken (truncated ZIP, OPF pointing at missing files).
        public static let damaged = Code(value: .damaged)
        /// An EPUB whose content is encrypted by a DRM scheme.
        public static let drm = Code(value: .drm)
        /// A PDF that needs a password.
        public static let encrypted = Code(value: .encrypted)
        /// A PDF without a text layer (scanned pages), or a book with no readable text.
        public static let noText = Code(value: .noText)
        /// Content that inflates past a sane limit.
        public static let tooLarge = Code(value: .tooLarge)
        /// Input shaped to attack a parser: `../` entry names, excessive nesting.
        public static let hostile = Code(value: .hostile)
        /// A required part of the container is missing (container.xml, the OPF).
        public static let missingPart = Code(value: .missingPart)
        /// Scanned pages that need OCR on a machine without Tesseract or the book's language model.
        public static let ocrUnavailable = Code(value: .ocrUnavailable)
        /// The reader was asked to stop (the command was interrupted) before the book was read.
        public static let cancelled = Code(value: .cancelled)
        public var description: String { value.rawValue }
    }

    public var code: Code
    /// The book's path as given by the user.
    public var file: String
    /// The reason, in words a user can act on.
    public var reason: String
    /// The library's own error underneath (libzip's, libxml2's, poppler's), when there is one.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, file: String, _ reason: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.file = file
        self.reason = reason
        self.cause = cause
    }

    /// `file: reason`, and the cause in parentheses where the reason does not already say it.
    public var description: String {
        let text = "\(file): \(reason)"
        guard let cause, !text.contains("\(cause)") else { return text }
        return "\(text) (\(cause))"
    }
}
