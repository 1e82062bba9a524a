/// espeak-ng could not start or speak, with its own error code.
public struct EspeakError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "espeak-ng: \(message)" }
}
