public import ArgumentParser
import Foundation
import RecitalIngest
public import RecitalModel
import Synchronization

extension OCRMode: ExpressibleByArgument {}

/// How books are read (inspect, convert, watch, serve).
struct ReadOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "OCR for PDF pages: 'auto' reads pages that are scans (an image and no text), 'always' every page, 'never' none.",
            valueName: "auto|always|never"
        )
    )
    var ocr: OCRMode = .auto
}

/// Shows how OCR of a scanned book goes on stderr: a line redrawn page by page on a terminal, a
/// line every ten pages otherwise.
final class ReadProgress: Sendable {
    private let file: String
    private let isTerminal: Bool
    private let drew = Mutex(false)

    init(file: String) {
        self.file = (file as NSString).lastPathComponent
        isTerminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func handle(_ progress: IngestProgress) {
        switch progress {
        case .recognizing(let page, let total, let elapsed):
            let rate = Double(page) / max(elapsed.seconds, 0.001)
            let text = "\(file): OCR \(page)/\(total) pages, \(String(format: "%.2f", rate)) pages/s"
            if isTerminal {
                drew.withLock { $0 = true }
                FileHandle.standardError.write(Data(("\rrecital: " + text + "\u{1B}[K").utf8))
                if page == total { finish() }
            } else if page % 10 == 0 || page == total {
                Console.error(text)
            }
        }
    }

    /// Ends a redrawn line, so what follows starts on its own.
    func finish() {
        let needed = drew.withLock { drew in
            defer { drew = false }
            return drew
        }
        if needed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
