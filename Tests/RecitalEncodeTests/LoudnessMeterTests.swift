import Foundation
import Testing

@testable import RecitalEncode

@Suite("Loudness meter")
struct LoudnessMeterTests {
    static func sine(amplitude: Double, frequency: Double = 997, seconds: Double = 5, rate: Int = 24_000) -> [Int16] {
        (0..<Int(seconds * Double(rate))).map {
            Int16(amplitude * 32767 * sin(2 * .pi * frequency * Double($0) / Double(rate)))
        }
    }

    @Test("a 997 Hz sine reads 3.01 dB under its peak, as BS.1770 defines", arguments: [0.1, 0.5])
    func sineReference(amplitude: Double) throws {
        var meter = LoudnessMeter(sampleRate: 24_000)
        Self.sine(amplitude: amplitude).withUnsafeBufferPointer { meter.add($0) }
        let expected = 20 * log10(amplitude) - 3.01
        #expect(abs(try #require(meter.integrated) - expected) < 0.05)
    }

    @Test("the result does not depend on how the stream is cut into pieces, odd lengths included")
    func pieces() throws {
        var seed: UInt64 = 42
        let noise: [Int16] = (0..<100_000).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int16(truncatingIfNeeded: seed >> 48) / 4
        }
        let signal = Self.sine(amplitude: 0.3, seconds: 3) + noise
        var whole = LoudnessMeter(sampleRate: 24_000)
        signal.withUnsafeBufferPointer { whole.add($0) }
        var cut = LoudnessMeter(sampleRate: 24_000)
        var offset = 0
        for length in [1, 7, 1, 2_401, 3, 999] + Array(repeating: 4_095, count: 60) where offset < signal.count {
            let end = min(signal.count, offset + length)
            signal[offset..<end].withUnsafeBufferPointer { cut.add($0) }
            offset = end
        }
        signal[offset...].withUnsafeBufferPointer { cut.add($0) }
        #expect(abs(try #require(whole.integrated) - (try #require(cut.integrated))) < 1e-9)
        #expect(whole.peak == cut.peak)
        #expect(whole.peak == signal.map { Int(abs(Int32($0))) }.max())
    }

    @Test("a biquad run two samples at a time gives what it gives one at a time")
    func twoAtATime() {
        var single = Biquad(b0: 1.53, b1: -2.69, b2: 1.19, a1: -1.69, a2: 0.73)
        var paired = single
        var largest = 0.0
        for step in 0..<10_000 {
            let first = sin(Double(step) * 0.37) + 0.2 * cos(Double(step) * 2.1)
            let second = sin(Double(step) * 0.41 + 1) * 0.5
            let one = (single.process(first), single.process(second))
            let two = paired.process(first, second)
            largest = max(largest, abs(one.0 - two.0), abs(one.1 - two.1))
        }
        #expect(largest < 1e-9)
    }

    @Test("two halves measured apart and joined read as the whole does, within 0.01 LU")
    func appended() throws {
        let loud = Self.sine(amplitude: 0.5, seconds: 7)
        let quiet = Self.sine(amplitude: 0.05, frequency: 440, seconds: 11)
        var whole = LoudnessMeter(sampleRate: 24_000)
        (loud + quiet).withUnsafeBufferPointer { whole.add($0) }
        var first = LoudnessMeter(sampleRate: 24_000)
        var second = LoudnessMeter(sampleRate: 24_000)
        loud.withUnsafeBufferPointer { first.add($0) }
        quiet.withUnsafeBufferPointer { second.add($0) }
        first.append(second)
        #expect(abs(try #require(first.integrated) - (try #require(whole.integrated))) < 0.01)
        #expect(first.peak == whole.peak)
    }
}
