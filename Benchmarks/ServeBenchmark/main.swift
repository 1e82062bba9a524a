// Serve benchmark: `recital serve` (the release binary, a child process) converting a generated book
// against the fake TTS server (in this process), once alone (the reference) and once under load:
// 50 Server-Sent Events clients and 200 status requests a second for the whole conversion (at
// least 30 s). It reports the status requests' latency percentiles, whether every event client saw
// every state of the job through to completed with progress never going back, and the loaded
// conversion's time against the reference's.
//
// Usage: serve-benchmark RECITAL_BINARY [--chars N] [--latency-ms N] [--clients N] [--rate N]
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RecitalTestSupport
import Synchronization

struct Options {
    var recital = ""
    var characters = 120_000
    var latency = 200
    var clients = 50
    var rate = 200

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        recital = rest.popFirst() ?? ""
        while let flag = rest.popFirst() {
            let value = Int(rest.popFirst() ?? "") ?? 0
            switch flag {
            case "--chars": characters = value
            case "--latency-ms": latency = value
            case "--clients": clients = value
            case "--rate": rate = value
            default: break
            }
        }
    }
}

let options = Options(CommandLine.arguments)
let work = FileManager.default.temporaryDirectory.appendingPathComponent("recital-serve-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

func generate(_ characters: Int) throws -> String {
    let path = work.appendingPathComponent("book-\(characters).epub").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "scripts/make-fixtures.py", "--large-chars", path, String(characters)]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return path
}

let client: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

func request(_ url: String, method: HTTPMethod = .GET, body: [UInt8]? = nil) async throws -> (Int, [UInt8]) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: .seconds(60))
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return (Int(response.status.code), Array(bytes.readableBytesView))
}

func state(_ base: String, job: Int) async throws -> String {
    let (_, body) = try await request("\(base)/api/v1/jobs/\(job)")
    return ((try JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["state"] as? String ?? "?"
}

/// Uploads a book and waits for its job to complete; returns the job and the seconds it took.
func convert(_ book: String, base: String) async throws -> (job: Int, seconds: Double) {
    let started = ContinuousClock.now
    let (status, body) = try await request(
        "\(base)/api/v1/jobs?filename=book.epub",
        method: .POST,
        body: Array(try Data(contentsOf: URL(fileURLWithPath: book)))
    )
    guard status == 202,
        let job = ((try JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["id"] as? Int
    else { throw CocoaError(.featureUnsupported) }
    while try await state(base, job: job) != "completed" { try await Task.sleep(for: .milliseconds(100)) }
    return (job, (ContinuousClock.now - started) / .seconds(1))
}

/// One event client: every `job` event for the job, as (state, progress).
func listen(_ base: String, job: Int, until done: @escaping @Sendable () -> Bool) async throws -> [(String, Double)] {
    let response = try await client.execute(
        HTTPClientRequest(url: "\(base)/api/v1/jobs/\(job)/events?since=0"),
        timeout: .seconds(600)
    )
    var seen: [(String, Double)] = []
    var pending = ""
    for try await buffer in response.body {
        pending += String(buffer: buffer)
        while let end = pending.range(of: "\n\n") {
            let block = pending[..<end.lowerBound]
            pending = String(pending[end.upperBound...])
            guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                let object = (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
            else { continue }
            seen.append((object["state"] as? String ?? "?", object["progress"] as? Double ?? -1))
        }
        if done() { break }
    }
    return seen
}

/// The load: event clients and a fixed rate of status requests until the job is done (30 s at least).
final class Load: Sendable {
    let finished = Atomic<Bool>(false)
    let finishedAt = Mutex<ContinuousClock.Instant?>(nil)
    let failures = Atomic<Int>(0)
    let latencies = Mutex<[Double]>([])

    func run(base: String, job: Int, clients: Int, rate: Int) async throws -> [[(String, Double)]] {
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: [(String, Double)]?.self) { group in
            for _ in 0..<clients {
                // A job's stream ends after its final event; a client still waiting 10 s after the
                // job finished has lost it, and gives up.
                group.addTask { try await listen(base, job: job, until: { self.finishedFor(.seconds(10)) }) }
            }
            group.addTask {
                // A fixed schedule; late requests are not made up for.
                let interval = Duration.seconds(1) / rate
                var next = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { requests in
                    while !self.finished.load(ordering: .relaxed) || ContinuousClock.now - started < .seconds(30) {
                        next += interval
                        requests.addTask { await self.status(base, job: job) }
                        try await Task.sleep(until: next)
                    }
                    try await requests.waitForAll()
                }
                return nil
            }
            group.addTask {
                while try await state(base, job: job) != "completed" { try await Task.sleep(for: .milliseconds(100)) }
                self.finishedAt.withLock { $0 = .now }
                self.finished.store(true, ordering: .relaxed)
                return nil
            }
            var histories: [[(String, Double)]] = []
            for try await history in group { if let history { histories.append(history) } }
            return histories
        }
    }

    func finishedFor(_ duration: Duration) -> Bool {
        finishedAt.withLock { $0.map { ContinuousClock.now - $0 > duration } ?? false }
    }

    func status(_ base: String, job: Int) async {
        let sent = ContinuousClock.now
        do {
            let (code, _) = try await request("\(base)/api/v1/jobs/\(job)")
            if code != 200 { failures.add(1, ordering: .relaxed) }
        } catch {
            failures.add(1, ordering: .relaxed)
        }
        let milliseconds = (ContinuousClock.now - sent) / .milliseconds(1)
        latencies.withLock { $0.append(milliseconds) }
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

let reference = try generate(options.characters)
// The same book with a ZIP comment of its own: other bytes, so the upload is a new job (the same
// bytes would answer with the first). The generated EPUB has no comment, so its last two bytes are
// the comment's length.
let loaded = work.appendingPathComponent("loaded.epub").path
do {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: reference))
    let comment = Array("loaded".utf8)
    bytes[bytes.count - 2] = UInt8(comment.count)
    bytes[bytes.count - 1] = 0
    bytes.append(contentsOf: comment)
    try bytes.write(to: URL(fileURLWithPath: loaded))
}
let tts = FakeTTSServer(latency: .milliseconds(options.latency))
try await tts.serve { url in
    let child = try BackgroundProcess(
        options.recital,
        ["serve", "--port", "0", "--tts-url", url, "--workers", "4", "--out", work.path + "/out"],
        environment: ["RECITAL_HOME": work.path + "/home", "RECITAL_DB": ""]
    )
    try await Wait.until("the server listening") { child.stderrSoFar.contains("serving http://") }
    let line = child.stderrSoFar.split(separator: "\n").first { $0.contains("serving http://") } ?? ""
    let base = String(String(line.split(separator: " ").last ?? "").dropLast("/api/v1".count))

    let alone = try await convert(reference, base: base)
    print(String(format: "reference: a %d-character book converted alone in %.1f s", options.characters, alone.seconds))

    // The loaded run: the upload, then the clients, for the whole conversion.
    let (status, body) = try await request(
        "\(base)/api/v1/jobs?filename=loaded.epub",
        method: .POST,
        body: Array(try Data(contentsOf: URL(fileURLWithPath: loaded)))
    )
    let started = ContinuousClock.now
    guard status == 202,
        let job = ((try JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["id"] as? Int
    else {
        throw CocoaError(
            .featureUnsupported,
            userInfo: [NSLocalizedDescriptionKey: "the loaded upload was not queued anew"]
        )
    }
    let load = Load()
    let histories = try await load.run(base: base, job: job, clients: options.clients, rate: options.rate)
    let latencies = load.latencies.withLock { $0 }
    let failures = load.failures.load(ordering: .relaxed)
    let loadedSeconds = (ContinuousClock.now - started) / .seconds(1)
    let sorted = latencies.sorted()
    print(
        String(
            format: "under load: %d event clients and %d status requests/s; converted in %.1f s (%.2f× the reference)",
            options.clients,
            options.rate,
            loadedSeconds,
            loadedSeconds / alone.seconds
        )
    )
    print(
        String(
            format: "status requests: %d made, %d failed; latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
            sorted.count,
            failures,
            percentile(sorted, 0.5),
            percentile(sorted, 0.95),
            percentile(sorted, 0.99),
            sorted.last ?? 0
        )
    )
    let complete = histories.filter { $0.last?.0 == "completed" }.count
    let monotonic = histories.filter { history in zip(history, history.dropFirst()).allSatisfy { $0.1 <= $1.1 } }.count
    let counts = histories.map(\.count).sorted()
    print(
        "event clients: \(complete)/\(histories.count) saw the job through to completed, \(monotonic)/\(histories.count) with progress never going back; events per client \(counts.first ?? 0)–\(counts.last ?? 0)"
    )
    child.signal(SIGTERM)
    _ = try await child.wait(timeout: .seconds(60))
    // Lost events or failed requests are errors, not figures.
    if complete < histories.count || monotonic < histories.count || failures > 0 {
        print("FAILED: an event client lost the job's end or saw progress go back, or a status request failed")
        exit(1)
    }
}
try await client.shutdown()
