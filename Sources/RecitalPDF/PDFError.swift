/// A PDF poppler could not open, with poppler's (GLib's) own message.
public struct PDFError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case encrypted, damaged, io }
        private let value: Value
        /// The document needs a password to be read.
        public static let encrypted = Code(value: .encrypted)
        /// Not a PDF, or too damaged to read.
        public static let damaged = Code(value: .damaged)
        public static let io = Code(value: .io)
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
