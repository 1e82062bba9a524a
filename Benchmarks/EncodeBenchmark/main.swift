// Encode benchmark: writes N hours of 24 kHz mono speech-like audio as checkpoint segments, then
// encodes it with Recital's encoder (a child process, so its peak memory is its own) to each format
// and to all three in one pass, side by side with the `ffmpeg` command line encoding the same audio
// from one WAV. That WAV is Recital's own stitched and levelled stream (from an untimed FLAC run),
// so both sides encode exactly the same samples: the pauses Recital puts between segments make its
// stream a few per cent longer than the raw segments laid end to end. Prints wall time,
// x-realtime and peak memory.
//
// Usage: encode-benchmark [--hours N] [--jobs m4b,mp3,flac,all,resume] [--keep DIR]
// (`resume`: an incremental M4B encode stopped after 18 of 20 chapters and taken up again, against
// one that never stopped, in this process.)
// (--keep writes the segments to DIR, or reuses them when DIR has them, and leaves them there for
// profiling the child: `encode-benchmark --encode-child DIR SEGMENTS flac`.)
import Foundation
import RecitalEncode
import RecitalMedia
import RecitalModel
import RecitalTestSupport

let rate = 24_000
let segmentSeconds = 6.0

/// Speech-like audio: voiced "syllables" (a few harmonics under a 4 Hz envelope, pitch drifting),
/// short gaps between words and longer ones between sentences. Deterministic.
func segment(_ number: Int) -> [Int16] {
    let count = Int(segmentSeconds * Double(rate))
    var seed = UInt64(number) &* 6_364_136_223_846_793_005 &+ 1
    func random() -> Double {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(seed >> 11) / Double(1 << 53)
    }
    var samples = [Int16](repeating: 0, count: count)
    var position = Int(0.1 * Double(rate))
    var phase = 0.0
    while position < count - rate / 5 {
        let syllable = Int((0.12 + 0.15 * random()) * Double(rate))
        let pitch = 100 + 120 * random()
        let loudness = 3000 + 6000 * random()
        for index in 0..<min(syllable, count - position) {
            let envelope = sin(Double.pi * Double(index) / Double(syllable))
            phase += 2 * Double.pi * pitch / Double(rate)
            let voice = sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase) + 0.1 * (random() - 0.5)
            samples[position + index] = Int16(max(-32767, min(32767, voice * envelope * loudness)))
        }
        position += syllable + Int((random() < 0.2 ? 0.25 : 0.04) * Double(rate))
    }
    return samples
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Runs a command under GNU time and returns (wall seconds, peak RSS in MB).
func timed(_ arguments: [String]) throws -> (Double, Int) {
    let timing = FileManager.default.temporaryDirectory.appendingPathComponent("time-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: timing) }
    let started = ContinuousClock.now
    let result = try ProcessResult.run("/usr/bin/time", ["-f", "%M", "-o", timing] + arguments)
    let wall = seconds(ContinuousClock.now - started)
    guard result.status == 0 else {
        throw NSError(domain: "bench", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr])
    }
    let rss =
        (try? String(contentsOfFile: timing, encoding: .utf8))
        .flatMap { Int($0.split(separator: "\n").last ?? "") } ?? 0
    return (wall, rss / 1024)
}

func book(in folder: String, segments: Int, chapters: Int) -> EncodeBook {
    let perChapter = max(1, segments / chapters)
    let list = (0..<chapters).map { chapter in
        EncodeChapter(
            index: chapter,
            title: "Chapter \(chapter + 1)",
            segments: (0..<perChapter).map { index in
                let number = chapter * perChapter + index
                return EncodeSegment(
                    index: index,
                    boundary: index == 0 ? .chapter : (index % 4 == 0 ? .paragraph : .sentence),
                    path: "\(folder)/s\(number).wav"
                )
            }
        )
    }
    return EncodeBook(
        metadata: BookMetadata(title: "Benchmark", authors: ["Bench Mark"], language: "en"),
        narrator: "synthetic",
        sampleRate: rate,
        chapters: list,
        cover: nil
    )
}

let arguments = CommandLine.arguments
if arguments.count >= 5, arguments[1] == "--encode-child" {
    // Child mode: encode the prepared segments into the given formats.
    let folder = arguments[2]
    let segments = Int(arguments[3]) ?? 0
    var settings = EncodeSettings()
    settings.formats = arguments[4].split(separator: ",").compactMap { AudioContainer(rawValue: String($0)) }
    var encoder = BookEncoder(settings: settings)
    encoder.overwrite = true
    _ = try encoder.encode(book(in: folder, segments: segments, chapters: 20), into: folder + "/out")
    exit(0)
}

var hours = 10.0
if let index = arguments.firstIndex(of: "--hours"), index + 1 < arguments.count {
    hours = Double(arguments[index + 1]) ?? 10
}
// Which rows to run ("all" is the three formats in one pass); every row by default.
var jobs = ["m4b", "mp3", "flac", "m4b,mp3,flac"]
if let index = arguments.firstIndex(of: "--jobs"), index + 1 < arguments.count {
    jobs = arguments[index + 1].split(separator: ",").map { $0 == "all" ? "m4b,mp3,flac" : String($0) }
}
let kept = arguments.firstIndex(of: "--keep").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
let work =
    kept.map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.temporaryDirectory.appendingPathComponent(
        "recital-encode-bench-\(UUID().uuidString.prefix(6))"
    )
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { if kept == nil { try? FileManager.default.removeItem(at: work) } }
let segments = Int(hours * 3600 / segmentSeconds) / 20 * 20

for number in 0..<segments {
    let file = work.appendingPathComponent("s\(number).wav")
    // Kept segments are the same audio (the generator is deterministic); write only missing ones.
    if kept != nil, FileManager.default.fileExists(atPath: file.path) { continue }
    try Data(WAV.encode(samples: segment(number), sampleRate: rate)).write(to: file)
}
// The reference WAV: exactly what Recital encodes, decoded from its FLAC (not timed).
_ = try timed([arguments[0], "--encode-child", work.path, String(segments), "flac"])
let wavPath = work.appendingPathComponent("book.wav").path
_ = try timed([
    "/usr/bin/ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i",
    work.appendingPathComponent("out/Bench Mark - Benchmark.flac").path, "-map_metadata", "-1", "-fflags", "+bitexact",
    "-c:a", "pcm_s16le", wavPath,
])
let wavBytes = (try? FileManager.default.attributesOfItem(atPath: wavPath)[.size] as? Int) ?? 0
let audioSeconds = Double(max(0, wavBytes - WAV.headerSize)) / 2 / Double(rate)

print(
    "\(String(format: "%.2f", audioSeconds / 3600)) h of 24 kHz mono speech-like audio as encoded, from \(segments) segments of \(Int(segmentSeconds)) s, 20 chapters"
)
if jobs.contains(where: { $0 != "resume" }) {
    print("")
    print("| job | Recital wall | x-realtime | peak RSS | ffmpeg CLI wall | x-realtime | peak RSS | Recital / ffmpeg |")
    print("|---|---|---|---|---|---|---|---|")
}
// The same encoder settings as Recital's, AAC's "fast" search included (FFmpeg 5.1's default search
// takes about six times as long).
let ffmpegCommands: [String: [String]] = [
    "m4b": ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-movflags", "+faststart", "out.m4b"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "out.mp3"],
    "flac": ["-c:a", "flac", "out.flac"],
]
var ffmpegTotal = 0.0
for format in jobs where format != "resume" {
    let (ours, ourRSS) = try timed([arguments[0], "--encode-child", work.path, String(segments), format])
    var theirs = 0.0
    var theirRSS = 0
    for name in format.split(separator: ",") {
        let output = ffmpegCommands[String(name)] ?? []
        let (wall, rss) = try timed(
            ["/usr/bin/ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", wavPath]
                + output.dropLast() + [work.appendingPathComponent(output.last ?? "out").path]
        )
        theirs += wall
        theirRSS = max(theirRSS, rss)
    }
    if !format.contains(",") { ffmpegTotal += theirs }
    let label = format.contains(",") ? "all three (one pass vs three ffmpeg runs)" : format
    print(
        "| \(label) | \(String(format: "%.1f", ours)) s | \(Int(audioSeconds / ours))x | \(ourRSS) MB | \(String(format: "%.1f", theirs)) s | \(Int(audioSeconds / theirs))x | \(theirRSS) MB | \(String(format: "%.2f", ours / theirs)) |"
    )
}

/// Issue 21's resume: the whole incremental encode of `formats`, against taking one up that stopped
/// after 18 of the 20 chapters (assembling those again, then encoding the last two).
func resumeRow(_ formats: [AudioContainer]) throws {
    let encodeBook = book(in: work.path, segments: segments, chapters: 20)
    var header = encodeBook
    header.chapters = encodeBook.chapters.map { EncodeChapter(index: $0.index, title: $0.title, segments: []) }
    var settings = EncodeSettings()
    settings.formats = formats
    func encoder(_ folder: String, _ point: IncrementalEncoder.ResumePoint? = nil) throws -> IncrementalEncoder {
        try IncrementalEncoder(
            book: header,
            settings: settings,
            folder: work.appendingPathComponent(folder).path,
            name: nil,
            overwrite: true,
            resuming: point
        )
    }
    let chapters = encodeBook.chapters
    var started = ContinuousClock.now
    let whole = try encoder("straight")
    for chapter in chapters { try whole.add([chapter]) }
    _ = try whole.finish()
    let straight = seconds(ContinuousClock.now - started)

    let stopped = try encoder("resumed")
    for chapter in chapters[0..<18] { try stopped.add([chapter]) }
    guard let point = try stopped.checkpoint() else { fatalError("no resume point") }
    stopped.suspend()
    started = ContinuousClock.now
    let resumed = try encoder("resumed", point)
    try resumed.resume(Array(chapters[0..<18]))
    for chapter in chapters[18...] { try resumed.add([chapter]) }
    _ = try resumed.finish()
    let taken = seconds(ContinuousClock.now - started)
    let names = formats.map(\.rawValue).joined(separator: ", ")
    print(
        "| \(names) | \(String(format: "%.1f", straight)) s | \(String(format: "%.1f", taken)) s | \(String(format: "%.2f", taken / straight)) | \(resumed.continued.map(\.rawValue).joined(separator: ", ")) |"
    )
}

if jobs.contains("resume") {
    print("")
    print(
        "| formats | incremental encode, never stopped | resumed after 18 of 20 chapters | resumed / whole | continued |"
    )
    print("|---|---|---|---|---|")
    try resumeRow([.m4b])
    try resumeRow([.m4b, .mp3])
}
