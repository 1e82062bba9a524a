internal import CRecitalFFmpeg

/// An FFmpeg failure, carrying FFmpeg's own message (`av_strerror`).
public struct MediaError: Error, Sendable, CustomStringConvertible {
    /// What we were doing ("open input", "decode").
    public var operation: String
    public var message: String
    /// FFmpeg's negative error code, or 0 when the failure is ours.
    public var code: Int32

    public init(operation: String, message: String, code: Int32 = 0) {
        self.operation = operation
        self.message = message
        self.code = code
    }

    public var description: String { "\(operation): \(message)" }

    /// Throws when an FFmpeg return value signals failure.
    @discardableResult
    static func check(_ result: Int32, _ operation: String) throws(MediaError) -> Int32 {
        guard result < 0 else { return result }
        throw MediaError(operation: operation, message: errorString(result), code: result)
    }

    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if ff.av_strerror(code, &buffer, buffer.count) < 0 { return "FFmpeg error \(code)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
