internal import Foundation
public import RecitalModel

/// Reads EPUB and PDF files into ``Book`` values. The entry point of the ingest stage.
public struct Ingester: Sendable {
    public var segmentation: SegmentationOptions

    public init(segmentation: SegmentationOptions = SegmentationOptions()) {
        self.segmentation = segmentation
    }

    /// Reads the book at `path`, deciding the format from the file's first bytes, not its name.
    /// - Throws: ``IngestError`` naming the file and the reason.
    public func read(_ path: String) throws(IngestError) -> Book {
        let format = try Self.detectFormat(path)
        let segmenter = Segmenter(options: segmentation)
        switch format {
        case .epub: return try EPUBReader(file: path, segmenter: segmenter).read()
        case .pdf: return try PDFReader(file: path, segmenter: segmenter).read()
        }
    }

    /// The format of the file at `path`, from its magic bytes.
    public static func detectFormat(_ path: String) throws(IngestError) -> BookFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IngestError(.unreadable, file: path, "no such file")
        }
        if isDirectory.boolValue { throw IngestError(.unreadable, file: path, "is a directory, not a book") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw IngestError(.unreadable, file: path, "cannot be opened (permission denied?)")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 1024)) ?? Data())
        if head.isEmpty { throw IngestError(.unreadable, file: path, "the file is empty (0 bytes)") }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .epub }
        // PDF allows up to 1 KB of junk before the header.
        if let marker = head.firstRange(of: Array("%PDF-".utf8)), marker.lowerBound < 1024 { return .pdf }
        throw IngestError(.unsupportedFormat, file: path, "not an EPUB or PDF (unrecognised file contents)")
    }
}
