import Foundation
import RecitalTestSupport
import Testing

@Suite("recital worker, run as processes on a PostgreSQL job table")
struct WorkerCommandTests {
    @Test(
        "two workers and a convert, each with a home of its own, share one book on PostgreSQL: each segment is asked for once, status lists the workers, a worker for another server takes nothing, SIGTERM stops them with 0"
    )
    func threeProcessesOneBook() async throws {
        guard DatabaseBackend.postgresURL != nil else { return }
        let server = FakeTTSServer(latency: .milliseconds(20))
        let home = try Fixtures.temporaryDirectory().path
        let database = DatabaseBackend.postgres.location(in: home)
        let environment = ["RECITAL_HOME": home, "RECITAL_DB": database, "TERM": "dumb"]
        let book = Fixtures.path("novella.epub")
        try await server.serve { url in
            // The workers have homes of their own: the audio they share is in the table.
            let workers = try (0..<2).map { index in
                try BackgroundProcess(
                    Fixtures.executable,
                    ["worker", "--poll", "0.2", "--concurrency", "2"],
                    environment: environment.merging(["RECITAL_HOME": "\(home)/worker-\(index)"]) { $1 }
                )
            }
            let elsewhere = try BackgroundProcess(
                Fixtures.executable,
                ["worker", "--poll", "0.2", "--only-backend", "http://127.0.0.1:9"],
                environment: environment
            )
            let convert = try await ProcessResult.launch(
                Fixtures.executable,
                ["convert", book, "--tts-url", url, "--format", "mp3", "--out", home + "/out", "--concurrency", "2"],
                environment: environment
            )
            #expect(convert.status == 0, "\(convert.stderr.suffix(600))")
            let status = try await ProcessResult.launch(
                Fixtures.executable,
                ["status", "--json"],
                environment: environment
            )
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            )
            let books = try #require(object["books"] as? [[String: Any]])
            #expect(books.first?["state"] as? String == "completed")
            let segments = try #require(books.first?["segmentsTotal"] as? Int)
            // No segment was synthesized twice.
            #expect(server.requestCount == segments)
            let listed = try #require(object["workers"] as? [[String: Any]])
            #expect(listed.count >= 3)
            #expect(listed.allSatisfy { ($0["host"] as? String) == ProcessInfo.processInfo.hostName })
            for worker in workers + [elsewhere] { worker.signal(SIGTERM) }
            var worked = 0
            for worker in workers {
                let result = try await worker.wait(timeout: .seconds(60))
                #expect(result.status == 0, "\(result.stderr.suffix(400))")
                if result.stderr.contains("working on book 1") { worked += 1 }
            }
            // The book is long enough for the idle workers to join the convert.
            #expect(worked >= 1)
            let other = try await elsewhere.wait(timeout: .seconds(60))
            #expect(other.status == 0, "\(other.stderr.suffix(400))")
            #expect(!other.stderr.contains("working on"), "\(other.stderr)")
            #expect(other.stderr.contains("(books spoken by http://127.0.0.1:9)"))
        }
    }

    /// What `status --json` says of the book and of each worker process (by pid).
    struct ClusterStatus {
        var state: String?
        var holding: [Int32: Int]

        init(environment: [String: String]) async throws {
            let result = try await ProcessResult.launch(
                Fixtures.executable,
                ["status", "--json"],
                environment: environment
            )
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
            state = (object["books"] as? [[String: Any]])?.first?["state"] as? String
            holding = [:]
            for worker in object["workers"] as? [[String: Any]] ?? [] {
                if let pid = worker["pid"] as? Int { holding[Int32(pid)] = worker["holding"] as? Int ?? 0 }
            }
        }
    }

    @Test(
        "machines with no disk in common finish a book through kill -9 during synthesis and during the encode; one stopped past its lease and continued records nothing late"
    )
    func crashesAcrossMachines() async throws {
        guard DatabaseBackend.postgresURL != nil else { return }
        let server = FakeTTSServer(latency: .milliseconds(120))
        let root = try Fixtures.temporaryDirectory().path
        let database = DatabaseBackend.postgres.location(in: root)
        // Each process is a machine of its own: its own home folder, nothing shared but the table.
        @Sendable func machine(_ name: String) -> [String: String] {
            [
                "RECITAL_HOME": "\(root)/\(name)", "RECITAL_DB": database, "TERM": "dumb",
                "RECITAL_HEARTBEAT_SECONDS": "1",
            ]
        }
        @Sendable func worker(_ name: String) throws -> BackgroundProcess {
            try BackgroundProcess(
                Fixtures.executable,
                ["worker", "--poll", "0.2", "--concurrency", "1"],
                environment: machine(name)
            )
        }
        try await server.serve { url in
            let paused = try worker("a")
            let doomed = try worker("b")
            let convert = try BackgroundProcess(
                Fixtures.executable,
                [
                    "convert", Fixtures.path("novella.epub"), "--tts-url", url, "--format", "m4b,mp3", "--out",
                    root + "/out", "--concurrency", "1",
                ],
                environment: machine("c")
            )
            defer { for process in [paused, doomed, convert] { process.signal(SIGKILL) } }
            // Both workers hold a chapter: one is stopped (a suspended machine), one killed, and so is
            // the convert that queued the book.
            try await Wait.until("both workers holding a chapter", deadline: .seconds(60)) {
                let status = try await ClusterStatus(environment: machine("c"))
                guard status.holding[paused.pid, default: 0] > 0, status.holding[doomed.pid, default: 0] > 0 else {
                    return false
                }
                // Still holding once stopped (its lease lasts 30 s): it may have let go in between.
                paused.signal(SIGSTOP)
                if try await ClusterStatus(environment: machine("c")).holding[paused.pid, default: 0] > 0 {
                    return true
                }
                paused.signal(SIGCONT)
                return false
            }
            doomed.signal(SIGKILL)
            convert.signal(SIGKILL)
            #expect(try await doomed.wait().status == SIGKILL)
            #expect(try await convert.wait().status == SIGKILL)

            // Two fresh machines carry on; whichever starts the encode is killed in the middle of it.
            var survivors = [try worker("d"), try worker("e")]
            defer { for process in survivors { process.signal(SIGKILL) } }
            var encoder: BackgroundProcess?
            try await Wait.until("an encode starting", deadline: .seconds(300)) {
                encoder = survivors.first { $0.stderrSoFar.contains("encoding m4b, mp3") }
                return encoder != nil
            }
            let killed = try #require(encoder)
            killed.signal(SIGKILL)
            let killedResult = try await killed.wait()
            #expect(killedResult.status == SIGKILL)
            #expect(!killedResult.stderr.contains("finished"), "\(killedResult.stderr.suffix(400))")
            survivors.removeAll { $0 === killed }
            survivors.append(try worker("f"))

            try await Wait.until("the book finished", deadline: .seconds(300)) {
                try await ClusterStatus(environment: machine("c")).state == "completed"
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: root + "/out")
            let m4b = try #require(files.first { $0.hasSuffix(".m4b") }, "\(files)")
            #expect(files.contains { $0.hasSuffix(".mp3") })
            #expect(try MediaProbe(root + "/out/" + m4b).chapters.count == 13)

            // The stopped machine wakes long after its lease: its chapter was done by others, and what
            // it still had in flight is refused.
            paused.signal(SIGCONT)
            // It may have held a chapter, or the encode it followed synthesis with, or both.
            do {
                try await Wait.until("the woken worker told its lease was lost", deadline: .seconds(60)) {
                    paused.stderrSoFar.contains("lease was lost (another worker took it over")
                        || paused.stderrSoFar.contains("lease was lost (another worker took the encode over)")
                }
            } catch {
                Issue.record("\(error); it said: \(paused.stderrSoFar.suffix(1500))")
                throw error
            }
            for process in survivors + [paused] { process.signal(SIGTERM) }
            for process in survivors + [paused] {
                let result = try await process.wait(timeout: .seconds(60))
                #expect(result.status == 0, "\(result.stderr.suffix(400))")
            }
            #expect(try await ClusterStatus(environment: machine("c")).state == "completed")
        }
    }

    @Test(
        "machines in network namespaces of their own, each beside its own TTS server at the same loopback address, reach nothing but the database and share one book",
        .enabled(
            if: DatabaseBackend.postgresURL != nil && NetworkMachine.available,
            "needs RECITAL_POSTGRES_URL, and root with ip netns and socat"
        )
    )
    func networkNamespaces() async throws {
        let postgres = try #require(URLComponents(string: DatabaseBackend.postgresURL ?? ""))
        let port = try #require(postgres.port)
        let root = try Fixtures.temporaryDirectory().path
        let schema = DatabaseBackend.newSchema()
        let machines = try (1...2).map { try NetworkMachine(name: "recital-net-\($0)", subnet: $0) }
        defer { for machine in machines { machine.remove() } }
        for machine in machines { try await machine.relay(port: port, to: "127.0.0.1:\(port)") }
        @Sendable func environment(_ machine: NetworkMachine, host: String? = nil) -> [String: String] {
            [
                "RECITAL_HOME": "\(root)/\(machine.name)", "TERM": "dumb",
                "RECITAL_DB": "postgres://recital@\(host ?? machine.hostAddress):\(port)/recital?schema=\(schema)",
            ]
        }
        // Both servers answer at the same address, each on its own machine's loopback.
        let voice = "http://127.0.0.1:8880/v1"
        let servers = try machines.map {
            try $0.launch(Fixtures.executable, ["speech-server", "--port", "8880"], environment: environment($0))
        }
        defer { for server in servers { server.signal(SIGKILL) } }
        for server in servers {
            try await Wait.until("a speech server listening", deadline: .seconds(60)) {
                server.stderrSoFar.contains("listening on")
            }
        }
        // The host's loopback, where the database listens, is not the machine's.
        let direct = try await machines[0].launch(
            Fixtures.executable,
            ["status"],
            environment: environment(machines[0], host: "127.0.0.1")
        ).wait()
        #expect(direct.status != 0, "\(direct.stdout)")
        #expect(direct.stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:\(port): Connection refused"))

        let worker = try machines[1].launch(
            Fixtures.executable,
            ["worker", "--poll", "0.2", "--concurrency", "2", "--only-backend", voice],
            environment: environment(machines[1])
        )
        defer { worker.signal(SIGKILL) }
        let convert = try await machines[0].launch(
            Fixtures.executable,
            [
                "convert", Fixtures.path("novella.epub"), "--tts-url", voice, "--format", "mp3", "--out", root + "/out",
                "--concurrency", "1",
            ],
            environment: environment(machines[0])
        ).wait(timeout: .seconds(600))
        #expect(convert.status == 0, "\(convert.stderr.suffix(600))")

        // Seen from the host, on the database's own address: the book is done, and the worker is
        // listed under its machine's name.
        let status = try await ProcessResult.launch(
            Fixtures.executable,
            ["status", "--json"],
            environment: environment(machines[0], host: "127.0.0.1")
        )
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
            "\(status.stderr)"
        )
        #expect((object["books"] as? [[String: Any]])?.first?["state"] as? String == "completed")
        let hosts = (object["workers"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(hosts.contains(machines[1].name), "\(hosts)")
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/out")
        let mp3 = try #require(files.first { $0.hasSuffix(".mp3") }, "\(files)")
        #expect(try MediaProbe(root + "/out/" + mp3).chapters.count == 13)

        worker.signal(SIGTERM)
        let worked = try await worker.wait(timeout: .seconds(60))
        #expect(worked.status == 0, "\(worked.stderr.suffix(400))")
        // The second machine spoke part of the book through its own server.
        #expect(worked.stderr.contains("working on book 1"), "\(worked.stderr.suffix(400))")
    }
}
