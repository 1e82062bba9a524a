internal import Foundation
internal import RecitalJobs
internal import RecitalModel

/// How a long-running process takes work from the job table.
public struct WorkOptions: Sendable {
    public var run: RunOptions
    /// Only books spoken by the TTS server at this URL: a machine beside its own server takes
    /// those and leaves the rest to others.
    public var onlyBackend: String?
    /// How often the table is looked at when nothing said a book was queued.
    public var poll: Duration
    /// How long to wait after a run stopped because its server did not answer.
    public var retryAfterStall: Duration

    public init(
        run: RunOptions = RunOptions(),
        onlyBackend: String? = nil,
        poll: Duration = .seconds(5),
        retryAfterStall: Duration = .seconds(30)
    ) {
        self.run = run
        self.onlyBackend = onlyBackend
        self.poll = poll
        self.retryAfterStall = retryAfterStall
    }
}

extension Pipeline {
    /// Works the job table until cancelled (`recital worker`, `recital serve`): at every look (each
    /// `poll`, or at once when `wake` fires or the job table notifies that work was queued) the
    /// books with work left that this process may take are run together; a run stopped by an
    /// unreachable server waits `retryAfterStall` before the next look. Cancelling gives held work
    /// back and returns.
    /// - Parameters:
    ///   - wake: fired by the front end when it queued work itself.
    ///   - started: hears the books of each run before it starts.
    public func work(
        options: WorkOptions,
        wake: WorkSignal = WorkSignal(),
        started: @escaping @Sendable ([Int64]) -> Void = { _ in }
    ) async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await listen(wake: wake, retry: options.retryAfterStall) }
                defer { group.cancelAll() }
                try await Converter.$registeredByCaller.withValue(true) {
                    try await lookAndRun(options: options, wake: wake, started: started)
                }
            }
        } catch {
            await leaveWorkers()
            throw error
        }
        await leaveWorkers()
    }

    /// Out of the workers table when the process stops working, even when cancelled; a row left
    /// behind is harmless (its process is gone), so a failure is only reported.
    private func leaveWorkers() async {
        let store = self.store
        let owner = self.owner
        do {
            try await Blocking.uncancelled { try await store.removeWorker(id: owner) }
        } catch {
            converter.progress(.notice(message: "\(error)"))
        }
    }

    /// Fires `wake` whenever the job table says work was queued, until cancelled; a listening
    /// connection that fails is opened again after `retry` (polling covers the gap).
    private func listen(wake: WorkSignal, retry: Duration) async {
        let store = self.store
        while !Task.isCancelled, store.notifiesWork {
            do {
                try await store.listenForWork { wake.fire() }
            } catch {
                // Stopped while connecting: nothing to report.
                guard !Task.isCancelled else { return }
                converter.progress(.notice(message: "not hearing of new work (\(error)); looking every poll"))
                // A miss costs at most one poll interval, so a failed listen waits before retrying.
                guard (try? await Task.sleep(for: retry)) != nil else { return }
                // Whatever was queued while deaf is found by looking now.
                wake.fire()
            }
        }
    }

    private func lookAndRun(
        options: WorkOptions,
        wake: WorkSignal,
        started: @escaping @Sendable ([Int64]) -> Void
    ) async throws {
        // Looks are a poll apart unless woken; a run longer than that is followed by a look at once.
        var lastLook = ContinuousClock.now - options.poll
        while !Task.isCancelled {
            let due = options.poll - (ContinuousClock.now - lastLook)
            if due > .zero { await wake.wait(upTo: due) }
            try Task.checkCancellation()
            lastLook = .now
            do {
                guard try await lookAndRunOnce(options: options, started: started) else { return }
            } catch _ where Task.isCancelled {
                // Stopped mid-look: whatever the database said then, the answer is that work stopped.
                throw CancellationError()
            } catch let error as PipelineError where error.kind == .database {
                // The job table did not answer (a database restarting, a lock held too long): a
                // long-running worker says so and looks again later instead of exiting.
                try await standBy(for: options.retryAfterStall, saying: "\(error)")
            }
        }
    }

    /// One look: register, find the books this worker may take, run them. False once interrupted.
    private func lookAndRunOnce(
        options: WorkOptions,
        started: @escaping @Sendable ([Int64]) -> Void
    ) async throws -> Bool {
        // Each look is an idle worker's heartbeat: `status` lists it with what it holds (nothing).
        try await jobs {
            try await store.registerWorker(
                id: owner,
                pid: ProcessInfo.processInfo.processIdentifier,
                host: ProcessInfo.processInfo.hostName
            )
        }
        let books = try await workable(onlyBackend: options.onlyBackend)
        guard !books.isEmpty else { return true }
        started(books)
        switch try await run(books: books, options: options.run) {
        case .finished: return true
        case .interrupted: return false
        case .stalled(let reason):
            try await standBy(for: options.retryAfterStall, saying: "work stopped: \(reason)")
            return true
        }
    }

    /// Says why work stops for a while, then waits that long.
    private func standBy(for interval: Duration, saying reason: String) async throws {
        converter.progress(.notice(message: "\(reason); looking again in \(interval.components.seconds) s"))
        try await Task.sleep(for: interval)
    }

    /// Books with work left that may run now (queued or running; not paused, cancelled or failed),
    /// only those whose voice is at `onlyBackend` when one is given.
    func workable(onlyBackend: String?) async throws -> [Int64] {
        let books = try await status().filter { $0.state == .queued || $0.state == .running }.map(\.id)
        guard let onlyBackend else { return books }
        let wanted = Self.serverKey(onlyBackend)
        return try await jobs {
            var mine: [Int64] = []
            for id in books {
                let settings = try ConversionSettings.decode(try await store.book(id).settingsJSON, book: id)
                if let url = settings.voice.url, Self.serverKey(url) == wanted { mine.append(id) }
            }
            return mine
        }
    }

    /// A server URL as compared: scheme, host and port, without a trailing slash or case.
    static func serverKey(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else {
            return url.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        }
        let scheme = components.scheme?.lowercased() ?? "http"
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return "\(scheme)://\(host.lowercased()):\(port)/\(path)"
    }
}
