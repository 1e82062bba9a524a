internal import Foundation
public import RecitalJobs
internal import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// Where checkpoint audio lives and how it is made durable: write a temporary file, fsync it,
/// rename it into place, fsync the directory. Only then is the database told.
public struct CheckpointFiles: Sendable {
    /// `<home>/audio`.
    public let root: String

    public init(root: String) { self.root = root }

    /// A book's folder: its chapters' checkpoints and its cover.
    public func directory(book: Int64) -> String { "\(root)/book-\(book)" }

    public func directory(book: Int64, chapter: Int) -> String {
        "\(directory(book: book))/chapter-\(String(format: "%04d", chapter))"
    }

    public func path(book: Int64, chapter: Int, segment: Int) -> String {
        "\(directory(book: book, chapter: chapter))/segment-\(String(format: "%05d", segment)).wav"
    }

    /// Writes `samples` durably as a WAV file and returns its checksum.
    /// - Throws: ``PipelineError`` `.storage` with the system's reason (for example "No space left on device").
    public func write(samples: [Int16], sampleRate: Int, to path: String) throws(PipelineError) -> String {
        let bytes = WAV.encode(samples: samples, sampleRate: sampleRate)
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(.storage, "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = "\(path).tmp-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("cannot create \(temporary)") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return fsync(descriptor) == 0
        }
        let error = errno
        close(descriptor)
        guard ok else {
            unlink(temporary)
            throw Self.failure("cannot write \(path)", code: error)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Self.failure("cannot move audio into \(path)", code: code)
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
        return ContentHash.checksum(bytes)
    }

    /// A cheap check for many files at once: present and of the size its sample count implies.
    public func isPresent(_ record: CheckpointRecord) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: record.audioPath),
            let size = attributes[.size] as? Int
        else { return false }
        return size == WAV.headerSize + record.sampleCount * 2
    }

    /// Whether a checkpoint's file is present, well-formed and unchanged.
    public func isIntact(_ record: CheckpointRecord) -> Bool {
        guard let data = FileManager.default.contents(atPath: record.audioPath) else { return false }
        let bytes = [UInt8](data)
        guard let header = WAV.parse(bytes), header.sampleCount == record.sampleCount else { return false }
        return ContentHash.matches(bytes, record.checksum)
    }

    private static func failure(_ what: String, code: Int32 = errno) -> PipelineError {
        PipelineError(.storage, "\(what): \(String(cString: strerror(code)))")
    }
}
