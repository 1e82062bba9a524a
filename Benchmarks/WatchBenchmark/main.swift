// Benchmark: `recital watch` (the release binary, `--workers 0`, so it only detects and queues).
// 1. Latency: the time from a book's last write (close) to its row in the job table saying queued,
//    for books written in place and books renamed into place, against the settle window they must
//    wait by design (the ratio shows what the watcher adds).
// 2. Idle CPU over a tree of 10,000 files in 100 folders: the watcher's CPU time while nothing
//    happens, with inotify and with `--poll always`, as a percentage of one core.
// Usage: watch-benchmark RECITAL_BINARY [--books N] [--idle SECONDS]
import Foundation
import GRDB

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: watch-benchmark RECITAL [--books N] [--idle SECONDS]\n".utf8))
    exit(64)
}
let binary = arguments[1]
func option(_ name: String, _ fallback: Double) -> Double {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Double(arguments[index + 1]) ?? fallback
}
let books = Int(option("--books", 20))
let idleSeconds = option("--idle", 60)
let settle = 2.0
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let sampleBook = try Data(contentsOf: repository.appendingPathComponent("fixtures/novella.epub"))

func now() -> Double { Date().timeIntervalSince1970 }

/// The sample book with a ZIP comment of its own: other bytes, the same book to a reader. (The
/// fixture has no comment, so its last two bytes are the comment's length.)
func unique(_ tag: String) -> Data {
    var bytes = sampleBook
    let comment = Array(tag.utf8)
    bytes[bytes.count - 2] = UInt8(comment.count & 0xFF)
    bytes[bytes.count - 1] = UInt8(comment.count >> 8)
    bytes.append(contentsOf: comment)
    return bytes
}

/// CPU seconds (user + system) a process has used, from /proc.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // Fields 14 and 15 (utime, stime) counted from 1, in clock ticks; 2 fields precede this slice.
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct Watcher {
    let process = Process()
    let root: URL
    var database: String { root.appendingPathComponent("home/recital.sqlite").path }
    var inbox: URL { root.appendingPathComponent("inbox") }

    init(root: URL, extra: [String]) throws {
        self.root = root
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            ["watch", inbox.path, "--out", root.appendingPathComponent("out").path, "--workers", "0"] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["RECITAL_HOME"] = root.appendingPathComponent("home").path
        environment["RECITAL_DB"] = ""
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    /// When each file's row last changed, for rows in these states.
    func updated(states: [String]) throws -> [String: Double] {
        guard FileManager.default.fileExists(atPath: database) else { return [:] }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        return try queue.read { db in
            guard try db.tableExists("watch_inboxes") else { return [:] }
            let list = states.map { "'\($0)'" }.joined(separator: ",")
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT relative_path, updated_at FROM watched_files WHERE state IN (\(list))"
            )
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["relative_path"], $0["updated_at"]) })
        }
    }

    func waitFor(_ count: Int, states: [String], timeout: Double = 600) throws -> [String: Double] {
        let end = now() + timeout
        while now() < end {
            let rows = try updated(states: states)
            if rows.count >= count { return rows }
            usleep(50_000)
        }
        throw NSError(domain: "watch-benchmark", code: 1, userInfo: [NSLocalizedDescriptionKey: "timed out"])
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

func temporary() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recital-watch-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url.appendingPathComponent("inbox"), withIntermediateDirectories: true)
    return url
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

// MARK: - 1. Latency

do {
    let root = try temporary()
    defer { try? FileManager.default.removeItem(at: root) }
    let watcher = try Watcher(root: root, extra: ["--settle", String(settle)])
    defer { watcher.stop() }
    _ = try watcher.waitFor(0, states: [])
    usleep(500_000)
    var written: [String: Double] = [:]
    var renamed: [String: Double] = [:]
    for index in 0..<books {
        // Each book's bytes differ, so none is a duplicate.
        let bytes = unique("written \(index)")
        let name = "written-\(index).epub"
        try bytes.write(to: watcher.inbox.appendingPathComponent(name))
        written[name] = now()
        let temporaryName = ".incoming-\(index).epub.part"
        try unique("renamed \(index)").write(to: watcher.inbox.appendingPathComponent(temporaryName))
        try FileManager.default.moveItem(
            at: watcher.inbox.appendingPathComponent(temporaryName),
            to: watcher.inbox.appendingPathComponent("renamed-\(index).epub")
        )
        renamed["renamed-\(index).epub"] = now()
        usleep(200_000)
    }
    let queued = try watcher.waitFor(books * 2, states: ["queued", "duplicate", "failed"])
    let writtenLatency = written.compactMap { name, time in queued[name].map { $0 - time } }
    let renamedLatency = renamed.compactMap { name, time in queued[name].map { $0 - time } }
    print("latency from last write to queued (\(books) books each way):")
    print(
        String(
            format: "  written in place:    median %.2f s, max %.2f s, against a %.1f s settle window: ratio %.2f",
            median(writtenLatency),
            writtenLatency.max() ?? 0,
            settle,
            median(writtenLatency) / settle
        )
    )
    print(
        String(
            format: "  renamed into place:  median %.2f s, max %.2f s, against the 3 s rename window: ratio %.2f",
            median(renamedLatency),
            renamedLatency.max() ?? 0,
            median(renamedLatency) / 3
        )
    )
}

// MARK: - 2. Idle CPU over 10,000 files

func idleCPU(extra: [String], label: String) throws -> Double {
    let root = try temporary()
    defer { try? FileManager.default.removeItem(at: root) }
    let inbox = root.appendingPathComponent("inbox")
    // 100 folders of 100 files: 99 pictures and notes, and one book (the same bytes everywhere, so
    // the first scan queues one book and records 99 duplicates).
    for folder in 0..<100 {
        let url = inbox.appendingPathComponent("shelf-\(folder)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for file in 0..<99 {
            try Data(repeating: UInt8(file), count: 512).write(to: url.appendingPathComponent("page-\(file).jpg"))
        }
        try sampleBook.write(to: url.appendingPathComponent("book.epub"))
    }
    let watcher = try Watcher(root: root, extra: ["--settle", "1"] + extra)
    defer { watcher.stop() }
    _ = try watcher.waitFor(100, states: ["queued", "duplicate"])
    sleep(2)
    let start = cpuSeconds(watcher.process.processIdentifier)
    let began = now()
    usleep(UInt32(idleSeconds * 1_000_000))
    let used = cpuSeconds(watcher.process.processIdentifier) - start
    let percent = used / (now() - began) * 100
    print(String(format: "  %@: %.3f CPU s in %.0f s idle = %.2f %% of one core", label, used, now() - began, percent))
    return percent
}

print("idle CPU over a tree of 10,000 files in 100 folders:")
let inotify = try idleCPU(extra: [], label: "inotify             ")
let polling = try idleCPU(extra: ["--poll", "always", "--poll-interval", "30"], label: "--poll always (30 s)")
print(String(format: "  polling costs %.1f× inotify's idle CPU", polling / max(inotify, 0.001)))
