internal import Foundation

/// Stable, fast content fingerprints (FNV-1a, 64 bit) for de-duplication and checkpoint checks.
/// Not a security measure: it finds accidents (a changed file, a truncated checkpoint), not attacks.
public enum ContentHash {
    public static func bytes(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { hex(of: $0) }
    }

    public static func text(_ text: String) -> String {
        var copy = text
        return copy.withUTF8 { hex(of: $0) }
    }

    /// The fingerprint of a file read in pieces (outputs can be hundreds of megabytes); nil when
    /// it cannot be read.
    public static func file(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hash: UInt64 = offset
        while let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty {
            data.withUnsafeBytes { hash = update(hash, $0.bindMemory(to: UInt8.self)) }
        }
        return hex(hash)
    }

    private static let offset: UInt64 = 0xcbf2_9ce4_8422_2325

    private static func update(_ start: UInt64, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = start
        for byte in buffer {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hex(of buffer: UnsafeBufferPointer<UInt8>) -> String {
        hex(update(offset, buffer))
    }

    private static func hex(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
