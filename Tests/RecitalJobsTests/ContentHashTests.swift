import Foundation
import RecitalTestSupport
import Testing

@testable import RecitalJobs

@Suite("Checksums of checkpoint audio and outputs")
struct ContentHashTests {
    /// Bytes that look like audio: a slow wave with a little noise, from a fixed seed.
    static func audioBytes(_ count: Int) -> [UInt8] {
        var state: UInt64 = 0x5EED
        return (0..<count).map { index in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: Int(sin(Double(index) / 40) * 100) + Int(state >> 61))
        }
    }

    @Test("the checksum is stored in a stable form, so checkpoints written today verify after an upgrade")
    func stableForm() {
        #expect(ContentHash.checksum([]) == "c2:1cb8681e1bd9f067")
        #expect(ContentHash.checksum(Array(0..<100)) == "c2:138ca29e2c69e27c")
    }

    @Test("the same bytes give the same checksum however they arrive", arguments: [1, 7, 31, 32, 33, 1000])
    func pieces(size: Int) throws {
        let bytes = Self.audioBytes(100_003)
        var checksum = Checksum()
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { checksum.add($0) }
            start = end
        }
        #expect(checksum.value == ContentHash.checksum(bytes))
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("audio.bin")
        try Data(bytes).write(to: file)
        #expect(ContentHash.file(file.path) == ContentHash.checksum(bytes))
    }

    @Test("a flipped bit anywhere, a lost last byte or an extra one changes the checksum")
    func detectsAccidents() {
        let bytes = Self.audioBytes(4_099)
        let original = ContentHash.checksum(bytes)
        var seen: Set<String> = [original]
        for position in stride(from: 0, to: bytes.count, by: 13) {
            for bit in [0, 3, 7] {
                var changed = bytes
                changed[position] ^= 1 << bit
                seen.insert(ContentHash.checksum(changed))
            }
        }
        let flips = (bytes.count + 12) / 13 * 3
        #expect(seen.count == flips + 1)
        #expect(ContentHash.checksum(Array(bytes.dropLast())) != original)
        #expect(ContentHash.checksum(bytes + [0]) != original)
    }

    @Test("checkpoints recorded with the earlier FNV-1a fingerprint still verify, and still catch changes")
    func earlierForm() {
        let bytes = Self.audioBytes(10_000)
        var changed = bytes
        changed[5_000] ^= 0x10
        for checksum in [ContentHash.bytes(bytes), ContentHash.checksum(bytes)] {
            #expect(ContentHash.matches(bytes, checksum))
            #expect(!ContentHash.matches(changed, checksum))
        }
    }
}
