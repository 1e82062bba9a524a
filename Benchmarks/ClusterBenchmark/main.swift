// Cluster benchmark, on a real PostgreSQL server over loopback:
//  1. claims + completions per second with 1, 2 and 4 processes doing nothing else, each claiming
//     up to 4 chapters at a time as a worker with 4 requests in flight does (and one at a time, the
//     worst case), then completing each in a fenced transaction of its own; 1 process on SQLite is
//     the reference;
//  2. enqueue-to-claim latency of an idle `recital worker` told by LISTEN/NOTIFY, against one that
//     finds work by polling once a second (SQLite);
//  3. a conversion by 3 `recital worker` processes, each beside its own fake TTS server, against 1
//     worker and 1 server doing the same books (the servers are the bottleneck: a fixed latency
//     and a bound of requests in flight each).
//
// Usage: cluster-benchmark RECITAL_BINARY POSTGRES_URL [--tasks N] [--latency-ms N] [--books N]
//        cluster-benchmark --claimer DATABASE BATCH   (a child of part 1)
import Foundation
import RecitalJobs
import RecitalModel
import RecitalPipeline
import RecitalTestSupport

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func schema() -> String { "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased() }

// MARK: - Part 1: claims and completions

/// The child: claims one task at a time and completes it until none is left; prints how many and
/// when the first claim and the last completion happened (wall seconds).
func claimer(database: String, batch: Int) async throws {
    let store = try JobStore.open(database)
    let owner = "claimer-\(ProcessInfo.processInfo.processIdentifier)"
    var count = 0
    var first: Double?
    while case let tasks = try await store.claim(owner: owner, limit: batch), !tasks.isEmpty {
        first = first ?? Date().timeIntervalSince1970
        for task in tasks {
            guard try await store.complete(task) else { fatalError("lost a lease in a benchmark") }
            count += 1
        }
    }
    print("\(count) \(first ?? 0) \(Date().timeIntervalSince1970)")
}

func claimRate(processes: Int, tasks: Int, batch: Int, database: String) async throws -> Double {
    let store = try JobStore.open(database)
    let perBook = 200
    for book in 0..<(tasks / perBook) {
        let chapters = (0..<perBook).map { index in
            Chapter(
                index: index,
                title: "\(index)",
                text: "",
                segments: [Segment(index: 0, text: "Word \(index).", boundary: .chapter)]
            )
        }
        _ = try await store.enqueue(
            NewBook(
                sourcePath: "/bench/\(book)",
                contentHash: UUID().uuidString,
                settingsHash: "s",
                settingsJSON: "{}",
                title: nil,
                authors: [],
                language: nil,
                sampleRate: 24_000,
                priority: 2,
                chapters: chapters
            )
        )
    }
    let children = try (0..<processes).map { _ in
        try BackgroundProcess(CommandLine.arguments[0], ["--claimer", database, String(batch)])
    }
    var done = 0
    var start = Double.infinity
    var end = 0.0
    for child in children {
        let result = try await child.wait(timeout: .seconds(600))
        let fields = result.stdout.split(separator: " ").compactMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard result.status == 0, fields.count == 3 else { fatalError("claimer failed: \(result.stderr)") }
        done += Int(fields[0])
        start = min(start, fields[1])
        end = max(end, fields[2])
    }
    guard done == tasks else { fatalError("\(done) of \(tasks) tasks done") }
    return Double(done) / (end - start)
}

// MARK: - Parts 2 and 3: real workers

func settings(url: String, voice: String, concurrency: Int) -> ConversionSettings {
    var settings = ConversionSettings(
        voice: VoiceProfile(
            name: "fake",
            backend: .openai,
            url: url,
            voice: voice,
            format: "wav",
            concurrency: concurrency,
            timeoutSeconds: 30
        ),
        maxSegmentCharacters: 400
    )
    settings.encode.formats = []
    return settings
}

func startWorker(_ recital: String, database: String, home: String, extra: [String] = []) throws -> BackgroundProcess {
    try BackgroundProcess(
        recital,
        ["worker"] + extra,
        environment: ["RECITAL_HOME": home, "RECITAL_DB": database, "TERM": "dumb"]
    )
}

func waitUntil(_ condition: () async throws -> Bool) async throws {
    while try await !condition() { try await Task.sleep(for: .milliseconds(5)) }
}

/// Seconds from each book's enqueue to its first claim, books queued one at a time to an idle worker.
func claimLatency(recital: String, database: String, poll: Double, books: Int, work: String) async throws -> [Double] {
    let server = FakeTTSServer()
    let paths = RecitalPaths(home: work + "/queue-\(UUID().uuidString.prefix(6))", database: database)
    let pipeline = try Pipeline(paths: paths)
    return try await server.serve { url in
        let worker = try startWorker(
            recital,
            database: database,
            home: paths.home + "-worker",
            extra: ["--poll", "\(poll)"]
        )
        defer { worker.signal(SIGTERM) }
        try await waitUntil { !(try await pipeline.workers().isEmpty) }
        var latencies: [Double] = []
        for index in 0..<books {
            // The worker is idle: its first look is behind it, the last book is finished.
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...300)))
            let chosen = settings(url: url, voice: "v\(index)", concurrency: 2)
            let read = try await Pipeline.read(Fixtures.path("epub2-basic.epub"), settings: chosen)
            let id = try await pipeline.add(read, settings: chosen, priority: 2).bookID
            try await waitUntil { try await pipeline.status(book: id).first?.state == .completed }
            let events = try await pipeline.history(book: id)
            guard let queued = events.first(where: { $0.kind == "enqueued" })?.at,
                let claimed = events.first(where: { $0.kind == "claimed" })?.at
            else { fatalError("book \(id) has no claim") }
            latencies.append(claimed - queued)
        }
        return latencies
    }
}

/// Runs `body` while every server answers, with their URLs.
func serving(
    _ fakes: ArraySlice<FakeTTSServer>,
    urls: [String],
    _ body: @escaping @Sendable ([String]) async throws -> (Double, Int)
) async throws -> (Double, Int) {
    guard let first = fakes.first else { return try await body(urls) }
    return try await first.serve { url in try await serving(fakes.dropFirst(), urls: urls + [url], body) }
}

/// Wall seconds for `workers` worker processes, worker k beside server k, to synthesize `books`
/// books spread over the servers.
func conversion(
    recital: String,
    database: String,
    servers: Int,
    books: Int,
    latency: Int,
    work: String
) async throws
    -> (seconds: Double, segments: Int)
{
    let fakes = (0..<servers).map { _ in FakeTTSServer(latency: .milliseconds(latency)) }
    let paths = RecitalPaths(home: work + "/conversion-\(servers)", database: database)
    let pipeline = try Pipeline(paths: paths)
    let (elapsed, segments) = try await serving(fakes[...], urls: []) { urls in
        var ids: [Int64] = []
        for index in 0..<books {
            let chosen = settings(url: urls[index % urls.count], voice: "book\(index)", concurrency: 2)
            let read = try await Pipeline.read(Fixtures.path("novella.epub"), settings: chosen)
            ids.append(try await pipeline.add(read, settings: chosen, priority: 2).bookID)
        }
        let started = ContinuousClock.now
        let workers = try urls.enumerated().map { index, url in
            try startWorker(
                recital,
                database: database,
                home: work + "/machine-\(servers)-\(index)",
                extra: ["--poll", "0.2", "--only-backend", url]
            )
        }
        defer { for worker in workers { worker.signal(SIGTERM) } }
        try await waitUntil {
            try await pipeline.status().allSatisfy { $0.state == .completed }
        }
        let elapsed = seconds(ContinuousClock.now - started)
        let segments = try await pipeline.status().reduce(0) { $0 + $1.segmentsTotal }
        for worker in workers {
            worker.signal(SIGTERM)
            _ = try await worker.wait(timeout: .seconds(60))
        }
        return (elapsed, segments)
    }
    return (elapsed, segments)
}

// MARK: - Main

let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--claimer" {
    try await claimer(database: arguments[2], batch: Int(arguments[3]) ?? 1)
    exit(0)
}
guard arguments.count >= 3 else {
    print("usage: cluster-benchmark RECITAL_BINARY POSTGRES_URL [--tasks N] [--latency-ms N] [--books N]")
    exit(64)
}
let recital = arguments[1]
let postgres = arguments[2]
var tasks = 4_000
var latency = 100
var books = 3
var rest = arguments.dropFirst(3)
while let flag = rest.popFirst() {
    let value = Int(rest.popFirst() ?? "") ?? 0
    switch flag {
    case "--tasks": tasks = max(200, value / 200 * 200)
    case "--latency-ms": latency = value
    case "--books": books = max(1, value)
    default: break
    }
}
let work = try Fixtures.temporaryDirectory().path

print("1. claims + completions, \(tasks) tasks (one claim takes up to BATCH; each task is then completed)")
for batch in [4, 1] {
    let sqliteRate = try await claimRate(
        processes: 1,
        tasks: tasks,
        batch: batch,
        database: work + "/claims-\(batch).sqlite"
    )
    print(
        String(
            format: "   batch %d, SQLite, 1 process:       %6.0f claims + completions/s (reference)",
            batch,
            2 * sqliteRate
        )
    )
    var rates: [Int: Double] = [:]
    for processes in [1, 2, 4] {
        let rate = try await claimRate(
            processes: processes,
            tasks: tasks,
            batch: batch,
            database: "\(postgres)?schema=\(schema())"
        )
        rates[processes] = rate
        print(
            String(
                format:
                    "   batch %d, PostgreSQL, %d process%@: %6.0f claims + completions/s (%.2f× SQLite, %.2f× 1 process)",
                batch,
                processes,
                processes == 1 ? "  " : "es",
                2 * rate,
                rate / sqliteRate,
                rate / rates[1]!
            )
        )
    }
}

print("2. enqueue to first claim, an idle `recital worker`, 15 books queued one at a time")
let notified = try await claimLatency(
    recital: recital,
    database: "\(postgres)?schema=\(schema())",
    poll: 30,
    books: 15,
    work: work
)
let polled = try await claimLatency(
    recital: recital,
    database: work + "/latency.sqlite",
    poll: 1,
    books: 15,
    work: work
)
print(
    String(
        format: "   PostgreSQL, LISTEN/NOTIFY (poll 30 s): median %.0f ms, 95th percentile %.0f ms",
        median(notified) * 1000,
        percentile(notified, 0.95) * 1000
    )
)
print(
    String(
        format:
            "   SQLite, polling every 1 s (reference): median %.0f ms, 95th percentile %.0f ms (notify: %.2f× of it)",
        median(polled) * 1000,
        percentile(polled, 0.95) * 1000,
        median(notified) / max(0.001, median(polled))
    )
)

print("3. \(books) books of novella.epub, each TTS server answering after \(latency) ms with 2 requests in flight")
let one = try await conversion(
    recital: recital,
    database: "\(postgres)?schema=\(schema())",
    servers: 1,
    books: books,
    latency: latency,
    work: work
)
let three = try await conversion(
    recital: recital,
    database: "\(postgres)?schema=\(schema())",
    servers: 3,
    books: books,
    latency: latency,
    work: work
)
print(String(format: "   1 worker, 1 server:    %6.1f s for %d segments (reference)", one.seconds, one.segments))
print(
    String(
        format: "   3 workers, 3 servers:  %6.1f s for %d segments: %.2f× the throughput",
        three.seconds,
        three.segments,
        one.seconds / three.seconds
    )
)
try? FileManager.default.removeItem(atPath: work)
