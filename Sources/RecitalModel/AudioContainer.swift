/// The audiobook containers Recital writes.
public enum AudioContainer: String, Sendable, Codable, CaseIterable {
    /// AAC-LC in MP4 with the audiobook brand.
    case m4b
    /// MPEG audio layer 3 (libmp3lame) with an ID3v2.3 tag.
    case mp3
    /// FLAC with Vorbis comments.
    case flac

    public var fileExtension: String { rawValue }
}
