internal import Foundation
internal import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// Writes AAC packets into an MP4 audiobook (`.m4b`) with the index at the front ("fast start"),
/// chapters both as a QuickTime chapter track (Apple players) and as a Nero `chpl` list (most others),
/// iTunes-style tags and a cover.
///
/// libavformat's MP4 muxer keeps a 64-byte index entry per AAC packet (23 a second at 24 kHz, so
/// 55 MB for a 10-hour book); this writer keeps the 2-byte packet size and nothing else. The audio
/// goes straight to the file behind a placeholder; `finish` builds the index, moves the audio up by
/// the index's size, and writes the index in front of it.
final class MP4AudiobookWriter {
    /// What the index needs to know about the AAC stream.
    struct Audio {
        var sampleRate: Int
        /// The AudioSpecificConfig the encoder made (its "extradata").
        var decoderConfig: [UInt8]
        /// Samples the encoder puts before the first real one; the edit list hides them.
        var priming: Int
        var bitRate: Int
    }

    private let path: String
    private let audio: Audio
    private let tags: [(String, String)]
    private var chapters: [ChapterMark]
    private let cover: CoverImage?
    /// The book's language as both tracks' media headers carry it.
    private let language: UInt16
    private var descriptor: Int32
    /// The ftyp box, then a 16-byte mdat header, then the chapter titles, then the audio.
    private let ftypSize: Int
    private let chapterSampleSizes: [Int]
    private let audioStart: Int
    private var packetSizes: [UInt16] = []
    private var largestPacket = 0
    private var audioBytes = 0
    /// Bytes written to the file so far; `buffer` holds what follows them.
    private var written = 0
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 18
    /// Packets per chunk: about 5 s at 24 kHz; any grouping is valid, fewer chunks mean a smaller index.
    static let packetsPerChunk = 128
    /// The largest file offset written as 32 bits; past it the index uses 64-bit offsets (`co64`).
    /// Tests lower it to exercise the 64-bit form without writing 4 GB.
    @TaskLocal static var narrowOffsetLimit = UInt64(UInt32.max)
    private let offsetLimit = MP4AudiobookWriter.narrowOffsetLimit

    /// Where a partial file can be continued from; the packets' sizes were saved beside it
    /// (``sizesPath``).
    typealias Checkpoint = AudioFileWriter.Checkpoint

    /// The packet sizes saved by ``checkpoint()``, two bytes each, for a file to be continued.
    var sizesPath: String { Self.sizesPath(path) }
    static func sizesPath(_ path: String) -> String { path + ".sizes" }
    /// Packet sizes already in the sizes file.
    private var sizesSaved = 0

    /// - Parameter resuming: continues the partial file at `path` after its checkpoint instead of
    ///   creating it; it must have been opened with the same chapter titles.
    init(
        path: String,
        audio: Audio,
        tags: [(String, String)],
        chapters: [ChapterMark],
        cover: CoverImage?,
        resuming: Checkpoint? = nil
    ) throws(MediaError) {
        self.path = path
        self.audio = audio
        self.tags = tags
        self.chapters = chapters
        self.cover = cover
        language = Self.packedLanguage(tags.last { $0.0 == "language" }?.1)
        // The process's umask decides the mode, as for every other file (a service with UMask=0002
        // shares its audiobooks with its group).
        descriptor = open(path, O_RDWR | O_CLOEXEC | (resuming == nil ? O_CREAT | O_TRUNC : 0), 0o666)
        guard descriptor >= 0 else { throw Self.systemError(resuming == nil ? "create \(path)" : "open \(path)") }
        let ftyp = MP4Box("ftyp") { box in
            box.fourCC("M4B ")
            box.u32(0x200)
            for brand in ["M4B ", "M4A ", "mp42", "isom"] { box.fourCC(brand) }
        }
        ftypSize = ftyp.bytes.count
        var head = ftyp.bytes
        // A 64-bit mdat header, its size filled in by `finish`.
        head.append(contentsOf: [0, 0, 0, 1] + Array("mdat".utf8) + [UInt8](repeating: 0, count: 8))
        let titleSamples = chapters.map(Self.chapterSample)
        chapterSampleSizes = titleSamples.map(\.count)
        for sample in titleSamples { head.append(contentsOf: sample) }
        audioStart = head.count
        buffer.reserveCapacity(Self.bufferSize)
        guard let resuming else {
            // A stale sizes file would describe another file's packets.
            if unlink(sizesPath) != 0, errno != ENOENT { throw Self.systemError("remove \(sizesPath)") }
            buffer = head
            return
        }
        try reopen(at: resuming, head: head)
    }

    /// Takes up a partial file where its checkpoint left it: the head must be the one this writer
    /// would write, and the audio and sizes at least as long as the checkpoint says.
    private func reopen(at checkpoint: Checkpoint, head: [UInt8]) throws(MediaError) {
        func refuse(_ reason: String) -> MediaError {
            MediaError(operation: "continue \(path)", message: reason)
        }
        var found = [UInt8](repeating: 0, count: head.count)
        let read = found.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, head.count, 0) }
        guard read == head.count else { throw refuse("the partial file is shorter than its header") }
        // The mdat size is filled in only by `finish`, which then moves the audio: a file with one
        // was being finished, and its audio may have moved.
        guard found == head else {
            throw refuse("the partial file was written for other chapters, or was being finished")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Self.systemError("inspect \(path)") }
        guard Int(status.st_size) >= audioStart + checkpoint.bytes else {
            throw refuse("the partial file is shorter than its checkpoint")
        }
        let sizes: Data
        do {
            sizes = try Data(contentsOf: URL(fileURLWithPath: sizesPath))
        } catch {
            throw refuse("its packet sizes cannot be read (\(error.localizedDescription))")
        }
        guard sizes.count >= 2 * checkpoint.packets else { throw refuse("its packet sizes are incomplete") }
        packetSizes = (0..<checkpoint.packets).map { UInt16(sizes[2 * $0]) | UInt16(sizes[2 * $0 + 1]) << 8 }
        guard packetSizes.reduce(0, { $0 + Int($1) }) == checkpoint.bytes else {
            throw refuse("its packet sizes do not add up to its checkpoint")
        }
        largestPacket = Int(packetSizes.max() ?? 0)
        audioBytes = checkpoint.bytes
        written = audioStart + audioBytes
        sizesSaved = checkpoint.packets
        // What was written after the checkpoint is encoded again.
        guard ftruncate(descriptor, off_t(written)) == 0, truncate(sizesPath, off_t(2 * sizesSaved)) == 0 else {
            throw Self.systemError("cut \(path) back to its checkpoint")
        }
    }

    /// Writes out everything appended so far, and the packets' sizes beside the file, so that it
    /// can be continued from here (``init(path:audio:tags:chapters:cover:resuming:)``).
    func checkpoint() throws(MediaError) -> Checkpoint {
        try flush()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * (packetSizes.count - sizesSaved))
        for size in packetSizes[sizesSaved...] { bytes += [UInt8(size & 0xff), UInt8(size >> 8)] }
        let sizes = open(sizesPath, O_WRONLY | O_CREAT | O_CLOEXEC | (sizesSaved == 0 ? O_TRUNC : 0), 0o666)
        guard sizes >= 0 else { throw Self.systemError("create \(sizesPath)") }
        defer { close(sizes) }
        let failed = bytes.withUnsafeBytes { Self.writeAll($0, to: sizes, at: 2 * sizesSaved) }
        if failed { throw Self.systemError("write \(sizesPath)") }
        // On disk before the job table says so, even across a power cut.
        guard fsync(descriptor) == 0, fsync(sizes) == 0 else { throw Self.systemError("sync \(path)") }
        sizesSaved = packetSizes.count
        return Checkpoint(packets: packetSizes.count, bytes: audioBytes)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends one AAC packet.
    func append(_ packet: UnsafeRawBufferPointer) throws(MediaError) {
        guard packet.count <= Int(UInt16.max) else {
            throw MediaError(operation: "write \(path)", message: "an AAC packet of \(packet.count) bytes")
        }
        packetSizes.append(UInt16(packet.count))
        largestPacket = max(largestPacket, packet.count)
        audioBytes += packet.count
        buffer.append(contentsOf: packet)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    /// Writes the index in front of the audio and closes the file. `samples` is the number of real
    /// samples encoded (without the encoder's priming).
    /// `marks`, when given, are the chapters' final times (an encode that learns them as it goes);
    /// their titles were written at the start and stay.
    func finish(samples: Int64, marks: [ChapterMark]? = nil) throws(MediaError) {
        if let marks {
            guard marks.count == chapters.count else {
                throw MediaError(
                    operation: "finish \(path)",
                    message: "\(marks.count) chapter marks for \(chapters.count) chapters"
                )
            }
            for index in chapters.indices {
                (chapters[index].start, chapters[index].end) = (marks[index].start, marks[index].end)
            }
        }
        try flush()
        // From here the audio moves: the partial file cannot be continued any more.
        if sizesSaved > 0, unlink(sizesPath) != 0, errno != ENOENT { throw Self.systemError("remove \(sizesPath)") }
        let mdatSize = UInt64(16 + chapterSampleSizes.reduce(0, +) + audioBytes)
        try writeAll(bigEndian(mdatSize), at: ftypSize + 8)
        // Offsets in the index count the index itself, which sits before the audio; its size does
        // not depend on the offsets' values, only on their width.
        var moov = movie(samples: samples, shift: 0, wide: false).bytes
        let wide = UInt64(audioStart + audioBytes + moov.count) > offsetLimit
        if wide { moov = movie(samples: samples, shift: 0, wide: true).bytes }
        moov = movie(samples: samples, shift: moov.count, wide: wide).bytes
        try shiftContents(from: ftypSize, by: moov.count, end: audioStart + audioBytes)
        try writeAll(moov, at: ftypSize)
        let status = close(descriptor)
        descriptor = -1
        if status != 0 { throw Self.systemError("close \(path)") }
    }

    // MARK: - Writing

    private func flush() throws(MediaError) {
        guard !buffer.isEmpty else { return }
        try writeAll(buffer, at: written)
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int) throws(MediaError) {
        let failed = bytes.withUnsafeBytes { raw in Self.writeAll(raw, to: descriptor, at: offset) }
        if failed { throw Self.systemError("write \(path)") }
    }

    /// Whether writing failed (with `errno` set).
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                return true
            }
            done += result
        }
        return false
    }

    /// Moves the bytes in `start..<end` up by `distance`, last block first so nothing is overwritten
    /// before it is read.
    private func shiftContents(from start: Int, by distance: Int, end: Int) throws(MediaError) {
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = end - start
        while remaining > 0 {
            let count = min(block.count, remaining)
            let from = start + remaining - count
            var done = 0
            while done < count {
                let result = block.withUnsafeMutableBytes { raw in
                    pread(descriptor, raw.baseAddress! + done, count - done, off_t(from + done))
                }
                if result < 0, errno == EINTR { continue }
                if result == 0 {
                    throw MediaError(operation: "read back \(path)", message: "the file is shorter than written")
                }
                guard result > 0 else { throw Self.systemError("read back \(path)") }
                done += result
            }
            let failed = block.withUnsafeBytes { raw in
                Self.writeAll(UnsafeRawBufferPointer(rebasing: raw[0..<count]), to: descriptor, at: from + distance)
            }
            if failed { throw Self.systemError("write \(path)") }
            remaining -= count
        }
    }

    private func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    private static func systemError(_ operation: String) -> MediaError {
        MediaError(operation: operation, message: String(cString: strerror(errno)))
    }

    // MARK: - The index

    /// The moov box. `shift` is added to every offset into the file; `wide` asks for 64-bit offsets.
    private func movie(samples: Int64, shift: Int, wide: Bool) -> MP4Box {
        let rate = Int64(audio.sampleRate)
        let milliseconds = UInt64((samples * 1000 + rate / 2) / rate)
        let chapterTrack = !chapters.isEmpty
        return MP4Box("moov") { moov in
            moov.fullBox("mvhd", version: milliseconds > UInt32.max ? 1 : 0) { box in
                box.times(timescale: 1000, duration: milliseconds)
                box.u32(0x0001_0000)  // rate 1.0
                box.u16(0x0100)  // volume 1.0
                box.zeros(10)
                box.identityMatrix()
                box.zeros(24)
                box.u32(chapterTrack ? 3 : 2)  // next track ID
            }
            moov.box("trak") { trak in
                audioTrack(&trak, samples: samples, milliseconds: milliseconds, shift: shift, wide: wide)
            }
            if chapterTrack {
                moov.box("trak") { trak in
                    titleTrack(&trak, samples: samples, milliseconds: milliseconds, shift: shift, wide: wide)
                }
            }
            moov.box("udta") { udta in
                udta.fullBox("meta") { meta in
                    meta.fullBox("hdlr") { box in
                        box.u32(0)
                        box.fourCC("mdir")
                        box.fourCC("appl")
                        box.zeros(9)
                    }
                    meta.box("ilst") { ilst in items(&ilst) }
                }
                if chapterTrack { chapterList(&udta) }
            }
        }
    }

    private func audioTrack(_ trak: inout MP4Box, samples: Int64, milliseconds: UInt64, shift: Int, wide: Bool) {
        let mediaDuration = UInt64(samples) + UInt64(audio.priming)
        trackHeader(&trak, id: 1, flags: 3, milliseconds: milliseconds, alternateGroup: 1, volume: 0x0100)
        editList(&trak, milliseconds: milliseconds, mediaTime: audio.priming)
        if !chapters.isEmpty {
            trak.box("tref") { tref in tref.box("chap") { $0.u32(2) } }
        }
        trak.box("mdia") { mdia in
            mediaHeader(&mdia, duration: mediaDuration)
            handler(&mdia, type: "soun", name: "SoundHandler")
            mdia.box("minf") { minf in
                minf.fullBox("smhd") { $0.u32(0) }
                dataInformation(&minf)
                minf.box("stbl") { stbl in
                    stbl.fullBox("stsd") { stsd in
                        stsd.u32(1)
                        audioSampleEntry(&stsd)
                    }
                    audioTimes(&stbl, mediaDuration: mediaDuration)
                    audioChunks(&stbl, shift: shift, wide: wide)
                    // Every AAC packet needs the one before it to decode fully ("roll" of -1).
                    stbl.fullBox("sgpd", version: 1) { box in
                        box.fourCC("roll")
                        box.u32(2)
                        box.u32(1)
                        box.u16(0xFFFF)
                    }
                    stbl.fullBox("sbgp") { box in
                        box.fourCC("roll")
                        box.u32(1)
                        box.u32(UInt32(packetSizes.count))
                        box.u32(1)
                    }
                }
            }
        }
    }

    private func audioSampleEntry(_ stsd: inout MP4Box) {
        stsd.box("mp4a") { entry in
            entry.zeros(6)
            entry.u16(1)  // data reference index
            entry.zeros(8)
            entry.u16(1)  // channels
            entry.u16(16)  // sample size
            entry.zeros(4)
            entry.u32(UInt32(audio.sampleRate) << 16)
            entry.fullBox("esds") { esds in
                esds.descriptor(tag: 3) { elementary in
                    elementary.u16(1)  // ES ID
                    elementary.u8(0)
                    elementary.descriptor(tag: 4) { config in
                        config.u8(0x40)  // MPEG-4 audio
                        config.u8(0x15)  // audio stream, upstream 0, reserved 1
                        config.u24(UInt32(largestPacket))
                        config.u32(UInt32(maximumBitRate))
                        config.u32(UInt32(averageBitRate))
                        config.descriptor(tag: 5) { $0.append(audio.decoderConfig) }
                    }
                    elementary.descriptor(tag: 6) { $0.u8(2) }
                }
            }
        }
    }

    private var averageBitRate: Int {
        let seconds = Double(packetSizes.count * 1024) / Double(audio.sampleRate)
        return seconds > 0 ? Int(Double(audioBytes * 8) / seconds) : audio.bitRate
    }

    /// The largest bit rate over any one second of packets.
    private var maximumBitRate: Int {
        let window = max(1, audio.sampleRate / 1024)
        var sum = 0
        var best = 0
        for (index, size) in packetSizes.enumerated() {
            sum += Int(size)
            if index >= window { sum -= Int(packetSizes[index - window]) }
            best = max(best, sum)
        }
        return max(best * 8 * audio.sampleRate / (window * 1024), averageBitRate)
    }

    /// Every packet lasts 1024 samples except the last, which ends where the audio does.
    private func audioTimes(_ stbl: inout MP4Box, mediaDuration: UInt64) {
        let count = UInt64(packetSizes.count)
        let last = count > 0 ? Int64(mediaDuration) - Int64((count - 1) * 1024) : 0
        var entries: [(UInt32, UInt32)] = []
        if count > 0 {
            if last > 0, last < 1024 {
                if count > 1 { entries.append((UInt32(count - 1), 1024)) }
                entries.append((1, UInt32(last)))
            } else {
                entries.append((UInt32(count), 1024))
            }
        }
        stbl.fullBox("stts") { box in
            box.u32(UInt32(entries.count))
            for (samples, delta) in entries {
                box.u32(samples)
                box.u32(delta)
            }
        }
    }

    private func audioChunks(_ stbl: inout MP4Box, shift: Int, wide: Bool) {
        let count = packetSizes.count
        let perChunk = Self.packetsPerChunk
        let chunks = (count + perChunk - 1) / perChunk
        stbl.fullBox("stsc") { box in
            let remainder = count % perChunk
            var entries: [(UInt32, UInt32)] = []
            if count >= perChunk { entries.append((1, UInt32(perChunk))) }
            if remainder > 0 { entries.append((UInt32(chunks), UInt32(remainder))) }
            box.u32(UInt32(entries.count))
            for (first, samples) in entries {
                box.u32(first)
                box.u32(samples)
                box.u32(1)
            }
        }
        stbl.fullBox("stsz") { box in
            box.u32(0)
            box.u32(UInt32(count))
            for size in packetSizes { box.u32(UInt32(size)) }
        }
        stbl.fullBox(wide ? "co64" : "stco") { box in
            box.u32(UInt32(chunks))
            var offset = audioStart + shift
            for (index, size) in packetSizes.enumerated() {
                if index % perChunk == 0 {
                    if wide { box.u64(UInt64(offset)) } else { box.u32(UInt32(offset)) }
                }
                offset += Int(size)
            }
        }
    }

    /// The QuickTime chapter track: one text sample per chapter, disabled so it is never shown as
    /// subtitles, referenced from the audio track by `tref/chap`.
    private func titleTrack(_ trak: inout MP4Box, samples: Int64, milliseconds: UInt64, shift: Int, wide: Bool) {
        trackHeader(&trak, id: 2, flags: 2, milliseconds: milliseconds, alternateGroup: 0, volume: 0)
        editList(&trak, milliseconds: milliseconds, mediaTime: 0)
        trak.box("mdia") { mdia in
            mediaHeader(&mdia, duration: UInt64(samples))
            handler(&mdia, type: "text", name: "SubtitleHandler")
            mdia.box("minf") { minf in
                minf.box("gmhd") { gmhd in
                    gmhd.fullBox("gmin") { box in
                        box.u16(0x40)  // graphics mode: copy
                        for _ in 0..<3 { box.u16(0x8000) }  // opcolor
                        box.zeros(4)  // balance, reserved
                    }
                    // Apple players want this header to list QuickTime chapters.
                    gmhd.box("text") { $0.identityMatrix() }
                }
                dataInformation(&minf)
                minf.box("stbl") { stbl in
                    stbl.fullBox("stsd") { stsd in
                        stsd.u32(1)
                        stsd.box("text") { entry in
                            entry.zeros(6)
                            entry.u16(1)  // data reference index
                            entry.u32(1)  // display flags
                            entry.zeros(2)  // justification
                            entry.zeros(4)  // background colour
                            entry.zeros(8)  // text box
                            entry.zeros(4)  // style: first and last character
                            entry.u16(1)  // font ID
                            entry.zeros(6)  // face, size, colour
                            entry.box("ftab") { ftab in
                                ftab.u16(1)
                                ftab.u16(1)
                                ftab.u8(0)
                            }
                        }
                    }
                    stbl.fullBox("stts") { box in
                        let starts = chapterStarts
                        box.u32(UInt32(starts.count))
                        for (index, start) in starts.enumerated() {
                            let end = index + 1 < starts.count ? starts[index + 1] : max(start, samples)
                            box.u32(1)
                            box.u32(UInt32(clamping: end - start))
                        }
                    }
                    stbl.fullBox("stsc") { box in
                        box.u32(1)
                        box.u32(1)
                        box.u32(UInt32(chapters.count))
                        box.u32(1)
                    }
                    stbl.fullBox("stsz") { box in
                        box.u32(0)
                        box.u32(UInt32(chapters.count))
                        for size in chapterSampleSizes { box.u32(UInt32(size)) }
                    }
                    stbl.fullBox(wide ? "co64" : "stco") { box in
                        box.u32(1)
                        let offset = ftypSize + 16 + shift
                        if wide { box.u64(UInt64(offset)) } else { box.u32(UInt32(offset)) }
                    }
                }
            }
        }
    }

    /// Chapter starts in samples, the first at 0 so that the list covers the whole book.
    private var chapterStarts: [Int64] {
        chapters.enumerated().map { index, chapter in index == 0 ? 0 : max(0, chapter.start) }
    }

    /// The Nero chapter list: starts in 100 ns units, titles up to 255 bytes, at most 255 entries.
    private func chapterList(_ udta: inout MP4Box) {
        let rate = Int64(audio.sampleRate)
        udta.fullBox("chpl", version: 1) { box in
            box.u32(0)
            let listed = Array(chapterStarts.prefix(255).enumerated())
            box.u8(UInt8(listed.count))
            for (index, start) in listed {
                box.u64(UInt64(start / rate * 10_000_000 + start % rate * 10_000_000 / rate))
                let title = Self.utf8(chapters[index].title, limit: 255)
                box.u8(UInt8(title.count))
                box.append(title)
            }
        }
    }

    /// One chapter title as a QuickTime text sample: length, UTF-8 text, and an `encd` box that
    /// declares the text UTF-8.
    private static func chapterSample(_ chapter: ChapterMark) -> [UInt8] {
        let title = utf8(chapter.title, limit: 1024)
        var sample = MP4Box()
        sample.u16(UInt16(title.count))
        sample.append(title)
        sample.box("encd") { $0.u32(0x0000_0100) }
        return sample.bytes
    }

    /// The UTF-8 of `text`, cut at a character boundary to at most `limit` bytes.
    private static func utf8(_ text: String, limit: Int) -> [UInt8] {
        Array(text.prefix(utf8Bytes: limit).utf8)
    }

    // MARK: - Shared boxes

    private func trackHeader(
        _ trak: inout MP4Box,
        id: UInt32,
        flags: UInt32,
        milliseconds: UInt64,
        alternateGroup: UInt16,
        volume: UInt16
    ) {
        trak.fullBox("tkhd", version: milliseconds > UInt32.max ? 1 : 0, flags: flags) { box in
            let wide = milliseconds > UInt32.max
            if wide { box.zeros(16) } else { box.zeros(8) }  // creation and modification times
            box.u32(id)
            box.u32(0)
            if wide { box.u64(milliseconds) } else { box.u32(UInt32(milliseconds)) }
            box.zeros(8)
            box.u16(0)  // layer
            box.u16(alternateGroup)
            box.u16(volume)
            box.u16(0)
            box.identityMatrix()
            box.zeros(8)  // width, height
        }
    }

    /// One edit: the whole presentation, starting `mediaTime` samples into the media.
    private func editList(_ trak: inout MP4Box, milliseconds: UInt64, mediaTime: Int) {
        trak.box("edts") { edts in
            edts.fullBox("elst", version: milliseconds > UInt32.max ? 1 : 0) { box in
                box.u32(1)
                if milliseconds > UInt32.max {
                    box.u64(milliseconds)
                    box.u64(UInt64(mediaTime))
                } else {
                    box.u32(UInt32(milliseconds))
                    box.u32(UInt32(mediaTime))
                }
                box.u32(0x0001_0000)
            }
        }
    }

    /// A language tag ("en", "en-GB", "deu") as an MP4 media header stores it: the ISO 639-2/T
    /// code's three letters in 5 bits each; "und" (undetermined) when there is none.
    static func packedLanguage(_ tag: String?) -> UInt16 {
        let primary = tag?.split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map { $0.lowercased() } ?? ""
        var code = primary.count == 2 ? Locale.LanguageCode(primary).identifier(.alpha3) ?? "" : primary
        if code.count != 3 || !code.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) { code = "und" }
        return code.unicodeScalars.reduce(0) { $0 << 5 | UInt16($1.value - 0x60) }
    }

    /// Media in samples of the audio's rate, in the book's language.
    private func mediaHeader(_ mdia: inout MP4Box, duration: UInt64) {
        let wide = duration > UInt32.max
        mdia.fullBox("mdhd", version: wide ? 1 : 0) { box in
            if wide { box.zeros(16) } else { box.zeros(8) }
            box.u32(UInt32(audio.sampleRate))
            if wide { box.u64(duration) } else { box.u32(UInt32(duration)) }
            box.u16(language)
            box.u16(0)
        }
    }

    private func handler(_ mdia: inout MP4Box, type: String, name: String) {
        mdia.fullBox("hdlr") { box in
            box.u32(0)
            box.fourCC(type)
            box.zeros(12)
            box.append(Array(name.utf8) + [0])
        }
    }

    private func dataInformation(_ minf: inout MP4Box) {
        minf.box("dinf") { dinf in
            dinf.fullBox("dref") { dref in
                dref.u32(1)
                dref.fullBox("url ", flags: 1) { _ in }  // the media is in this file
            }
        }
    }

    // MARK: - Tags

    /// libavformat's metadata keys mapped to iTunes items, as players and ffprobe read them.
    private static let itemNames: [String: String] = [
        "title": "©nam", "artist": "©ART", "album_artist": "aART", "album": "©alb", "composer": "©wrt",
        "genre": "©gen", "date": "©day", "comment": "©cmt", "description": "desc",
    ]

    private func items(_ ilst: inout MP4Box) {
        for (key, value) in tags where !value.isEmpty {
            if let name = Self.itemNames[key] {
                ilst.box(name) { item in item.data(type: 1, Array(value.utf8)) }
            } else if key == "media_type", let kind = UInt8(value) {
                ilst.box("stik") { item in item.data(type: 21, [kind]) }
            } else if key == "track" {
                let numbers = value.split(separator: "/").compactMap { UInt16($0) }
                guard let number = numbers.first else { continue }
                ilst.box("trkn") { item in
                    var body = MP4Box()
                    body.u16(0)
                    body.u16(number)
                    body.u16(numbers.count > 1 ? numbers[1] : 0)
                    body.u16(0)
                    item.data(type: 0, body.bytes)
                }
            }
        }
        if let cover {
            ilst.box("covr") { item in item.data(type: cover.kind == .png ? 14 : 13, cover.bytes) }
        }
    }
}

extension MP4Box {
    /// Creation and modification times (unknown, 0), timescale and duration, in version 0 or 1.
    fileprivate mutating func times(timescale: UInt32, duration: UInt64) {
        if duration > UInt32.max {
            zeros(16)
            u32(timescale)
            u64(duration)
        } else {
            zeros(8)
            u32(timescale)
            u32(UInt32(duration))
        }
    }

    /// An iTunes item's value: a well-known type (1 UTF-8, 13 JPEG, 14 PNG, 21 integer, 0 binary).
    fileprivate mutating func data(type: UInt32, _ payload: [UInt8]) {
        box("data") { box in
            box.u32(type)
            box.u32(0)  // locale
            box.append(payload)
        }
    }
}
