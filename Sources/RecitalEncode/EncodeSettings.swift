public import RecitalMedia
public import RecitalModel

/// How checkpointed segments are joined, levelled and compressed into audiobook files.
public struct EncodeSettings: Sendable, Codable, Equatable {
    /// Formats written in one pass over the audio.
    public var formats: [AudioContainer] = [.m4b]
    /// AAC and CBR MP3 bit rate, bits per second.
    public var bitRate: Int = 64_000
    /// MP3 VBR quality 0…9 instead of a constant bit rate.
    public var mp3Quality: Int?
    /// Equal-power crossfade between segments of one sentence, seconds (0 joins them plainly).
    public var crossfade: Double = 0.03
    /// Silence between sentences, paragraphs and chapters, seconds.
    public var sentencePause: Double = 0.25
    public var paragraphPause: Double = 0.6
    public var chapterPause: Double = 1.5
    /// Silence for a scene break (a paragraph such as `* * *`), seconds; 1.2 when unset (settings
    /// stored before scene breaks were paused have no such key).
    public var sceneBreakPause: Double?
    /// Fade at the edges of every pause, seconds, so that no join clicks.
    public var edgeFade: Double = 0.005
    /// Leading and trailing audio quieter than this (dBFS) is trimmed from each segment.
    public var silenceThreshold: Double = -50
    /// Quiet audio kept around the speech when trimming, seconds (the floor), so that soft word
    /// onsets and endings are never cut.
    public var keepSilence: Double = 0.02
    /// Silence before the first and after the last word of the book (room tone), seconds.
    public var leadIn: Double = 0.5
    public var tail: Double = 1.0
    /// Integrated loudness of the whole book, LUFS.
    public var loudness: Double = -18
    /// Highest peak allowed in the decoded files, dBFS (estimated true peak).
    public var peakCeiling: Double = -3
    /// One file per chapter instead of one per book.
    public var splitChapters = false
    /// Books longer than this are split into parts at chapter boundaries.
    public var maxHours: Double?

    public init() {}

    /// The ceiling the limiter holds before encoding: ``peakCeiling`` less the overshoot that lossy
    /// coding adds to peaks, for the most overshooting format written in the pass, and less 0.2 dB
    /// for what a meter oversampling 8 times finds beyond the limiter's 4 points per interval.
    var limiterCeiling: Double {
        peakCeiling - 0.2 - (formats.map(\.codingOvershoot).max() ?? 0)
    }
}

extension AudioContainer {
    /// How far coding noise lifts true peaks, dB, with some room. Measured with FFmpeg's ebur128
    /// meter on real speech (the built-in voice, whose buzzy source is a hard case) at 64 kb/s: AAC
    /// with the "fast" search 0.7 dB over a whole book; MP3 1.1 dB in most runs of the same book but
    /// 2.3 dB in one (the voice's audio is not identical from run to run); FLAC is exact.
    var codingOvershoot: Double {
        switch self {
        case .m4b: 2.0
        case .mp3: 2.5
        case .flac: 0
        }
    }
}
