import Foundation
import RecitalTestSupport
import Testing

/// FFmpeg and espeak-ng, with the 150 libraries they pull in, are opened when audio is first
/// decoded, encoded or spoken, and Tesseract when a scanned page is first read, so that commands
/// that do none of that start in a few milliseconds.
@Suite("What recital loads at start")
struct StartupTests {
    /// The shared libraries the dynamic loader opened for one run (glibc's `LD_DEBUG=libs` trace).
    func librariesLoaded(by arguments: [String]) async throws -> String {
        let home = try Fixtures.temporaryDirectory().path
        let result = try await ProcessResult.launch(
            Fixtures.executable,
            arguments,
            environment: ["RECITAL_HOME": home, "RECITAL_DB": "", "LD_DEBUG": "libs"]
        )
        #expect(result.status == 0, "\(result.stderr.suffix(500))")
        return result.stderr
    }

    @Test(
        "status and inspect open neither FFmpeg, espeak-ng nor Tesseract",
        arguments: [
            ["status"], ["inspect", Fixtures.path("epub2-basic.epub")],
        ]
    )
    func commandsWithoutAudio(arguments: [String]) async throws {
        let trace = try await librariesLoaded(by: arguments)
        // The trace names the libraries that are linked, so an empty trace cannot pass.
        #expect(trace.contains("libsqlite3.so"))
        for library in ["libavcodec.so", "libavformat.so", "libswresample.so", "libespeak-ng.so", "libtesseract.so"] {
            #expect(!trace.contains(library), "\(arguments[0]) loaded \(library)")
        }
    }
}
