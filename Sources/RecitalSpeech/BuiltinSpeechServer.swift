internal import Foundation
public import Hummingbird
public import Logging
internal import NIOCore
internal import RecitalEspeak
internal import RecitalModel

/// The embedded default voice: espeak-ng behind the OpenAI-compatible route
/// (`POST /v1/audio/speech`), so the built-in voice uses the very same client code as any server.
///
/// Request fields: `input` (the text), `voice` (a language tag or espeak voice name; the book's
/// language), `speed`, `response_format` (`wav` or `pcm`). Answers are 16-bit mono WAV at espeak's
/// rate (22050 Hz).
public enum BuiltinSpeechServer {
    /// The router with the speech, voices and health routes.
    public static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        router.get("/v1/audio/voices") { _, _ -> Response in
            Self.json(["voices": ["en", "en-us", "de", "fr", "es", "it", "he", "ja", "zh"]], status: .ok)
        }
        router.post("/v1/audio/speech") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let input = object["input"] as? String
            else {
                return Self.json(
                    ["error": ["message": "body must be JSON with a string 'input'", "type": "invalid_request_error"]],
                    status: .badRequest
                )
            }
            let text = input.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else {
                return Self.json(
                    ["error": ["message": "'input' is empty", "type": "invalid_request_error"]],
                    status: .badRequest
                )
            }
            let format = (object["response_format"] as? String) ?? "wav"
            guard format == "wav" || format == "pcm" else {
                return Self.json(
                    [
                        "error": [
                            "message": "response_format '\(format)' is not supported; use wav or pcm",
                            "type": "invalid_request_error",
                        ]
                    ],
                    status: .badRequest
                )
            }
            let speed = (object["speed"] as? Double) ?? 1
            do {
                let audio = try await Espeak.shared.synthesize(text, language: object["voice"] as? String, speed: speed)
                let bytes =
                    format == "pcm"
                    ? Array(WAV.encode(samples: audio.samples, sampleRate: audio.sampleRate).dropFirst(WAV.headerSize))
                    : WAV.encode(samples: audio.samples, sampleRate: audio.sampleRate)
                var headers = HTTPFields()
                headers[.contentType] = format == "pcm" ? "audio/pcm;rate=\(audio.sampleRate)" : "audio/wav"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            } catch {
                return Self.json(
                    ["error": ["message": "\(error)", "type": "server_error"]],
                    status: .internalServerError
                )
            }
        }
        return router
    }

    /// An application listening on `host:port` (port 0 picks a free one); `onRunning` receives
    /// the port actually bound.
    /// - Parameter logger: where the server logs; the embedded server passes a quiet one.
    public static func application(
        host: String = "127.0.0.1",
        port: Int = 0,
        logger: Logger = Logger(label: "recital-speech"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "recital-speech"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    private static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(data)))
        )
    }
}
