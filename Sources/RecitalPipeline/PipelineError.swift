/// A failure of the pipeline as a whole, with the book it concerns.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Writing audio to disk failed (disk full, permissions): resumable once fixed.
        case storage
        /// Bad settings: an unknown voice profile, a missing API key variable.
        case configuration
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
