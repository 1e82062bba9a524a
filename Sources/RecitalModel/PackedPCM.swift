/// A lossless packing of mono 16-bit PCM for segment audio kept in the job table, where every byte
/// crosses the network: each block of samples is predicted from the ones before it (a fixed
/// polynomial predictor of order 0 to 2, whichever leaves the smallest residuals) and the residuals
/// are Rice-coded. Speech packs to about half of its PCM size; decoding restores every sample.
///
/// Layout: `RPK1`, the sample count (UInt32, little-endian), then a bit stream (most significant
/// bit first) of blocks, each a 2-bit predictor order, a 5-bit Rice parameter and its residuals.
/// Order 3 is a block that holds the sample before it throughout (digital silence): no residuals.
public enum PackedPCM {
    static let magic: [UInt8] = Array("RPK1".utf8)
    static let blockSize = 4096
    /// A residual whose quotient reaches this many ones is written raw instead.
    static let escape = 20
    /// Enough bits for any zigzagged residual of an order-2 prediction of 16-bit samples.
    static let rawBits = 19

    public static func pack(_ samples: [Int16]) -> [UInt8] {
        var writer = BitWriter(capacity: samples.count + 16)
        writer.bytes += magic
        for shift in stride(from: 0, to: 32, by: 8) { writer.bytes.append(UInt8((samples.count >> shift) & 0xFF)) }
        var residuals = [[Int32]](repeating: [Int32](repeating: 0, count: blockSize), count: 3)
        var previous: (Int32, Int32) = (0, 0)
        var start = 0
        while start < samples.count {
            let count = min(blockSize, samples.count - start)
            var sums: [Int64] = [0, 0, 0]
            var (p1, p2) = previous
            for offset in 0..<count {
                let x = Int32(samples[start + offset])
                let e0 = x
                let e1 = x - p1
                let e2 = x - 2 * p1 + p2
                residuals[0][offset] = e0
                residuals[1][offset] = e1
                residuals[2][offset] = e2
                sums[0] += Int64(abs(e0))
                sums[1] += Int64(abs(e1))
                sums[2] += Int64(abs(e2))
                (p1, p2) = (x, p1)
            }
            previous = (p1, p2)
            if sums[1] == 0 {
                writer.write(3 << 5, bits: 7)
                start += count
                continue
            }
            let order = sums.indices.min { sums[$0] < sums[$1] }!
            let mean = sums[order] / Int64(count)
            // The Rice parameter near log2 of the mean magnitude codes a Laplacian residual well.
            let k = min(18, mean > 0 ? Int64.bitWidth - mean.leadingZeroBitCount : 0)
            writer.write(UInt64(order << 5 | Int(k)), bits: 7)
            for offset in 0..<count {
                let e = residuals[order][offset]
                let u = UInt64(UInt32(bitPattern: (e << 1) ^ (e >> 31)))
                let quotient = Int(u >> UInt64(k))
                if quotient < escape {
                    // `quotient` ones, a zero, then the low `k` bits, in one write.
                    let ones = (UInt64(1) << UInt64(quotient + 1)) - 2
                    writer.write(ones << UInt64(k) | (u & ((1 << UInt64(k)) - 1)), bits: quotient + 1 + Int(k))
                } else {
                    writer.write((UInt64(1) << UInt64(escape)) - 1, bits: escape)
                    writer.write(u, bits: rawBits)
                }
            }
            start += count
        }
        writer.flush()
        return writer.bytes
    }

    /// The samples, or nil when the bytes are not a whole packing (truncated, damaged or another format).
    public static func unpack(_ bytes: [UInt8]) -> [Int16]? {
        guard bytes.count >= 8, Array(bytes[0..<4]) == magic else { return nil }
        var count = 0
        for index in 0..<4 { count |= Int(bytes[4 + index]) << (8 * index) }
        // Every block takes at least 7 bits: a damaged count must not ask for gigabytes.
        guard count <= (bytes.count - 8) * 8 / 7 * blockSize else { return nil }
        var samples = [Int16](repeating: 0, count: count)
        var reader = BitReader(bytes: bytes, offset: 8)
        var (p1, p2): (Int32, Int32) = (0, 0)
        var start = 0
        while start < count {
            guard let header = reader.read(bits: 7) else { return nil }
            let order = Int(header >> 5)
            let k = Int(header & 31)
            guard k <= 18 else { return nil }
            if order == 3 {
                for offset in 0..<min(blockSize, count - start) {
                    samples[start + offset] = Int16(truncatingIfNeeded: p1)
                }
                p2 = p1
                start += blockSize
                continue
            }
            for offset in 0..<min(blockSize, count - start) {
                guard let quotient = reader.ones(upTo: escape) else { return nil }
                let u: UInt64
                if quotient == escape {
                    guard let raw = reader.read(bits: rawBits) else { return nil }
                    u = raw
                } else {
                    guard let low = reader.read(bits: k) else { return nil }
                    u = UInt64(quotient) << UInt64(k) | low
                }
                let e = Int32(truncatingIfNeeded: u >> 1) ^ -Int32(truncatingIfNeeded: u & 1)
                let prediction: Int32 =
                    switch order {
                    case 0: 0
                    case 1: p1
                    default: 2 * p1 - p2
                    }
                let x = e + prediction
                guard let sample = Int16(exactly: x) else { return nil }
                samples[start + offset] = sample
                (p1, p2) = (x, p1)
            }
            start += blockSize
        }
        return samples
    }
}

private struct BitWriter {
    var bytes: [UInt8] = []
    private var accumulator: UInt64 = 0
    private var pending = 0

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends the low `bits` bits of `value` (at most 56 at a time).
    mutating func write(_ value: UInt64, bits: Int) {
        accumulator = accumulator << UInt64(bits) | (value & ((1 << UInt64(bits)) &- 1))
        pending += bits
        while pending >= 8 {
            pending -= 8
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(pending)))
        }
    }

    mutating func flush() {
        if pending > 0 { write(0, bits: 8 - pending) }
    }
}

private struct BitReader {
    let bytes: [UInt8]
    var offset: Int
    private var accumulator: UInt64 = 0
    private var available = 0

    init(bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    private mutating func fill(_ bits: Int) -> Bool {
        while available < bits {
            guard offset < bytes.count else { return false }
            accumulator = accumulator << 8 | UInt64(bytes[offset])
            offset += 1
            available += 8
        }
        return true
    }

    mutating func read(bits: Int) -> UInt64? {
        guard bits > 0 else { return 0 }
        guard fill(bits) else { return nil }
        available -= bits
        return (accumulator >> UInt64(available)) & ((1 << UInt64(bits)) - 1)
    }

    /// Counts ones up to a terminating zero (consumed), or up to `limit` ones (no zero follows).
    mutating func ones(upTo limit: Int) -> Int? {
        var count = 0
        while count < limit {
            guard fill(1) else { return nil }
            available -= 1
            if (accumulator >> UInt64(available)) & 1 == 0 { return count }
            count += 1
        }
        return count
    }
}
