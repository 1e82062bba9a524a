internal import CRecitalEspeak
internal import Dispatch
import Synchronization

/// The espeak-ng synthesizer. espeak-ng is a process-wide singleton and not thread-safe, so every
/// call runs on one private serial queue, off Swift's cooperative pool (synthesis blocks).
public final class Espeak: Sendable {
    /// The one engine of this process.
    public static let shared = Espeak()

    private let queue = DispatchQueue(label: "recital.espeak")
    private let state = Mutex<(initialised: Bool, sampleRate: Int)>((false, 0))

    private init() {}

    /// Speaks `text` and returns mono 16-bit samples at ``sampleRate()``.
    /// - Parameters:
    ///   - language: a BCP 47 tag or espeak voice name; falls back to the primary language, then English.
    ///   - speed: 1 is espeak's normal 175 words a minute.
    public func synthesize(
        _ text: String,
        language: String?,
        speed: Double = 1
    ) async throws(EspeakError) -> (samples: [Int16], sampleRate: Int) {
        let result: Result<([Int16], Int), EspeakError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Result { () throws(EspeakError) in try self.speak(text, language: language, speed: speed)
                    }
                )
            }
        }
        return try result.get()
    }

    /// The rate espeak-ng produces (22050 Hz in its standard build).
    public func sampleRate() async throws(EspeakError) -> Int {
        let result: Result<Int, EspeakError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(EspeakError) in try self.initialise() }) }
        }
        return try result.get()
    }

    // MARK: On the queue

    private func initialise() throws(EspeakError) -> Int {
        let current = state.withLock { $0 }
        if current.initialised { return current.sampleRate }
        var loadError: UnsafePointer<CChar>?
        guard crecital_espeak_load(&loadError) != nil else {
            throw EspeakError("cannot load: \(loadError.map { String(cString: $0) } ?? "unknown reason")")
        }
        let rate = ng.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, nil, 0)
        guard rate > 0 else { throw EspeakError("cannot initialise (is espeak-ng-data installed?)") }
        ng.espeak_SetSynthCallback { samples, count, events in
            guard let samples, count > 0, let events, let target = events.pointee.user_data else { return 0 }
            let buffer = Unmanaged<SampleBuffer>.fromOpaque(target).takeUnretainedValue()
            buffer.samples.append(contentsOf: UnsafeBufferPointer(start: samples, count: Int(count)))
            return 0
        }
        state.withLock { $0 = (true, Int(rate)) }
        return Int(rate)
    }

    private func speak(_ text: String, language: String?, speed: Double) throws(EspeakError) -> ([Int16], Int) {
        let rate = try initialise()
        selectVoice(language)
        let wordsPerMinute = Int32(max(80, min(450, (175 * speed).rounded())))
        let rateStatus = ng.espeak_SetParameter(espeakRATE, wordsPerMinute, 0)
        guard rateStatus == EE_OK else { throw EspeakError("cannot set the rate (error \(rateStatus.rawValue))") }
        let buffer = SampleBuffer()
        let status = withExtendedLifetime(buffer) {
            text.withCString { pointer in
                ng.espeak_Synth(
                    pointer,
                    text.utf8.count + 1,
                    0,
                    POS_CHARACTER,
                    0,
                    UInt32(espeakCHARS_UTF8),
                    nil,
                    Unmanaged.passUnretained(buffer).toOpaque()
                )
            }
        }
        guard status == EE_OK else { throw EspeakError("synthesis failed (error \(status.rawValue))") }
        let finished = ng.espeak_Synchronize()
        guard finished == EE_OK else { throw EspeakError("synthesis failed (error \(finished.rawValue))") }
        return (buffer.samples, rate)
    }

    private func selectVoice(_ language: String?) {
        let tag = (language ?? "en").lowercased().replacingUnderscores()
        var candidates = [tag]
        if let primary = tag.split(separator: "-").first { candidates.append(String(primary)) }
        candidates.append("en")
        for candidate in candidates where ng.espeak_SetVoiceByName(candidate) == EE_OK { return }
    }
}

/// espeak-ng's functions; `initialise()` has loaded them before anything else calls one.
private var ng: CRecitalEspeakAPI {
    var error: UnsafePointer<CChar>?
    guard let api = crecital_espeak_load(&error) else { preconditionFailure("espeak-ng used before it was loaded") }
    return api.pointee
}

/// Collects the callback's samples for one synthesis (used only on the espeak queue).
private final class SampleBuffer: @unchecked Sendable {
    var samples: [Int16] = []
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
