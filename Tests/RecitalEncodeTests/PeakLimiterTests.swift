import Foundation
import Testing

@testable import RecitalEncode

@Suite("Peak limiter")
struct PeakLimiterTests {
    static let rate = 24_000

    /// Quiet speech-like tone with loud bursts every second: some stretches pass straight through,
    /// others need several dB of limiting.
    static func signal(seconds: Double = 4) -> [Int16] {
        (0..<Int(seconds * Double(rate))).map { index in
            let time = Double(index) / Double(rate)
            let burst = time.truncatingRemainder(dividingBy: 1) > 0.7 ? 3.5 : 1
            return Int16(max(-32767, min(32767, sin(2 * .pi * 220 * time) * 6000 * burst)))
        }
    }

    /// Everything the limiter returns for `input`, fed in pieces of the given sizes (cycled).
    static func limit(_ input: [Int16], gain: Double, pieces: [Int]) -> [Int16] {
        let limiter = PeakLimiter(gain: gain, ceilingDBFS: -3, sampleRate: rate)
        var output: [Int16] = []
        var piece: [Int16] = []
        var offset = 0
        var turn = 0
        while offset < input.count {
            let count = min(pieces[turn % pieces.count], input.count - offset)
            input[offset..<(offset + count)].withUnsafeBufferPointer { limiter.process($0, into: &piece) }
            output += piece
            offset += count
            turn += 1
        }
        limiter.flush(&piece)
        return output + piece
    }

    @Test("the output is the input's length, never above the ceiling, also between samples")
    func holdsTheCeiling() {
        let input = Self.signal()
        let output = Self.limit(input, gain: 2, pieces: [4096])
        #expect(output.count == input.count)
        let ceiling = pow(10, -3.0 / 20) * 32768
        let loudest = output.map { abs(Double($0)) }.max() ?? 0
        #expect(loudest <= ceiling + 1)
        var between = 0.0
        for index in 3..<output.count {
            let (x0, x1, x2, x3) = (
                Double(output[index - 3]), Double(output[index - 2]), Double(output[index - 1]), Double(output[index])
            )
            between = max(between, abs((-x0 + 9 * x1 + 9 * x2 - x3) / 16))
        }
        #expect(between <= ceiling + 2)
        // It did have to act: the bursts at twice the gain go far past the ceiling.
        #expect(input.map { abs(Double($0)) * 2 }.max() ?? 0 > ceiling * 1.5)
    }

    /// The peak an oversampling meter sees: eight points per sample interval, each from 64
    /// neighbours under a long windowed sinc (independent of the limiter's own interpolator).
    static func truePeak(_ samples: [Int16]) -> Double {
        let half = 32
        var loudest = samples.map { abs(Double($0)) }.max() ?? 0
        for phase in 1..<8 {
            let fraction = Double(phase) / 8
            let taps = (0..<(2 * half)).map { tap -> Double in
                let distance = Double(tap - half + 1) - fraction
                let window =
                    0.42 + 0.5 * cos(Double.pi * distance / Double(half)) + 0.08
                    * cos(2 * Double.pi * distance / Double(half))
                return window * sin(Double.pi * distance) / (Double.pi * distance)
            }
            for index in (half - 1)..<(samples.count - half) {
                var value = 0.0
                for tap in 0..<(2 * half) { value += taps[tap] * Double(samples[index - half + 1 + tap]) }
                loudest = max(loudest, abs(value))
            }
        }
        return loudest
    }

    @Test("peaks between samples are held under the ceiling as an oversampling meter measures them")
    func holdsInterSamplePeaks() {
        // A quarter of the sample rate, with the samples falling either side of every crest:
        // the crests between them are up to 3 dB above the samples themselves.
        let input = (0..<48_000).map { index in
            Int16(sin(2 * .pi * 6_000 * Double(index) / Double(Self.rate) + .pi / 4) * 9_000)
        }
        let gain = 3.4
        let output = Self.limit(input, gain: gain, pieces: [4096])
        let ceiling = pow(10, -3.0 / 20) * 32768
        let samplePeak = output.map { abs(Double($0)) }.max() ?? 0
        let peak = Self.truePeak(output)
        #expect(peak <= ceiling * pow(10, 0.1 / 20), "true peak \(20 * log10(peak / 32768)) dBFS")
        // It is a case where samples alone mislead: the crests stand well above them.
        #expect(peak > samplePeak * pow(10, 1.0 / 20))
    }

    @Test("audio under the ceiling comes out scaled by the gain and delayed by the look-ahead, untouched")
    func passesQuietAudioThrough() {
        let input = Self.signal().map { Int16(Double($0) / 4) }
        let gain = 1.5
        let output = Self.limit(input, gain: gain, pieces: [1000])
        let expected = input.map { Int16((Double($0) * gain).rounded(.toNearestOrEven)) }
        #expect(output == expected)
    }

    /// Quiet stretches, and bursts starting in the middle of the limiter's blocks whose samples stay
    /// under the ceiling while the crests between them rise 3 dB above it.
    static func crestBursts() -> [Int16] {
        (0..<48_000).map { index in
            let amplitude = (index / 3_001) % 2 == 1 ? 30_000.0 : 3_000
            return Int16(sin(2 * .pi * 6_000 * Double(index) / Double(rate) + .pi / 4) * amplitude)
        }
    }

    @Test(
        "the result does not depend on how the stream is cut into pieces",
        arguments: [("tone bursts", 2.0), ("crests between samples", 1.0)]
    )
    func piecesDoNotMatter(signal: String, gain: Double) {
        let input = signal == "tone bursts" ? Self.signal() : Self.crestBursts()
        let whole = Self.limit(input, gain: gain, pieces: [input.count])
        // The limiter did have work to do.
        let loudest = { (samples: [Int16]) in samples.map { abs(Double($0)) }.max() ?? 0 }
        #expect(loudest(whole) < loudest(input) * gain - 100)
        for pieces in [[1], [7, 333, 120, 5000, 2], [119, 121, 4096]] {
            let cut = Self.limit(input, gain: gain, pieces: pieces)
            // Where they part, rather than two arrays of 48,000 samples.
            let parting =
                cut.indices.first { $0 >= whole.count || cut[$0] != whole[$0] }
                ?? (cut.count == whole.count ? nil : cut.count)
            #expect(parting == nil, "pieces \(pieces)")
        }
    }

    @Test("gain changes are gradual: no step between neighbouring samples beyond the audio's own")
    func limitsWithoutClicks() {
        let input = Self.signal()
        let output = Self.limit(input, gain: 2, pieces: [4096])
        // A 220 Hz sine at the ceiling moves at most 2π·220/24000 of it per sample; a gain moving
        // smoothly adds little to that, while a gain switched at once would add thousands.
        let ceiling = pow(10, -3.0 / 20) * 32768
        let steepest = 2 * Double.pi * 220 / Double(Self.rate) * ceiling
        var largest = 0.0
        for index in 1..<output.count { largest = max(largest, abs(Double(output[index]) - Double(output[index - 1]))) }
        #expect(largest <= steepest * 1.25)
    }
}
