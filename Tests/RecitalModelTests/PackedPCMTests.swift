import Foundation
import Testing

@testable import RecitalModel

@Suite("Packed PCM: lossless segment audio for the job table")
struct PackedPCMTests {
    /// A deterministic generator, so a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static func voiceLike(count: Int) -> [Int16] {
        var random = Generator(state: 7)
        return (0..<count).map { n in
            let t = Double(n) / 24_000
            let envelope = 0.5 + 0.5 * sin(2 * .pi * 3 * t)
            let tone = sin(2 * .pi * 180 * t) + 0.4 * sin(2 * .pi * 720 * t + 1)
            let noise = Double(Int.random(in: -300...300, using: &random))
            return Int16(clamping: Int(8_000 * envelope * tone + noise))
        }
    }

    @Test(
        "every sample comes back unchanged",
        arguments: [0, 1, 2, 4095, 4096, 4097, 24_000 * 3 + 17]
    )
    func roundTrip(count: Int) {
        let samples = Self.voiceLike(count: count)
        #expect(PackedPCM.unpack(PackedPCM.pack(samples)) == samples)
    }

    @Test("the extremes of 16 bits survive, including full-scale square waves and noise")
    func extremes() {
        var random = Generator(state: 11)
        let square = (0..<10_000).map { $0 % 2 == 0 ? Int16.min : Int16.max }
        let steps = (0..<10_000).map { $0 % 3 == 0 ? Int16.max : ($0 % 3 == 1 ? Int16.min : 0) }
        let noise = (0..<10_000).map { _ in Int16.random(in: .min ... .max, using: &random) }
        let silence = [Int16](repeating: 0, count: 9_000)
        for samples in [square, steps, noise, silence, square + silence + noise] {
            #expect(PackedPCM.unpack(PackedPCM.pack(samples)) == samples)
        }
    }

    @Test("speech-like audio packs to well under its PCM size; silence to almost nothing")
    func compresses() {
        let samples = Self.voiceLike(count: 24_000 * 5)
        let ratio = Double(PackedPCM.pack(samples).count) / Double(samples.count * 2)
        #expect(ratio < 0.75, "packed to \(ratio) of PCM")
        #expect(PackedPCM.pack([Int16](repeating: 0, count: 24_000)).count < 24_000 / 50)
    }

    @Test("truncated or foreign bytes are refused, not misread")
    func refusesDamage() {
        let packed = PackedPCM.pack(Self.voiceLike(count: 10_000))
        #expect(PackedPCM.unpack(Array(packed.dropLast(packed.count / 3))) == nil)
        #expect(PackedPCM.unpack(Array(packed.prefix(6))) == nil)
        #expect(PackedPCM.unpack(WAV.encode(samples: [1, 2, 3], sampleRate: 24_000)) == nil)
        // A count no stream of this length could hold is refused before anything is allocated.
        #expect(PackedPCM.unpack(Array("RPK1".utf8) + [0xFF, 0xFF, 0xFF, 0x7F] + [0, 0, 0]) == nil)
    }
}
