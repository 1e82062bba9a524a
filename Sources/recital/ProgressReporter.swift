import Foundation
import RecitalPipeline
import Synchronization

/// Shows conversion progress on stderr: a redrawn bar with segments done/total, measured rate,
/// ETA and the current chapter when stderr is a terminal; plain lines otherwise.
final class ProgressReporter: Sendable {
    private struct State {
        var done = 0
        var total = 0
        var startDone = 0
        var started = ContinuousClock.now
        var lastLine = ContinuousClock.now - .seconds(60)
        var chapter = ""
        var drewBar = false
        var lastRetry = ContinuousClock.now - .seconds(60)
        var quietRetries = 0
    }

    private let state = Mutex(State())
    private let isTerminal: Bool

    init() {
        isTerminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func handle(_ event: ProgressEvent) {
        switch event {
        case .started(let books, let done, let total):
            state.withLock {
                $0.done = done
                $0.total = total
                $0.startDone = done
                $0.started = .now
            }
            line("synthesizing \(books) book\(books == 1 ? "" : "s"): \(done)/\(total) segments already done")
        case .segmentDone(let book, let chapter, _, _):
            let text: String? = state.withLock { state in
                state.done += 1
                state.chapter = "book \(book), chapter \(chapter + 1)"
                let now = ContinuousClock.now
                let rate = Double(state.done - state.startDone) / max(0.001, (now - state.started).seconds)
                let remaining = Double(state.total - state.done) / max(rate, 0.0001)
                let summary =
                    "\(state.done)/\(state.total) segments, \(String(format: "%.1f", rate))/s, ETA \(Self.clock(remaining)), \(state.chapter)"
                if isTerminal {
                    let width = 30
                    let filled = state.total == 0 ? width : width * state.done / state.total
                    state.drewBar = true
                    return "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                        + "] " + summary + "\u{1B}[K"
                }
                guard now - state.lastLine > .seconds(5) || state.done == state.total else { return nil }
                state.lastLine = now
                return summary + "\n"
            }
            if let text { FileHandle.standardError.write(Data(text.utf8)) }
        case .chapterDone(let book, let chapter, _):
            if !isTerminal { line("book \(book): chapter \(chapter + 1) synthesized") }
        case .retrying(let book, let chapter, let segment, let message, let delay):
            // One line every few seconds is enough to show that requests are being retried.
            let quiet: Int? = state.withLock { state in
                guard ContinuousClock.now - state.lastRetry > .seconds(5) else {
                    state.quietRetries += 1
                    return nil
                }
                state.lastRetry = .now
                defer { state.quietRetries = 0 }
                return state.quietRetries
            }
            if let quiet {
                let more = quiet > 0 ? " (\(quiet) more retries since the last report)" : ""
                let wait = String(format: "%.1f", delay.seconds)
                line(
                    "book \(book), chapter \(chapter + 1), segment \(segment + 1): \(message); retrying in \(wait) s\(more)"
                )
            }
        case .chapterFailed(let book, _, let message, let permanent):
            line("book \(book): \(permanent ? "failed" : "will retry"): \(message)")
        case .checkpointDiscarded(let book, let chapter, let segment):
            line(
                "book \(book), chapter \(chapter + 1), segment \(segment + 1): checkpoint audio missing or corrupt; synthesizing it again"
            )
        case .waiting(let message):
            let show = state.withLock { state -> Bool in
                guard ContinuousClock.now - state.lastLine > .seconds(10) else { return false }
                state.lastLine = .now
                return true
            }
            if show { line(message) }
        case .encodeStarted(let book, let formats):
            line("book \(book): encoding \(formats.map(\.rawValue).joined(separator: ", "))")
        case .chaptersEncoded(let book, let count, let total):
            if !isTerminal { line("book \(book): \(count)/\(total) chapters encoded") }
        case .encodeProgress(let book, let fraction):
            if isTerminal {
                let width = 30
                let filled = Int(Double(width) * fraction)
                state.withLock { $0.drewBar = true }
                FileHandle.standardError.write(
                    Data(
                        ("\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                            + "] encoding book \(book): \(Int(fraction * 100)) %\u{1B}[K").utf8
                    )
                )
            }
        case .encoded(let book, let files):
            line("book \(book): wrote \(files.joined(separator: ", "))")
        case .encodeFailed(let book, let message):
            line("book \(book): encoding failed: \(message)")
        case .warning(let book, let message):
            line("book \(book): warning: \(message)")
        case .notice(let message):
            line("warning: \(message)")
        case .rescued(let tasks):
            line("took back \(tasks) task\(tasks == 1 ? "" : "s") of workers that stopped")
        }
    }

    func finish() {
        let drew = state.withLock { $0.drewBar }
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func line(_ text: String) {
        let prefix = isTerminal && state.withLock({ $0.drewBar }) ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((prefix + "recital: " + text + "\n").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let total = Int(seconds)
        return total >= 3600
            ? "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
            : "\(total / 60)m\(String(format: "%02d", total % 60))s"
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
