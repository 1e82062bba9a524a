internal import Foundation
internal import RecitalModel

/// Where the assembled audio's chapters begin, in samples, and how long it is.
struct Timeline: Sendable, Equatable {
    var chapterStarts: [Int64]
    var totalSamples: Int64
}

/// Streams a book's checkpointed segments in order as one PCM stream: each segment trimmed of
/// leading and trailing silence, segments of a sentence crossfaded, pauses at sentence, paragraph
/// and chapter boundaries with faded edges. The same book and settings always give the same
/// samples, so a first pass can measure what a second pass encodes. At most one segment is in memory.
struct Assembler {
    let book: EncodeBook
    let settings: EncodeSettings

    private var rate: Double { Double(book.sampleRate) }
    fileprivate func samples(_ seconds: Double) -> Int { max(0, Int((seconds * rate).rounded())) }

    /// Emits the stream to `sink` in pieces and returns where each chapter starts.
    func run(_ sink: (UnsafeBufferPointer<Int16>) throws(EncodeError) -> Void) throws(EncodeError) -> Timeline {
        var stream = Stream(self)
        for chapter in book.chapters { try stream.add(chapter, to: sink) }
        return try stream.finish(to: sink)
    }

    /// The assembly between chapters: a book fed to it a chapter at a time, as its chapters become
    /// ready, gives the samples ``run(_:)`` gives for the whole book. The end of each chapter's
    /// last segment is held back until the next chapter (or ``finish(to:)``) decides its fade.
    struct Stream {
        let assembler: Assembler
        /// Samples emitted so far.
        private(set) var position: Int64 = 0
        /// Where each chapter added so far begins.
        private(set) var starts: [Int64] = []
        private var held: [Int16] = []
        private var started = false
        private var begun = false
        private var sceneBreak = false

        init(_ assembler: Assembler) { self.assembler = assembler }

        typealias Sink = (UnsafeBufferPointer<Int16>) throws(EncodeError) -> Void

        private mutating func emit(_ buffer: [Int16], _ sink: Sink) throws(EncodeError) {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBufferPointer { pointer throws(EncodeError) in try sink(pointer) }
            position += Int64(buffer.count)
        }

        private mutating func silence(_ count: Int, _ sink: Sink) throws(EncodeError) {
            var left = count
            let block = [Int16](repeating: 0, count: min(count, 4096))
            while left > 0 {
                let piece = min(left, block.count)
                try emit(piece == block.count ? block : Array(block[0..<piece]), sink)
                left -= piece
            }
        }

        /// Emits `chapter` after those added before (the book's lead-in first).
        mutating func add(_ chapter: EncodeChapter, to sink: Sink) throws(EncodeError) {
            try add(chapter.segments, of: chapter.index, to: sink)
            endChapter()
        }

        /// Where the chapter being added began, once its first sound was emitted.
        private var chapterStart: Int64?
        /// Whether a chapter was begun and not yet ended.
        private var inChapter = false

        /// Emits the next segments of chapter `chapter`: the first call begins the chapter, later
        /// ones continue it until ``endChapter()``. Split anywhere, a chapter gives the same samples.
        mutating func add(_ segments: [EncodeSegment], of chapter: Int, to sink: Sink) throws(EncodeError) {
            let settings = assembler.settings
            let crossfade = assembler.samples(settings.crossfade)
            let edge = max(1, assembler.samples(settings.edgeFade))
            let hold = max(crossfade, edge)
            if !begun {
                begun = true
                try silence(assembler.samples(settings.leadIn), sink)
            }
            if !inChapter {
                inChapter = true
                chapterStart = nil
            }
            for segment in segments {
                if segment.sceneBreak {
                    sceneBreak = true
                    continue
                }
                var audio = assembler.trimmed(try assembler.load(segment, chapter: chapter))
                if settings.edgeFade > 0 { Assembler.softenCuts(&audio, over: edge) }
                guard !audio.isEmpty else { continue }
                let boundary: SegmentBoundary = chapterStart == nil ? .chapter : segment.boundary
                defer { sceneBreak = false }
                if started {
                    if (boundary == .clause || boundary == .word) && !sceneBreak {
                        let n = min(held.count, audio.count, crossfade)
                        try emit(Array(held[0..<(held.count - n)]), sink)
                        try emit(Assembler.crossfade(Array(held[(held.count - n)...]), Array(audio[0..<n])), sink)
                        audio.removeFirst(n)
                    } else {
                        Assembler.fadeOut(&held, over: edge)
                        try emit(held, sink)
                        try silence(assembler.samples(assembler.pause(boundary, afterSceneBreak: sceneBreak)), sink)
                        Assembler.fadeIn(&audio, over: edge)
                    }
                } else {
                    Assembler.fadeIn(&audio, over: edge)
                    started = true
                }
                if chapterStart == nil { chapterStart = starts.isEmpty ? 0 : position }
                let keep = min(hold, audio.count)
                held = Array(audio[(audio.count - keep)...])
                audio.removeLast(keep)
                try emit(audio, sink)
            }
        }

        /// Ends the chapter begun by ``add(_:of:to:)``, recording where it starts.
        mutating func endChapter() {
            starts.append(chapterStart ?? (starts.isEmpty ? 0 : position + Int64(held.count)))
            inChapter = false
            chapterStart = nil
        }

        /// Emits the held end and the book's tail; returns where the chapters begin and the length.
        mutating func finish(to sink: Sink) throws(EncodeError) -> Timeline {
            if !begun {
                begun = true
                try silence(assembler.samples(assembler.settings.leadIn), sink)
            }
            Assembler.fadeOut(&held, over: max(1, assembler.samples(assembler.settings.edgeFade)))
            try emit(held, sink)
            held = []
            try silence(assembler.samples(assembler.settings.tail), sink)
            return Timeline(chapterStarts: starts, totalSamples: position)
        }
    }

    /// What ``run(_:)`` returns, from each segment's trimmed length alone: every checkpoint
    /// is read from each end only as far as its first loud sample, so the first pass over a ten-hour
    /// book reads megabytes, not gigabytes. The position arithmetic is `run`'s, step by step.
    func timeline() throws(EncodeError) -> Timeline {
        let crossfade = samples(settings.crossfade)
        let hold = max(crossfade, max(1, samples(settings.edgeFade)))
        let scratch = UnsafeMutableBufferPointer<Int16>.allocate(capacity: Self.scanChunk)
        defer { scratch.deallocate() }
        var position = Int64(samples(settings.leadIn))
        var held = 0
        var started = false
        var starts: [Int64] = []
        var sceneBreak = false
        for chapter in book.chapters {
            var chapterStart: Int64?
            for (number, segment) in chapter.segments.enumerated() {
                if segment.sceneBreak {
                    sceneBreak = true
                    continue
                }
                var length = try trimmedLength(segment, chapter: chapter.index, scratch: scratch)
                guard length > 0 else { continue }
                let boundary: SegmentBoundary = number == 0 || chapterStart == nil ? .chapter : segment.boundary
                defer { sceneBreak = false }
                if started {
                    // The held tail goes out whole: partly as itself, partly inside the crossfade.
                    position += Int64(held)
                    if (boundary == .clause || boundary == .word) && !sceneBreak {
                        length -= min(held, length, crossfade)
                    } else {
                        position += Int64(samples(pause(boundary, afterSceneBreak: sceneBreak)))
                    }
                } else {
                    started = true
                }
                if chapterStart == nil { chapterStart = starts.isEmpty ? 0 : position }
                held = min(hold, length)
                position += Int64(length - held)
            }
            starts.append(chapterStart ?? (starts.isEmpty ? 0 : position + Int64(held)))
        }
        return Timeline(chapterStarts: starts, totalSamples: position + Int64(held) + Int64(samples(settings.tail)))
    }

    /// Samples read at a time when looking for a checkpoint's first and last sound.
    private static let scanChunk = 4096

    /// The length ``trimmed(_:)`` leaves of a checkpoint, found from its two ends.
    private func trimmedLength(
        _ segment: EncodeSegment,
        chapter: Int,
        scratch: UnsafeMutableBufferPointer<Int16>
    ) throws(EncodeError) -> Int {
        guard case .file(let path) = segment.audio else {
            // Stored audio comes whole; segments are seconds long.
            let audio = try load(segment, chapter: chapter)
            return trimmed(audio).count
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw missing(segment, chapter: chapter) }
        defer { close(descriptor) }
        var status = stat()
        var header = [UInt8](repeating: 0, count: WAV.headerSize)
        guard fstat(descriptor, &status) == 0, pread(descriptor, &header, header.count, 0) == header.count,
            let parsed = WAV.parse(header: header[...], fileSize: Int(status.st_size)),
            parsed.sampleRate == book.sampleRate
        else { throw notWAV(segment, chapter: chapter) }
        let count = parsed.sampleCount
        let threshold = silenceThreshold
        /// Reads samples `start..<start + length` into `scratch`.
        func read(_ start: Int, _ length: Int) throws(EncodeError) {
            let bytes = length * 2
            guard pread(descriptor, scratch.baseAddress, bytes, off_t(WAV.headerSize + start * 2)) == bytes else {
                throw notWAV(segment, chapter: chapter)
            }
        }
        func loud(_ offset: Int) -> Bool { abs(Int32(Int16(littleEndian: scratch[offset]))) > threshold }
        var first: Int?
        var start = 0
        while first == nil, start < count {
            let length = min(scratch.count, count - start)
            try read(start, length)
            first = (0..<length).first(where: loud).map { start + $0 }
            start += length
        }
        guard let first else { return 0 }
        var last = first
        var end = count
        while end > first + 1 {
            let length = min(scratch.count, end - first - 1)
            try read(end - length, length)
            if let found = (0..<length).last(where: loud) {
                last = end - length + found
                break
            }
            end -= length
        }
        let keep = samples(settings.keepSilence)
        return min(count - 1, last + keep) - max(0, first - keep) + 1
    }

    fileprivate func pause(_ boundary: SegmentBoundary, afterSceneBreak: Bool = false) -> Double {
        let pause: Double =
            switch boundary {
            case .chapter: settings.chapterPause
            case .paragraph: settings.paragraphPause
            case .sentence: settings.sentencePause
            case .clause, .word: 0
            }
        return afterSceneBreak ? max(pause, settings.sceneBreakPause ?? 1.2) : pause
    }

    /// Reads a checkpoint written by the synthesis stage.
    fileprivate func load(_ segment: EncodeSegment, chapter: Int) throws(EncodeError) -> [Int16] {
        guard case .file(let path) = segment.audio else { return try loadStored(segment, chapter: chapter) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw missing(segment, chapter: chapter)
        }
        let bytes = [UInt8](data)
        guard let header = WAV.parse(bytes), header.sampleRate == book.sampleRate else {
            throw notWAV(segment, chapter: chapter)
        }
        return WAV.samples(bytes)
    }

    private func loadStored(_ segment: EncodeSegment, chapter: Int) throws(EncodeError) -> [Int16] {
        let where_ = "chapter \(chapter + 1), segment \(segment.index + 1)"
        guard let store = book.storedAudio else {
            throw EncodeError(
                .badSegment,
                "\(where_): its audio is stored, and no store was given",
                chapter: chapter,
                segment: segment.index
            )
        }
        let samples: [Int16]?
        do {
            samples = try store.samples(chapter: chapter, segment: segment.index)
        } catch {
            throw EncodeError(
                .unavailable,
                "\(where_): its stored audio cannot be read: \(error)",
                chapter: chapter,
                segment: segment.index
            )
        }
        guard let samples else {
            throw EncodeError(
                .badSegment,
                "\(where_): its stored audio is missing or damaged",
                chapter: chapter,
                segment: segment.index
            )
        }
        return samples
    }

    private func missing(_ segment: EncodeSegment, chapter: Int) -> EncodeError {
        EncodeError(
            .badSegment,
            "chapter \(chapter + 1), segment \(segment.index + 1): audio file \(segment.path) is missing",
            chapter: chapter,
            segment: segment.index
        )
    }

    private func notWAV(_ segment: EncodeSegment, chapter: Int) -> EncodeError {
        EncodeError(
            .badSegment,
            "chapter \(chapter + 1), segment \(segment.index + 1): audio file \(segment.path) does not decode as \(book.sampleRate) Hz WAV",
            chapter: chapter,
            segment: segment.index
        )
    }

    /// Samples louder than this (in magnitude) are sound; trimming keeps everything between the first and last.
    private var silenceThreshold: Int32 { Int32(32768 * pow(10, settings.silenceThreshold / 20)) }

    /// Cuts leading and trailing audio below the threshold, keeping `keepSilence` around the speech.
    func trimmed(_ audio: [Int16]) -> [Int16] {
        let threshold = silenceThreshold
        guard let first = audio.firstIndex(where: { abs(Int32($0)) > threshold }),
            let last = audio.lastIndex(where: { abs(Int32($0)) > threshold })
        else { return [] }
        let keep = samples(settings.keepSilence)
        return Array(audio[max(0, first - keep)...min(audio.count - 1, last + keep)])
    }

    /// Some voices (espeak-ng among them) drop from speech straight to digital silence between
    /// words. Such a cut clicks, and lossy coders ring on it far above the speech's own peaks, so
    /// the sound on either side of a run of silence is faded over `length` samples.
    static func softenCuts(_ audio: inout [Int16], over length: Int) {
        let minimumRun = max(8, length / 2)
        var index = 0
        var soundEnd = 0  // where the sound before the current position may be faded from
        while index < audio.count {
            guard audio[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < audio.count, audio[end] == 0 { end += 1 }
            if end - index >= minimumRun {
                // A fade-in can zero a lone sample after a run, which then joins the next run: never negative.
                let before = max(0, min(length, index - soundEnd))
                fadeOut(&audio, over: before, endingAt: index)
                var after = 0
                while after < length, end + after < audio.count, audio[end + after] != 0 { after += 1 }
                fadeIn(&audio, over: after, from: end)
                soundEnd = end + after
            }
            index = end
        }
    }

    /// Equal-power crossfade of two equally long pieces.
    static func crossfade(_ out: [Int16], _ into: [Int16]) -> [Int16] {
        let n = out.count
        return (0..<n).map { index in
            let t = (Double(index) + 0.5) / Double(n) * Double.pi / 2
            return clamp(Double(out[index]) * cos(t) + Double(into[index]) * sin(t))
        }
    }

    /// Fades in the `length` samples from `start` (or as many as there are).
    static func fadeIn(_ audio: inout [Int16], over length: Int, from start: Int = 0) {
        let n = min(length, audio.count - start)
        for index in 0..<max(0, n) {
            let gain = 0.5 * (1 - cos(Double.pi * Double(index) / Double(n)))
            audio[start + index] = clamp(Double(audio[start + index]) * gain)
        }
    }

    /// Fades out the `length` samples before `end` (the end of `audio` when nil).
    static func fadeOut(_ audio: inout [Int16], over length: Int, endingAt end: Int? = nil) {
        let stop = end ?? audio.count
        let n = min(length, stop)
        let start = stop - n
        for index in 0..<n {
            let gain = 0.5 * (1 + cos(Double.pi * Double(index + 1) / Double(n)))
            audio[start + index] = clamp(Double(audio[start + index]) * gain)
        }
    }

    static func clamp(_ value: Double) -> Int16 { Int16(max(-32768, min(32767, value.rounded()))) }
}
