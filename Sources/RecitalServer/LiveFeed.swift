internal import Foundation
internal import RecitalModel
internal import RecitalPipeline

/// One event of the live stream: a job as it is now, or a job that is gone.
struct FeedEvent: Sendable, Equatable {
    enum Kind: String, Sendable { case job, removed, keepalive }
    /// Milliseconds of the poll that saw it; a client reconnecting with it as `Last-Event-ID` gets
    /// every job changed since.
    var id: String
    var kind: Kind
    var book: Int64
    var data: String
    /// The job reached a final state (completed, failed, cancelled): a one-job stream ends.
    var final = false

    var wire: String {
        kind == .keepalive ? ": keepalive\n\n" : "id: \(id)\nevent: \(kind.rawValue)\ndata: \(data)\n\n"
    }
}

/// Watches the job table for every connected client at once: one poll every half second while
/// anyone listens (so a job's progress is sent at most twice a second), each changed job rendered
/// once and fanned out through a bounded buffer per client (a client that does not keep up loses
/// the oldest updates of a job, never the newest).
actor LiveFeed {
    let pipeline: Pipeline
    private var subscribers: [UUID: (book: Int64?, continuation: AsyncStream<FeedEvent>.Continuation)] = [:]
    private var sent: [Int64: String] = [:]
    private var cursor = Date().timeIntervalSince1970
    private var poller: Task<Void, Never>?
    static let interval: Duration = .milliseconds(500)

    init(pipeline: Pipeline) { self.pipeline = pipeline }

    /// A stream of changes for one job or all; with `since` (a `Last-Event-ID`), first every job
    /// changed after it, as it is now.
    func subscribe(book: Int64?, since: Double?) async throws -> (UUID, AsyncStream<FeedEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: FeedEvent.self, bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        if let since {
            let (changed, all) = try await pipeline.changes(since: since)
            let statuses = try await pipeline.status()
            let stamp = Self.stamp(Date().timeIntervalSince1970)
            for event in try await render(
                changed.filter { book == nil || $0 == book },
                statuses: statuses,
                stamp: stamp
            ) {
                continuation.yield(event)
            }
            if let book, !all.contains(book) {
                continuation.yield(FeedEvent(id: stamp, kind: .removed, book: book, data: #"{"id":\#(book)}"#))
            }
        }
        subscribers[id] = (book, continuation)
        if poller == nil {
            cursor = Date().timeIntervalSince1970
            poller = Task { await self.poll() }
        }
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        subscribers[id]?.continuation.finish()
        subscribers[id] = nil
    }

    private func poll() async {
        var polls = 0
        while !subscribers.isEmpty, !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.interval)
                polls += 1
                // A comment every 15 s keeps proxies from closing a quiet stream and finds clients
                // that have gone.
                if polls % 30 == 0 {
                    let keepalive = FeedEvent(id: "", kind: .keepalive, book: 0, data: "")
                    for subscriber in subscribers.values { subscriber.continuation.yield(keepalive) }
                }
                try await step()
            } catch is CancellationError {
                break
            } catch {
                // The job table did not answer this time; the next poll asks again from the same
                // cursor, so nothing is lost.
                continue
            }
        }
        poller = nil
    }

    private func step() async throws {
        let time = Date().timeIntervalSince1970
        // A write stamped just before the last poll may have committed just after it: look back.
        let (changed, all) = try await pipeline.changes(since: cursor - 2)
        cursor = time
        let removed = Set(sent.keys).subtracting(all)
        let fresh = changed.intersection(all)
        guard !fresh.isEmpty || !removed.isEmpty else { return }
        let stamp = Self.stamp(time)
        var events: [FeedEvent] = []
        if !fresh.isEmpty {
            events = try await render(fresh, statuses: try await pipeline.status(), stamp: stamp)
                .filter { sent[$0.book] != $0.data }
        }
        for event in events { sent[event.book] = event.data }
        for book in removed.sorted() {
            sent[book] = nil
            events.append(FeedEvent(id: stamp, kind: .removed, book: book, data: #"{"id":\#(book)}"#))
        }
        for event in events {
            for subscriber in subscribers.values where subscriber.book == nil || subscriber.book == event.book {
                subscriber.continuation.yield(event)
            }
        }
    }

    private func render(_ books: Set<Int64>, statuses: [BookStatus], stamp: String) async throws -> [FeedEvent] {
        let positions = JobJSON.queuePositions(statuses)
        var events: [FeedEvent] = []
        for status in statuses where books.contains(status.id) {
            let formats = try await APIRoutes.formats(of: status.id, in: pipeline)
            let job = JobJSON(status, queuePosition: positions[status.id], formats: formats)
            let data = String(decoding: try JSONReply.encode(job), as: UTF8.self)
            let final = [.completed, .failed, .cancelled].contains(status.state)
            events.append(FeedEvent(id: stamp, kind: .job, book: status.id, data: data, final: final))
        }
        return events
    }

    static func stamp(_ time: Double) -> String { String(Int64(time * 1000)) }
}
