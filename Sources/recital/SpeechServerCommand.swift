import ArgumentParser
import Hummingbird
import RecitalSpeech

struct SpeechServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speech-server",
        abstract: "Run the built-in espeak-ng voice as an OpenAI-compatible HTTP server (POST /v1/audio/speech)."
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8890

    @Option(help: "Address to bind; loopback by default.")
    var host = "127.0.0.1"

    func run() async throws {
        let app = BuiltinSpeechServer.application(host: host, port: port) { bound in
            Console.error("speech server listening on http://\(self.host):\(bound)")
        }
        try await app.runService()
    }
}
