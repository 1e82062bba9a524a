/// A synthesis that did not produce usable audio, classified for retrying.
public struct SpeechError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Worth retrying: 408/409/425/429/5xx, resets, timeouts, answers that are not valid audio.
        case transient
        /// Retrying cannot help: 400/401/403/404/422, a voice that does not exist, a bad key.
        case permanent
    }

    public var kind: Kind
    /// What went wrong, with the server's own words where it gave any. Never contains an API key.
    public var message: String
    public var httpStatus: Int?
    /// How long the server asked us to wait (`Retry-After`).
    public var retryAfter: Duration?
    /// The transport's or decoder's own error underneath, when there is one; `message` says it in
    /// words (its classification is made from its type, never from its text).
    public var cause: (any Error & Sendable)?
    /// Whether the server answered (an error status, or audio that does not decode or cannot be
    /// speech of the text), as opposed to a failure of the connection.
    public var fromServer: Bool

    public init(
        _ kind: Kind,
        _ message: String,
        httpStatus: Int? = nil,
        retryAfter: Duration? = nil,
        cause: (any Error & Sendable)? = nil,
        fromServer: Bool = false
    ) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.cause = cause
        self.fromServer = fromServer || httpStatus != nil
    }

    public var description: String { message }

    /// The class of an HTTP status, per DESIGN.md ("TTS backends").
    public static func kind(ofStatus status: Int) -> Kind {
        switch status {
        case 408, 409, 425, 429, 500...599: .transient
        default: .permanent
        }
    }
}
