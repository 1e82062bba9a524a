internal import CRecitalFFmpeg
internal import RecitalModel

/// The common answer of TTS servers, 16-bit PCM in a RIFF/WAVE file, read without FFmpeg's
/// probing (which scans the whole buffer). Any other WAV goes through libavformat as usual.
enum PCMWAV {
    /// The samples (downmixed to mono) and rate of a 16-bit PCM WAV, or nil for anything else.
    /// Size fields of 0 or 0xFFFFFFFF (servers that stream the header first) mean "to the end".
    static func read(_ bytes: [UInt8]) -> (samples: [Int16], rate: Int)? {
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8)
        else {
            return nil
        }
        func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        func u32(_ offset: Int) -> Int { u16(offset) | u16(offset + 2) << 16 }
        var offset = 12
        var channels = 0
        var rate = 0
        var bits = 0
        var format = 0
        while offset + 8 <= bytes.count {
            let size = u32(offset + 4)
            let body = offset + 8
            if bytes[offset..<(offset + 4)].elementsEqual("fmt ".utf8), body + 16 <= bytes.count {
                format = u16(body)
                channels = u16(body + 2)
                rate = u32(body + 4)
                bits = u16(body + 14)
            } else if bytes[offset..<(offset + 4)].elementsEqual("data".utf8) {
                guard format == 1, bits == 16, channels >= 1, rate > 0 else { return nil }
                let available = bytes.count - body
                let length = size == 0 || size == 0xFFFF_FFFF || size > available ? available : size
                let frames = length / (2 * channels)
                if channels == 1 { return (WAV.littleEndianSamples(bytes[body..<(body + frames * 2)]), rate) }
                let samples = bytes.withUnsafeBufferPointer { buffer -> [Int16] in
                    (0..<frames).map { frame in
                        var sum = 0
                        for channel in 0..<channels {
                            let at = body + (frame * channels + channel) * 2
                            sum += Int(Int16(bitPattern: UInt16(buffer[at]) | UInt16(buffer[at + 1]) << 8))
                        }
                        return Int16(sum / channels)
                    }
                }
                return (samples, rate)
            }
            offset = body + size + (size & 1)
        }
        return nil
    }
}

/// Resamples mono 16-bit audio with swresample.
enum MonoResampler {
    static func resample(_ samples: [Int16], from input: Int, to output: Int) throws(MediaError) -> [Int16] {
        guard input != output, !samples.isEmpty else { return samples }
        try FFmpeg.load()
        var context: OpaquePointer?
        var outputLayout = AVChannelLayout()
        var inputLayout = AVChannelLayout()
        ff.av_channel_layout_default(&outputLayout, 1)
        ff.av_channel_layout_default(&inputLayout, 1)
        defer {
            ff.av_channel_layout_uninit(&outputLayout)
            ff.av_channel_layout_uninit(&inputLayout)
            ff.swr_free(&context)
        }
        try MediaError.check(
            ff.swr_alloc_set_opts2(
                &context,
                &outputLayout,
                AV_SAMPLE_FMT_S16,
                Int32(output),
                &inputLayout,
                AV_SAMPLE_FMT_S16,
                Int32(input),
                0,
                nil
            ),
            "open resampler"
        )
        try MediaError.check(ff.swr_init(context), "open resampler")
        let capacity = Int(ff.swr_get_out_samples(context, Int32(samples.count))) + 64
        var result = [Int16](repeating: 0, count: capacity)
        var produced = 0
        let status = result.withUnsafeMutableBytes { out -> Int32 in
            samples.withUnsafeBytes { source -> Int32 in
                var outPlane: UnsafeMutablePointer<UInt8>? = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
                var inPlane: UnsafePointer<UInt8>? = source.baseAddress?.assumingMemoryBound(to: UInt8.self)
                let converted = ff.swr_convert(context, &outPlane, Int32(capacity), &inPlane, Int32(samples.count))
                guard converted >= 0 else { return converted }
                produced = Int(converted)
                // Drain what the filter still holds.
                var tail: UnsafeMutablePointer<UInt8>? = out.baseAddress.map {
                    ($0 + produced * 2).assumingMemoryBound(to: UInt8.self)
                }
                let flushed = ff.swr_convert(context, &tail, Int32(capacity - produced), nil, 0)
                if flushed > 0 { produced += Int(flushed) }
                return flushed < 0 ? flushed : 0
            }
        }
        try MediaError.check(status, "resample")
        result.removeLast(capacity - produced)
        return result
    }
}
