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

@Suite("WAV answers in the shapes servers send")
struct WAVShapesTests {
    static func wav(
        channels: Int,
        bits: Int,
        format: Int,
        rate: Int,
        frames: [[Double]],
        dataSize: UInt32? = nil
    ) -> [UInt8] {
        var data: [UInt8] = []
        for frame in frames {
            for value in frame {
                if format == 3 {
                    data += withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { Array($0) }
                } else {
                    data += withUnsafeBytes(of: Int16(value * 30_000).littleEndian) { Array($0) }
                }
            }
        }
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let block = UInt16(channels * bits / 8)
        return Array("RIFF".utf8) + le32(UInt32(36 + data.count)) + Array("WAVEfmt ".utf8) + le32(16)
            + le16(UInt16(format))
            + le16(UInt16(channels)) + le32(UInt32(rate)) + le32(UInt32(rate) * UInt32(block)) + le16(block)
            + le16(UInt16(bits)) + Array("data".utf8) + le32(dataSize ?? UInt32(data.count)) + data
    }

    @Test("stereo 16-bit is mixed down to mono")
    func stereo() throws {
        let frames = (0..<2400).map { _ in [0.5, -0.5] } + (0..<2400).map { _ in [0.5, 0.5] }
        let audio = try AudioDecoder.decode(
            Self.wav(channels: 2, bits: 16, format: 1, rate: 24_000, frames: frames),
            sampleRate: 24_000
        )
        #expect(audio.samples.count == 4800)
        #expect(audio.samples[100] == 0)
        #expect(audio.samples[4000] == 15_000)
    }

    @Test("a streamed header with an unknown data size (0xFFFFFFFF) reads to the end")
    func streamedHeader() throws {
        let frames = (0..<12_000).map { _ in [0.25] }
        let audio = try AudioDecoder.decode(
            Self.wav(channels: 1, bits: 16, format: 1, rate: 24_000, frames: frames, dataSize: 0xFFFF_FFFF),
            sampleRate: 24_000
        )
        #expect(audio.samples.count == 12_000)
    }

    @Test("32-bit float WAV goes through libavcodec and comes out as 16-bit at the book's rate")
    func float() throws {
        let frames = (0..<22_050).map { [sin(Double($0) / 10) * 0.5] }
        let audio = try AudioDecoder.decode(
            Self.wav(channels: 1, bits: 32, format: 3, rate: 22_050, frames: frames),
            sampleRate: 24_000
        )
        #expect(abs(audio.samples.count - 24_000) < 100)
        let peak = audio.samples.map { abs(Int($0)) }.max() ?? 0
        #expect(peak > 15_000 && peak < 17_500)
    }
}
