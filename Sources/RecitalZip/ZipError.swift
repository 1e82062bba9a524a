/// A ZIP archive that could not be opened or read, with libzip's own message where it has one.
public struct ZipError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String { case notAZip, damaged, missingEntry, unsafeName, tooLarge, io, encrypted }
        private let value: Value
        /// The bytes are not a ZIP archive at all.
        public static let notAZip = Code(value: .notAZip)
        /// A ZIP whose structure or data is damaged (truncated, bad CRC).
        public static let damaged = Code(value: .damaged)
        public static let missingEntry = Code(value: .missingEntry)
        /// An entry name that would escape a folder (`../`, absolute paths).
        public static let unsafeName = Code(value: .unsafeName)
        /// An entry that inflates past the caller's limit (a "ZIP bomb").
        public static let tooLarge = Code(value: .tooLarge)
        public static let encrypted = Code(value: .encrypted)
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
