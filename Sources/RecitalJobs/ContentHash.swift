internal import Foundation

/// Stable, fast content fingerprints for de-duplication and checkpoint checks. Not a security
/// measure: they find accidents (a changed file, a truncated checkpoint), not attacks.
///
/// Texts and source books keep FNV-1a (64 bit), which the job table has always stored for them.
/// Audio is fingerprinted with ``Checksum``, eight bytes at a time in four independent lanes: on a
/// large book FNV-1a's one byte at a time was a tenth of the synthesis stage's CPU.
public enum ContentHash {
    public static func bytes(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { hex(update(offset, $0)) }
    }

    public static func text(_ text: String) -> String {
        var copy = text
        return copy.withUTF8 { hex(update(offset, $0)) }
    }

    /// The checksum of audio bytes, written as `c2:` and 16 hex digits.
    public static func checksum(_ bytes: [UInt8]) -> String {
        var checksum = Checksum()
        bytes.withUnsafeBytes { checksum.add($0) }
        return checksum.value
    }

    /// Whether `bytes` have `checksum`, in either form the job table holds (``checksum(_:)``, or the
    /// FNV-1a of ``bytes(_:)`` that earlier versions stored for checkpoints).
    public static func matches(_ bytes: [UInt8], _ checksum: String) -> Bool {
        checksum.hasPrefix(Checksum.prefix) ? Self.checksum(bytes) == checksum : Self.bytes(bytes) == checksum
    }

    /// The ``checksum(_:)`` of a file read in pieces (outputs can be hundreds of megabytes); nil
    /// when it cannot be read.
    public static func file(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var checksum = Checksum()
        while let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty {
            data.withUnsafeBytes { checksum.add($0) }
        }
        return checksum.value
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

    fileprivate static func hex(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A streaming 64-bit checksum: 32-byte blocks feed four lanes (xor a little-endian word, multiply
/// by an odd constant, rotate), so the lanes' multiplications overlap; the lanes, the tail and the length
/// are then folded and mixed so that every input bit reaches every output bit. The same bytes give
/// the same value however they are split between calls to ``add(_:)``.
struct Checksum {
    static let prefix = "c2:"
    private static let prime: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (
        0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89
    )
    private var tail: [UInt8] = []
    private var length: UInt64 = 0

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var start = 0
        if !tail.isEmpty {
            let take = min(32 - tail.count, bytes.count)
            tail.append(contentsOf: bytes[0..<take])
            start = take
            guard tail.count == 32 else { return }
            tail.withUnsafeBytes { block($0, at: 0) }
            tail.removeAll(keepingCapacity: true)
        }
        while bytes.count - start >= 32 {
            block(bytes, at: start)
            start += 32
        }
        tail.append(contentsOf: bytes[start...])
    }

    private mutating func block(_ bytes: UnsafeRawBufferPointer, at start: Int) {
        func word(_ index: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start + index * 8, as: UInt64.self))
        }
        // A multiplication only carries upwards; the rotation brings the high bits back down, or a
        // flipped top bit would stay alone at the top and every such flip would look the same.
        func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let product = (lane ^ word) &* Self.prime
            return product << 29 | product >> 35
        }
        lanes.0 = round(lanes.0, word(0))
        lanes.1 = round(lanes.1, word(1))
        lanes.2 = round(lanes.2, word(2))
        lanes.3 = round(lanes.3, word(3))
    }

    var value: String {
        var hash = length &* Self.prime
        for lane in [lanes.0, lanes.1, lanes.2, lanes.3] { hash = Self.mix(hash ^ Self.mix(lane)) }
        for byte in tail { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Self.prefix + ContentHash.hex(Self.mix(hash))
    }

    /// A 64-bit finaliser (xor-shift and multiply, twice) that spreads every bit over the word.
    private static func mix(_ value: UInt64) -> UInt64 {
        var mixed = value
        mixed = (mixed ^ (mixed >> 31)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
