internal import Foundation

/// What the `ffprobe` and `ffmpeg` programs (Debian's `ffmpeg` package) see in an audio file: the
/// independent reader that encode tests check our output against.
public struct MediaProbe: Sendable {
    public struct Chapter: Sendable, Equatable {
        public var title: String
        public var start: Double
        public var end: Double
    }

    public var formatName: String
    public var duration: Double
    /// Container tags, keys lower-cased.
    public var tags: [String: String]
    public var chapters: [Chapter]
    public var audioCodec: String?
    public var sampleRate: Int?
    public var channels: Int?
    /// Whether a picture stream marked as attached picture (the cover) is present.
    public var hasCover: Bool

    public init(_ path: String) throws {
        let result = try ProcessResult.run(
            "/usr/bin/ffprobe",
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", path]
        )
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw ProbeFailure(message: "ffprobe \(path): \(result.stderr)") }
        let format = object["format"] as? [String: Any] ?? [:]
        formatName = format["format_name"] as? String ?? ""
        duration = Double(format["duration"] as? String ?? "") ?? 0
        var tags: [String: String] = [:]
        for (key, value) in format["tags"] as? [String: String] ?? [:] { tags[key.lowercased()] = value }
        let streams = object["streams"] as? [[String: Any]] ?? []
        let audio = streams.first { $0["codec_type"] as? String == "audio" }
        // Vorbis comments of FLAC sit on the stream for some demuxers.
        for (key, value) in audio?["tags"] as? [String: String] ?? [:] where tags[key.lowercased()] == nil {
            tags[key.lowercased()] = value
        }
        self.tags = tags
        audioCodec = audio?["codec_name"] as? String
        sampleRate = Int(audio?["sample_rate"] as? String ?? "")
        channels = audio?["channels"] as? Int
        hasCover = streams.contains {
            ($0["disposition"] as? [String: Any])?["attached_pic"] as? Int == 1
        }
        chapters = (object["chapters"] as? [[String: Any]] ?? []).map {
            Chapter(
                title: ($0["tags"] as? [String: String])?["title"] ?? "",
                start: Double($0["start_time"] as? String ?? "") ?? -1,
                end: Double($0["end_time"] as? String ?? "") ?? -1
            )
        }
    }

    /// The decoded audio as mono 16-bit samples at `sampleRate`.
    public static func decode(_ path: String, sampleRate: Int) throws -> [Int16] {
        let raw = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).raw").path
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let result = try ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-v", "error", "-nostdin", "-y", "-i", path, "-ac", "1", "-ar", String(sampleRate), "-f", "s16le", raw]
        )
        guard result.status == 0, result.stderr.isEmpty, let data = FileManager.default.contents(atPath: raw) else {
            throw ProbeFailure(message: "ffmpeg could not decode \(path) cleanly: \(result.stderr)")
        }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    }

    /// The largest change between neighbouring samples: a click stands out as a step no tone
    /// in the audio makes.
    public static func largestStep(_ samples: [Int16]) -> Double {
        var worst = 0
        for index in samples.indices.dropFirst() {
            worst = max(worst, abs(Int(samples[index]) - Int(samples[index - 1])))
        }
        return Double(worst)
    }

    /// The levels ACX (Audible's audiobook submission rules) checks, in dB of full scale where ±1 is
    /// 0 dB: RMS of the whole file (−23…−18 required), sample peak (−3 at most) and noise floor, the
    /// RMS of the quietest 500 ms (−60 at most).
    public static func acxLevels(_ samples: [Int16], sampleRate: Int) -> (rms: Double, peak: Double, noiseFloor: Double)
    {
        func decibels(_ meanSquare: Double) -> Double { 10 * log10(max(meanSquare, 1e-20)) }
        let scale = 1.0 / 32768
        var total = 0.0
        var loudest = 0.0
        for sample in samples {
            let value = Double(sample) * scale
            total += value * value
            loudest = max(loudest, abs(value))
        }
        let window = sampleRate / 2
        var quietest = Double.infinity
        var start = 0
        while start + window <= samples.count {
            var sum = 0.0
            for sample in samples[start..<(start + window)] {
                let value = Double(sample) * scale
                sum += value * value
            }
            quietest = min(quietest, sum / Double(window))
            start += window / 2
        }
        return (
            decibels(total / Double(max(1, samples.count))),
            20 * log10(max(loudest, 1e-10)),
            decibels(quietest == .infinity ? 0 : quietest)
        )
    }

    /// Integrated loudness (LUFS) and true peak (dBTP) measured by FFmpeg's ebur128 filter.
    public static func loudness(_ path: String) throws -> (integrated: Double, truePeak: Double) {
        let result = try ProcessResult.run(
            "/usr/bin/ffmpeg",
            ["-hide_banner", "-nostdin", "-i", path, "-af", "ebur128=peak=true", "-f", "null", "-"]
        )
        let summary = result.stderr.components(separatedBy: "Summary:").last ?? ""
        func value(after label: String) -> Double? {
            guard let range = summary.range(of: label) else { return nil }
            let rest = summary[range.upperBound...].trimmingCharacters(in: .whitespaces)
            return Double(rest.prefix { "-+.0123456789".contains($0) })
        }
        guard let integrated = value(after: "I:"), let peak = value(after: "Peak:") else {
            throw ProbeFailure(message: "no ebur128 summary for \(path): \(result.stderr.suffix(500))")
        }
        return (integrated, peak)
    }
}

public struct ProbeFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
