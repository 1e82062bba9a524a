internal import Foundation
public import RecitalModel

/// Overwrites the chapter times in a finished MP3's ID3v2.3 tag (its CHAP frames) or a FLAC file's
/// Vorbis comments (`CHAPTERnnn=HH:MM:SS.mmm`) in place. Both sit in the file's header, written
/// before the audio; an encode that learns where its chapters begin only as it goes writes them
/// with any times first, then gives the real ones here. A time takes the same number of bytes
/// whatever its value, so nothing moves.
struct ChapterTimes {
    let path: String
    let container: AudioContainer
    let rate: Int

    func write(_ chapters: [ChapterMark]) throws(MediaError) {
        guard !chapters.isEmpty else { return }
        let handle: FileHandle
        do {
            handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(operation: "set the chapter times of \(path)", message: "\(error)")
        }
        // On a failure the handle closes as it goes away.
        do {
            switch container {
            case .mp3: try writeID3(chapters, handle)
            case .flac: try writeFLAC(chapters, handle)
            case .m4b: break
            }
            try handle.close()
        } catch let error as MediaError {
            throw error
        } catch {
            throw MediaError(operation: "set the chapter times of \(path)", message: "\(error)")
        }
    }

    private func failure(_ message: String) -> MediaError {
        MediaError(operation: "set the chapter times of \(path)", message: message)
    }

    private func read(_ handle: FileHandle, at offset: Int, count: Int) throws -> [UInt8] {
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw failure("the file ends inside its header") }
        return [UInt8](data)
    }

    private func overwrite(_ handle: FileHandle, at offset: Int, with bytes: [UInt8]) throws {
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
    }

    /// ID3v2.3 as libavformat writes it: a 10-byte header with a syncsafe size, then frames of a
    /// 4-letter id, a plain 32-bit size and 2 flag bytes. A CHAP frame's element id is `ch<N>`,
    /// NUL-terminated, then start and end in milliseconds.
    private func writeID3(_ chapters: [ChapterMark], _ handle: FileHandle) throws {
        let header = try read(handle, at: 0, count: 10)
        guard header[0...2] == [0x49, 0x44, 0x33], header[3] == 3 else { throw failure("no ID3v2.3 tag in front") }
        // Unsynchronisation or an extended header would move the frames: libavformat writes neither.
        guard header[5] == 0 else { throw failure("an ID3 tag with flags \(header[5])") }
        let size = header[6...9].reduce(0) { $0 << 7 | Int($1 & 0x7f) }
        let tag = try read(handle, at: 10, count: size)
        var offset = 0
        var seen = Set<Int>()
        while offset + 10 <= tag.count, tag[offset] != 0 {
            let id = String(decoding: tag[offset..<(offset + 4)], as: UTF8.self)
            let length = tag[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            let body = offset + 10
            guard body + length <= tag.count else { throw failure("an ID3 frame runs past its tag") }
            if id == "CHAP", let end = tag[body..<(body + length)].firstIndex(of: 0), end + 8 < body + length {
                let element = String(decoding: tag[body..<end], as: UTF8.self)
                guard element.hasPrefix("ch"), let index = Int(element.dropFirst(2)), chapters.indices.contains(index)
                else { throw failure("an unknown chapter \(element)") }
                let times = [chapters[index].start, chapters[index].end].flatMap { Self.bigEndian(milliseconds($0)) }
                try overwrite(handle, at: 10 + end + 1, with: times)
                seen.insert(index)
            }
            offset = body + length
        }
        guard seen.count == chapters.count else {
            throw failure("its tag has \(seen.count) chapters where \(chapters.count) were expected")
        }
    }

    /// FLAC's metadata blocks after `fLaC`: a byte of last-flag and type, a 24-bit length. The
    /// Vorbis comment block (type 4) holds little-endian lengths and `KEY=value` strings.
    private func writeFLAC(_ chapters: [ChapterMark], _ handle: FileHandle) throws {
        guard try read(handle, at: 0, count: 4) == Array("fLaC".utf8) else { throw failure("not a FLAC file") }
        var offset = 4
        while true {
            let header = try read(handle, at: offset, count: 4)
            let length = header[1...3].reduce(0) { $0 << 8 | Int($1) }
            if header[0] & 0x7f == 4 {
                return try rewriteComments(
                    try read(handle, at: offset + 4, count: length),
                    at: offset + 4,
                    chapters,
                    handle
                )
            }
            guard header[0] & 0x80 == 0 else { throw failure("no Vorbis comments") }
            offset += 4 + length
        }
    }

    private func rewriteComments(
        _ block: [UInt8],
        at start: Int,
        _ chapters: [ChapterMark],
        _ handle: FileHandle
    ) throws {
        func number(_ at: Int) throws -> Int {
            guard at + 4 <= block.count else { throw failure("its Vorbis comments are cut short") }
            return block[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        var offset = 4 + (try number(0))
        let count = try number(offset)
        offset += 4
        var seen = 0
        for _ in 0..<count {
            let length = try number(offset)
            let text = offset + 4
            guard text + length <= block.count else { throw failure("its Vorbis comments are cut short") }
            let comment = String(decoding: block[text..<(text + length)], as: UTF8.self)
            if let equals = comment.firstIndex(of: "="), comment.uppercased().hasPrefix("CHAPTER"),
                let index = Int(comment[comment.index(comment.startIndex, offsetBy: 7)..<equals]),
                chapters.indices.contains(index - 1)
            {
                let key = comment.utf8.distance(from: comment.startIndex, to: equals) + 1
                let value = Array(AudioFileWriter.clock(chapters[index - 1].start, rate: rate).utf8)
                guard value.count == length - key else { throw failure("a chapter time of another width") }
                try overwrite(handle, at: start + text + key, with: value)
                seen += 1
            }
            offset = text + length
        }
        guard seen == chapters.count else {
            throw failure("its comments have \(seen) chapters where \(chapters.count) were expected")
        }
    }

    /// libavformat's rounding of a sample position to milliseconds (to the nearest).
    private func milliseconds(_ samples: Int64) -> UInt32 {
        UInt32(clamping: (samples * 1000 + Int64(rate) / 2) / Int64(rate))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}
