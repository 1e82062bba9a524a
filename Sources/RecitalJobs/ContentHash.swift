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

    private static func hex(of buffer: UnsafeBufferPointer<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in buffer {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
