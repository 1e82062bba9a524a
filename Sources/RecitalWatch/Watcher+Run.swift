internal import Foundation
internal import RecitalModel
public import RecitalPipeline
internal import Synchronization

/// The loops of `recital watch`: detection (events, timers, leases), workers (the books of queued
/// files, in rounds), and delivery (finished books marked delivered, failed ones reported).
extension Watcher {
    /// How a `--once` pass ended.
    public enum Ending: Sendable, Equatable {
        /// Every file is delivered or a duplicate (or still arriving, left for the next pass).
        case done
        /// Some file failed or is held; ``problems`` says which.
        case problems
        /// A run stopped for transient trouble (the server down); the books stay queued.
        case stalled(String)
        /// Stopped by cancellation (a signal); held work was given back.
        case stopped
    }

    /// Runs until the calling task is cancelled, or with `--once` until what was there is done.
    public func run() async throws -> Ending {
        try await claimInboxes()
        let source = events
        let pump = AsyncStream<[FolderEvent]> { continuation in
            guard let source else { return continuation.finish() }
            // The kernel's events are read on a thread of their own; it looks at the stop flag
            // between waits, and a quiet wait costs nothing.
            let stopped = Atomic<Bool>(false)
            let thread = Thread {
                while !stopped.load(ordering: .relaxed) {
                    let batch = source.next(timeout: 0.25)
                    if case .terminated = continuation.yield(batch) { return }
                }
            }
            continuation.onTermination = { _ in stopped.store(true, ordering: .relaxed) }
            thread.start()
        }
        let ending: Ending
        do {
            ending = try await withThrowingTaskGroup(of: Ending?.self) { group in
                group.addTask { try await self.detect(pump) }
                group.addTask { try await self.work() }
                var ending: Ending = .done
                for try await result in group {
                    if let result, result != .done { ending = result }
                }
                return ending
            }
        } catch {
            // Stopped by a signal (a sleep or a read cancelled) or failed: the inboxes are given
            // back either way, so another watcher takes them at once.
            try await Task { try await self.releaseInboxes() }.value
            if Task.isCancelled { return .stopped }
            throw error
        }
        try await Task { try await self.releaseInboxes() }.value
        if Task.isCancelled { return .stopped }
        return ending == .done && !problems.isEmpty ? .problems : ending
    }

    /// Detection: events as they come, and timers (settling, polling, rescans, the lease).
    private func detect(_ pump: AsyncStream<[FolderEvent]>) async throws -> Ending? {
        if options.once {
            // Scan, wait for what is there to settle, queue it.
            while !settled, !Task.isCancelled {
                let next = try await tick() ?? now()
                try await Task.sleep(for: .milliseconds(Int64(max(0.05, min(1, next - now())) * 1000)))
            }
            onceDetected = true
            return nil
        }
        var iterator = pump.makeAsyncIterator()
        while !Task.isCancelled {
            let batch: [FolderEvent]?
            if events == nil {
                try await Task.sleep(for: .milliseconds(250))
                batch = []
            } else {
                batch = await iterator.next()
            }
            guard let batch else { break }
            if !batch.isEmpty { try await handle(batch) }
            try await tick()
            if now() - lastLease >= Self.leaseRenewal { try await claimInboxes() }
        }
        return nil
    }

    /// Workers: runs the books of queued files (any watcher's) in rounds, and marks what finished.
    private func work() async throws -> Ending? {
        var lastLook = -Double.infinity
        while !Task.isCancelled {
            let due = takeQueuedSignal() || now() - lastLook >= 5 || (options.once && onceDetected)
            guard due else {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            lastLook = now()
            try await deliver()
            let books = options.converts ? try await runnable() : []
            if books.isEmpty {
                if options.once && onceDetected { return .done }
                if options.once { try await Task.sleep(for: .milliseconds(250)) }
                continue
            }
            log(
                "converting \(books.count) book\(books.count == 1 ? "" : "s"): \(books.map(String.init).joined(separator: ", "))"
            )
            switch try await pipeline.run(books: books, options: options.run) {
            case .finished:
                try await deliver()
            case .interrupted:
                return .stopped
            case .stalled(let reason):
                log(
                    "stopped converting: \(reason); the books stay queued and are tried again in \(Int(options.retryAfterStall)) s"
                )
                if options.once { return .stalled(reason) }
                try await Task.sleep(for: .milliseconds(Int64(options.retryAfterStall * 1000)))
            }
        }
        return .stopped
    }

    /// How often the scanning leases are renewed (they last 30 s).
    static let leaseRenewal: Double = 10

    private func takeQueuedSignal() -> Bool {
        defer { queuedSinceLastLook = false }
        return queuedSinceLastLook
    }

    /// Books of queued files that have work left and may run (not paused, failed or cancelled).
    func runnable() async throws -> [Int64] {
        let queued = try await pipeline.watchedBooksQueued()
        guard !queued.isEmpty else { return [] }
        let states = Dictionary(uniqueKeysWithValues: try await pipeline.status().map { ($0.id, $0.state) })
        return queued.filter { states[$0] == .queued || states[$0] == .running }
    }

    /// Marks files whose books are finished: delivered when every file is verified in its folder,
    /// failed with a report otherwise; a failed book retried by the user is queued again. Only the
    /// scanner of an inbox writes its rows.
    public func deliver() async throws {
        let scanned = Set(inboxes.values.filter(\.scanning).map(\.path))
        let open = try await pipeline.watchedFiles(states: [.queued, .failed]).filter {
            scanned.contains($0.inbox) && $0.book != nil
        }
        guard !open.isEmpty else { return }
        let statuses = Dictionary(uniqueKeysWithValues: try await pipeline.status().map { ($0.id, $0) })
        for var file in open {
            guard let book = file.book else { continue }
            guard let status = statuses[book] else {
                if file.state == .queued {
                    try await failDelivery(
                        &file,
                        reason: "its book \(book) was deleted from the job table",
                        retry: "touch the file to queue it again"
                    )
                }
                continue
            }
            switch (file.state, status.state) {
            case (.queued, .completed):
                let problems = try await pipeline.unverifiedFiles(book)
                if problems.isEmpty {
                    file.state = .delivered
                    try await pipeline.recordWatched(file)
                    try FailureReport.remove(output: options.output, relativePath: file.relativePath)
                    log("\(file.relativePath): delivered: \(status.outputs.joined(separator: ", "))")
                } else {
                    try await failDelivery(
                        &file,
                        reason: problems.joined(separator: "; "),
                        retry: "recital encode \(book)"
                    )
                }
            case (.queued, .failed):
                try await failDelivery(
                    &file,
                    reason: status.error ?? "book \(book) failed",
                    retry: "recital retry \(book)"
                )
            case (.queued, .cancelled):
                try await failDelivery(&file, reason: "book \(book) was cancelled", retry: "recital retry \(book)")
            case (.failed, .queued), (.failed, .running):
                file.state = .queued
                file.reason = nil
                try await pipeline.recordWatched(file)
                queuedSinceLastLook = true
                log("\(file.relativePath): book \(book) is being tried again")
            default:
                break
            }
        }
    }

    private func failDelivery(_ file: inout WatchedFile, reason: String, retry: String) async throws {
        file.state = .failed
        file.reason = reason
        try await pipeline.recordWatched(file)
        let settings = try await pipeline.storedSettings(book: file.book)
        report(
            FailureReport(
                file: file.path,
                reason: reason,
                contentHash: file.contentHash,
                settings: settings,
                time: Date(timeIntervalSince1970: now()),
                retry: retry
            ),
            relativePath: file.relativePath
        )
    }
}
