/// Builds ISO base media file format boxes (ISO/IEC 14496-12) in memory, big-endian. Sizes are
/// patched when a box closes, so nesting reads like the file's structure.
struct MP4Box {
    private(set) var bytes: [UInt8] = []

    init() {}

    /// A box of `type` whose body `content` writes.
    init(_ type: String, _ content: (inout MP4Box) -> Void) {
        box(type, content)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u24(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    mutating func u64(_ value: UInt64) {
        u32(UInt32(value >> 32))
        u32(UInt32(truncatingIfNeeded: value))
    }

    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    mutating func append(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }

    /// A four-character code; `©` stands for the byte 0xA9 as in iTunes item names.
    mutating func fourCC(_ code: String) {
        let scalars = code.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
        precondition(scalars.count == 4, "four-character code \(code)")
        bytes.append(contentsOf: scalars)
    }

    /// 16.16 fixed point identity transform, as tkhd and the QuickTime text header carry it.
    mutating func identityMatrix() {
        for value: UInt32 in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] { u32(value) }
    }

    mutating func box(_ type: String, _ content: (inout MP4Box) -> Void) {
        let start = bytes.count
        u32(0)
        fourCC(type)
        content(&self)
        let size = UInt32(bytes.count - start)
        for shift in 0..<4 { bytes[start + shift] = UInt8(truncatingIfNeeded: size >> (24 - 8 * UInt32(shift))) }
    }

    /// A box that starts with a version byte and 24 bits of flags.
    mutating func fullBox(_ type: String, version: UInt8 = 0, flags: UInt32 = 0, _ content: (inout MP4Box) -> Void) {
        box(type) { box in
            box.u8(version)
            box.u24(flags)
            content(&box)
        }
    }

    /// An MPEG-4 descriptor (ISO/IEC 14496-1) with its length in the one-byte form when it fits.
    mutating func descriptor(tag: UInt8, _ content: (inout MP4Box) -> Void) {
        var body = MP4Box()
        content(&body)
        u8(tag)
        let length = body.bytes.count
        if length < 0x80 {
            u8(UInt8(length))
        } else {
            // Four bytes of seven bits each, high bit meaning "more follows".
            for shift in stride(from: 21, through: 0, by: -7) {
                u8(UInt8((length >> shift) & 0x7F) | (shift > 0 ? 0x80 : 0))
            }
        }
        append(body.bytes)
    }
}
