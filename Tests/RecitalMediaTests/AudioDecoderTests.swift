import Foundation
import RecitalMedia
import Testing

@Suite("Decoding and resampling audio in memory")
struct AudioDecoderTests {
    /// A mono 16-bit WAV of a sine tone.
    static func wav(rate: Int, seconds: Double, frequency: Double = 440) -> [UInt8] {
        let count = Int(Double(rate) * seconds)
        var data: [UInt8] = []
        for n in 0..<count {
            let value = Int16(sin(2 * .pi * frequency * Double(n) / Double(rate)) * 12_000)
            data += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
        }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        return Array("RIFF".utf8) + le32(36 + data.count) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1)
            + le32(rate) + le32(rate * 2) + le16(2) + le16(16) + Array("data".utf8) + le32(data.count) + data
    }

    @Test("a WAV at one rate comes out at the requested rate with the same duration")
    func resample() throws {
        let audio = try AudioDecoder.decode(Self.wav(rate: 22_050, seconds: 1), sampleRate: 24_000)
        #expect(audio.sampleRate == 24_000)
        #expect(abs(audio.samples.count - 24_000) < 100)
        let peak = audio.samples.map { abs(Int($0)) }.max() ?? 0
        #expect(peak > 10_000 && peak < 13_500)
    }

    @Test("headerless PCM decodes at its declared rate")
    func rawPCM() throws {
        let wav = Self.wav(rate: 24_000, seconds: 0.5)
        let pcm = Array(wav.dropFirst(44))
        let audio = try AudioDecoder.decode(pcm, sampleRate: 24_000, rawPCMRate: 24_000)
        #expect(audio.samples.count == 12_000)
    }

    @Test(
        "bytes that are not audio fail with FFmpeg's message",
        arguments: [
            Array("<html><body>Internal Server Error</body></html>".utf8), [UInt8](),
        ]
    )
    func notAudio(bytes: [UInt8]) {
        #expect(throws: MediaError.self) { try AudioDecoder.decode(bytes, sampleRate: 24_000) }
    }
}
