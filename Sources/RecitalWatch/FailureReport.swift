public import Foundation

/// What `recital watch` leaves for a book it cannot convert: `OUT/_failed/<relative path>.error.txt`
/// (the reason on its first line, then the file's hash, its settings, the time and the command that
/// tries again) and the same as `.error.json` beside it.
public struct FailureReport: Sendable, Equatable, Codable {
    public var file: String
    public var reason: String
    public var contentHash: String?
    /// The settings the book was (or would have been) converted with, as JSON.
    public var settings: String?
    public var time: Date
    public var retry: String

    public init(file: String, reason: String, contentHash: String?, settings: String?, time: Date, retry: String) {
        self.file = file
        self.reason = reason
        self.contentHash = contentHash
        self.settings = settings
        self.time = time
        self.retry = retry
    }

    /// The folder reports go to, inside the output folder.
    public static let folderName = "_failed"

    /// Where the report of the book at `relativePath` goes (without `.txt`/`.json`).
    public static func base(output: String, relativePath: String) -> String {
        "\(output)/\(folderName)/\(relativePath).error"
    }

    var text: String {
        var lines = ["\(file): \(reason)", ""]
        lines.append("file:     \(file)")
        lines.append("sha-256:  \(contentHash ?? "not read")")
        lines.append("time:     \(ISO8601DateFormatter().string(from: time))")
        lines.append("retry:    \(retry)")
        if let settings { lines += ["settings: \(settings)"] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes both files (each to a temporary name, then renamed into place).
    public func write(output: String, relativePath: String) throws {
        let base = Self.base(output: output, relativePath: relativePath)
        try FileManager.default.createDirectory(
            atPath: (base as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try Data(text.utf8).write(to: URL(fileURLWithPath: base + ".txt"), options: .atomic)
        try encoder.encode(self).write(to: URL(fileURLWithPath: base + ".json"), options: .atomic)
    }

    /// Removes the report of a book that has since been converted; returns whether there was one.
    @discardableResult
    public static func remove(output: String, relativePath: String) throws -> Bool {
        let base = base(output: output, relativePath: relativePath)
        var removed = false
        for file in [base + ".txt", base + ".json"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.removeItem(atPath: file)
            removed = true
        }
        return removed
    }
}
