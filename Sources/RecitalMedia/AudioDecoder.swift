internal import CRecitalFFmpeg

/// Decoded audio: mono 16-bit samples at one rate.
public struct PCMAudio: Sendable, Equatable {
    public var samples: [Int16]
    public var sampleRate: Int

    public init(samples: [Int16], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    public var duration: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }
}

/// Decodes audio held in memory (WAV, MP3, FLAC, Opus, AAC… whatever libavformat recognises, or
/// headerless s16le PCM at a declared rate) and resamples it to mono at the requested rate.
public enum AudioDecoder {
    /// Decodes `bytes` to mono 16-bit samples at `sampleRate`.
    /// - Parameters:
    ///   - rawPCMRate: when the bytes are headerless signed 16-bit little-endian mono PCM, its rate.
    /// - Throws: ``MediaError`` with FFmpeg's message when the bytes are not decodable audio.
    public static func decode(_ bytes: [UInt8], sampleRate: Int, rawPCMRate: Int? = nil) throws(MediaError) -> PCMAudio
    {
        guard !bytes.isEmpty else { throw MediaError(operation: "decode", message: "no audio data") }
        if rawPCMRate == nil, let wav = PCMWAV.read(bytes) {
            return PCMAudio(
                samples: try MonoResampler.resample(wav.samples, from: wav.rate, to: sampleRate),
                sampleRate: sampleRate
            )
        }
        try FFmpeg.load()
        let input = try MemoryInput(bytes: bytes, rawPCMRate: rawPCMRate)
        let stream = try input.bestAudioStream()
        let decoder = try Decoder(parameters: stream.pointee.codecpar)
        let resampler = try Resampler(from: decoder.context, toRate: sampleRate)
        var output: [Int16] = []
        guard let packet = ff.av_packet_alloc() else { throw MediaError(operation: "decode", message: "out of memory") }
        var packetPointer: UnsafeMutablePointer<AVPacket>? = packet
        defer { ff.av_packet_free(&packetPointer) }
        while true {
            let status = ff.av_read_frame(input.format, packet)
            if status == crecital_averror_eof() { break }
            try MediaError.check(status, "read")
            defer { ff.av_packet_unref(packet) }
            guard packet.pointee.stream_index == stream.pointee.index else { continue }
            try decoder.send(packet) { frame throws(MediaError) in try resampler.convert(frame, into: &output) }
        }
        try decoder.send(nil) { frame throws(MediaError) in try resampler.convert(frame, into: &output) }
        try resampler.flush(into: &output)
        return PCMAudio(samples: output, sampleRate: sampleRate)
    }
}

// MARK: - Owning wrappers

/// An AVFormatContext reading from a byte array through a custom AVIOContext.
private final class MemoryInput {
    let bytes: [UInt8]
    var position = 0
    var format: UnsafeMutablePointer<AVFormatContext>?
    private var io: UnsafeMutablePointer<AVIOContext>?

    init(bytes: [UInt8], rawPCMRate: Int?) throws(MediaError) {
        self.bytes = bytes
        let bufferSize = 32 * 1024
        guard let buffer = ff.av_malloc(bufferSize)?.assumingMemoryBound(to: UInt8.self) else {
            throw MediaError(operation: "open input", message: "out of memory")
        }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        io = ff.avio_alloc_context(
            buffer,
            Int32(bufferSize),
            0,
            opaque,
            { opaque, target, size in
                guard let opaque, let target else { return crecital_averror_eof() }
                let input = Unmanaged<MemoryInput>.fromOpaque(opaque).takeUnretainedValue()
                let remaining = input.bytes.count - input.position
                if remaining <= 0 { return crecital_averror_eof() }
                let count = min(Int(size), remaining)
                input.bytes.withUnsafeBufferPointer { source in
                    target.update(from: source.baseAddress! + input.position, count: count)
                }
                input.position += count
                return Int32(count)
            },
            nil,
            { opaque, offset, whence in
                guard let opaque else { return -1 }
                let input = Unmanaged<MemoryInput>.fromOpaque(opaque).takeUnretainedValue()
                if whence & AVSEEK_SIZE != 0 { return Int64(input.bytes.count) }
                let base: Int
                switch whence & ~AVSEEK_FORCE {
                case SEEK_SET: base = 0
                case SEEK_CUR: base = input.position
                case SEEK_END: base = input.bytes.count
                default: return -1
                }
                let target = base + Int(offset)
                guard target >= 0, target <= input.bytes.count else { return -1 }
                input.position = target
                return Int64(target)
            }
        )
        guard let io else {
            ff.av_free(buffer)
            throw MediaError(operation: "open input", message: "out of memory")
        }
        guard let context = ff.avformat_alloc_context() else {
            throw MediaError(operation: "open input", message: "out of memory")
        }
        context.pointee.pb = io
        context.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        var options: OpaquePointer?
        var inputFormat: UnsafePointer<AVInputFormat>?
        if let rawPCMRate {
            inputFormat = ff.av_find_input_format("s16le")
            try MediaError.check(ff.av_dict_set(&options, "sample_rate", String(rawPCMRate), 0), "set input options")
            try MediaError.check(ff.av_dict_set(&options, "ch_layout", "mono", 0), "set input options")
        }
        format = context
        let status = ff.avformat_open_input(&format, nil, inputFormat, &options)
        ff.av_dict_free(&options)
        if status < 0 {
            format = nil  // avformat_open_input frees the context on failure
            throw MediaError(operation: "open input", message: MediaError.errorString(status), code: status)
        }
        try MediaError.check(ff.avformat_find_stream_info(format, nil), "read stream info")
    }

    func bestAudioStream() throws(MediaError) -> UnsafeMutablePointer<AVStream> {
        let index = ff.av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard index >= 0, let format, let stream = format.pointee.streams[Int(index)] else {
            throw MediaError(operation: "open input", message: "no audio stream", code: index)
        }
        return stream
    }

    deinit {
        ff.avformat_close_input(&format)
        if let io {
            ff.av_freep(&io.pointee.buffer)
            var pointer: UnsafeMutablePointer<AVIOContext>? = io
            ff.avio_context_free(&pointer)
        }
    }
}

/// An opened AVCodecContext for decoding.
private final class Decoder {
    var context: UnsafeMutablePointer<AVCodecContext>
    private var frame: UnsafeMutablePointer<AVFrame>

    init(parameters: UnsafeMutablePointer<AVCodecParameters>) throws(MediaError) {
        guard let codec = ff.avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw MediaError(operation: "open decoder", message: "no decoder for this audio codec")
        }
        guard let context = ff.avcodec_alloc_context3(codec), let frame = ff.av_frame_alloc() else {
            throw MediaError(operation: "open decoder", message: "out of memory")
        }
        self.context = context
        self.frame = frame
        try MediaError.check(ff.avcodec_parameters_to_context(context, parameters), "open decoder")
        try MediaError.check(ff.avcodec_open2(context, codec, nil), "open decoder")
    }

    /// Sends a packet (nil flushes) and hands every frame that comes out to `body`.
    func send(
        _ packet: UnsafeMutablePointer<AVPacket>?,
        _ body: (UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Void
    ) throws(MediaError) {
        let sent = ff.avcodec_send_packet(context, packet)
        // A damaged packet in the middle of a stream is skipped, as players do.
        if sent < 0, sent != crecital_averror_eof(), sent != crecital_averror_eagain(), packet == nil {
            try MediaError.check(sent, "decode")
        }
        while true {
            let received = ff.avcodec_receive_frame(context, frame)
            if received == crecital_averror_eagain() || received == crecital_averror_eof() { return }
            try MediaError.check(received, "decode")
            try body(frame)
            ff.av_frame_unref(frame)
        }
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = frame
        ff.av_frame_free(&frame)
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        ff.avcodec_free_context(&context)
    }
}

/// A SwrContext converting decoded frames to mono s16 at one rate.
private final class Resampler {
    private var context: OpaquePointer?
    private let outputRate: Int32
    private let inputRate: Int32

    init(from decoder: UnsafeMutablePointer<AVCodecContext>, toRate rate: Int) throws(MediaError) {
        outputRate = Int32(rate)
        inputRate = decoder.pointee.sample_rate
        var mono = AVChannelLayout()
        ff.av_channel_layout_default(&mono, 1)
        defer { ff.av_channel_layout_uninit(&mono) }
        var inputLayout = decoder.pointee.ch_layout
        if inputLayout.nb_channels == 0 { ff.av_channel_layout_default(&inputLayout, 1) }
        try MediaError.check(
            ff.swr_alloc_set_opts2(
                &context,
                &mono,
                AV_SAMPLE_FMT_S16,
                Int32(rate),
                &inputLayout,
                decoder.pointee.sample_fmt,
                decoder.pointee.sample_rate,
                0,
                nil
            ),
            "open resampler"
        )
        try MediaError.check(ff.swr_init(context), "open resampler")
    }

    func convert(_ frame: UnsafeMutablePointer<AVFrame>, into output: inout [Int16]) throws(MediaError) {
        let capacity = Int(ff.swr_get_out_samples(context, frame.pointee.nb_samples)) + 32
        guard capacity > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: capacity))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
            var planes: UnsafeMutablePointer<UInt8>? = raw
            return withUnsafeMutablePointer(to: &planes) { planesPointer in
                frame.withMemoryRebound(to: AVFrame.self, capacity: 1) { frame in
                    let inputPlanes = UnsafeMutableRawPointer(frame.pointee.extended_data)?
                        .assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
                    return ff.swr_convert(
                        context,
                        planesPointer,
                        Int32(capacity),
                        inputPlanes,
                        frame.pointee.nb_samples
                    )
                }
            }
        }
        output.removeLast(capacity - max(0, Int(written)))
        try MediaError.check(written, "resample")
    }

    func flush(into output: inout [Int16]) throws(MediaError) {
        let capacity = Int(ff.swr_get_out_samples(context, 0)) + 32
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: capacity))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
            var planes: UnsafeMutablePointer<UInt8>? = raw
            return ff.swr_convert(context, &planes, Int32(capacity), nil, 0)
        }
        output.removeLast(capacity - max(0, Int(written)))
        try MediaError.check(written, "resample")
    }

    deinit { ff.swr_free(&context) }
}
