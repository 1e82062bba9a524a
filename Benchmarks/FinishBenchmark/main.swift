// Finish benchmark (issue 21): converts a generated book of a given length with `recital convert`
// (a child process) against the fake TTS server at a GPU-like speed (an answer of N seconds of audio
// after N / speed seconds, one at a time, as a GPU's queue), into the given formats, and reports how
// long the finished files take after the server's last answer (the last checkpoint follows it by
// milliseconds) and the whole conversion's wall time against the server's busy time.
//
// Usage: finish-benchmark RECITAL_BINARY [--hours H] [--speed S] [--formats m4b,mp3] [--concurrency N]
import Foundation
import RecitalTestSupport

struct Options {
    var recital = ""
    var hours = 10.0
    var speed = 45.0
    var formats = "m4b,mp3"
    var concurrency = 4

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        recital = rest.popFirst() ?? ""
        while let flag = rest.popFirst() {
            let value = rest.popFirst() ?? ""
            switch flag {
            case "--hours": hours = Double(value) ?? hours
            case "--speed": speed = Double(value) ?? speed
            case "--formats": formats = value
            case "--concurrency": concurrency = Int(value) ?? concurrency
            default: break
            }
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let options = Options(CommandLine.arguments)
let work = FileManager.default.temporaryDirectory.appendingPathComponent(
    "recital-finish-bench-\(UUID().uuidString.prefix(6))"
)
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

// The fake server speaks 40 characters a second (25 ms each).
let characters = Int(options.hours * 3600 * 40)
let book = work.appendingPathComponent("book.epub").path
let generated = try ProcessResult.run(
    "/usr/bin/env",
    ["python3", "scripts/make-fixtures.py", "--large-chars", book, String(characters)]
)
guard generated.status == 0 else { fatalError("cannot generate the book: \(generated.stderr)") }

let server = FakeTTSServer(realtime: options.speed)
let started = ContinuousClock.now
// When each line of the converter's log appeared, to show what the end of the run spent its time on.
let (result, seen) = try await server.serve { url -> (ProcessResult, [(ContinuousClock.Instant, String)]) in
    var seen: [(ContinuousClock.Instant, String)] = []
    let child = try BackgroundProcess(
        options.recital,
        [
            "convert", book, "--tts-url", url, "--concurrency", String(options.concurrency), "--out",
            work.appendingPathComponent("out").path, "--format", options.formats,
        ],
        environment: ["RECITAL_HOME": work.appendingPathComponent("home").path, "RECITAL_DB": "", "TERM": "dumb"]
    )
    // A long book takes as long as the server needs, and more.
    let deadline = ContinuousClock.now + .seconds(options.hours * 3600)
    while child.process.isRunning, ContinuousClock.now < deadline {
        let lines = child.stderrSoFar.split(separator: "\n", omittingEmptySubsequences: true)
        for line in lines.dropFirst(seen.count) { seen.append((.now, String(line))) }
        try await Task.sleep(for: .milliseconds(50))
    }
    return (try await child.wait(timeout: .seconds(1)), seen)
}
let ended = ContinuousClock.now
guard result.status == 0, let span = server.activeSpan else { fatalError("convert failed: \(result.stderr)") }
let busy = server.serviceSeconds
let wall = seconds(ended - started)
let afterLast = seconds(ended - span.last)
print("| book | formats | server busy | whole wall | wall / busy | last answer to finished files |")
print("|---|---|---|---|---|---|")
print(
    String(
        format: "| %.1f h of audio, %d characters | %@ | %.1f s (%.0f× realtime) | %.1f s | %.3f | %.1f s |",
        options.hours,
        characters,
        options.formats,
        busy,
        options.speed,
        wall,
        wall / busy,
        afterLast
    )
)

// The log's last lines, timed from the server's last answer.
print("")
print("log lines near the end (seconds after the server's last answer):")
for (at, line) in seen.suffix(6) {
    print(String(format: "  %+7.1f  %@", seconds(at - span.last), String(line.prefix(100))))
}
