import Foundation
import RecitalModel
import RecitalSpeech
import Testing

@testable import RecitalPipeline

@Suite("The embedded speech server's lifetime")
struct SpeechSessionTests {
    /// Opens TCP connections to `port` and leaves them to the server, without waiting.
    func knock(_ port: Int, times: Int) -> [Int32] {
        (0..<times).map { _ in
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            return socket
        }
    }

    @Test("the built-in server stops cleanly while connections are still arriving")
    func stopsWithConnectionsArriving() async throws {
        let profile = VoiceProfile(name: "builtin", backend: .builtin, sampleRate: 24_000, concurrency: 2)
        for round in 0..<40 {
            let started = ContinuousClock.now
            let voice = SpeechRoutes.Voice(book: 0, profile: profile, apiKey: nil)
            let local = RecitalPaths(home: "/nonexistent", database: "").localVoices
            let sockets = try await SpeechRoutes.with([voice], concurrency: nil, local: local) { routes in
                let synthesizer = try #require(routes.route(for: 0)).synthesizer
                let url = try #require((synthesizer as? HTTPSpeechClient)?.profile.url)
                let port = try #require(url.split(separator: ":").last.flatMap { Int($0) })
                // The server really serves, then is knocked on as the session ends.
                if round % 8 == 0 {
                    let audio = try await synthesizer.synthesize(SynthesisRequest(text: "Stop.", language: "en")) {
                        _,
                        _,
                        _ in
                    }
                    #expect(audio.duration > 0.1)
                }
                return knock(port, times: 4)
            }
            // Every knock was a real connection, and the session ended within its grace period
            // instead of trapping or hanging.
            #expect(sockets.count == 4 && sockets.allSatisfy { $0 >= 0 })
            #expect(ContinuousClock.now - started < .seconds(60))
            for socket in sockets { close(socket) }
        }
    }
}
