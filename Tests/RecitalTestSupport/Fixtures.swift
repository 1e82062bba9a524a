public import Foundation

/// Paths to the repository's fixtures and the shared corpus, found from this file's location so
/// tests work from any working directory.
public enum Fixtures {
    /// The repository root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file under `fixtures/`.
    public static func path(_ name: String) -> String {
        root.appendingPathComponent("fixtures").appendingPathComponent(name).path
    }

    /// The shared corpus of real books (`../shared/corpus` beside the repository).
    public static let corpus: URL = root.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    /// Whether the shared corpus is beside the repository and holds `name` (a clean clone elsewhere
    /// has none: its tests are then skipped, with the reason).
    public static func corpusHas(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: corpus.appendingPathComponent(name).path)
    }

    /// Names of the corpus books that have ground truth, sorted.
    public static func corpusBooks() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return names.filter { $0.hasSuffix(".expected.json") }.map { String($0.dropLast(".expected.json".count)) }
            .sorted()
    }

    /// The built `recital` executable, beside the test bundle.
    public static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("recital").path
    }

    /// A fresh temporary directory, under this test process's own root, which is removed when the
    /// process exits (a run killed before that is cleaned up by the next one).
    public static func temporaryDirectory() throws -> URL {
        let url = temporaryRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static let rootPrefix = "recital-tests-"

    private static let temporaryRoot: URL = {
        let files = FileManager.default
        let base = files.temporaryDirectory
        for name in (try? files.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(rootPrefix) {
            if let pid = Int32(name.dropFirst(rootPrefix.count)), kill(pid, 0) != 0, errno == ESRCH {
                try? files.removeItem(at: base.appendingPathComponent(name))
            }
        }
        atexit {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(rootPrefix + String(getpid()))
            try? FileManager.default.removeItem(at: root)
        }
        return base.appendingPathComponent(rootPrefix + String(getpid()))
    }()
}

/// Text comparison helpers shared by tests.
public enum TextCompare {
    /// Whitespace collapsed and invisible characters removed, as ground truth is compared.
    public static func normalize(_ text: String) -> String {
        let invisible: Set<UInt32> = [0x00AD, 0x200B, 0x2060, 0xFEFF]
        let filtered = String(String.UnicodeScalarView(text.unicodeScalars.filter { !invisible.contains($0.value) }))
        return filtered.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            .precomposedStringWithCanonicalMapping
    }

    /// The multiset of whitespace-separated words.
    public static func words(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for word in text.split(whereSeparator: { $0.isWhitespace }) { counts[String(word), default: 0] += 1 }
        return counts
    }
}

/// Runs a process to completion and captures its output.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> ProcessResult {
        // Output goes to files, not pipes: a child that fills one pipe while we drain the other
        // would wait for us forever.
        let child = try BackgroundProcess(executable, arguments, environment: environment)
        child.process.waitUntilExit()
        return child.result()
    }
}

extension ProcessResult {
    /// Runs a process to completion without holding a thread while it runs: a child that talks to a
    /// server in this test process must never wait for a thread that is waiting for the child.
    public static func launch(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> ProcessResult {
        try await BackgroundProcess(executable, arguments, environment: environment).wait()
    }

    /// Runs the `recital` binary with `home` as its home and its own SQLite table (a `--db` in
    /// `arguments` says otherwise).
    public static func recital(_ arguments: [String], home: String) async throws -> ProcessResult {
        try await launch(
            Fixtures.executable,
            arguments,
            environment: ["RECITAL_HOME": home, "RECITAL_DB": "", "TERM": "dumb"]
        )
    }
}

/// A child process started in the background, whose output is collected in files (so pipes can
/// never fill up and block it).
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    private let outURL: URL
    private let errURL: URL
    /// Where the child's stderr is collected, readable while it runs.
    public var stderrURL: URL { errURL }
    /// Where the child's stdout is collected, readable while it runs.
    public var stdoutURL: URL { outURL }

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = try Fixtures.temporaryDirectory()
        outURL = directory.appendingPathComponent("stdout")
        errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end (polling, so the caller's task stays cancellable) and returns its result.
    public func wait(timeout: Duration = .seconds(300)) async throws -> ProcessResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                let name = ([process.executableURL?.lastPathComponent ?? ""] + (process.arguments ?? []))
                    .joined(separator: " ")
                throw Wait.TimedOut(
                    description:
                        "`\(name)` (pid \(pid)) did not end within \(timeout); its stderr ends: \(stderrSoFar.suffix(1500))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return result()
    }

    /// The exit status and collected output of a process that has ended.
    public func result() -> ProcessResult {
        ProcessResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        )
    }
}

/// Waiting for something a test can observe, instead of sleeping for a guessed time.
public enum Wait {
    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks `condition` every few milliseconds until it holds; throws ``TimedOut`` naming `what`
    /// once `deadline` has passed.
    public static func until(
        _ what: String,
        deadline: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws {
        let end = ContinuousClock.now + deadline
        while try await !condition() {
            guard ContinuousClock.now < end else {
                throw TimedOut(description: "\(what) did not happen within \(deadline)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// ``until(_:deadline:_:)`` on the calling thread, for code on a blocking thread of its own
    /// (inside a database transaction).
    public static func untilNow(
        _ what: String,
        deadline: Duration = .seconds(60),
        _ condition: () throws -> Bool
    ) throws {
        let end = ContinuousClock.now + deadline
        while try !condition() {
            guard ContinuousClock.now < end else {
                throw TimedOut(description: "\(what) did not happen within \(deadline)")
            }
            usleep(10_000)
        }
    }
}

extension BackgroundProcess {
    /// The child's stderr so far.
    public var stderrSoFar: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    /// The child's stdout so far.
    public var stdoutSoFar: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
}
