/// Why a page could not be recognised. `description` is one line.
public struct OCRError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case unavailable, noModel, failed }
        private let value: Value
        /// libtesseract cannot be loaded on this machine.
        public static let unavailable = Code(value: .unavailable)
        /// No trained model for the language asked for is installed.
        public static let noModel = Code(value: .noModel)
        /// Tesseract refused the image.
        public static let failed = Code(value: .failed)
        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
