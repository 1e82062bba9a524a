/// Mono 16-bit PCM WAV, the format of checkpoint files and of the built-in server's answers.
public enum WAV {
    public static let headerSize = 44

    /// A complete WAV file for these samples.
    public static func encode(samples: [Int16], sampleRate: Int) -> [UInt8] {
        var bytes = header(sampleCount: samples.count, sampleRate: sampleRate)
        bytes.reserveCapacity(headerSize + samples.count * 2)
        // Checkpoints are written per segment at full request rate: copy whole, not byte by byte.
        #if _endian(little)
            samples.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for sample in samples { withUnsafeBytes(of: sample.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
        return bytes
    }

    /// The 44-byte header of a mono 16-bit file with `sampleCount` samples.
    public static func header(sampleCount: Int, sampleRate: Int) -> [UInt8] {
        let dataSize = UInt32(clamping: sampleCount * 2)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize)
        func append32(_ value: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
        }
        func append16(_ value: UInt16) { bytes.append(UInt8(value & 0xFF)); bytes.append(UInt8(value >> 8)) }
        bytes += Array("RIFF".utf8)
        append32(36 &+ dataSize)
        bytes += Array("WAVEfmt ".utf8)
        append32(16)
        append16(1)  // PCM
        append16(1)  // mono
        append32(UInt32(sampleRate))
        append32(UInt32(sampleRate * 2))
        append16(2)
        append16(16)
        bytes += Array("data".utf8)
        append32(dataSize)
        return bytes
    }

    /// Reads a file written by ``encode(samples:sampleRate:)``: its rate and sample count, or nil
    /// when the header is not that shape or the data is truncated.
    public static func parse(_ bytes: [UInt8]) -> (sampleRate: Int, sampleCount: Int)? {
        parse(header: bytes.prefix(headerSize), fileSize: bytes.count)
    }

    /// The same from a file's first 44 bytes and its size, for readers that do not load it whole.
    public static func parse(header: ArraySlice<UInt8>, fileSize: Int) -> (sampleRate: Int, sampleCount: Int)? {
        let bytes = Array(header)
        guard bytes.count >= headerSize, bytes.starts(with: Array("RIFF".utf8)),
            Array(bytes[8..<16]) == Array("WAVEfmt ".utf8), Array(bytes[36..<40]) == Array("data".utf8)
        else { return nil }
        func read32(_ offset: Int) -> Int {
            (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let channels = Int(bytes[22]) | Int(bytes[23]) << 8
        let bits = Int(bytes[34]) | Int(bytes[35]) << 8
        let dataSize = read32(40)
        guard channels == 1, bits == 16, fileSize == headerSize + dataSize else { return nil }
        return (read32(24), dataSize / 2)
    }

    /// The samples of a file that ``parse(_:)`` accepts.
    public static func samples(_ bytes: [UInt8]) -> [Int16] {
        littleEndianSamples(bytes[...].dropFirst(headerSize))
    }

    /// 16-bit little-endian samples from raw bytes (a trailing odd byte is ignored). Every
    /// checkpoint and most server answers pass through here.
    public static func littleEndianSamples(_ bytes: ArraySlice<UInt8>) -> [Int16] {
        let count = bytes.count / 2
        return [Int16](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                #if _endian(little)
                    // The bytes are in the machine's order: one copy.
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 2)])
                    )
                #else
                    for index in 0..<count {
                        buffer[index] = Int16(
                            littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)
                        )
                    }
                #endif
            }
            initialized = count
        }
    }
}
