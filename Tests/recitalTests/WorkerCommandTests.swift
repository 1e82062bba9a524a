import Foundation
import RecitalTestSupport
import Testing

@Suite("recital worker, run as processes on a PostgreSQL job table")
struct WorkerCommandTests {
    @Test(
        "two workers and a convert share one book on PostgreSQL: each segment is asked for once, status lists the workers, a worker for another server takes nothing, SIGTERM stops them with 0"
    )
    func threeProcessesOneBook() async throws {
        guard DatabaseBackend.postgresURL != nil else { return }
        let server = FakeTTSServer(latency: .milliseconds(20))
        let home = try Fixtures.temporaryDirectory().path
        let database = DatabaseBackend.postgres.location(in: home)
        let environment = ["RECITAL_HOME": home, "RECITAL_DB": database, "TERM": "dumb"]
        let book = Fixtures.path("novella.epub")
        try await server.serve { url in
            let workers = try (0..<2).map { _ in
                try BackgroundProcess(
                    Fixtures.executable,
                    ["worker", "--poll", "0.2", "--concurrency", "2"],
                    environment: environment
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
}
