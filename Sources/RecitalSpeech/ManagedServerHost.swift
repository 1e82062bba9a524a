internal import Foundation
public import RecitalModel

#if canImport(Glibc)
    internal import Glibc
#endif

/// The process that runs one managed server (`recital voices host`, started by
/// ``ManagedServers/acquire(_:_:context:)``): it starts the server on a free loopback port, writes
/// the state file once the server answers, and stops the server when no process uses it any more,
/// on SIGTERM, or when the server dies. Its output is the voice's log.
public enum ManagedServerHost {
    /// Runs until the server is stopped; returns the exit status.
    public static func run(name: String, context: ManagedServers.Context, server: VoiceProfile.ManagedServer) -> Int32 {
        // Out of the terminal's foreground process group, so that Ctrl-C in the terminal of the process
        // that started it does not stop a server other processes share. Foundation already starts it
        // as a process group leader, which is enough (setsid then fails, harmlessly).
        _ = setsid()
        // Nothing of the starting process's (its sockets, its database) reaches the server.
        closeInheritedDescriptors()
        // Servers look for data in their working folder (Piper lists every model there): not wherever
        // the user happened to start Recital.
        _ = chdir(context.directory)
        // The signals that stop it are waited for, not handled.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, signal) }
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

        let statePath = context.path(name, "json")
        let hostLock: LockFile
        let users: LockFile
        do {
            hostLock = try LockFile(context.path(name, "host"))
            try hostLock.lock(.exclusive) { false }
            users = try LockFile(context.path(name, "users"))
        } catch {
            say(name, "\(error)")
            return 1
        }
        defer { withExtendedLifetime(hostLock) {} }
        let deadline = Date().addingTimeInterval(server.startupSeconds ?? 120)
        var attempt = 0
        var port = 0
        var child: pid_t = 0
        var ready = false
        while true {
            if child == 0 {
                attempt += 1
                do {
                    port = try freePort()
                    // The server dies with its host, even a host killed with SIGKILL.
                    child = try spawn(["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] + server.command(port: port))
                } catch {
                    say(name, "cannot start its server: \(error)")
                    return 1
                }
                say(name, "started \(server.command.first ?? "") as process \(child) on port \(port)")
            }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                say(name, "the server \(describe(status))\(ready ? "" : " before it answered")")
                removeState(statePath)
                // Another process may have taken the port between choosing it and the server binding it.
                guard !ready, attempt < 3, Date() < deadline else { return 1 }
                child = 0
                continue
            }
            if !ready {
                if httpStatus(port: port, path: server.readyPath) == 200 {
                    ready = true
                    let state = ManagedServers.State(hostPID: getpid(), serverPID: child, port: port)
                    do {
                        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: statePath), options: .atomic)
                    } catch {
                        say(name, "cannot write \(statePath): \(error.localizedDescription)")
                        return stop(name, child, statePath: statePath)
                    }
                    say(name, "answers on port \(port)")
                } else if Date() > deadline {
                    say(name, "its server did not answer \(server.readyPath) in time")
                    return stop(name, child, statePath: statePath)
                }
            } else if users.tryLock(.exclusive) {
                // No process holds it any more. The lock is kept until the server is gone, so a process
                // arriving now waits and then starts a new one.
                say(name, "no process uses it any more")
                return stop(name, child, statePath: statePath)
            }
            usleep(200_000)
            var pending = sigset_t()
            sigpending(&pending)
            if let signal = [SIGTERM, SIGINT, SIGHUP].first(where: { sigismember(&pending, $0) == 1 }) {
                say(name, "stopping on signal \(signal)")
                return stop(name, child, statePath: statePath)
            }
        }
    }

    /// A wait status in words: "exited with status 1", "was killed by signal 9".
    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(signal)"
    }

    /// Marks every descriptor above standard error close-on-exec.
    private static func closeInheritedDescriptors() {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for case let descriptor? in descriptors.map({ Int32($0) }) where descriptor > 2 {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 5 s), after removing the state file
    /// so that no process connects meanwhile.
    private static func stop(_ name: String, _ child: pid_t, statePath: String) -> Int32 {
        removeState(statePath)
        kill(child, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(child, &status, WNOHANG) == child {
                say(name, "server stopped")
                return 0
            }
            usleep(100_000)
        }
        kill(child, SIGKILL)
        waitpid(child, &status, 0)
        say(name, "server killed after 5 s")
        return 0
    }

    private static func removeState(_ path: String) {
        // Nothing to remove when the server never answered.
        if unlink(path) != 0, errno != ENOENT { say("host", "\(path): cannot be removed") }
    }

    private static func say(_ name: String, _ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(stamp) \(name) [host \(getpid())]: \(line)\n".utf8))
    }

    /// Starts `arguments` with default signal handling and an empty signal mask (the host's blocked
    /// stop signals must not be inherited), sharing the host's output.
    private static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], nil, &attributes, argv, environ)
        guard result == 0 else {
            throw SpeechError(.permanent, "\(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// A loopback port no one listens on now.
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SpeechError(.permanent, "no socket: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw SpeechError(.permanent, "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// The status of `GET path` on the loopback port, or nil when nothing answers within 2 s.
    static func httpStatus(port: Int, path: String) -> Int? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: UInt16(port))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(socket, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count >= 12 else { return nil }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count > 1 ? Int(parts[1]) : nil
    }
}
