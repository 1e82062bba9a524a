internal import CRecitalFFmpeg
public import RecitalModel

/// How the audio is compressed.
public struct EncoderOptions: Sendable, Equatable {
    /// Target bit rate in bits per second (AAC, and MP3 in CBR mode).
    public var bitRate: Int
    /// MP3 only: a LAME VBR quality 0 (best) … 9; nil means constant bit rate.
    public var mp3Quality: Int?

    public init(bitRate: Int = 64_000, mp3Quality: Int? = nil) {
        self.bitRate = bitRate
        self.mp3Quality = mp3Quality
    }
}

/// A chapter mark in samples of the written audio.
public struct ChapterMark: Sendable, Equatable {
    public var title: String
    public var start: Int64
    public var end: Int64

    public init(title: String, start: Int64, end: Int64) {
        self.title = title
        self.start = start
        self.end = end
    }
}

/// Encodes mono 16-bit PCM into one audiobook file with tags, chapters and a cover, through
/// libavcodec, and libavformat for MP3 and FLAC (M4B has its own ``MP4AudiobookWriter``, whose index
/// stays small for long books). Feed samples with ``write(_:)`` and end with ``finish()``; a writer
/// that is never finished leaves an incomplete file that the caller must delete.
public final class AudioFileWriter {
    public let container: AudioContainer
    public let sampleRate: Int
    private let path: String
    /// Samples given to the encoder so far.
    public private(set) var samplesWritten: Int64 = 0

    /// Where the encoded packets go.
    private enum Sink {
        /// Recital's own MP4 writer (M4B).
        case mp4(MP4AudiobookWriter)
        /// libavformat's muxer (MP3, FLAC), opened with its audio stream; this writer frees it.
        case muxer(UnsafeMutablePointer<AVFormatContext>, audio: UnsafeMutablePointer<AVStream>)
    }

    private var sink: Sink?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let frameSize: Int
    private var pending: [Int16] = []
    private var finished = false
    /// Samples still to be passed over before encoding starts (a file being continued).
    private var skip: Int64 = 0
    /// Packets before this time are already in the file being continued.
    private var keepFrom = Int64.min

    /// Where a partial M4B file can be continued from (``checkpoint()``).
    public struct Checkpoint: Sendable, Equatable, Codable {
        /// AAC packets in the file.
        public var packets: Int
        /// Their bytes.
        public var bytes: Int
    }

    /// Packets encoded again before the first one kept when a file is continued: the codec's state
    /// (its overlap and its rate control) settles on them as it would have been.
    static let warmUpPackets = 16

    /// Whether a partial file of this container can be continued after a checkpoint. MP3 cannot: a
    /// frame may borrow bytes from the frames before it (LAME's bit reservoir), and libavformat's
    /// index frame and FLAC's stream header describe only what one writer saw.
    public static func canContinue(_ container: AudioContainer) -> Bool { container == .m4b }

    /// Files a checkpoint keeps beside the file at `path`, to be removed with it.
    public static func sidecars(of path: String, container: AudioContainer) -> [String] {
        container == .m4b ? [MP4AudiobookWriter.sizesPath(path)] : []
    }

    /// Opens `path` for writing and writes the file header.
    /// - Parameters:
    ///   - tags: libavformat metadata keys (`title`, `artist`, `album`, …) in order.
    ///   - chapters: chapter marks in samples; they must be known up front (MP3 writes them in its
    ///     header). FLAC gets them as `CHAPTERnnn` comments.
    ///   - cover: an image ``CoverImage/inspect(_:)`` accepted, stored as the front cover.
    public init(
        path: String,
        container: AudioContainer,
        sampleRate: Int,
        options: EncoderOptions = EncoderOptions(),
        tags: [(String, String)] = [],
        chapters: [ChapterMark] = [],
        cover: CoverImage? = nil,
        resuming: Checkpoint? = nil
    ) throws(MediaError) {
        try FFmpeg.load()
        if resuming != nil && !Self.canContinue(container) {
            throw MediaError(operation: "continue \(path)", message: "a \(container.rawValue) file cannot be continued")
        }
        self.path = path
        self.container = container
        self.sampleRate = sampleRate
        let encoderName: String
        let sampleFormat: AVSampleFormat
        switch container {
        case .m4b: (encoderName, sampleFormat) = ("aac", AV_SAMPLE_FMT_FLTP)
        case .mp3: (encoderName, sampleFormat) = ("libmp3lame", AV_SAMPLE_FMT_S16P)
        case .flac: (encoderName, sampleFormat) = ("flac", AV_SAMPLE_FMT_S16)
        }
        guard let encoder = ff.avcodec_find_encoder_by_name(encoderName) else {
            throw MediaError(operation: "open \(path)", message: "FFmpeg has no \(encoderName) encoder")
        }
        guard let codecContext = ff.avcodec_alloc_context3(encoder) else {
            throw MediaError(operation: "open \(path)", message: "out of memory")
        }
        codec = codecContext
        codecContext.pointee.sample_rate = Int32(sampleRate)
        codecContext.pointee.sample_fmt = sampleFormat
        ff.av_channel_layout_default(&codecContext.pointee.ch_layout, 1)
        codecContext.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        switch container {
        case .m4b: codecContext.pointee.bit_rate = Int64(options.bitRate)
        case .mp3:
            if let quality = options.mp3Quality {
                codecContext.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
                codecContext.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(max(0, min(9, quality)))
            } else {
                codecContext.pointee.bit_rate = Int64(options.bitRate)
            }
        case .flac: break
        }
        var codecOptions: OpaquePointer?
        defer { ff.av_dict_free(&codecOptions) }
        if container == .m4b {
            // The AudioSpecificConfig goes into the MP4 index, not in front of every packet.
            codecContext.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
            // FFmpeg 5.1's default AAC search ("twoloop", with noise substitution) put isolated
            // spikes up to 8 dB above the source's peaks into decoded speech, and costs about 6
            // times the CPU. The "fast" search kept real speech within 1 dB of its source peaks and
            // 8 dB closer to its waveform, at about 10 % more bits than the nominal rate.
            try MediaError.check(ff.av_dict_set(&codecOptions, "aac_coder", "fast", 0), "set encoder options")
        }
        try MediaError.check(ff.avcodec_open2(codecContext, encoder, &codecOptions), "open the \(encoderName) encoder")
        frameSize = codecContext.pointee.frame_size > 0 ? Int(codecContext.pointee.frame_size) : 4096
        guard let newFrame = ff.av_frame_alloc(), let newPacket = ff.av_packet_alloc() else {
            throw MediaError(operation: "open \(path)", message: "out of memory")
        }
        frame = newFrame
        packet = newPacket
        pending.reserveCapacity(frameSize * 2)
        if container == .m4b {
            let config = codecContext.pointee.extradata.map {
                Array(UnsafeBufferPointer(start: $0, count: Int(codecContext.pointee.extradata_size)))
            }
            sink = .mp4(
                try MP4AudiobookWriter(
                    path: path,
                    audio: MP4AudiobookWriter.Audio(
                        sampleRate: sampleRate,
                        decoderConfig: config ?? [],
                        priming: Int(codecContext.pointee.initial_padding),
                        bitRate: options.bitRate
                    ),
                    tags: tags,
                    chapters: chapters,
                    cover: cover,
                    resuming: resuming
                )
            )
            if let resuming {
                // The samples are given from the start of the book again: the encoder starts a few
                // packets before the checkpoint and what it makes before it is dropped.
                let priming = Int64(codecContext.pointee.initial_padding)
                skip = Int64(max(0, resuming.packets - Self.warmUpPackets) * frameSize)
                samplesWritten = skip
                keepFrom = Int64(resuming.packets * frameSize) - priming
            }
            return
        }
        try openMuxer(path: path, tags: tags, chapters: chapters, cover: cover)
    }

    /// libavformat for MP3 and FLAC: header, tags, chapters and the cover, which goes first.
    private func openMuxer(
        path: String,
        tags: [(String, String)],
        chapters: [ChapterMark],
        cover: CoverImage?
    ) throws(MediaError) {
        guard let codecContext = codec, let packet else { return }
        var context: UnsafeMutablePointer<AVFormatContext>?
        try MediaError.check(
            ff.avformat_alloc_output_context2(&context, nil, container.rawValue, path),
            "open \(path)"
        )
        guard let context else { throw MediaError(operation: "open \(path)", message: "no output format") }
        guard let newStream = ff.avformat_new_stream(context, nil) else {
            ff.avformat_free_context(context)
            throw MediaError(operation: "open \(path)", message: "out of memory")
        }
        // From here `deinit` frees the muxer, whatever fails next.
        sink = .muxer(context, audio: newStream)
        try MediaError.check(
            ff.avcodec_parameters_from_context(newStream.pointee.codecpar, codecContext),
            "configure the audio stream"
        )
        newStream.pointee.time_base = codecContext.pointee.time_base

        var metadata = tags
        if container == .flac {
            // The 5.1 FLAC muxer ignores AVChapters; players and ffprobe read these comments.
            for (number, chapter) in chapters.enumerated() {
                let key = "CHAPTER" + String(format3: number + 1)
                metadata.append((key, Self.clock(chapter.start, rate: sampleRate)))
                metadata.append((key + "NAME", chapter.title))
            }
        }
        for (key, value) in metadata where !value.isEmpty {
            try MediaError.check(ff.av_dict_set(&context.pointee.metadata, key, value, 0), "set tags")
        }
        if container == .mp3 { try Self.attach(chapters, to: context, rate: sampleRate) }
        var coverStream: UnsafeMutablePointer<AVStream>?
        if let cover {
            guard let pictureStream = ff.avformat_new_stream(context, nil) else {
                throw MediaError(operation: "open \(path)", message: "out of memory")
            }
            pictureStream.pointee.codecpar.pointee.codec_type = AVMEDIA_TYPE_VIDEO
            pictureStream.pointee.codecpar.pointee.codec_id = cover.kind == .png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG
            pictureStream.pointee.codecpar.pointee.width = Int32(cover.width)
            pictureStream.pointee.codecpar.pointee.height = Int32(cover.height)
            pictureStream.pointee.disposition = AV_DISPOSITION_ATTACHED_PIC
            try MediaError.check(ff.av_dict_set(&pictureStream.pointee.metadata, "title", "Cover", 0), "tag cover")
            try MediaError.check(
                ff.av_dict_set(&pictureStream.pointee.metadata, "comment", "Cover (front)", 0),
                "tag cover"
            )
            coverStream = pictureStream
        }

        try MediaError.check(ff.avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE), "create \(path)")
        var options: OpaquePointer?
        defer { ff.av_dict_free(&options) }
        if container == .mp3 {
            // v2.4 CHAP/CTOC sizes are written wrongly by FFmpeg 5.1; v2.3 sizes are plain integers.
            try MediaError.check(ff.av_dict_set(&options, "id3v2_version", "3", 0), "set muxer options")
        }
        try MediaError.check(ff.avformat_write_header(context, &options), "write the header of \(path)")
        // The picture goes first: MP3 and FLAC muxers hold back all audio until it arrives.
        if let cover, let coverStream {
            try MediaError.check(ff.av_new_packet(packet, Int32(cover.bytes.count)), "store the cover")
            cover.bytes.withUnsafeBufferPointer { source in
                packet.pointee.data.update(from: source.baseAddress!, count: source.count)
            }
            packet.pointee.stream_index = coverStream.pointee.index
            packet.pointee.flags |= AV_PKT_FLAG_KEY
            packet.pointee.pts = 0
            packet.pointee.dts = 0
            try MediaError.check(ff.av_interleaved_write_frame(context, packet), "write the cover")
        }
    }

    deinit {
        ff.av_frame_free(&frame)
        ff.av_packet_free(&packet)
        ff.avcodec_free_context(&codec)
        if case .muxer(let format, _) = sink {
            if format.pointee.pb != nil { _ = ff.avio_closep(&format.pointee.pb) }
            ff.avformat_free_context(format)
        }
    }

    /// Encodes `samples`, after those given before.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(MediaError) {
        if skip > 0 {
            let passed = Int(min(skip, Int64(samples.count)))
            skip -= Int64(passed)
            guard passed < samples.count else { return }
            return try write(UnsafeBufferPointer(rebasing: samples[passed...]))
        }
        var offset = 0
        if !pending.isEmpty {
            let take = min(frameSize - pending.count, samples.count)
            pending.append(contentsOf: samples[0..<take])
            offset = take
            if pending.count == frameSize {
                let full = pending
                pending.removeAll(keepingCapacity: true)
                try full.withUnsafeBufferPointer { buffer throws(MediaError) in try encode(buffer) }
            }
        }
        while samples.count - offset >= frameSize {
            try encode(UnsafeBufferPointer(rebasing: samples[offset..<(offset + frameSize)]))
            offset += frameSize
        }
        if offset < samples.count { pending.append(contentsOf: samples[offset...]) }
    }

    public func write(_ samples: [Int16]) throws(MediaError) {
        try samples.withUnsafeBufferPointer { buffer throws(MediaError) in try write(buffer) }
    }

    /// Makes what was encoded so far durable enough to continue from after a crash or a stop; nil
    /// for a container that cannot be continued. Samples given since the last full frame, and
    /// those the encoder still holds, are not in it: a continuing writer encodes them again.
    public func checkpoint() throws(MediaError) -> Checkpoint? {
        guard case .mp4(let writer) = sink else { return nil }
        return try writer.checkpoint()
    }

    /// Flushes the encoder and writes the trailer (the MP4 index, FLAC's stream info, the MP3 gapless
    /// frame), then closes the file. Fails when the disk fills or the file cannot be completed.
    /// - Parameter chapters: the chapters' final times, when the writer was opened before they were
    ///   known (with the same titles, in the same order, and any times): M4B writes its index now;
    ///   the times already in MP3's ID3 tag and FLAC's comments are overwritten in place, as they
    ///   take the same room whatever their values.
    public func finish(chapters: [ChapterMark]? = nil) throws(MediaError) {
        guard !finished else { return }
        finished = true
        if !pending.isEmpty {
            let rest = pending
            pending.removeAll()
            try rest.withUnsafeBufferPointer { buffer throws(MediaError) in try encode(buffer) }
        }
        try MediaError.check(ff.avcodec_send_frame(codec, nil), "flush the encoder")
        try drain()
        switch sink {
        case .mp4(let writer):
            try writer.finish(samples: samplesWritten, marks: chapters)
        case .muxer(let format, _):
            try MediaError.check(ff.av_write_trailer(format), "finish the file")
            let status = ff.avio_closep(&format.pointee.pb)
            try MediaError.check(status, "close the file")
            if let error = Self.writeError(format) { throw error }
            if let chapters { try ChapterTimes(path: path, container: container, rate: sampleRate).write(chapters) }
        case nil:
            break
        }
    }

    // MARK: - Encoding

    private func encode(_ samples: UnsafeBufferPointer<Int16>) throws(MediaError) {
        guard let frame, let codec else { return }
        ff.av_frame_unref(frame)
        frame.pointee.nb_samples = Int32(samples.count)
        frame.pointee.format = codec.pointee.sample_fmt.rawValue
        frame.pointee.sample_rate = codec.pointee.sample_rate
        try MediaError.check(ff.av_channel_layout_copy(&frame.pointee.ch_layout, &codec.pointee.ch_layout), "encode")
        try MediaError.check(ff.av_frame_get_buffer(frame, 0), "encode")
        guard let data = frame.pointee.data.0 else { throw MediaError(operation: "encode", message: "no frame buffer") }
        if container == .m4b {
            // Mono: the planar float layout is one plane of floats.
            data.withMemoryRebound(to: Float.self, capacity: samples.count) { floats in
                for index in 0..<samples.count { floats[index] = Float(samples[index]) / 32768 }
            }
        } else {
            data.withMemoryRebound(to: Int16.self, capacity: samples.count) { target in
                target.update(from: samples.baseAddress!, count: samples.count)
            }
        }
        frame.pointee.pts = samplesWritten
        samplesWritten += Int64(samples.count)
        try MediaError.check(ff.avcodec_send_frame(codec, frame), "encode")
        try drain()
    }

    private func drain() throws(MediaError) {
        guard let codec, let packet else { return }
        while true {
            let status = ff.avcodec_receive_packet(codec, packet)
            if status == crecital_averror_eagain() || status == crecital_averror_eof() { return }
            try MediaError.check(status, "encode")
            switch sink {
            case .mp4(let writer):
                defer { ff.av_packet_unref(packet) }
                if packet.pointee.pts < keepFrom { continue }
                try writer.append(UnsafeRawBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
            case .muxer(let format, let stream):
                ff.av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
                packet.pointee.stream_index = stream.pointee.index
                try MediaError.check(ff.av_interleaved_write_frame(format, packet), "write audio")
                if let error = Self.writeError(format) { throw error }
            case nil:
                ff.av_packet_unref(packet)
                return
            }
        }
    }

    /// libavformat buffers writes and only records a failed one (such as a full disk) in the I/O
    /// context; surface it as soon as it happens.
    private static func writeError(_ format: UnsafeMutablePointer<AVFormatContext>) -> MediaError? {
        guard let pb = format.pointee.pb, pb.pointee.error < 0 else { return nil }
        return MediaError(operation: "write", message: MediaError.errorString(pb.pointee.error), code: pb.pointee.error)
    }

    private static func attach(
        _ chapters: [ChapterMark],
        to context: UnsafeMutablePointer<AVFormatContext>,
        rate: Int
    ) throws(MediaError) {
        guard !chapters.isEmpty else { return }
        // libavformat has no public chapter constructor; avformat_free_context frees what is set here.
        guard
            let array = ff.av_mallocz(chapters.count * MemoryLayout<UnsafeMutablePointer<AVChapter>?>.stride)?
                .bindMemory(to: UnsafeMutablePointer<AVChapter>?.self, capacity: chapters.count)
        else { throw MediaError(operation: "chapters", message: "out of memory") }
        context.pointee.chapters = array
        for (index, mark) in chapters.enumerated() {
            guard
                let chapter = ff.av_mallocz(MemoryLayout<AVChapter>.stride)?.bindMemory(to: AVChapter.self, capacity: 1)
            else { throw MediaError(operation: "chapters", message: "out of memory") }
            chapter.pointee.id = Int64(index)
            chapter.pointee.time_base = AVRational(num: 1, den: Int32(rate))
            chapter.pointee.start = mark.start
            chapter.pointee.end = mark.end
            try MediaError.check(ff.av_dict_set(&chapter.pointee.metadata, "title", mark.title, 0), "set chapter title")
            array[index] = chapter
            context.pointee.nb_chapters = UInt32(index + 1)
        }
    }

    /// `HH:MM:SS.mmm` for a sample position.
    static func clock(_ samples: Int64, rate: Int) -> String {
        let milliseconds = samples * 1000 / Int64(rate)
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let seconds = milliseconds / 1000 % 60
        return
            "\(String(format2: hours)):\(String(format2: minutes)):\(String(format2: seconds)).\(String(format3: Int(milliseconds % 1000)))"
    }
}

extension String {
    fileprivate init(format2 value: Int64) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }

    fileprivate init(format3 value: Int) {
        self = value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }
}
