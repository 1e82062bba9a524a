import Foundation
import RecitalTestSupport

/// A machine of its own on this host, for cluster tests: a network namespace with its own loopback,
/// one link (a veth pair) to the host and, for the processes it runs, a host name of its own. It
/// reaches the host only through the ports the test relays to it. Needs root, `ip netns` and socat.
final class NetworkMachine: @unchecked Sendable {
    let name: String
    /// The host's end of the link: what the machine dials to reach a relayed port.
    let hostAddress: String
    private let hostLink: String
    private var relays: [BackgroundProcess] = []

    /// Whether this sandbox lets the tests make namespaces (root, iproute2, socat).
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/socat") else { return false }
        let probe = "recital-probe-\(getpid())"
        guard (try? ip(["netns", "add", probe]).status) == 0 else { return false }
        _ = try? ip(["netns", "del", probe])
        return true
    }()

    /// `subnet` (1–250) keeps the links of a test's machines apart: 10.213.`subnet`.0/30.
    init(name: String, subnet: Int) throws {
        self.name = name
        hostAddress = "10.213.\(subnet).1"
        hostLink = "rcl\(subnet)h"
        let machineLink = "rcl\(subnet)m"
        // A run killed before it cleaned up leaves its namespace and link behind: start afresh.
        _ = try Self.ip(["netns", "del", name])
        _ = try Self.ip(["link", "del", hostLink])
        for command in [
            ["netns", "add", name],
            ["link", "add", hostLink, "type", "veth", "peer", "name", machineLink, "netns", name],
            ["addr", "add", hostAddress + "/30", "dev", hostLink],
            ["link", "set", hostLink, "up"],
            ["-n", name, "addr", "add", "10.213.\(subnet).2/30", "dev", machineLink],
            ["-n", name, "link", "set", machineLink, "up"],
            ["-n", name, "link", "set", "lo", "up"],
        ] {
            let result = try Self.ip(command)
            guard result.status == 0 else {
                remove()
                throw Failure(description: "ip \(command.joined(separator: " ")): \(result.stderr)")
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Lets the machine reach `target` (host:port on this host) at `hostAddress:port`.
    func relay(port: Int, to target: String) async throws {
        let relay = try BackgroundProcess(
            "/usr/bin/socat",
            ["TCP-LISTEN:\(port),bind=\(hostAddress),reuseaddr,fork", "TCP:\(target)"]
        )
        relays.append(relay)
        try await Wait.until("socat listening on \(hostAddress):\(port)", deadline: .seconds(30)) {
            guard relay.process.isRunning else { throw Failure(description: "socat: \(relay.stderrSoFar)") }
            return (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8))?.contains(
                Self.procNetAddress(hostAddress, port)
            ) ?? false
        }
    }

    /// Starts `executable` inside the machine, under the machine's host name.
    func launch(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]
    ) throws
        -> BackgroundProcess
    {
        // ip and unshare exec the command in place, so the process signalled is the command itself.
        try BackgroundProcess(
            "/usr/sbin/ip",
            ["netns", "exec", name, "unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", name, executable]
                + arguments,
            environment: environment
        )
    }

    func remove() {
        for relay in relays { relay.signal(SIGKILL) }
        relays = []
        _ = try? Self.ip(["netns", "del", name])
        _ = try? Self.ip(["link", "del", hostLink])
    }

    deinit { remove() }

    private static func ip(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run("/usr/sbin/ip", arguments)
    }

    /// How /proc/net/tcp writes a listening socket's local address: `0B01D50A:D800`.
    private static func procNetAddress(_ address: String, _ port: Int) -> String {
        let octets = address.split(separator: ".").compactMap { UInt8($0) }
        let hex = octets.reversed().map { String(format: "%02X", $0) }.joined()
        return hex + ":" + String(format: "%04X", port)
    }
}
