internal import Foundation
public import RecitalModel
internal import Synchronization

#if canImport(Glibc)
    internal import Glibc
#endif

/// Local TTS servers that Recital starts itself (installed voices). One server per voice and home
/// is shared by every process using it, and stops once the last of them has gone, however it went.
/// Files in the context's folder, per voice:
///
/// - `NAME.users`: each process using the server holds a shared lock on it. The host stops the
///   server as soon as it can lock the file exclusively; the kernel drops the lock of a process
///   killed with SIGKILL, so such a process has left at once.
/// - `NAME.start`: held while a process looks for the server or starts one, so that two processes
///   never start two servers.
/// - `NAME.host`: locked by the host for as long as it runs, so that a state file left by a host
///   that died (or a reboot) is never mistaken for a running server, whatever became of its pid.
/// - `NAME.json`: the running server's port and processes, written by the host once it answers.
/// - `NAME.log`: what hosts and servers printed.
public enum ManagedServers {
    /// Where the files are kept, and the command that runs a host (`recital voices host`).
    public struct Context: Sendable, Equatable {
        public var directory: String
        public var host: [String]

        public init(directory: String, host: [String]) {
            self.directory = directory
            self.host = host
        }

        func path(_ name: String, _ suffix: String) -> String { "\(directory)/\(name).\(suffix)" }
    }

    /// What a host writes once its server answers.
    public struct State: Codable, Sendable, Equatable {
        public var hostPID: Int32
        public var serverPID: Int32
        public var port: Int

        public var url: String { "http://127.0.0.1:\(port)" }
    }

    /// The voice's running server, or a new one started for it, held until the lease is released.
    /// Waits while another process is starting it.
    /// - Throws: ``SpeechError`` when the server cannot be started (its log's last line says why);
    ///   `CancellationError` when the caller stops meanwhile.
    public static func acquire(
        _ name: String,
        _ server: VoiceProfile.ManagedServer,
        context: Context
    ) async throws -> ManagedServerLease {
        let cancelled = Mutex(false)
        return try await withTaskCancellationHandler {
            // Waiting on locks and on a model loading: a thread of its own, off the cooperative pool.
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ManagedServerLease, any Error>) in
                Thread {
                    continuation.resume(
                        with: Result {
                            try acquireWaiting(name, server, context: context) { cancelled.withLock { $0 } }
                        }
                    )
                }
                .start()
            }
        } onCancel: {
            cancelled.withLock { $0 = true }
        }
    }

    /// The voice's server if a host runs it now.
    public static func running(_ name: String, context: Context) -> State? {
        guard let data = FileManager.default.contents(atPath: context.path(name, "json")),
            let state = try? JSONDecoder().decode(State.self, from: data)
        else { return nil }
        // A file whose host is gone (killed outright, or before a reboot) is stale: its server died
        // with the host (parent-death signal), and no host holds the host lock.
        guard let host = try? LockFile(context.path(name, "host")), !host.tryLock(.shared) else { return nil }
        return state
    }

    private static func acquireWaiting(
        _ name: String,
        _ server: VoiceProfile.ManagedServer,
        context: Context,
        cancelled: () -> Bool
    ) throws -> ManagedServerLease {
        do {
            try FileManager.default.createDirectory(atPath: context.directory, withIntermediateDirectories: true)
        } catch {
            throw SpeechError(.permanent, "\(context.directory): cannot be created (\(error.localizedDescription))")
        }
        let starting = try LockFile(context.path(name, "start"))
        try starting.lock(.exclusive, cancelled: cancelled)
        let users = try LockFile(context.path(name, "users"))
        // Taken before a host is started, so the new host never sees the server unused.
        try users.lock(.shared, cancelled: cancelled)
        if let state = running(name, context: context) {
            return ManagedServerLease(state: state, users: users)
        }
        let log = context.path(name, "log")
        let host = Process()
        host.executableURL = URL(fileURLWithPath: context.host[0])
        host.arguments =
            Array(context.host.dropFirst()) + [
                "--name", name, "--directory", context.directory, "--server",
                String(decoding: try encoded(server), as: UTF8.self),
            ]
        do {
            if !FileManager.default.fileExists(atPath: log) {
                FileManager.default.createFile(atPath: log, contents: nil)
            }
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            defer { try? output.close() }
            try output.seekToEnd()
            host.standardOutput = output
            host.standardError = output
            host.standardInput = FileHandle.nullDevice
            try host.run()
        } catch {
            throw SpeechError(
                .permanent,
                "voice '\(name)': its server cannot be started (\(error.localizedDescription))"
            )
        }
        let patience = (server.startupSeconds ?? 120) + 5
        let deadline = Date().addingTimeInterval(patience)
        while true {
            if let state = running(name, context: context), state.hostPID == host.processIdentifier {
                return ManagedServerLease(state: state, users: users)
            }
            // Every failure to start is worth another try later: a model slow to load, a port taken.
            if !host.isRunning {
                throw SpeechError(
                    .transient,
                    "voice '\(name)' did not start: \(lastLine(of: log)) (log: \(log))"
                )
            }
            if cancelled() || Date() > deadline {
                // The host is waited for, so that no one behind this process finds a server stopping.
                kill(host.processIdentifier, SIGTERM)
                for _ in 0..<100 where host.isRunning { usleep(100_000) }
                if cancelled() { throw CancellationError() }
                throw SpeechError(
                    .transient,
                    "voice '\(name)': its server did not answer within \(Int(patience)) s (log: \(log))"
                )
            }
            usleep(100_000)
        }
    }

    static func encoded(_ server: VoiceProfile.ManagedServer) throws -> Data {
        do {
            return try JSONEncoder().encode(server)
        } catch {
            throw SpeechError(.permanent, "the managed server's settings cannot be written (\(error))")
        }
    }

    /// What the host said of the failure, with the server's own last line before it (a traceback's
    /// last line names the error).
    static func lastLine(of path: String) -> String {
        // An unreadable log is said as such in the message that names it.
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let isHost = { (line: String) in line.contains(" [host ") }
        guard let hostLine = lines.lastIndex(where: isHost) else { return lines.last ?? "it printed nothing" }
        let said = lines[hostLine].components(separatedBy: "]: ").dropFirst().joined(separator: "]: ")
        guard let server = lines[..<hostLine].last(where: { !isHost($0) }) else { return said }
        return "\(said): \(server)"
    }
}

extension ManagedServers {
    /// Holds off every process from starting the voice's server (while its files are removed).
    public final class StartLock: Sendable {
        private let file: LockFile

        public init(_ name: String, context: Context) throws {
            try FileManager.default.createDirectory(atPath: context.directory, withIntermediateDirectories: true)
            file = try LockFile(context.path(name, "start"))
            try file.lock(.exclusive) { false }
        }
    }
}

/// A process's hold on a managed server: the server runs at least until this is released
/// (deinitialized), or the process ends.
public final class ManagedServerLease: Sendable {
    public let state: ManagedServers.State
    private let users: LockFile

    init(state: ManagedServers.State, users: LockFile) {
        self.state = state
        self.users = users
    }

    public var url: String { state.url }
}

/// An open file to hold an advisory lock (`flock`) on; closing it, or the process ending, drops it.
final class LockFile: Sendable {
    enum Mode { case shared, exclusive }

    let path: String
    private let descriptor: Int32

    init(_ path: String) throws {
        self.path = path
        // Close-on-exec: a child started meanwhile must not inherit, and so keep, the lock.
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SpeechError(.permanent, "\(path): cannot be opened (\(String(cString: strerror(errno))))")
        }
    }

    deinit { close(descriptor) }

    /// Waits for the lock, looking every 50 ms whether the caller has given up.
    func lock(_ mode: Mode, cancelled: () -> Bool) throws {
        while flock(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw SpeechError(.permanent, "\(path): cannot be locked (\(String(cString: strerror(errno))))")
            }
            if cancelled() { throw CancellationError() }
            usleep(50_000)
        }
    }

    /// Takes the lock if no one else holds it.
    func tryLock(_ mode: Mode) -> Bool {
        flock(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0
    }
}
