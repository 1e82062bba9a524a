/// A document libxml2 could not parse, with libxml2's own message.
public struct XMLError: Error, Sendable, CustomStringConvertible {
    /// libxml2's message, trimmed, with the line where it stopped when known.
    public var message: String
    /// The line libxml2 reported, or 0 when unknown.
    public var line: Int
    /// The document was refused because it declares entities, not because it is malformed.
    public var isRefusedEntityDeclaration: Bool

    public init(message: String, line: Int = 0, isRefusedEntityDeclaration: Bool = false) {
        self.message = message
        self.line = line
        self.isRefusedEntityDeclaration = isRefusedEntityDeclaration
    }

    public var description: String {
        line > 0 ? "\(message) (line \(line))" : message
    }
}
