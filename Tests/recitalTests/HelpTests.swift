import Foundation
import RecitalTestSupport
import Testing

/// What a user reads before running anything: `--help` and the README's usage block agree.
@Suite("Help texts and the README")
struct HelpTests {
    static let commands = [
        "inspect", "convert", "watch", "serve", "resume", "encode", "delete", "status", "cancel", "pause", "unpause",
        "retry",
        "priority",
        "speech-server", "db copy", "voices list", "voices test", "voices install", "voices remove",
    ]

    /// The README's usage block (the first `sh` block after "## Using it") and the global options line.
    static func readme() throws -> String {
        let text = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let usage = try #require(text.range(of: "## Using it"))
        let end = try #require(text.range(of: "Voices:", range: usage.upperBound..<text.endIndex))
        return String(text[usage.upperBound..<end.lowerBound])
    }

    @Test("the README's usage block lists every option of every command", arguments: commands)
    func readmeListsOptions(command: String) async throws {
        let words = command.split(separator: " ").map(String.init)
        let help = try await ProcessResult.launch(Fixtures.executable, words + ["--help"])
        #expect(help.status == 0)
        let options = Set(
            help.stdout.split(whereSeparator: { $0.isWhitespace || $0 == "," }).filter {
                $0.hasPrefix("--") && $0.count > 2
            }.map { String($0.prefix { $0 == "-" || $0.isLetter || $0.isNumber }) }
        ).subtracting(["--help", "--version"])
        #expect(!options.isEmpty || ["delete", "cancel", "pause", "unpause", "retry", "priority"].contains(command))
        let usage = try Self.readme()
        #expect(usage.contains("recital \(command)") || usage.contains("|\(command)") || usage.contains("\(command)|"))
        for option in options.sorted() {
            #expect(
                usage.contains(option + " ") || usage.contains(option + "]"),
                "\(command) \(option) is not in the README"
            )
        }
    }

    @Test("no help text points at a file that is not shipped", arguments: [""] + commands)
    func helpPointsAtShippedFiles(command: String) async throws {
        let help = try await ProcessResult.launch(
            Fixtures.executable,
            command.split(separator: " ").map(String.init) + ["--help"]
        )
        for name in ["DESIGN.md", "shared/", "../"] {
            #expect(!help.stdout.contains(name), "`recital \(command) --help` mentions \(name)")
        }
    }
}
