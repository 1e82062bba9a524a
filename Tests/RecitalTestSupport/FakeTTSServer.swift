internal import Foundation
import Hummingbird
import NIOCore
import RecitalModel
import RecitalSpeech
import Synchronization

/// A TTS server for tests: real HTTP on a loopback port, deterministic audio, and faults scripted
/// per request. It speaks the OpenAI route, Piper's `/synthesize` and Coqui's `/api/tts`.
public final class FakeTTSServer: Sendable {
    public enum Fault: Sendable, Equatable {
        /// Answer with this status and body (and `Retry-After` seconds when given).
        case status(Int, body: String, retryAfter: Int? = nil)
        /// Close the connection after the headers, before any audio.
        case reset
        /// Send only the first part of the audio, then close.
        case truncated
        /// Answer 200 with an HTML page.
        case notAudio
        /// Answer 200 with audio far too short for the text.
        case tooShort
        /// Wait this long before answering normally.
        case delay(Duration)
    }

    private struct State {
        var pending: [Fault] = []
        var faultsForText: [String: [Fault]] = [:]
        var faultsForPrefix: [String: [Fault]] = [:]
        var delaysEnded = false
        var counts: [String: Int] = [:]
        var requests = 0
        var bodies: [String] = []
        var headers: [String] = []
        var busySeconds: Double = 0
        var serviceSeconds: Double = 0
        var inFlight = 0
        var peakInFlight = 0
        var firstStart: ContinuousClock.Instant?
        var lastEnd: ContinuousClock.Instant?
    }

    public static let sampleRate = 24_000
    private let state = Mutex(State())
    /// Delay before every answer.
    public let latency: Duration
    /// Seconds of audio the server makes per second, one request at a time (a GPU's queue): an
    /// answer of N seconds is ready N / realtime seconds after the previous one, or after it
    /// arrived. Nil answers at once.
    public let realtime: Double?
    private let queue = Mutex(ContinuousClock.now)

    public init(latency: Duration = .zero, realtime: Double? = nil) {
        self.latency = latency
        self.realtime = realtime
    }

    /// Seconds the server spent making audio at its `realtime` speed: its busy time.
    public var serviceSeconds: Double { state.withLock { $0.serviceSeconds } }

    // MARK: Scripting and inspection

    /// Faults applied to the next requests, one each, in order.
    public func fail(next faults: [Fault]) { state.withLock { $0.pending += faults } }

    /// Faults applied to the next requests for this exact text.
    public func fail(text: String, with faults: [Fault]) {
        state.withLock { $0.faultsForText[text, default: []] += faults }
    }

    /// Faults applied to the next requests whose text begins with `prefix` (for tests that know a
    /// passage of the book, not how it was cut into segments).
    public func fail(textStartingWith prefix: String, with faults: [Fault]) {
        state.withLock { $0.faultsForPrefix[prefix, default: []] += faults }
    }

    /// Answers delayed requests now, and any delayed from now on at once: a test holds an answer
    /// back until what it waits for has happened, not for a guessed time.
    public func endDelays() { state.withLock { $0.delaysEnded = true } }

    /// How often each text was asked for.
    public var counts: [String: Int] { state.withLock { $0.counts } }
    public var requestCount: Int { state.withLock { $0.requests } }
    /// Every request body received, in order.
    public var bodies: [String] { state.withLock { $0.bodies } }
    /// Seconds spent answering requests, summed over requests (for backend utilisation).
    public var busySeconds: Double { state.withLock { $0.busySeconds } }
    /// The most requests this server had at once (from arrival to the end of the answer).
    public var peakInFlight: Int { state.withLock { $0.peakInFlight } }
    /// When the first request arrived and the last answer left.
    public var activeSpan: (first: ContinuousClock.Instant, last: ContinuousClock.Instant)? {
        state.withLock { state in state.firstStart.flatMap { first in state.lastEnd.map { (first, $0) } } }
    }
    /// Seconds from the first request's arrival to the last answer: the span the server was in use.
    public var activeSeconds: Double {
        state.withLock { state in
            guard let first = state.firstStart, let last = state.lastEnd else { return 0 }
            let span = last - first
            return Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        }
    }
    /// Every Authorization header received.
    public var authorizations: [String] { state.withLock { $0.headers } }

    /// The audio this server returns for `text`: a tone whose pitch and length depend on the text.
    /// Made from a table with a phase accumulator, so that answering costs little CPU and a
    /// benchmark on a small machine measures the client rather than this server.
    public static func samples(for text: String) -> [Int16] {
        // 25 ms a character: quicker than speech, long enough to pass plausibility checks.
        let count = max(Int(0.2 * Double(sampleRate)), text.count * sampleRate / 40)
        var hash: UInt64 = 1469598103934665603
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        let frequency = 200 + Int(hash % 400)
        let step = UInt32((UInt64(frequency) << 32) / UInt64(sampleRate))
        return [Int16](unsafeUninitializedCapacity: count) { buffer, initialized in
            var phase: UInt32 = 0
            for index in 0..<count {
                buffer[index] = sineTable[Int(phase >> 20)]
                phase &+= step
            }
            initialized = count
        }
    }

    /// One period of a sine wave at amplitude 8000, in 4096 steps.
    private static let sineTable: [Int16] = (0..<4096).map { Int16(sin(2 * .pi * Double($0) / 4096) * 8000) }

    // MARK: Serving

    /// Runs the server for the duration of `body`, which receives its base URL.
    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
        )
        // A request a fault keeps hanging is cancelled after a second; by then it has been handed
        // to the server's loop, so cancelling is safe.
        return try await withRunningApplication(app, ports: portStream, grace: .seconds(1)) { port in
            try await body("http://127.0.0.1:\(port)")
        }
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/audio/speech") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let data = Data(body.readableBytesView)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            self.state.withLock {
                $0.bodies.append(String(decoding: data, as: UTF8.self))
                $0.headers.append(request.headers[.authorization] ?? "")
            }
            return try await self.answer(text: object?["input"] as? String ?? "")
        }
        router.post("/synthesize") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let data = Data(body.readableBytesView)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            self.state.withLock { $0.bodies.append(String(decoding: data, as: UTF8.self)) }
            return try await self.answer(text: object?["text"] as? String ?? "")
        }
        router.post("/api/tts") { request, _ in
            let text = request.uri.queryParameters["text"].map { String($0) } ?? ""
            self.state.withLock { $0.bodies.append(request.uri.description) }
            return try await self.answer(text: text)
        }
        return router
    }

    /// Busy time counts from a request's arrival until the last byte of its answer is written: the
    /// span during which the request occupies one of the server's slots.
    private func answer(text: String) async throws -> Response {
        let started = ContinuousClock.now
        state.withLock {
            $0.firstStart = $0.firstStart ?? started
            $0.inFlight += 1
            $0.peakInFlight = max($0.peakInFlight, $0.inFlight)
        }
        let busy = BusySpan(started: started, server: self)
        let response: Response
        do {
            response = try await respond(text: text)
        } catch {
            state.withLock { $0.inFlight -= 1 }
            throw error
        }
        return Response(
            status: response.status,
            headers: response.headers,
            body: ResponseBody(contentLength: response.body.contentLength) { writer in
                defer { busy.end() }
                try await response.body.write(writer)
            }
        )
    }

    /// Records one request's busy span once, however its answer ends.
    private final class BusySpan: Sendable {
        let started: ContinuousClock.Instant
        let server: FakeTTSServer
        init(started: ContinuousClock.Instant, server: FakeTTSServer) {
            self.started = started
            self.server = server
        }
        func end() {
            let ended = ContinuousClock.now
            let elapsed = ended - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            server.state.withLock {
                $0.busySeconds += seconds
                $0.lastEnd = ended
                $0.inFlight -= 1
            }
        }
    }

    private func respond(text: String) async throws -> Response {
        let fault: Fault? = state.withLock { state in
            state.requests += 1
            state.counts[text, default: 0] += 1
            if var list = state.faultsForText[text], !list.isEmpty {
                let first = list.removeFirst()
                state.faultsForText[text] = list
                return first
            }
            if let prefix = state.faultsForPrefix.keys.first(where: { text.hasPrefix($0) }),
                var list = state.faultsForPrefix[prefix], !list.isEmpty
            {
                let first = list.removeFirst()
                state.faultsForPrefix[prefix] = list
                return first
            }
            return state.pending.isEmpty ? nil : state.pending.removeFirst()
        }
        if latency > .zero { try await Task.sleep(for: latency) }
        let samples = Self.samples(for: text)
        if let realtime {
            let work = Duration.seconds(Double(samples.count) / Double(Self.sampleRate) / realtime)
            let ready = queue.withLock { busyUntil in
                busyUntil = max(busyUntil, .now) + work
                return busyUntil
            }
            state.withLock {
                $0.serviceSeconds += Double(work.components.seconds) + Double(work.components.attoseconds) / 1e18
            }
            try await Task.sleep(until: ready, clock: .continuous)
        }
        let wav = WAV.encode(samples: samples, sampleRate: Self.sampleRate)
        var headers = HTTPFields()
        headers[.contentType] = "audio/wav"
        switch fault {
        case .none:
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: wav)))
        case .delay(let duration):
            let end = ContinuousClock.now + duration
            while ContinuousClock.now < end, !state.withLock({ $0.delaysEnded }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: wav)))
        case .status(let code, let body, let retryAfter):
            var errorHeaders = HTTPFields()
            errorHeaders[.contentType] = body.hasPrefix("{") ? "application/json" : "text/html"
            if let retryAfter { errorHeaders[.retryAfter] = String(retryAfter) }
            return Response(
                status: HTTPResponse.Status(code: code),
                headers: errorHeaders,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body))
            )
        case .notAudio:
            headers[.contentType] = "audio/wav"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: "<html><body>Internal error</body></html>"))
            )
        case .tooShort:
            let short = WAV.encode(samples: [Int16](repeating: 0, count: 10), sampleRate: Self.sampleRate)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: short)))
        case .reset:
            headers[.contentLength] = String(wav.count)
            return Response(status: .ok, headers: headers, body: ResponseBody { _ in throw FakeServerDisconnect() })
        case .truncated:
            headers[.contentLength] = String(wav.count)
            let part = Array(wav.prefix(wav.count / 3))
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: part))
                    throw FakeServerDisconnect()
                }
            )
        }
    }
}

/// Thrown inside a response body to make the server drop the connection mid-answer.
struct FakeServerDisconnect: Error {}
