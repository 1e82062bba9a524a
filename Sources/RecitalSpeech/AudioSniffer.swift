/// Recognises audio by its bytes, because servers' Content-Type headers cannot be trusted
/// (Piper sends WAV as text/html).
public enum AudioSniffer {
    public enum Kind: String, Sendable, Equatable {
        case wav, flac, mp3, ogg, aac, mp4
    }

    /// The container or codec the bytes start with, or nil when they are not recognisable audio.
    public static func sniff(_ bytes: [UInt8]) -> Kind? {
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            let marker = Array(text.utf8)
            return bytes.count >= offset + marker.count && Array(bytes[offset..<(offset + marker.count)]) == marker
        }
        if starts("RIFF"), starts("WAVE", at: 8) { return .wav }
        if starts("fLaC") { return .flac }
        if starts("OggS") { return .ogg }
        if starts("ID3") { return .mp3 }
        if starts("ftyp", at: 4) { return .mp4 }
        if bytes.count >= 2, bytes[0] == 0xFF {
            if bytes[1] & 0xF6 == 0xF0 { return .aac }  // ADTS
            if bytes[1] & 0xE0 == 0xE0 { return .mp3 }  // MPEG audio frame sync
        }
        return nil
    }

    /// Whether the bytes look like text (an error page or JSON sent with status 200).
    public static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(256)
        guard !head.isEmpty else { return true }
        let printable = head.filter { $0 == 9 || $0 == 10 || $0 == 13 || (32...126).contains($0) || $0 >= 0x80 }
        return printable.count == head.count
            && (head.first == UInt8(ascii: "<") || head.first == UInt8(ascii: "{")
                || head.first == UInt8(ascii: "["))
    }
}
