internal import Foundation
public import RecitalJobs
internal import RecitalMedia
internal import RecitalModel
public import RecitalSpeech
internal import Synchronization

/// How a synthesis run ended.
public enum SynthesisOutcome: Sendable, Equatable {
    /// Every task of the books is finished (completed, failed or cancelled) or the books are paused.
    case finished
    /// Stopped by the user; every held task was given back.
    case interrupted
    /// Stopped because work kept failing transiently (or the disk filled): `resume` carries on.
    case stalled(String)
}

/// Runs synthesize tasks: claims chapters from the job table, sends each book's segments to its own
/// voice with at most its server's bound of requests in flight, and checkpoints every answer.
public struct SynthesisWorker: Sendable {
    public let store: JobStore
    public let routes: SpeechRoutes
    let audio: CheckpointAudio
    public let owner: String
    public let clock: any Clock<Duration>
    public let progress: @Sendable (ProgressEvent) -> Void
    /// How long to keep waiting while no chapter can progress (retries scheduled later) before
    /// handing over to `resume`.
    public var patience: Duration = .seconds(120)
    public var heartbeatInterval: Duration = .seconds(10)
    /// How often to look again for claimable work while waiting.
    public var pollInterval: Duration = .milliseconds(250)
    /// What to do with each book's poison segments (default: fail the book).
    public var badSegments: [Int64: BadSegmentPolicy] = [:]
    /// Tries of one segment failing the same way, while its server answers other text, after which
    /// it is a poison segment rather than an outage.
    public var badSegmentTries = 5

    public init(
        store: JobStore,
        routes: SpeechRoutes,
        audio: CheckpointAudio,
        owner: String,
        clock: any Clock<Duration> = ContinuousClock(),
        progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in }
    ) {
        self.store = store
        self.routes = routes
        self.audio = audio
        self.owner = owner
        self.clock = clock
        self.progress = progress
    }

    private enum Outcome: Sendable {
        case completed
        case released
        case failed(String, permanent: Bool)
        /// Audio or the job table could not be written: the run stops, `resume` carries on.
        case storage(String)
    }

    private enum ChapterResult: Sendable {
        /// Not a chapter: the wake-up of ``next(of:within:)``.
        case timer
        /// A chapter ended, freeing a slot of its server.
        case chapter(server: String, Outcome)
    }

    /// Works on the given books until they are done, the task is cancelled (the user stops: every
    /// held chapter is given back without using an attempt), or work stalls.
    /// - Throws: ``JobError`` when the job table itself fails (locked, disk error).
    public func run(books: [Int64]) async throws -> SynthesisOutcome {
        let statuses = try await store.status().filter { books.contains($0.id) }
        progress(
            .started(
                books: statuses.count,
                segmentsDone: statuses.reduce(0) { $0 + $1.segmentsDone },
                segmentsTotal: statuses.reduce(0) { $0 + $1.segmentsTotal }
            )
        )
        let run = RunState()
        let servers = routes.servers
        return try await withThrowingTaskGroup(of: ChapterResult.self) { group -> SynthesisOutcome in
            // Only wake-up timers can be left when the run ends; they must not delay the return.
            defer { group.cancelAll() }
            // Chapters held per server: each server gets as many as its request bound, so a slow
            // server's chapters never take the claims another server's books need.
            var activeByServer: [String: Int] = [:]
            var active: Int { activeByServer.values.reduce(0, +) }
            var idleSince: ContinuousClock.Instant?
            var lastProblem = ""
            var storageFailure: String?
            var stalled: String?
            var lastRescue = ContinuousClock.now - .seconds(60)
            while true {
                // Failing for longer than the patience with nothing succeeding: the server is down or
                // refusing; stop and leave the rest to `resume` instead of burning attempts.
                if !lastProblem.isEmpty, ContinuousClock.now - run.lastProgress > patience { stalled = lastProblem }
                if Task.isCancelled || storageFailure != nil || stalled != nil {
                    // Wind down: every chapter, cancelled, gives its lease back on its own.
                    group.cancelAll()
                    while active > 0 {
                        guard case .chapter(let server, let result)? = try? await group.next() else { continue }
                        activeByServer[server, default: 1] -= 1
                        // A chapter that could not be given back is a failure of the table, not a stop.
                        if case .storage(let message) = result { storageFailure = storageFailure ?? message }
                    }
                    if let reason = storageFailure ?? stalled { return .stalled(reason) }
                    return .interrupted
                }
                if ContinuousClock.now - lastRescue > .seconds(5) {
                    try await store.rescueExpiredLeases(leader: owner)
                    lastRescue = .now
                }
                for (server, capacity, globalLimit, serverBooks) in servers {
                    let held = activeByServer[server, default: 0]
                    let wanted = serverBooks.filter(books.contains)
                    guard held < capacity, !wanted.isEmpty else { continue }
                    let claimed = try await store.claim(
                        owner: owner,
                        limit: capacity - held,
                        books: wanted,
                        server: server,
                        serverLimit: globalLimit
                    )
                    for task in claimed {
                        group.addTask { .chapter(server: server, await self.runChapter(task, run: run)) }
                    }
                    activeByServer[server] = held + claimed.count
                    if !claimed.isEmpty { idleSince = nil }
                }
                if active == 0 {
                    if try await !store.hasOpenTasks(books: books, kind: .synthesize) { return .finished }
                    let since = idleSince ?? .now
                    idleSince = since
                    // Work may be waiting out a backoff from an earlier run: its own error says why.
                    let retry = try await store.pendingRetry(books: books, kind: .synthesize)
                    let problem = lastProblem.isEmpty ? retry?.error ?? "" : lastProblem
                    if ContinuousClock.now - since > patience {
                        return .stalled(problem.isEmpty ? "no progress for \(Int(patience.seconds)) s" : problem)
                    }
                    let message =
                        if let retry, lastProblem.isEmpty {
                            "waiting \(Int(retry.seconds.rounded(.up))) s to retry\(retry.error.isEmpty ? "" : ": \(retry.error)")"
                        } else if problem.isEmpty {
                            "waiting for work held by another process"
                        } else {
                            "waiting to retry: \(problem)"
                        }
                    progress(.waiting(message: message))
                    try? await clock.sleep(for: pollInterval)
                    continue
                }
                // Wake at least every poll interval, so that the patience is checked while
                // chapters are still retrying.
                guard case .chapter(let server, let result)? = try await next(of: &group, within: pollInterval * 4)
                else { continue }
                activeByServer[server, default: 1] -= 1
                switch result {
                case .failed(let message, _): lastProblem = message
                case .storage(let message): storageFailure = message
                case .completed: lastProblem = ""
                default: break
                }
            }
        }
    }

    /// The next chapter result, or nil when none arrives within `interval`.
    private func next(
        of group: inout ThrowingTaskGroup<ChapterResult, any Error>,
        within interval: Duration
    ) async throws -> ChapterResult? {
        // Task groups cannot wait with a timeout, so a sentinel child does the waiting.
        group.addTask {
            try? await Task.sleep(for: interval)
            return .timer
        }
        while true {
            guard let result = try? await group.next() else { return nil }
            if case .timer = result { return nil }
            return result
        }
    }

    // MARK: - One chapter

    /// A segment that fails the same way every time while its server answers other text.
    private struct BadSegment: Error { let message: String }

    /// What the chapters of one run share: when a segment last succeeded (on the whole and per
    /// server), and how each failing segment has been failing.
    private final class RunState: Sendable {
        struct Failing {
            var signature: String
            var count: Int
            var since: ContinuousClock.Instant
        }
        private struct State {
            var lastProgress = ContinuousClock.now
            var lastSuccess: [String: ContinuousClock.Instant] = [:]
            var failing: [String: Failing] = [:]
        }
        private let state = Mutex(State())
        var lastProgress: ContinuousClock.Instant { state.withLock { $0.lastProgress } }

        func succeeded(_ segment: String, server: String) {
            state.withLock {
                $0.lastProgress = .now
                $0.lastSuccess[server] = .now
                $0.failing[segment] = nil
            }
        }

        /// Counts one more failure of `segment`; a different failure starts the count again.
        @discardableResult
        func failed(_ segment: String, signature: String) -> Failing {
            state.withLock { state in
                var entry = state.failing[segment] ?? Failing(signature: signature, count: 0, since: .now)
                if entry.signature != signature { entry = Failing(signature: signature, count: 0, since: .now) }
                entry.count += 1
                state.failing[segment] = entry
                return entry
            }
        }

        /// Whether `server` answered any request successfully after `instant`.
        func answered(_ server: String, after instant: ContinuousClock.Instant) -> Bool {
            state.withLock { ($0.lastSuccess[server] ?? instant) > instant }
        }
    }

    private func runChapter(_ task: ClaimedTask, run: RunState) async -> Outcome {
        guard let chapter = task.chapterIndex else { return .failed("not a synthesize task", permanent: true) }
        guard let route = routes.route(for: task.bookID) else {
            return await settle(.released, task) {
                try await store.release(task, reason: "no voice for this book in this run")
            }
        }
        do {
            try Task.checkCancellation()
            let book = try await store.book(task.bookID)
            // Checkpoints whose file is gone or changed are synthesized again.
            let existing = try await store.checkpoints(book: task.bookID, chapter: chapter)
            let audio = self.audio
            let broken = try await Blocking.io { existing.filter { !audio.isIntact($0) } }
            if !broken.isEmpty {
                try await store.discardCheckpoints(broken, reason: "audio missing or corrupt")
                for record in broken {
                    progress(.checkpointDiscarded(book: task.bookID, chapter: chapter, segment: record.index))
                }
            }
            let pending = try await store.pendingSegments(book: task.bookID, chapter: chapter)
            let title = "chapter \(chapter + 1)"
            try await synthesize(pending, task: task, book: book, chapterTitle: title, route: route, run: run)
            if try await store.complete(task) {
                progress(.chapterDone(book: task.bookID, chapter: chapter, chapterTitle: title))
                return .completed
            }
            return leaseLost(task)
        } catch _ where Task.isCancelled {
            // The run is stopping (a signal, or a stall elsewhere): the attempt is given back.
            return await settle(.released, task) { try await store.release(task, reason: "stopped") }
        } catch let error as SpeechError {
            let message = "chapter \(chapter + 1): \(error.message)"
            let permanent = error.kind == .permanent
            let delay = RetryPolicy.task.delay(attempt: task.attempt, random: Double.random(in: 0...1))
            return reported(
                await settle(.failed(message, permanent: permanent), task) {
                    permanent
                        ? try await store.failPermanent(task, error: message)
                        : try await store.failTransient(task, error: message, retryAfter: delay.seconds)
                },
                task
            )
        } catch let bad as BadSegment {
            return reported(
                await settle(.failed(bad.message, permanent: true), task) {
                    try await store.failPermanent(task, error: bad.message)
                },
                task
            )
        } catch let error as PipelineError {
            return await settle(.storage(error.description), task) {
                try await store.release(task, reason: error.message)
            }
        } catch let error as JobError {
            // The job table itself failed: nothing more can be recorded now; its lease lapses.
            return .storage("the job table failed: \(error)")
        } catch let ended as LeaseEnded {
            switch ended.status {
            case .lost: return leaseLost(task)
            case .held: return .released
            case .cancelled: return await settle(.released, task) { try await store.cancelHeld(task) }
            case .paused: return await settle(.released, task) { try await store.release(task, reason: "book paused") }
            }
        } catch {
            return await settle(.failed("\(error)", permanent: false), task) {
                try await store.release(task, reason: "\(error)")
            }
        }
    }

    /// Records how a chapter ended; when the job table cannot take it, the run stops (exit 75) with
    /// the database's reason instead of going on as if it had been recorded. A lease found lost
    /// meanwhile is reported, and the outcome counts for nothing.
    private func settle(
        _ outcome: Outcome,
        _ task: ClaimedTask,
        _ record: @escaping @Sendable () async throws -> Bool
    ) async -> Outcome {
        // Written even while the run is cancelled: giving held work back is part of stopping.
        do {
            guard try await Blocking.uncancelled(record) else {
                // Audio that cannot be written stops the run all the same.
                if case .storage = outcome { return outcome }
                return leaseLost(task)
            }
        } catch {
            return .storage("the job table could not record a chapter's outcome: \(error)")
        }
        return outcome
    }

    /// Reports the chapter's failure once it is recorded as the chapter's.
    private func reported(_ outcome: Outcome, _ task: ClaimedTask) -> Outcome {
        if case .failed(let message, let permanent) = outcome, let chapter = task.chapterIndex {
            progress(.chapterFailed(book: task.bookID, chapter: chapter, message: message, permanent: permanent))
        }
        return outcome
    }

    /// Says that the chapter's lease was lost: this worker was presumed dead (stopped past its lease,
    /// cut off), so what it speaks or fails now is not recorded.
    private func leaseLost(_ task: ClaimedTask) -> Outcome {
        let chapter = task.chapterIndex.map { "chapter \($0 + 1)" } ?? "task \(task.id)"
        progress(
            .warning(
                book: task.bookID,
                message:
                    "\(chapter)'s lease was lost (another worker took it over, or the book was deleted); nothing this worker does with it now is recorded"
            )
        )
        return .released
    }

    /// Synthesizes a chapter's pending segments with a sliding window, checkpointing each answer.
    /// Throws the first failure; the group then cancels the requests still in flight.
    private func synthesize(
        _ pending: [SegmentWork],
        task: ClaimedTask,
        book: BookRecord,
        chapterTitle: String,
        route: SpeechRoutes.Route,
        run: RunState
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            // The lease (pause, cancel, loss to another process); stopping is this task's cancellation.
            group.addTask {
                while true {
                    try await self.clock.sleep(for: self.heartbeatInterval)
                    let status = try await self.store.heartbeat(task)
                    if status != .held { throw LeaseEnded(status: status) }
                }
            }
            var next = pending.startIndex
            var running = 0
            func addSegment() {
                let segment = pending[next]
                next += 1
                running += 1
                group.addTask {
                    try await self.synthesizeSegment(
                        segment,
                        task: task,
                        book: book,
                        chapterTitle: chapterTitle,
                        route: route,
                        run: run
                    )
                    return true
                }
            }
            while running < route.window, next < pending.endIndex { addSegment() }
            while running > 0 {
                guard let finished = try await group.next() else { break }
                if finished {
                    running -= 1
                    if next < pending.endIndex, !Task.isCancelled { addSegment() }
                }
            }
            group.cancelAll()
            // Stopped before every segment was started: the chapter is not done and must not be
            // completed.
            if next < pending.endIndex { throw CancellationError() }
        }
    }

    private func synthesizeSegment(
        _ segment: SegmentWork,
        task: ClaimedTask,
        book: BookRecord,
        chapterTitle: String,
        route: SpeechRoutes.Route,
        run: RunState
    ) async throws {
        let key = "\(task.bookID)/\(segment.chapterIndex)/\(segment.index)"
        guard Segment.isSpeakable(segment.text) else {
            // Servers refuse or mumble text without words (Piper answers 500): a pause stands for it.
            try await checkpointSilence(
                segment,
                task: task,
                book: book,
                kind: "silent",
                note: "nothing to speak in “\(segment.text)”; a pause stands for it"
            )
            return
        }
        let audio: PCMAudio
        do {
            audio = try await speak(segment, key: key, task: task, book: book, route: route, run: run)
        } catch let error as SpeechError where error.kind == .transient && Self.mayBePoison(error) {
            let failing = run.failed(key, signature: error.message)
            guard failing.count >= badSegmentTries,
                try await serverIsUp(route, since: failing.since, run: run)
            else { throw error }
            let message =
                "chapter \(segment.chapterIndex + 1), segment \(segment.index + 1) (“\(segment.text.prefix(120))”): \(error.message), \(failing.count) times in a row while the server answers other text"
            switch badSegments[task.bookID] ?? .fail {
            case .fail:
                throw BadSegment(message: message + "; convert with --on-bad-segment skip to leave it silent")
            case .skip:
                try await checkpointSilence(
                    segment,
                    task: task,
                    book: book,
                    kind: "skipped",
                    note: message + "; left silent"
                )
                progress(.warning(book: task.bookID, message: message + "; left silent"))
                return
            }
        }
        run.succeeded(key, server: route.server)
        try await checkpoint(audio, segment: segment, task: task, chapterTitle: chapterTitle)
    }

    /// One segment through the book's voice, retried by the client; every failed try is counted
    /// towards the segment's poison count and shown as a retry.
    private func speak(
        _ segment: SegmentWork,
        key: String,
        task: ClaimedTask,
        book: BookRecord,
        route: SpeechRoutes.Route,
        run: RunState
    ) async throws -> PCMAudio {
        try await route.synthesizer.synthesize(
            // Of the requests waiting for the server, the earliest in the book goes first.
            SynthesisRequest(
                text: segment.text,
                language: book.language,
                order: [book.priority, Int(segment.bookID), segment.chapterIndex, segment.index]
            ),
            limiter: route.limiter
        ) { error, _, delay in
            if Self.mayBePoison(error) { run.failed(key, signature: error.message) }
            progress(
                .retrying(
                    book: task.bookID,
                    chapter: segment.chapterIndex,
                    segment: segment.index,
                    message: error.message,
                    delay: delay
                )
            )
            do {
                try await store.logRetry(
                    task,
                    message:
                        "segment \(segment.index): \(error.message); retry in \(String(format: "%.1f", delay.seconds)) s"
                )
            } catch {
                // The retry goes ahead; only its line in the history is lost, and the user is told.
                progress(.notice(message: "a retry could not be written to the task history: \(error)"))
            }
        }
    }

    /// Whether a failure can be the text's fault: the server answered, with a server error or with
    /// audio that cannot be right. Timeouts, refused connections, rate limits and "unavailable" are
    /// the server's state, not the text's; a request cancelled because its run stops is neither.
    static func mayBePoison(_ error: SpeechError) -> Bool {
        guard error.fromServer, !Task.isCancelled else { return false }
        return ![408, 425, 429, 503, 504].contains(error.httpStatus ?? 0)
    }

    /// Whether the server is up although this segment keeps failing: it answered other text since
    /// the segment began failing, or it answers a plain probe now.
    private func serverIsUp(
        _ route: SpeechRoutes.Route,
        since: ContinuousClock.Instant,
        run: RunState
    ) async throws
        -> Bool
    {
        if run.answered(route.server, after: since) { return true }
        do {
            _ = try await route.synthesizer.synthesize(SynthesisRequest(text: "Hello."), limiter: route.limiter) {
                _,
                _,
                _ in
            }
            return true
        } catch {
            return false
        }
    }

    /// Records a segment as silence: an empty checkpoint, and a line in the task's history.
    private func checkpointSilence(
        _ segment: SegmentWork,
        task: ClaimedTask,
        book: BookRecord,
        kind: String,
        note: String
    ) async throws {
        try await checkpoint(PCMAudio(samples: [], sampleRate: book.sampleRate), segment: segment, task: task)
        try await store.note(task, kind: kind, message: note)
    }

    /// Writes a segment's audio durably, then records it under the task's lease.
    private func checkpoint(
        _ audio: PCMAudio,
        segment: SegmentWork,
        task: ClaimedTask,
        chapterTitle: String = ""
    ) async throws {
        try Task.checkCancellation()
        guard try await self.audio.record(audio, segment: segment, task: task) else {
            throw LeaseEnded(status: .lost)
        }
        progress(
            .segmentDone(
                book: task.bookID,
                chapter: segment.chapterIndex,
                chapterTitle: chapterTitle,
                audioSeconds: audio.duration
            )
        )
    }
}
