// Synthesis benchmark: converts generated books with `recital convert` (a child process) against
// the fake TTS server (in this process) with a fixed latency, and reports backend utilisation,
// checkpoint cost per segment and the converter's peak memory at two book lengths. Utilisation is
// over the synthesis stage: from starting `convert` to the server's last answer; the encode that
// follows is timed apart. It writes FLAC, whose muxer keeps no per-frame index (the M4B muxer's
// grows by about 5 MB per hour), so the peak memory is the synthesis stage's.
//
// Usage: synthesis-benchmark RECITAL_BINARY [--chars N] [--latency-ms N] [--concurrency N]
import Foundation
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalSpeech
import RecitalTestSupport

struct Options {
    var recital = ""
    var characters = 1_000_000
    var latency = 50
    var concurrency = 8

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        recital = rest.popFirst() ?? ""
        while let flag = rest.popFirst() {
            let value = Int(rest.popFirst() ?? "") ?? 0
            switch flag {
            case "--chars": characters = value
            case "--latency-ms": latency = value
            case "--concurrency": concurrency = value
            default: break
            }
        }
    }
}

func shell(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
}

/// Converts one generated book and returns (synthesis wall seconds, segments, utilisation, encode
/// seconds, peak RSS MB).
func convert(characters: Int, options: Options, work: URL) async throws -> (Double, Int, Double, Double, Int) {
    let book = work.appendingPathComponent("book-\(characters).epub").path
    try shell(["python3", "scripts/make-fixtures.py", "--large-chars", book, String(characters)])
    let home = work.appendingPathComponent("home-\(characters)").path
    let server = FakeTTSServer(latency: .milliseconds(options.latency))
    let timing = work.appendingPathComponent("time-\(characters)").path
    let started = ContinuousClock.now
    let result = try await server.serve { url in
        try ProcessResult.run(
            "/usr/bin/time",
            [
                "-f", "%M %U %S %e", "-o", timing, options.recital, "convert", book, "--tts-url", url, "--concurrency",
                String(options.concurrency), "--out", work.path, "--overwrite", "--format", "flac",
            ],
            environment: ["RECITAL_HOME": home, "TERM": "dumb"]
        )
    }
    let ended = ContinuousClock.now
    guard let span = server.activeSpan else { throw NSError(domain: "bench", code: 2) }
    let wall = span.last - started
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let encode = ended - span.last
    guard result.status == 0 else {
        throw NSError(domain: "bench", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr])
    }
    let timeLine = (try? String(contentsOfFile: timing, encoding: .utf8))?.split(separator: "\n").last ?? ""
    let fields = timeLine.split(separator: " ")
    let rss = fields.first.flatMap { Int($0) } ?? 0
    FileHandle.standardError.write(
        Data(
            "time (max KB, user s, sys s, wall s): \(timeLine); server in use \(server.activeSeconds) s, utilisation within that \(server.busySeconds / (server.activeSeconds * Double(options.concurrency)))\n"
                .utf8
        )
    )
    let utilisation = server.busySeconds / (seconds * Double(options.concurrency))
    let encodeSeconds = Double(encode.components.seconds) + Double(encode.components.attoseconds) / 1e18
    return (seconds, server.requestCount, utilisation, encodeSeconds, rss / 1024)
}

/// The reference: the same number of requests of the same texts sent by the HTTP client alone with
/// `concurrency` in flight, no checkpoints and no job table. Returns (wall seconds, utilisation).
func httpOnly(segments: Int, options: Options) async throws -> (Double, Double) {
    let server = FakeTTSServer(latency: .milliseconds(options.latency))
    let text =
        ProcessInfo.processInfo.environment["BENCH_TEXT"]
        ?? String(repeating: "Whale ship sea captain boat night morning voice. ", count: 5)
    let started = ContinuousClock.now
    try await server.serve { url in
        let client = try HTTPSpeechClient(profile: VoiceProfile(name: "bench", backend: .openai, url: url))
        let limiter = RequestLimiter(capacity: options.concurrency)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<segments {
                if index >= options.concurrency * 2 { try await group.next() }
                group.addTask {
                    _ = try await client.synthesize(SynthesisRequest(text: text), limiter: limiter) { _, _, _ in }
                }
            }
            try await group.waitForAll()
        }
    }
    let wall = ContinuousClock.now - started
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    return (seconds, server.busySeconds / (seconds * Double(options.concurrency)))
}

/// The cost of one checkpoint: write 3 s of audio durably and record it in a fenced transaction.
func checkpointCost(work: URL) async throws -> Double {
    let store = try JobStore(path: work.appendingPathComponent("checkpoint.sqlite").path)
    let count = 200
    let chapter = Chapter(
        index: 0,
        title: "c",
        text: "",
        segments: (0..<count).map { Segment(index: $0, text: "Segment \($0).", boundary: .sentence) }
    )
    let id = try await store.enqueue(
        NewBook(
            sourcePath: "/bench",
            contentHash: "bench",
            settingsHash: "s",
            settingsJSON: "{}",
            title: nil,
            authors: [],
            language: nil,
            sampleRate: 24_000,
            priority: 1,
            chapters: [chapter]
        )
    ).bookID
    guard let task = try await store.claim(owner: "bench", limit: 1).first else { return 0 }
    let files = CheckpointFiles(root: work.appendingPathComponent("audio").path)
    let samples = [Int16](repeating: 1000, count: 72_000)
    let started = ContinuousClock.now
    for index in 0..<count {
        let path = files.path(book: id, chapter: 0, segment: index)
        let checksum = try files.write(samples: samples, sampleRate: 24_000, to: path)
        _ = try await store.recordCheckpoint(
            CheckpointRecord(
                bookID: id,
                chapterIndex: 0,
                index: index,
                textHash: ContentHash.text("Segment \(index)."),
                audioPath: path,
                checksum: checksum,
                sampleCount: samples.count,
                sampleRate: 24_000
            ),
            for: task
        )
    }
    let elapsed = ContinuousClock.now - started
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(count) * 1000
}

let options = Options(CommandLine.arguments)
let work = FileManager.default.temporaryDirectory.appendingPathComponent(
    "recital-synthesis-bench-\(UUID().uuidString.prefix(6))"
)
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

print("| book | segments | synthesis wall | backend utilisation | then encode | peak RSS |")
print("|---|---|---|---|---|---|")
for characters in [options.characters / 4, options.characters] {
    let (wall, segments, utilisation, encode, rss) = try await convert(
        characters: characters,
        options: options,
        work: work
    )
    print(
        "| \(characters) characters | \(segments) | \(String(format: "%.1f", wall)) s | \(String(format: "%.1f", utilisation * 100)) % | \(String(format: "%.1f", encode)) s | \(rss) MB |"
    )
}
let (referenceWall, referenceUtilisation) = try await httpOnly(segments: 1500, options: options)
print(
    "| reference: 1500 requests by the HTTP client alone | 1500 | \(String(format: "%.1f", referenceWall)) s | \(String(format: "%.1f", referenceUtilisation * 100)) % | | |"
)
let cost = try await checkpointCost(work: work)
print("")
print(
    "latency \(options.latency) ms, concurrency \(options.concurrency); checkpoint (3 s of audio: write, fsync, rename, fenced SQLite commit): \(String(format: "%.2f", cost)) ms per segment"
)
